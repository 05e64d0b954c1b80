// A worker's own log lines on the scheduler's dashboard, from a real cluster: a task that ends its thread makes
// the worker warn as it replaces the thread, and the worker's API answer shows that line with its level and
// fields, timed on the scheduler's clock, while a cluster at 'warn' sends nothing below that level.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, useCluster } from './cluster-fixture.js';

const fixture = useCluster({ workers: 1, logLevel: 'warn', dashboard: { port: 0 } });

interface LogLine {
  seq: number;
  timeMs: number;
  level: string;
  msg: string;
  fields: string;
}

const url = (path: string) => new URL(path, fixture.cluster.dashboardUrl).toString();

test('a worker\'s warning reaches its dashboard API answer with its level and fields', async () => {
  const [worker] = fixture.cluster.workers;
  assert.ok(worker, 'one worker');
  const exits = (code: number) => {
    process.exit(code); // in a task thread this ends the thread, not the worker
  };
  const before = Date.now();
  await assert.rejects(fixture.client.submit(exits, 42).result(), /exit code 42/);
  const logs = await eventually('the warning in the worker\'s logs', async () => {
    const response = await fetch(url(`/api/v1/workers/${encodeURIComponent(worker.id)}`));
    if (!response.ok) return undefined;
    const detail = (await response.json()) as { logs: LogLine[] };
    return detail.logs.some((line) => line.msg === 'task thread died; replacing it') ? detail.logs : undefined;
  });
  const warning = logs.find((line) => line.msg === 'task thread died; replacing it');
  assert.ok(warning);
  assert.equal(warning.level, 'warn');
  assert.match(warning.fields, /"cause":"exit code 42"/);
  assert.ok(!warning.fields.includes('"pid"'), 'the fields every line repeats are left out');
  // Lines are timed on the scheduler's clock from their age at the heartbeat: this process shares that clock.
  assert.ok(warning.timeMs >= before - 1_000 && warning.timeMs <= Date.now() + 1_000, `logged at ${warning.timeMs}, test began at ${before}`);
  assert.deepEqual(logs.filter((line) => !['warn', 'error', 'fatal'].includes(line.level)), [], 'nothing below the cluster\'s log level');
  assert.deepEqual(logs.map((line) => line.seq), [...logs.map((line) => line.seq)].sort((a, b) => a - b), 'oldest first');
});
