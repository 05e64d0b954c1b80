// Workers' log lines in the scheduler's telemetry shell: each heartbeat's lines timed on the scheduler's clock,
// the newest few hundred kept per worker, and, over a real gRPC connection, kept apart per worker, served through
// the dashboard source, and forgotten with the worker when its session ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { grpcOptions, schedulerService, type loom } from '@loom/protocol';
import { eventually } from '@loom/testing';
import { SchedulerDashboardSource, SchedulerServer } from '../src/index.js';
import { WorkerLogs } from '../src/worker-telemetry.js';

process.env['LOOM_LOG_LEVEL'] ??= 'warn';

const heartbeat = (logs: loom.v1.IWorkerLogLine[], logsDropped = 0): loom.v1.IWorkerMetrics => ({ logs, logsDropped });

test('a heartbeat\'s lines are timed back from its arrival and kept in order, the newest when there are more', () => {
  const logs = new WorkerLogs(3);
  logs.record(heartbeat([{ level: 30, msAgo: 900, msg: 'first', fields: '{"a":1}' }, { level: 40, msAgo: 100, msg: 'second', fields: '' }], 2), 10_000);
  assert.deepEqual(logs.lines(), [
    { seq: 1, timeMs: 9_100, level: 30, msg: 'first', fields: '{"a":1}' },
    { seq: 2, timeMs: 9_900, level: 40, msg: 'second', fields: '' },
  ]);
  logs.record(heartbeat([{ level: 50, msAgo: 0, msg: 'third' }, { level: 30, msAgo: -5, msg: 'fourth' }], 1), 11_000);
  assert.deepEqual(logs.lines().map(({ seq, msg, timeMs }) => [seq, msg, timeMs]), [[2, 'second', 9_900], [3, 'third', 11_000], [4, 'fourth', 11_000]],
    'the oldest line goes first; a line from the future (a confused worker) is taken as now');
  assert.equal(logs.droppedTotal, 3, 'what the workers could not send, summed');
  logs.record(heartbeat([]), 12_000);
  assert.equal(logs.lines().length, 3, 'a heartbeat without lines changes nothing');
});

test('a line longer than any worker sends is cut', () => {
  const logs = new WorkerLogs();
  logs.record(heartbeat([{ level: 30, msAgo: 0, msg: 'm'.repeat(100_000), fields: 'f'.repeat(100_000) }]), 1);
  const [line] = logs.lines();
  assert.ok(line && line.msg.length === 4096 && line.fields.length === 4096);
});

function workerStream(grpc: Client): ClientDuplexStream<loom.v1.IWorkerToScheduler, loom.v1.SchedulerToWorker> {
  const method = schedulerService.workerSession;
  const stream = grpc.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize) as ClientDuplexStream<loom.v1.IWorkerToScheduler, loom.v1.SchedulerToWorker>;
  stream.on('error', () => undefined);
  stream.on('data', () => undefined);
  return stream;
}

const until = <T>(what: string, check: () => T | undefined): Promise<T> => eventually(what, check, 10_000, 20);

test('each worker\'s lines stay with it, reach the dashboard source by level name, and go when the worker leaves', async (t) => {
  const scheduler = await new SchedulerServer({ host: '127.0.0.1', port: 0, validate: true }).start();
  const grpc = new Client(scheduler.address, credentials.createInsecure(), grpcOptions());
  t.after(async () => {
    grpc.close();
    await scheduler.close();
  });
  const source = new SchedulerDashboardSource(scheduler.state, (workerId) => scheduler.workerTelemetry(workerId));
  const left = workerStream(grpc);
  const right = workerStream(grpc);
  left.write({ hello: { name: 'left', address: '127.0.0.1:1', nthreads: 1, memoryLimit: 1e9 } });
  right.write({ hello: { name: 'right', address: '127.0.0.1:2', nthreads: 1, memoryLimit: 1e9 } });
  await until('both workers', () => (scheduler.state.workers.size === 2 ? true : undefined));
  const before = Date.now();
  left.write({ metrics: heartbeat([{ level: 40, msAgo: 50, msg: 'left warns', fields: '{"peer":"x"}' }, { level: 35, msAgo: 0, msg: 'a custom level' }], 4) });
  right.write({ metrics: heartbeat([{ level: 50, msAgo: 0, msg: 'right errs' }]) });
  const leftLogs = await until('the left heartbeat', () => (source.workerLogs('left').lines.length === 2 ? source.workerLogs('left') : undefined));
  assert.deepEqual(leftLogs.lines.map(({ level, msg, fields }) => [level, msg, fields]), [['warn', 'left warns', '{"peer":"x"}'], ['35', 'a custom level', '']]);
  assert.equal(leftLogs.dropped, 4);
  const [warned] = leftLogs.lines;
  assert.ok(warned && warned.timeMs >= before - 50 - 5 && warned.timeMs <= Date.now(), 'on the scheduler\'s clock');
  await until('the right heartbeat', () => (source.workerLogs('right').lines.length === 1 ? true : undefined));
  assert.deepEqual(source.workerLogs('right').lines.map(({ level, msg }) => [level, msg]), [['error', 'right errs']]);

  left.end();
  await until('the left worker removed', () => (scheduler.workerTelemetry('left') === undefined ? true : undefined));
  assert.deepEqual(source.workerLogs('left'), { lines: [], dropped: 0 });
  assert.equal(source.workerLogs('right').lines.length, 1, 'the other worker keeps its lines');

  // A worker that comes back under the same name starts a new session: its old lines are not shown as new ones.
  const again = workerStream(grpc);
  again.write({ hello: { name: 'left', address: '127.0.0.1:3', nthreads: 1, memoryLimit: 1e9 } });
  again.write({ metrics: heartbeat([{ level: 30, msAgo: 0, msg: 'back' }]) });
  const back = await until('the returning worker\'s heartbeat', () => (source.workerLogs('left').lines.length > 0 ? source.workerLogs('left') : undefined));
  assert.deepEqual(back.lines.map(({ seq, msg }) => [seq, msg]), [[1, 'back']]);
  again.end();
  right.end();
});
