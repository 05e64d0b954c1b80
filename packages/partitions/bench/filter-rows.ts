// Micro-benchmark of filterRows on one CSV block (the out-of-core bench's rows: id,value,category,note), keeping
// half the rows with `row.value >= 500`: median wall time, and the smallest task-thread old generation (MiB)
// in which read + filter still succeed (the heap a worker must grant; young generation fixed at 12 MiB, as a
// 320 MiB worker's task thread gets).
//   node packages/partitions/dist/bench/filter-rows.js [module]   module: a built @loom/partitions index.js
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Table } from 'apache-arrow';

type Partitions = typeof import('../src/index.js');

const NOTES = ['alpha', 'bravo charlie', 'delta echo foxtrot', 'golf', 'hotel india juliet kilo'];
const PREDICATE = '(row) => row.value >= 500';

function writeBlock(path: string, bytes: number): void {
  const lines = ['id,value,category,note'];
  let size = lines[0]!.length + 1;
  for (let id = 0; size < bytes; id++) {
    const line = `${id},${(id * 7919) % 1000},c${id % 10},${NOTES[id % NOTES.length]}`;
    lines.push(line);
    size += line.length + 1;
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

async function readBlock(partitions: Partitions, path: string): Promise<Table> {
  const schema = await partitions.inferCsvSchema(path);
  const [block] = partitions.planCsvBlocks([path], 1 << 30);
  return partitions.readCsvBlock(block!, schema);
}

interface Job {
  module: string;
  path: string;
}

/** In a heap-capped thread: read the block, filter it twice, report the kept rows. */
async function capped(job: Job): Promise<void> {
  const partitions = (await import(job.module)) as Partitions;
  const table = await readBlock(partitions, job.path);
  let kept = 0;
  for (let repeat = 0; repeat < 2; repeat++) kept = partitions.filterRows(table, PREDICATE).numRows;
  parentPort!.postMessage(kept);
}

function fitsIn(job: Job, oldMb: number): Promise<boolean> {
  return new Promise((resolve) => {
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: job,
      resourceLimits: { maxOldGenerationSizeMb: oldMb, maxYoungGenerationSizeMb: 12 },
    });
    let ok = false;
    worker.on('message', () => (ok = true));
    worker.on('error', () => resolve(false));
    worker.on('exit', () => resolve(ok));
  });
}

/** The smallest old-generation cap (MiB, to 2 MiB) under which the job succeeds. */
async function smallestHeap(job: Job): Promise<number> {
  let lo = 2;
  let hi = 512;
  if (!(await fitsIn(job, hi))) return Number.POSITIVE_INFINITY;
  while (hi - lo > 2) {
    const mid = (lo + hi) >> 1;
    if (await fitsIn(job, mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

async function main(): Promise<void> {
  const own = new URL('../src/index.js', import.meta.url).href;
  const module = process.argv[2] ? pathToFileURL(process.argv[2]).href : own;
  const partitions = (await import(module)) as Partitions;
  const dir = mkdtempSync(join(tmpdir(), 'loom-filter-bench-'));
  try {
    console.log(`module ${module}`);
    for (const mib of [2, 16]) {
      const path = join(dir, `block-${mib}.csv`);
      writeBlock(path, mib * 2 ** 20);
      const table = await readBlock(partitions, path);
      const times: number[] = [];
      let kept = 0;
      for (let repeat = 0; repeat < (mib === 2 ? 25 : 7); repeat++) {
        const started = performance.now();
        kept = partitions.filterRows(table, PREDICATE).numRows;
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const median = times[times.length >> 1]!;
      const heap = await smallestHeap({ module, path });
      console.log(`${mib} MiB block: ${table.numRows} rows, ${kept} kept; filterRows median ${median.toFixed(1)} ms ` +
        `(min ${times[0]!.toFixed(1)}); read + filter fit in a ${heap} MiB old generation`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  await capped(workerData as Job);
}
