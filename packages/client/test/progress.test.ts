// progress() and client.onProgress against a real LocalCluster: futures, delayed graphs with a failing task,
// DataFrames, functions that submit as they go, and a bar drawn on a real pseudo-terminal (util-linux script).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Client, LocalCluster, dataframe, delayed, isLoomError, progress, type ProgressSnapshot } from '../src/index.js';
import { recordingStream } from './recording-stream.js';

const token = `token-${randomUUID()}`;
let cluster: LocalCluster;
let client: Client;

before(async () => {
  cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1, memoryLimit: '1GiB', token });
  client = await Client.connect(cluster.address, { token });
});

after(async () => {
  await client?.close();
  await cluster?.close();
});

/** Collects client.onProgress snapshots; `stop` removes the listener. */
function listen(): { seen: ProgressSnapshot[]; stop: () => void } {
  const seen: ProgressSnapshot[] = [];
  const stop = client.onProgress((snapshot) => seen.push(snapshot));
  return { seen, stop };
}

function assertMonotone(seen: readonly ProgressSnapshot[]): void {
  for (let i = 1; i < seen.length; i++) {
    const [before, now] = [seen[i - 1] as ProgressSnapshot, seen[i] as ProgressSnapshot];
    for (const field of ['total', 'done', 'erred', 'cancelled'] as const) {
      assert.ok(now[field] >= before[field], `${field} went from ${before[field]} to ${now[field]} at snapshot ${i}`);
    }
  }
}

test('progress(futures): counts reach the totals, monotonically; plain output has no escape codes and a final line', async () => {
  const { seen, stop } = listen();
  const stream = recordingStream(false);
  const futures = client.map(async (x: number) => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    return x * x;
  }, Array.from({ length: 200 }, (_, i) => i), { name: 'square' });
  const summary = await progress(futures, { stream, intervalMs: 20 });
  assert.deepEqual([summary.total, summary.done, summary.erred, summary.pending, summary.settled], [200, 200, 0, 0, true]);
  assert.deepEqual(summary.prefixes.map((p) => [p.prefix, p.done, p.total]), [['square', 200, 200]]);
  await new Promise((resolve) => setImmediate(resolve));
  stop();
  assert.ok(seen.length >= 2, `the listener saw ${seen.length} snapshots`);
  assertMonotone(seen);
  assert.deepEqual([seen.at(-1)?.total, seen.at(-1)?.done], [200, 200]);
  assert.doesNotMatch(stream.text, /\x1b/);
  assert.match(stream.text.trimEnd().split('\n').at(-1) ?? '', /^progress finished in .*: square 200\/200 /);
  for (const future of futures) future.release();
});

test('a failing task is counted as erred under its own prefix, and progress rejects as compute does', async () => {
  const { seen, stop } = listen();
  const load = delayed((x: number) => x * 10, { name: 'load' });
  const check = delayed((x: number) => {
    if (x === 30) throw new Error('bad value 30');
    return x;
  }, { name: 'check' });
  const both = delayed((a: number, b: number) => a + b, { name: 'pair' });
  const total = delayed((xs: number[]) => xs.reduce((a, b) => a + b, 0), { name: 'total' });
  const pairs = [0, 1, 2, 3].map((i) => both(check(load(i)), load(i + 10)));
  const stream = recordingStream(false);
  await assert.rejects(progress(total(pairs), { client, stream }), (error: unknown) => isLoomError(error, 'TASK_FAILED') && /bad value 30/.test(error.message));
  await new Promise((resolve) => setImmediate(resolve));
  stop();
  const last = seen.at(-1) as ProgressSnapshot;
  const check_ = last.prefixes.find((p) => p.prefix === 'check');
  assert.equal(check_?.erred, 1, JSON.stringify(last.prefixes));
  assert.equal(last.prefixes.find((p) => p.prefix === 'total')?.erred, 1);
  assert.equal(last.pending, 0);
  assert.equal(last.done + last.erred + last.cancelled, last.total);
  assertMonotone(seen);
  assert.match(stream.text, /check \d+\/\d+ {2}1 erred/);
});

test('progress(DataFrame) computes it and counts its partitions; a listener removed gets nothing more', async () => {
  const { seen, stop } = listen();
  stop();
  const table = dataframe.arrow.tableFromArrays({ x: Float64Array.from({ length: 1_000 }, (_, i) => i) });
  const frame = dataframe.fromArrow(table, { npartitions: 4 }).mapPartitions((t) => t, { name: 'identity' });
  const stream = recordingStream(false);
  const computed = await progress(frame, { client, stream });
  assert.equal(computed.numRows, 1_000);
  assert.match(stream.text, /identity 4\/4 /);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(seen.length, 0);
});

test('progress(function) counts every graph submitted meanwhile, beside counts it reports itself', async () => {
  const stream = recordingStream(false);
  const value = await progress(async (meter) => {
    const report = meter.counter('slices');
    let sum = 0;
    for (let round = 0; round < 3; round++) {
      const futures = client.map((x: number) => x + 1, [round * 10, round * 10 + 1], { name: 'batch' });
      sum += (await client.gather(futures)).reduce((a, b) => a + b, 0);
      report({ done: (round + 1) * 10, failed: round, total: 30 });
    }
    return sum;
  }, { client, stream });
  assert.equal(value, 1 + 2 + 11 + 12 + 21 + 22);
  assert.match(stream.text, /batch 6\/6 .*; slices 28\/30 {2}2 erred /);
});

test('on a pseudo-terminal the bar is redrawn in place, and the process exits by itself once done', async (t) => {
  const script = spawn('script', ['--version']);
  const available = await new Promise<boolean>((resolve) => {
    script.on('error', () => resolve(false));
    script.on('exit', (code) => resolve(code === 0));
  });
  if (!available) {
    t.skip('util-linux script is not installed');
    return;
  }
  const clientUrl = new URL('../src/index.js', import.meta.url).href;
  const child = `
    import { Client, progress } from ${JSON.stringify(clientUrl)};
    const client = await Client.connect(process.env.LOOM_ADDRESS, { token: process.env.LOOM_TEST_TOKEN });
    const futures = client.map(async (x) => { await new Promise((r) => setTimeout(r, 10)); return x; }, Array.from({ length: 60 }, (_, i) => i), { name: 'tick' });
    const summary = await progress(futures, { intervalMs: 20 });
    await client.close();
    process.stdout.write('DONE ' + summary.done + '\\n');
  `;
  const run = spawn('script', ['-qfec', `${process.execPath} --input-type=module -e ${shellQuote(child)}`, '/dev/null'], {
    env: { ...process.env, LOOM_ADDRESS: cluster.address, LOOM_TEST_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
  // A timer or handle left behind would keep the child running: it must end on its own well before this.
  const timeout = setTimeout(() => run.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timeout);
  assert.equal(code, 0, output);
  assert.match(output, /DONE 60/);
  assert.match(output, /\x1b\[2K/, 'rows are erased and rewritten');
  assert.match(output, /\x1b\[\d*A/, 'the cursor moves up to redraw');
  assert.match(output, /progress finished in [^\n]*\r?\n {2}tick +█+ 60\/60 /);
});

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
