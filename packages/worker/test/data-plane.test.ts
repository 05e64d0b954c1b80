// The data plane between workers: inputs fetched peer-to-peer in chunks, inputs nobody can provide, the token on
// GetData, and GetData answering while every task thread is busy.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { pb } from '@loom/protocol';
import type { WorkerHandle } from '../src/index.js';
import { FakeScheduler, type WorkerSession } from './fake-scheduler.js';
import { computeTask, decoded, readData, sourceFunction, startTestWorker } from './helpers.js';

const TOKEN = 'data-plane-secret';
const CHUNK_BYTES = 1024;

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/**
 * Says it started (creates `startedPath`), then keeps its thread busy until `releasePath` exists: the test, not a
 * clock, decides when it ends. Runs in the task thread as shipped source, so it takes fs from the process.
 */
function spinUntilReleased(startedPath: string, releasePath: string): number {
  const fs = process.getBuiltinModule('node:fs');
  fs.writeFileSync(startedPath, '');
  let spins = 0;
  while (!fs.existsSync(releasePath)) spins++;
  return spins;
}

async function untilExists(path: string): Promise<void> {
  while (!existsSync(path)) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('data plane between two workers', () => {
  let fake: FakeScheduler;
  let workerA: WorkerHandle;
  let workerB: WorkerHandle;
  let sessionA: WorkerSession;
  let sessionB: WorkerSession;

  before(async () => {
    fake = await FakeScheduler.start({ token: TOKEN });
    [sessionA, workerA] = await Promise.all([fake.nextSession(), startTestWorker(fake.address, { token: TOKEN, chunkBytes: CHUNK_BYTES })]);
    [sessionB, workerB] = await Promise.all([fake.nextSession(), startTestWorker(fake.address, { token: TOKEN, chunkBytes: CHUNK_BYTES })]);
  });

  after(async () => {
    await Promise.all([workerA.close(), workerB.close()]);
    await fake.close();
  });

  test('GetData streams a value in chunks no larger than chunkBytes', async () => {
    const fn = sourceFunction(range);
    sessionA.send({ functions: [fn], compute: [computeTask('range-chunks', fn, [3000])] });
    const finished = await sessionA.waitForFinished('range-chunks');
    const read = await readData(workerA.address, ['range-chunks'], TOKEN);
    assert.ok(read.chunks.length >= 5, `expected several chunks, got ${read.chunks.length}`);
    for (const chunk of read.chunks) {
      assert.ok(chunk.data.byteLength <= CHUNK_BYTES);
      assert.equal(chunk.totalBytes, finished.nbytes);
      assert.equal(chunk.codec, pb.Codec.CODEC_V8, 'a 3,000-element array is V8-encoded');
    }
    assert.deepEqual(read.values.get('range-chunks'), range(3000));
  });

  test('an input held by another worker is fetched from it, used, and not kept', async () => {
    const make = sourceFunction(range);
    const add = sourceFunction(sum);
    sessionA.send({ functions: [make], compute: [computeTask('range-remote', make, [4000])] });
    const made = await sessionA.waitForFinished('range-remote');
    assert.ok((made.nbytes ?? 0) > 5 * CHUNK_BYTES);
    sessionB.send({
      functions: [add],
      compute: [
        computeTask('sum-remote', add, [null], {
          holes: [{ path: [0], dependency: 0 }],
          inputs: [{ key: 'range-remote', nbytes: made.nbytes ?? 0, holders: [workerA.address] }],
          sendValue: true,
        }),
      ],
    });
    assert.equal(decoded(await sessionB.waitForFinished('sum-remote')), sum(range(4000)));
    assert.deepEqual((await readData(workerB.address, ['range-remote'], TOKEN)).missing, ['range-remote']);
  });

  test('a large input reaches the task thread without a copy, and a stored one is copied for each task', async () => {
    // 2^18 doubles: the V8 encoding is 2 MiB plus an 8-byte header (a 4-byte varint length), so the array starts
    // aligned and v8.deserialize can return a view.
    function doubles(n: number): Float64Array {
      return new Float64Array(n).fill(1.5);
    }
    // What the task saw: its array's length and the size of the buffer under it (the encoded value, when the
    // thread decoded the input in place rather than copying it).
    function describe(values: Float64Array): number[] {
      values[0] = -1; // a task mutating its input must not change the stored value
      return [values.length, values.buffer.byteLength, values[1] as number];
    }
    const make = sourceFunction(doubles);
    const look = sourceFunction(describe);
    sessionA.send({ functions: [make], compute: [computeTask('doubles-big', make, [2 ** 18])] });
    const made = await sessionA.waitForFinished('doubles-big');
    assert.equal(made.nbytes, 2 ** 21 + 8);
    const input = { key: 'doubles-big', nbytes: made.nbytes, holders: [workerA.address] };
    const holes = [{ path: [0], dependency: 0 }];
    sessionB.send({ functions: [look], compute: [computeTask('look-remote', look, [null], { holes, inputs: [input], sendValue: true })] });
    assert.deepEqual(decoded(await sessionB.waitForFinished('look-remote')), [2 ** 18, 2 ** 21 + 8, 1.5]);
    // On A the value is in the store: each task gets its own copy (still decoded in place), the store keeps its own.
    sessionA.send({ functions: [look], compute: [computeTask('look-local', look, [null], { holes, inputs: [input], sendValue: true })] });
    assert.deepEqual(decoded(await sessionA.waitForFinished('look-local')), [2 ** 18, 2 ** 21 + 8, 1.5]);
    const served = (await readData(workerA.address, ['doubles-big'], TOKEN)).values.get('doubles-big') as Float64Array;
    assert.equal(served[0], 1.5);
  });

  test('a holder that lacks the key is skipped for the next one', async () => {
    const make = sourceFunction(range);
    const add = sourceFunction(sum);
    sessionA.send({ functions: [make], compute: [computeTask('range-second-holder', make, [10])] });
    await sessionA.waitForFinished('range-second-holder');
    sessionB.send({
      functions: [add],
      compute: [
        computeTask('sum-second-holder', add, [null], {
          holes: [{ path: [0], dependency: 0 }],
          // B itself is listed first but does not hold it.
          inputs: [{ key: 'range-second-holder', holders: [workerB.address, workerA.address] }],
          sendValue: true,
        }),
      ],
    });
    assert.equal(decoded(await sessionB.waitForFinished('sum-second-holder')), 45);
  });

  test('an input no holder can provide is reported as missing, not as a failure', async () => {
    const add = sourceFunction(sum);
    const unreachable = '127.0.0.1:1';
    sessionB.send({
      functions: [add],
      compute: [
        computeTask('sum-missing', add, [null], {
          holes: [{ path: [0], dependency: 0 }],
          inputs: [{ key: 'never-computed', holders: [workerA.address, unreachable] }],
        }),
      ],
    });
    const missing = await sessionB.waitForMissing('sum-missing');
    assert.deepEqual(missing.missingKeys, ['never-computed']);
    assert.deepEqual([...(missing.failedHolders ?? [])].sort(), [workerA.address, unreachable].sort());
    assert.equal(sessionB.failed.has('sum-missing'), false);
    assert.equal(sessionB.finished.has('sum-missing'), false);
  });

  test('GetData without the token is refused with UNAUTHENTICATED', async () => {
    await assert.rejects(readData(workerA.address, ['range-chunks'], null), (error: { code?: number }) => error.code === status.UNAUTHENTICATED);
    await assert.rejects(readData(workerA.address, ['range-chunks'], 'wrong'), (error: { code?: number }) => error.code === status.UNAUTHENTICATED);
  });

  test('GetData answers while the only task thread is busy', async () => {
    const make = sourceFunction(range);
    const busy = sourceFunction(spinUntilReleased);
    sessionA.send({ functions: [make], compute: [computeTask('range-while-busy', make, [100])] });
    await sessionA.waitForFinished('range-while-busy');
    const dir = mkdtempSync(join(tmpdir(), 'loom-busy-'));
    const [started, release] = [join(dir, 'started'), join(dir, 'release')];
    try {
      sessionA.send({ functions: [busy], compute: [computeTask('spin-until-released', busy, [started, release])] });
      await untilExists(started);
      // The task cannot end before `release` exists, which happens only after GetData answered: an answer proves
      // the main thread serves peers while the thread is busy (a blocked one would leave this test hanging).
      const read = await readData(workerA.address, ['range-while-busy'], TOKEN);
      assert.deepEqual(read.values.get('range-while-busy'), range(100));
      assert.equal(sessionA.finished.has('spin-until-released'), false, 'the busy task is still running');
      writeFileSync(release, '');
      await sessionA.waitForFinished('spin-until-released');
      rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      // The directory stays, with the release file in it, so the task still ends and the worker can close.
      writeFileSync(release, '');
      throw error;
    }
  });
});
