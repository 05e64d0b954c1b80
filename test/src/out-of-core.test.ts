// The out-of-core acceptance test: CSV files three times the total memory limit of a 2-worker cluster are read,
// filtered, persisted (which cannot fit, so workers spill to disk) and aggregated. The answer must be exact,
// spill must have happened, and no worker process's peak RSS may exceed its memory limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compute, dataframe as dd, delayed } from '@loom/client';
import { writeCsvDataset } from '../../scripts/datasets.mjs';
import { processMemory } from '@loom/worker';
import { useCluster } from './cluster-fixture.js';

const MEMORY_LIMIT = 320 * 2 ** 20;
const fixture = useCluster({ workers: 2, threadsPerWorker: 1, memoryLimit: MEMORY_LIMIT });

/** Peak resident set size of a worker process (VmHWM); a worker that vanished fails the test. */
function peakRss(pid: number): number {
  const peak = processMemory(pid, 'VmHWM');
  if (peak === undefined) throw new Error(`no VmHWM for process ${pid}`);
  return peak;
}

test('a dataset 3x the cluster memory: exact answer, spill happened, no worker over its limit', async () => {
  const { cluster, client } = fixture;
  const dir = mkdtempSync(join(tmpdir(), 'loom-out-of-core-'));
  try {
    const data = writeCsvDataset(dir, { totalBytes: 3 * 2 * MEMORY_LIMIT, files: 8, threshold: 500 });
    assert.ok(data.bytes >= 3 * 2 * MEMORY_LIMIT);
    // A nanny restarts a worker under its old name: the process ids tell a restart apart.
    const processesBefore = cluster.workers.map((w) => `${w.name}:${w.pid}`).sort();

    const kept = await dd
      .readCsv(join(dir, '*.csv'), { blocksize: '2MiB' })
      .filter((row: { value: number }) => row.value >= 500)
      .persist();
    const count = await kept.count().compute();
    const partitionSum = delayed((table: dd.arrow.Table) => {
      let sum = 0;
      for (const value of table.getChild('value')!) sum += Number(value);
      return sum;
    });
    const sums = (await compute(...kept.partitions.map((partition) => partitionSum(partition)))) as number[];
    const info = await client.schedulerInfo();
    kept.release();

    assert.equal(count, data.matchingRows, 'row count exact');
    assert.equal(sums.reduce((a, b) => a + b, 0), data.matchingSum, 'sum exact');
    const spilled = info.workers.reduce((total, w) => total + w.spilledBytes, 0);
    assert.ok(spilled > 0, `workers spilled to disk (${spilled} bytes)`);
    assert.deepEqual(cluster.workers.map((w) => `${w.name}:${w.pid}`).sort(), processesBefore, 'no worker was lost or restarted');
    assert.equal(info.workers.length, processesBefore.length, 'every worker is still registered');
    for (const worker of cluster.workers) {
      const peak = peakRss(worker.pid);
      assert.ok(peak <= MEMORY_LIMIT, `worker ${worker.name} peaked at ${(peak / 2 ** 20).toFixed(0)} MiB, limit ${MEMORY_LIMIT / 2 ** 20} MiB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
