// Linear-chain fusion (the client's graph-fuse.ts) on a real cluster: a chain runs as one task, so a value only
// its next step reads is never encoded, and the same graphs give the same answers with fusion turned off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, dataframe as dd, delayed } from '@loom/client';
import { isLoomError } from '@loom/protocol';
import { useCluster } from './cluster-fixture.js';

const fixture = useCluster({ workers: 1 });

async function unfusedClient(): Promise<Client> {
  return Client.connect(fixture.cluster.address, { fuseChains: false, name: 'unfused' });
}

// A function cannot be encoded as a task result; inside a fused chain it never has to be.
const makeScaler = delayed((factor: number) => (x: number) => x * factor);
const applyScaler = delayed((scale: (x: number) => number, x: number) => scale(x));

test('a chain runs as one task: an intermediate that could not travel between tasks is fine', async () => {
  assert.equal(await applyScaler(makeScaler(3), 14).compute(fixture.client), 42);

  const unfused = await unfusedClient();
  try {
    await assert.rejects(applyScaler(makeScaler(3), 14).compute(unfused), (error: unknown) => isLoomError(error, 'SERIALIZATION_FAILED'));
  } finally {
    await unfused.close();
  }
});

test('a step failing inside a fused task is reported under its own key, with its stack', async () => {
  const parse = delayed((text: string) => Number(text));
  const explode = delayed(function explodeOnOdd(x: number) {
    if (x % 2 === 1) throw new RangeError(`odd value ${x}`);
    return x;
  });
  const total = delayed((x: number) => x + 1);
  const exploded = explode(parse('7'));
  const failing = total(exploded);
  await assert.rejects(failing.compute(fixture.client), (error: unknown) => {
    assert.ok(isLoomError(error, 'TASK_FAILED'), String(error));
    assert.equal(error.taskKey, exploded.key, 'the step that threw, as if it had run on its own');
    assert.match(error.message, /odd value 7/);
    assert.match(error.remoteStack ?? '', /loom-function:explodeOnOdd/);
    return true;
  });
  assert.equal(await total(explode(parse('8'))).compute(fixture.client), 9, 'the next graph runs normally');
});

test('DataFrame chains give the same table fused and unfused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loom-fusion-'));
  const unfused = await unfusedClient();
  try {
    const rows = Array.from({ length: 3_000 }, (_, i) => `${i},${(i * 37) % 101},name-${i % 7}`);
    writeFileSync(join(dir, 'a.csv'), `id,score,name\n${rows.slice(0, 1_500).join('\n')}\n`);
    writeFileSync(join(dir, 'b.csv'), `id,score,name\n${rows.slice(1_500).join('\n')}\n`);
    const pipeline = () =>
      dd
        .readCsv(join(dir, '*.csv'), { blocksize: '8KiB' })
        .filter((row: { score: number }) => row.score > 50)
        .assign({ doubled: (row: { score: number }) => row.score * 2 })
        .select(['id', 'doubled']);
    const fused = await pipeline().compute(fixture.client);
    const plain = await pipeline().compute(unfused);
    assert.ok(pipeline().npartitions > 4, 'several partitions, each a chain');
    assert.equal(fused.numRows, rows.filter((_, i) => (i * 37) % 101 > 50).length);
    assert.deepEqual(fused.toArray().map((row) => row.toJSON()), plain.toArray().map((row) => row.toJSON()));
    assert.equal(await pipeline().count().compute(fixture.client), fused.numRows);
  } finally {
    await unfused.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
