// The worker's session with a scheduler (the fake one: a real gRPC server) with a small message limit: a burst of
// inline results reported in one event-loop turn reaches the scheduler as several messages under its limit, in
// order, and the session survives; a result too large to travel inline at all travels without its value; and a
// key lost and then stored again within one batch is not reported lost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, pb, type EncodedValue, type loom } from '@loom/protocol';
import { SchedulerLink } from '../src/scheduler-link.js';
import type { TaskFinishedReport } from '../src/task-types.js';
import { FakeScheduler, type WorkerSession } from './fake-scheduler.js';

const LIMIT = 64 * 1024;
/** Five of these fit one message under the limit, not six. */
const BURST_VALUE_BYTES = Math.floor(LIMIT / 5.5);
const logger = createLogger('worker-test', {});

function value(bytes: number, fill: number): EncodedValue {
  return { codec: 'v8', bytes: new Uint8Array(bytes).fill(fill) };
}

function result(key: string, runId: number, encoded: EncodedValue): TaskFinishedReport {
  return { key, runId, value: encoded, durationMs: 1, thread: 1, inline: true };
}

async function connect(scheduler: FakeScheduler, maxMessageBytes: number | undefined) {
  const link = new SchedulerLink({ address: scheduler.address, token: undefined, tls: undefined, maxMessageBytes, connectTimeoutMs: 10_000, logger });
  const losses: Error[] = [];
  await link.open(
    { name: 'link-test', address: 'link-test:1', nthreads: 1, memoryLimit: 1e9, resources: {}, pid: process.pid, thresholds: { target: 0.6, spill: 0.7, pause: 0.8, terminate: 0.95 } },
    { welcome: () => undefined, instructions: () => undefined, lost: (error) => void losses.push(error) },
  );
  const session = await scheduler.nextSession();
  return { link, session, losses };
}

/** Every message the scheduler received after the hello, with its encoded size. */
function reports(session: WorkerSession): Array<{ message: loom.v1.WorkerToScheduler; bytes: number }> {
  return session.received.slice(1).map((message) => ({ message, bytes: pb.WorkerToScheduler.encode(message).finish().length }));
}

describe('SchedulerLink under a small scheduler message limit', () => {
  let scheduler: FakeScheduler;
  before(async () => {
    scheduler = await FakeScheduler.start({ maxMessageBytes: LIMIT, inlineValueBytes: LIMIT });
  });
  after(() => scheduler.close());

  test('inline results over the limit in one turn arrive as several messages under it, in order; the session survives', async () => {
    // The worker's own limit is the default (64 MiB): only the scheduler's welcome tells it the smaller one.
    const { link, session, losses } = await connect(scheduler, undefined);
    const keys = Array.from({ length: 12 }, (_, index) => `burst-${index}`);
    keys.forEach((key, index) => link.finished(result(key, index + 1, value(BURST_VALUE_BYTES, index))));
    link.handBack(['after-the-burst']);
    link.metrics({
      managedBytes: 1, spilledBytes: 0, rssBytes: 2, executing: 0, ready: 0, paused: false,
      spillWriteBytesTotal: 0, spillReadBytesTotal: 0, transferIncomingBytesTotal: 0, transferOutgoingBytesTotal: 0,
      transferIncomingCalls: 0, transferIncomingBytes: 0, transferOutgoingCalls: 0, transferOutgoingBytes: 0, activity: [], activityDropped: 0, logs: [], logsDropped: 0,
    });
    await session.waitUntil(() => session.ended || session.handedBack.length > 0, 'the burst to arrive');
    assert.equal(session.ended, false, `the session ended: ${losses.map((error) => error.message).join('; ')}`);

    const received = reports(session);
    assert.ok(received.length > 1, 'the burst needed more than one message');
    for (const { bytes } of received) assert.ok(bytes <= LIMIT, `a message of ${bytes} bytes`);
    assert.deepEqual(received.flatMap(({ message }) => message.finished.map((entry) => entry.key)), keys, 'every result, in order');
    keys.forEach((key, index) => {
      const entry = session.finished.get(key)!;
      const bytes = entry.value ?? new Uint8Array(0);
      assert.equal(entry.runId, index + 1);
      assert.ok(entry.hasValue && bytes.length === BURST_VALUE_BYTES && bytes.every((byte) => byte === index), `the value of ${key}`);
    });
    const last = received.at(-1)!.message;
    assert.deepEqual(last.handedBack, ['after-the-burst'], 'the hand-back issued after the results arrives after them');
    assert.equal(last.metrics?.rssBytes, 2, 'the heartbeat travels with the last message');
    await link.close(5_000);
  });

  test('a result too large to travel inline under the limit is reported without its value', async () => {
    const { link, session, losses } = await connect(scheduler, undefined);
    link.finished(result('too-big', 7, value(LIMIT, 1)));
    link.finished(result('small', 8, value(10, 2)));
    await session.waitUntil(() => session.ended || session.finished.has('small'), 'both results');
    assert.equal(session.ended, false, `the session ended: ${losses.map((error) => error.message).join('; ')}`);
    const big = session.finished.get('too-big')!;
    assert.deepEqual([big.runId, big.nbytes, big.hasValue, big.value?.length ?? 0], [7, LIMIT, false, 0], 'reported as held here, to be fetched');
    assert.deepEqual([...(session.finished.get('small')!.value ?? [])], new Array(10).fill(2));
    await link.close(5_000);
  });

  test('a key lost and then stored again in one turn is reported finished only; stored and then lost, both', async () => {
    const { link, session } = await connect(scheduler, undefined);
    link.keysLost(['recomputed']);
    link.finished(result('recomputed', 3, value(8, 3)));
    link.finished(result('then-lost', 4, value(8, 4)));
    link.keysLost(['then-lost', 'only-lost']);
    await session.waitUntil(() => session.finished.has('then-lost'), 'the results');
    await link.close(5_000);
    await session.waitUntil(() => session.ended, 'the session to end');
    // The scheduler applies a message's results before its lost keys, so a stale lost report would drop the
    // fresh value's only holder from its books while the worker keeps the value.
    assert.deepEqual(session.lostKeys.sort(), ['only-lost', 'then-lost']);
    assert.ok(session.finished.has('recomputed'));
  });
});
