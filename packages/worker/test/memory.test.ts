// The memory manager: LRU spilling to disk, transparent and verified read-back, spill files removed on release and
// exit, a corrupt or missing spill file reported lost (never served), GetData from disk, and pausing under memory
// pressure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type EncodedValue } from '@loom/protocol';
import type { WorkerHandle } from '../src/index.js';
import { SpillStore } from '../src/spill-store.js';
import type { SpillCompression } from '../src/spill-file.js';
import { FakeScheduler, type WorkerSession } from './fake-scheduler.js';
import { computeTask, decoded, readData, sourceFunction, startTestWorker, until } from './helpers.js';

const logger = createLogger('memory-test');

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

function newStore(compression: SpillCompression = 'none'): { store: SpillStore; lost: string[]; directory: string } {
  const lost: string[] = [];
  const directory = join(mkdtempSync(join(tmpdir(), 'loom-spill-test-')), 'scratch');
  return { store: new SpillStore({ directory, compression, onLost: (keys) => lost.push(...keys), logger }), lost, directory };
}

function spillFiles(directory: string): string[] {
  return readdirSync(directory).filter((name) => name.endsWith('.spill')).map((name) => join(directory, name));
}

async function collect(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

describe('spill store', () => {
  test('spills least recently used first; a read refreshes a value', async () => {
    const { store, directory } = newStore();
    store.put('a', { codec: 'v8', bytes: bytes(100, 1) });
    store.put('b', { codec: 'v8', bytes: bytes(100, 2) });
    store.put('c', { codec: 'v8', bytes: bytes(100, 3) });
    await store.get('a'); // now b is the oldest
    assert.equal(store.spillUntil(200), 100);
    assert.deepEqual([store.isSpilled('a'), store.isSpilled('b'), store.isSpilled('c')], [false, true, false]);
    store.spillOldest();
    assert.equal(store.isSpilled('c'), true, 'c was older than the refreshed a');
    assert.equal(store.managedBytes, 100);
    assert.equal(store.spilledBytes, spillFiles(directory).reduce((total, path) => total + readFileSync(path).byteLength, 0));
    store.close();
  });

  for (const compression of ['none', 'gzip', 'brotli'] as const) {
    test(`read-back is byte-identical for every codec (compression ${compression})`, async () => {
      const { store } = newStore(compression);
      const values: Record<string, EncodedValue> = {
        json: { codec: 'json', bytes: Buffer.from(JSON.stringify({ a: [1, 2, 3], b: 'x' })) },
        v8: { codec: 'v8', bytes: bytes(70_000, 5) },
        arrow: { codec: 'arrow-ipc', bytes: bytes(3_333, 9) },
        empty: { codec: 'v8', bytes: new Uint8Array(0) },
      };
      for (const [key, value] of Object.entries(values)) store.put(key, value);
      while (store.inMemoryCount > 0) assert.notEqual(store.spillOldest(), undefined);
      assert.equal(store.managedBytes, 0);
      for (const [key, value] of Object.entries(values)) {
        assert.equal(store.isSpilled(key), true);
        const back = await store.get(key);
        assert.equal(back?.codec, value.codec);
        assert.deepEqual(Buffer.from(back!.bytes), Buffer.from(value.bytes));
        const streamed = await store.stream(key, 1000);
        const chunks = await collect(streamed!.chunks);
        assert.ok(chunks.every((chunk) => chunk.byteLength <= 1000));
        assert.equal(streamed!.totalBytes, value.bytes.byteLength);
        assert.deepEqual(Buffer.concat(chunks), Buffer.from(value.bytes));
      }
      store.close();
    });
  }

  test('release removes the spill file; close removes the directory', async () => {
    const { store, directory } = newStore();
    store.put('gone', { codec: 'v8', bytes: bytes(500, 1) });
    store.put('kept', { codec: 'v8', bytes: bytes(500, 2) });
    store.spillUntil(0);
    assert.equal(spillFiles(directory).length, 2);
    assert.equal(store.delete('gone'), true);
    await until(() => spillFiles(directory).length === 1, 'the released spill file to go');
    assert.equal(store.spilledBytes, readFileSync(spillFiles(directory)[0]!).byteLength);
    store.close();
    assert.equal(existsSync(directory), false);
  });

  test('a corrupt or missing spill file loses the key: reported, never served', async () => {
    const { store, lost, directory } = newStore();
    store.put('flipped', { codec: 'v8', bytes: bytes(4000, 1) });
    store.spillUntil(0);
    store.put('vanished', { codec: 'v8', bytes: bytes(4000, 2) });
    store.spillUntil(0);
    store.put('streamed', { codec: 'v8', bytes: bytes(4000, 3) });
    store.spillUntil(0);
    const [flippedFile, vanishedFile, streamedFile] = spillFiles(directory).sort();
    for (const path of [flippedFile!, streamedFile!]) {
      const file = readFileSync(path);
      file[file.byteLength - 10]! ^= 0xff;
      writeFileSync(path, file);
    }
    rmSync(vanishedFile!);
    assert.equal(await store.get('flipped'), undefined);
    assert.equal(await store.get('vanished'), undefined);
    const stream = await store.stream('streamed', 1000);
    await assert.rejects(collect(stream!.chunks), /checksum/);
    assert.deepEqual(lost.sort(), ['flipped', 'streamed', 'vanished']);
    assert.equal(store.has('flipped') || store.has('vanished') || store.has('streamed'), false);
    store.close();
  });
});

describe('a worker that spills', () => {
  let fake: FakeScheduler;
  let worker: WorkerHandle;
  let session: WorkerSession;

  before(async () => {
    fake = await FakeScheduler.start();
    // A target of a millionth of a GiB: every result goes to disk at the next check.
    [session, worker] = await Promise.all([
      fake.nextSession(),
      startTestWorker(fake.address, { nthreads: 1, memoryLimit: '1GiB', memoryTarget: 1e-6, chunkBytes: 1024, memoryCheckIntervalMs: 20 }),
    ]);
  });

  after(async () => {
    await worker.close();
    await fake.close();
    assert.equal(existsSync(worker.localDirectory), false, 'the local directory is removed when the worker exits');
  });

  const make = sourceFunction(function numbers(n: number) {
    return Array.from({ length: n }, (_, i) => i * 2);
  });
  const total = sourceFunction(function total(values: number[]) {
    return values.reduce((a, b) => a + b, 0);
  });

  test('results are spilled, served by GetData from disk in chunks, and read back for tasks', async () => {
    session.send({ functions: [make, total], compute: [computeTask('spilled-numbers', make, [5000])] });
    await session.waitForFinished('spilled-numbers');
    await session.waitUntil(() => (session.metrics.at(-1)?.spilledBytes ?? 0) > 0 || worker.memory().spilledBytes > 0, 'spilling', 5_000);
    assert.equal(worker.memory().managedBytes, 0);
    assert.ok(readdirSync(worker.localDirectory).some((name) => name.endsWith('.spill')));
    const read = await readData(worker.address, ['spilled-numbers']);
    assert.ok(read.chunks.length > 5 && read.chunks.every((chunk) => chunk.data.byteLength <= 1024));
    assert.deepEqual(read.values.get('spilled-numbers'), Array.from({ length: 5000 }, (_, i) => i * 2));
    session.send({
      compute: [computeTask('spilled-total', total, [null], { holes: [{ path: [0], dependency: 0 }], inputs: [{ key: 'spilled-numbers', holders: [worker.address] }] })],
    });
    await session.waitForFinished('spilled-total');
  });

  test('release removes the spill file', async () => {
    const before = worker.memory().spilledBytes;
    session.send({ freeKeys: ['spilled-numbers', 'spilled-total'] });
    await session.waitUntil(() => worker.memory().spilledBytes < before, 'the spill files to be released', 5_000);
    await until(() => readdirSync(worker.localDirectory).every((name) => !name.endsWith('.spill')), 'the spill files to go');
  });

  test('a corrupt spill file: the key is reported lost and the task needing it missing', async () => {
    session.send({ compute: [computeTask('doomed', make, [3000])] });
    await session.waitForFinished('doomed');
    await session.waitUntil(() => worker.memory().managedBytes === 0, 'spilling', 5_000);
    const [file] = readdirSync(worker.localDirectory).filter((name) => name.endsWith('.spill'));
    const path = join(worker.localDirectory, file!);
    const content = readFileSync(path);
    content[100]! ^= 0x01;
    writeFileSync(path, content);
    session.send({
      compute: [computeTask('needs-doomed', total, [null], { holes: [{ path: [0], dependency: 0 }], inputs: [{ key: 'doomed', holders: [worker.address] }], runId: 9 })],
    });
    await session.waitUntil(() => session.missing.has('needs-doomed'), 'the task to be reported missing');
    assert.deepEqual(session.missing.get('needs-doomed')?.missingKeys, ['doomed']);
    assert.equal(session.missing.get('needs-doomed')?.runId, 9);
    await session.waitUntil(() => session.received.some((message) => message.lostKeys.includes('doomed')), 'doomed in lost_keys');
    assert.equal(session.finished.has('needs-doomed'), false);
  });

  test('a key assigned again whose held copy cannot be read is computed again, not left unanswered', async () => {
    session.send({ functions: [make], compute: [computeTask('held-again', make, [2000])] });
    await session.waitForFinished('held-again');
    await session.waitUntil(() => worker.memory().managedBytes === 0, 'spilling', 5_000);
    for (const name of readdirSync(worker.localDirectory)) rmSync(join(worker.localDirectory, name));
    session.finished.delete('held-again');
    // The scheduler assigns a key this worker holds when it lost track of it; the copy on disk is gone.
    session.send({ compute: [computeTask('held-again', make, [2000], { sendValue: true, runId: 7 })] });
    const finished = await session.waitForFinished('held-again');
    assert.deepEqual(decoded(finished), Array.from({ length: 2000 }, (_, i) => i * 2));
    assert.equal(finished.runId, 7, 'the report answers the new assignment');
    assert.ok(session.received.some((message) => message.lostKeys.includes('held-again')), 'the lost copy is reported');
  });

  test('a missing spill file is a lost key too, and GetData says missing', async () => {
    session.send({ compute: [computeTask('vanishing', make, [3000])] });
    await session.waitForFinished('vanishing');
    await session.waitUntil(() => worker.memory().managedBytes === 0, 'spilling', 5_000);
    for (const name of readdirSync(worker.localDirectory)) rmSync(join(worker.localDirectory, name));
    const read = await readData(worker.address, ['vanishing']);
    assert.deepEqual(read.missing, ['vanishing']);
    await session.waitUntil(() => session.received.some((message) => message.lostKeys.includes('vanishing')), 'vanishing in lost_keys');
  });
});

describe('pausing', () => {
  test('above the pause threshold no new task starts, metrics say paused at once, and work resumes when memory drops', async () => {
    const fake = await FakeScheduler.start({ heartbeatIntervalMs: 60_000 });
    // Pause about 150 MB above what this process uses now (the worker's threads take some of that).
    const baseline = process.memoryUsage.rss();
    const memoryLimit = Math.round((baseline + 150 * 2 ** 20) / 0.8);
    const [session, worker] = await Promise.all([
      fake.nextSession(),
      startTestWorker(fake.address, { nthreads: 2, memoryLimit, memorySpill: false, memoryCheckIntervalMs: 20 }),
    ]);
    try {
      const hog = sourceFunction(async function hog(mb: number, holdMs: number) {
        let block: Uint8Array | undefined = new Uint8Array(mb * 2 ** 20).fill(1);
        await new Promise((resolve) => setTimeout(resolve, holdMs));
        const last = block[block.length - 1];
        block = undefined;
        // Garbage in an idle task thread is only collected when that thread allocates again; collect it now.
        const builtin = (process as unknown as { getBuiltinModule(id: string): unknown }).getBuiltinModule;
        (builtin('node:v8') as { setFlagsFromString(flags: string): void }).setFlagsFromString('--expose-gc');
        ((builtin('node:vm') as { runInNewContext(code: string): unknown }).runInNewContext('gc') as () => void)();
        return last;
      });
      const quick = sourceFunction(function quick() {
        return 'done';
      });
      session.send({ functions: [hog, quick], compute: [computeTask('hog', hog, [300, 1500])] });
      await session.waitUntil(() => session.metrics.some((m) => m.paused), 'a paused heartbeat', 5_000);
      const pausedAt = Date.now();
      assert.equal(worker.memory().paused, true);
      session.send({ compute: [computeTask('quick', quick, [])] });
      await session.waitForFinished('quick');
      assert.ok(session.finished.has('hog'), 'quick ran only after the hog finished and memory dropped');
      assert.ok(Date.now() - pausedAt > 300, 'quick did not start while paused');
      assert.ok(session.metrics.some((m) => m.paused === false && session.metrics.indexOf(m) > session.metrics.findIndex((x) => x.paused)), 'resumed');
    } finally {
      await worker.close();
      await fake.close();
    }
  });
});
