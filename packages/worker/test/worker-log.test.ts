// The worker's log ring: what a heartbeat takes (the newest lines since the last one, within a count and a byte
// budget, the rest counted), how a line is cut, and, in a child process with the real logger, that stderr still
// gets every line unchanged while the ring gets the same lines at the logger's level.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { encodedSizeBound } from '@loom/protocol';
import { cut, TEXT_LIMIT, WorkerLogRing } from '../src/worker-log.js';

/** A line as pino writes it for a worker (its base fields included). */
function pinoLine(level: number, msg: string, fields: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ level, time: Date.now(), pid: 1234, name: 'loom-worker', worker: 'w1', ...fields, msg })}\n`;
}

test('a heartbeat takes the lines since the last one, oldest first, without the fields every line repeats', () => {
  const ring = new WorkerLogRing();
  ring.write(pinoLine(30, 'worker started', { id: 'w1', nthreads: 2 }));
  ring.write(pinoLine(40, 'fetching inputs from peer failed', { peer: '127.0.0.1:9', keys: 3 }));
  const written = performance.now();
  const { lines, dropped } = ring.take(written + 500);
  assert.equal(dropped, 0);
  assert.deepEqual(lines.map(({ level, msg, fields }) => ({ level, msg, fields })), [
    { level: 30, msg: 'worker started', fields: '{"id":"w1","nthreads":2}' },
    { level: 40, msg: 'fetching inputs from peer failed', fields: '{"peer":"127.0.0.1:9","keys":3}' },
  ]);
  for (const line of lines) assert.ok(line.msAgo >= 500 && line.msAgo < 5_000, `timed back from the heartbeat: ${line.msAgo}`);
  assert.deepEqual(ring.take(), { lines: [], dropped: 0 }, 'each line goes out once');
  ring.write(pinoLine(30, 'no fields'));
  assert.deepEqual(ring.take().lines.map(({ msg, fields }) => [msg, fields]), [['no fields', '']]);
});

test('more lines than a heartbeat carries: the newest are kept, the others counted, and the count starts again', () => {
  const ring = new WorkerLogRing(4);
  for (let i = 1; i <= 10; i++) ring.write(pinoLine(30, `line ${i}`));
  const first = ring.take();
  assert.deepEqual(first.lines.map((line) => line.msg), ['line 7', 'line 8', 'line 9', 'line 10']);
  assert.equal(first.dropped, 6);
  ring.write(pinoLine(50, 'line 11'));
  const second = ring.take();
  assert.deepEqual(second.lines.map(({ level, msg }) => [level, msg]), [[50, 'line 11']]);
  assert.equal(second.dropped, 0, 'the count starts again');
});

test('a long message or long fields are cut to the limit, marked, and never halve a surrogate pair', () => {
  const ring = new WorkerLogRing();
  ring.write(pinoLine(50, 'm'.repeat(10 * TEXT_LIMIT), { err: { type: 'Error', message: 'boom', stack: 's'.repeat(10 * TEXT_LIMIT) } }));
  const [line] = ring.take().lines;
  assert.ok(line);
  assert.equal(line.msg.length, TEXT_LIMIT);
  assert.ok(line.msg.endsWith('…'));
  assert.equal(line.fields.length, TEXT_LIMIT);
  assert.ok(line.fields.startsWith('{"err":{"type":"Error","message":"boom","stack":"sss') && line.fields.endsWith('…'));
  // A pair straddling the cut: keeping its first half would leave a lone surrogate (invalid UTF-8 on the wire).
  const straddling = `${'a'.repeat(TEXT_LIMIT - 2)}😀${'b'.repeat(10)}`;
  const cutText = cut(straddling);
  assert.equal(cutText, `${'a'.repeat(TEXT_LIMIT - 2)}…`);
  assert.equal(cut('short'), 'short');
});

test('the byte budget bounds a heartbeat of long lines: the newest that fit go, the older ones are counted', () => {
  const ring = new WorkerLogRing(64, 40 * 1024);
  for (let i = 1; i <= 20; i++) ring.write(pinoLine(30, `${i} ${'x'.repeat(4 * TEXT_LIMIT)}`));
  const { lines, dropped } = ring.take();
  assert.ok(lines.length >= 1 && lines.length < 20, `a few long lines fit 40 KiB: ${lines.length}`);
  assert.equal(lines.length + dropped, 20);
  assert.ok(lines.reduce((sum, line) => sum + encodedSizeBound(line), 0) <= 40 * 1024);
  assert.ok(lines.at(-1)?.msg.startsWith('20 '), 'the newest line is among them');
  assert.ok(lines[0]?.msg.startsWith(`${21 - lines.length} `), 'and the ones before it, in order');
});

test('a line that is not pino JSON is kept as an info line', () => {
  const ring = new WorkerLogRing();
  ring.write('not json\n');
  ring.write('[1,2]\n');
  assert.deepEqual(ring.take().lines.map(({ level, msg, fields }) => [level, msg, fields]), [[30, 'not json', ''], [30, '[1,2]', '']]);
});

/** Runs the real logger with a ring in a child process at `level`: its stderr, and what the ring took. */
function logInChild(level: string): { stderr: string[]; taken: { level: number; msg: string; fields: string }[] } {
  const script = `
    import { createLogger } from ${JSON.stringify(import.meta.resolve('@loom/protocol'))};
    import { WorkerLogRing } from ${JSON.stringify(new URL('../src/worker-log.js', import.meta.url).href)};
    const ring = new WorkerLogRing();
    const logger = createLogger('worker', { worker: 'child' }, { tee: ring });
    logger.debug({ step: 1 }, 'debug line');
    logger.info({ step: 2 }, 'info line');
    logger.warn({ err: new Error('boom') }, 'warn line');
    process.stdout.write(JSON.stringify(ring.take().lines));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, LOOM_LOG_LEVEL: level }, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return { stderr: child.stderr.split('\n').filter((line) => line !== ''), taken: JSON.parse(child.stdout) };
}

test('the real logger: stderr gets every line as before, and the ring the same lines at the logger\'s level', () => {
  const debug = logInChild('debug');
  const records = debug.stderr.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(records.map((record) => [record['level'], record['msg'], record['name'], record['worker']]),
    [[20, 'debug line', 'loom-worker', 'child'], [30, 'info line', 'loom-worker', 'child'], [40, 'warn line', 'loom-worker', 'child']]);
  assert.deepEqual(debug.taken.map(({ level, msg }) => [level, msg]), [[20, 'debug line'], [30, 'info line'], [40, 'warn line']]);
  assert.equal(debug.taken[0]?.fields, '{"step":1}');
  const err = (JSON.parse(debug.taken[2]?.fields ?? '{}') as { err?: { message?: string; stack?: string } }).err;
  assert.equal(err?.message, 'boom', 'errors arrive serialized, as on stderr');
  assert.match(err?.stack ?? '', /Error: boom/);

  const warn = logInChild('warn');
  assert.deepEqual(warn.stderr.map((line) => (JSON.parse(line) as { msg: string }).msg), ['warn line']);
  assert.deepEqual(warn.taken.map(({ msg }) => msg), ['warn line'], 'lines below the level reach neither');
});
