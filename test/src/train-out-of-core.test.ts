// Training on more text than the cluster's memory: CSV files larger than both workers' memory limits together
// stream through read -> vectorize -> the loader's bounded window -> two replicas, and no worker process's peak
// resident memory reaches its limit. Every training row is used once per epoch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataframe as dd } from '@loom/client';
import { charcnn, train } from '@loom/ml';
import { parseBytes } from '@loom/protocol';
import { processMemory } from '@loom/worker';
import { useCluster } from './cluster-fixture.js';
import { syntheticMessages } from './text-data.js';

const MEMORY_LIMIT = '320MiB';
const fixture = useCluster({ workers: 2, threadsPerWorker: 1, memoryLimit: MEMORY_LIMIT });

/** Writes messages padded to about `rowBytes` each into `files` CSV files; returns the total bytes and rows. */
function writeTextCsv(dir: string, totalBytes: number, files: number, rowBytes: number): { bytes: number; rows: number } {
  const perFile = Math.ceil(totalBytes / files);
  const padding = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(rowBytes / 27)).slice(0, rowBytes);
  let rows = 0;
  let bytes = 0;
  for (let f = 0; f < files; f++) {
    const fd = openSync(join(dir, `text-${f}.csv`), 'w');
    writeSync(fd, 'body,label\n');
    for (let written = 0; written < perFile;) {
      const chunk = syntheticMessages(2000, 1 + rows).map((m) => `"${m.body} ${padding}",${m.label}`).join('\n') + '\n';
      writeSync(fd, chunk);
      written += chunk.length;
      rows += 2000;
    }
    closeSync(fd);
    bytes += statSync(join(dir, `text-${f}.csv`)).size;
  }
  return { bytes, rows };
}

test('training streams text larger than the cluster memory with every worker under its limit', { timeout: 600_000 }, async () => {
  const limit = parseBytes(MEMORY_LIMIT);
  const dir = mkdtempSync(join(tmpdir(), 'loom-train-ooc-'));
  try {
    const data = writeTextCsv(dir, 2.05 * limit, 4, 10_000);
    assert.ok(data.bytes > 2 * limit, `the dataset (${data.bytes} bytes) is larger than both workers' memory together`);
    const df = dd.readCsv(join(dir, 'text-*.csv'), { blocksize: '4MiB' });
    const result = await train(fixture.client, {
      data: df, text: 'body', label: 'label', classes: ['ham', 'spam'],
      model: charcnn({ length: 128, width: 16, dropout: 0.2 }),
      epochs: 1, batchSize: 128, replicas: 2, syncEvery: 16, learningRate: 2e-3, testFraction: 0.05, maxPartitions: 4,
    });
    const { metrics } = result;
    const trainRows = data.rows - metrics.testRows!;
    assert.ok(metrics.testRows! > 0.04 * data.rows && metrics.testRows! < 0.06 * data.rows, `${metrics.testRows} test rows`);
    assert.equal(metrics.samples, metrics.steps * 256);
    assert.ok(trainRows - metrics.samples < 256, `every training row but the last partial step was used (${metrics.samples} of ${trainRows})`);
    assert.ok(metrics.testAccuracy! > 0.9, `test accuracy ${metrics.testAccuracy}`);
    assert.ok(metrics.maxPartitionsHeld <= 4);
    for (const worker of fixture.cluster.workers) {
      const peak = processMemory(worker.pid, 'VmHWM');
      assert.ok(peak !== undefined && peak < limit, `worker ${worker.pid} peaked at ${peak} bytes (limit ${limit})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
