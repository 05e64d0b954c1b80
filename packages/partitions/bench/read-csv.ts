// Parse throughput of readCsvBlock on one thread: a 300,000-row file whose every row has a quoted field (the
// tokenizer's speed), and a quote-free file of the out-of-core bench's rows (the one-pass reader's speed).
// Best of three after a warm-up, in MB/s.
//   node packages/partitions/dist/bench/read-csv.js [module]   module: a built @loom/partitions index.js
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Partitions = typeof import('../src/index.js');

const NOTES = ['alpha', 'bravo charlie', 'delta echo foxtrot', 'golf', 'hotel india juliet kilo'];

function quotedRows(): string {
  const lines = ['id,name,score,flag,when'];
  for (let i = 0; i < 300_000; i++) {
    lines.push(`${i},"user ${i % 977}, the ${i % 3 === 0 ? '""quoted""' : 'plain'}",${(i * 0.37).toFixed(3)},${i % 2 === 0},2024-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:00`);
  }
  return lines.join('\n') + '\n';
}

function plainRows(): string {
  const lines = ['id,value,category,note'];
  for (let id = 0; id < 1_000_000; id++) lines.push(`${id},${(id * 7919) % 1000},c${id % 10},${NOTES[id % NOTES.length]}`);
  return lines.join('\n') + '\n';
}

async function measure(partitions: Partitions, path: string, bytes: number, label: string): Promise<void> {
  const schema = await partitions.inferCsvSchema(path);
  const [block] = partitions.planCsvBlocks([path], 1 << 30);
  const rows = (await partitions.readCsvBlock(block!, schema)).numRows; // warm-up (JIT)
  let best = Infinity;
  for (let repeat = 0; repeat < 3; repeat++) {
    const started = performance.now();
    await partitions.readCsvBlock(block!, schema);
    best = Math.min(best, performance.now() - started);
  }
  const types = schema.columns.map((c) => c.type).join(', ');
  console.log(`${label}: ${(bytes / 1e6).toFixed(1)} MB, ${rows} rows (${types}): best of 3 ${best.toFixed(0)} ms = ${(bytes / 1e6 / (best / 1000)).toFixed(0)} MB/s`);
}

async function main(): Promise<void> {
  const own = new URL('../src/index.js', import.meta.url).href;
  const module = process.argv[2] ? pathToFileURL(process.argv[2]).href : own;
  const partitions = (await import(module)) as Partitions;
  const dir = mkdtempSync(join(tmpdir(), 'loom-read-csv-bench-'));
  try {
    console.log(`module ${module}`);
    for (const [label, text] of [['quoted', quotedRows()], ['plain', plainRows()]] as const) {
      const path = join(dir, `${label}.csv`);
      writeFileSync(path, text);
      await measure(partitions, path, Buffer.byteLength(text), label);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
