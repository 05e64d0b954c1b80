// `pnpm bench:train`: CharCNN-small training throughput (Adam, random text, 70 x 1014 one-hot input) at batch 32
// and 128 with 1 and 2 threads: Loom's Trainer against the same network in PyTorch (Debian's python3-torch), in
// the same run when importable, their steps alternating so both see the same background load. Also where Loom's
// step time goes and the FLOP/s both reach against a float32 GEMM peak measured here. Loom runs its steps as
// train() runs them: STEPS_PER_CALL steps per session call (Trainer.steps). Options: --quick (1 timed call);
// env BENCH_TRAIN_CALLS (at least this many timed calls, 3), BENCH_TRAIN_MIN_SECONDS (and more, up to 9, until
// Loom's timed calls add up to this, 40), BENCH_TRAIN_STEPS_PER_CALL (16), BENCH_TRAIN_WARMUP (warm-up calls, 1),
// BENCH_TRAIN_BATCHES (32,128), BENCH_TRAIN_THREADS (1,2), BENCH_SKIP_TORCH.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildModel, charCnn, createSession, GraphBuilder, normalTensor, ops, Rng, runSession, Trainer, type TensorData,
} from '@loom/ml';
import { STEPS_PER_CALL as TRAIN_STEPS_PER_CALL } from '@loom/ml/tasks';
import { pythonHas } from './reference.js';
import { fmt, printTable } from './table.js';
import { TorchTrainer, torchPeak } from './torch-reference.js';
import { charCnnTrainingFlops, readProfile } from './train-profile.js';

const quick = process.argv.includes('--quick');
const list = (value: string | undefined, fallback: number[]): number[] =>
  value === undefined ? fallback : value.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const CALLS = Number(process.env['BENCH_TRAIN_CALLS'] ?? (quick ? 1 : 3));
// Fast configurations get more calls, so each row's median stands on a similar stretch of time: one call at
// batch 32 with 2 threads is ~7 s, and single calls there wander by 20 % on a shared machine.
const MIN_TIMED_MS = 1000 * Number(process.env['BENCH_TRAIN_MIN_SECONDS'] ?? (quick ? 0 : 40));
const MAX_CALLS = 9;
const STEPS_PER_CALL = Number(process.env['BENCH_TRAIN_STEPS_PER_CALL'] ?? TRAIN_STEPS_PER_CALL);
// Loom's first call grows onnxruntime's arenas and faults in their pages; PyTorch's caching allocator is warm
// after two steps.
const WARMUP = Number(process.env['BENCH_TRAIN_WARMUP'] ?? 1);
const TORCH_WARMUP = 2;
const BATCHES = list(process.env['BENCH_TRAIN_BATCHES'], [32, 128]);
const THREADS = list(process.env['BENCH_TRAIN_THREADS'], [1, 2]);
const CLASSES = ['world', 'sports', 'business', 'science'];
const LENGTH = 1014;
const ALPHABET = 70;
const TARGET = 1.3;
const spec = charCnn({ classes: CLASSES, size: 'small', length: LENGTH });
const PARAMS = spec.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
/** The first conv's forward and weight-gradient multiply-adds: one-hot input, 70 channels, kernel 7, 256 features. */
const FIRST_CONV_FLOPS = 2 * (2 * (LENGTH - 7 + 1) * 256 * ALPHABET * 7);
const FLOPS_PER_SAMPLE = charCnnTrainingFlops({
  alphabet: ALPHABET, length: LENGTH, features: 256, hidden: 1024, classes: CLASSES.length, pool: 3,
  convs: [7, 7, 3, 3, 3, 3].map((kernel, i) => ({ kernel, pool: i === 0 || i === 1 || i === 5 })),
});

const log = (message: string) => process.stderr.write(`[bench:train] ${message}\n`);
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

interface ConfigResult {
  readonly batch: number;
  readonly threads: number;
  /** Timed calls (each STEPS_PER_CALL Loom steps and as many PyTorch steps). */
  readonly calls: number;
  /** Per step: a call's time over its steps, median over the timed calls. */
  readonly loomMs: number;
  /** onnxruntime's own Session::Run time (all kernels) per step, median over the timed calls. */
  readonly runMs: number;
  /** Step minus run, per step, median: outputs copied out to JS once a call, inputs stacked, dropout masks. */
  readonly outsideMs: number;
  /** Kernel ms per step by op type. */
  readonly opMs: Map<string, number>;
  readonly torchMs?: number;
}

/** Loom and (when `torch`) PyTorch at one configuration, their timed steps alternating. */
async function measure(batch: number, threads: number, torch: boolean): Promise<ConfigResult & { version?: string }> {
  const reference = torch ? await TorchTrainer.start(batch, threads, TORCH_WARMUP) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'loom-bench-train-'));
  const prefix = join(dir, 'profile');
  try {
    const trainer = await Trainer.create(spec, {
      optimizer: { kind: 'adam' }, learningRate: 1e-3, seed: 1, execution: { threads, profile: prefix },
    });
    const rng = new Rng(batch, threads);
    const makeBatch = () => ({
      inputs: { chars: BigInt64Array.from({ length: batch * LENGTH }, () => BigInt(rng.int(ALPHABET + 1))) },
      labels: Int32Array.from({ length: batch }, () => rng.int(CLASSES.length)),
    });
    const loomCall = async (): Promise<number> => {
      const data = Array.from({ length: STEPS_PER_CALL }, makeBatch);
      const start = performance.now();
      await trainer.steps(data);
      return (performance.now() - start) / STEPS_PER_CALL;
    };
    const torchSteps = async (into: number[]): Promise<void> => {
      for (let i = 0; i < STEPS_PER_CALL; i++) into.push(await (reference as TorchTrainer).step());
    };
    for (let i = 0; i < WARMUP; i++) await loomCall();
    const loomMs: number[] = [];
    const torchMs: number[] = [];
    let timedMs = 0;
    for (let i = 0; i < CALLS || (timedMs < MIN_TIMED_MS && i < MAX_CALLS); i++) {
      // Alternate which goes first, so neither always follows the other's cache and page-cache footprint.
      if (reference !== undefined && i % 2 === 1) await torchSteps(torchMs);
      loomMs.push(await loomCall());
      timedMs += (loomMs.at(-1) as number) * STEPS_PER_CALL;
      if (reference !== undefined && i % 2 === 0) await torchSteps(torchMs);
    }
    await trainer.dispose(); // writes the profile
    const profile = readProfile(prefix, WARMUP, STEPS_PER_CALL);
    const runMs = profile.runMs.slice(WARMUP);
    if (runMs.length !== loomMs.length) throw new Error(`profile has ${profile.runMs.length} runs, expected ${WARMUP + loomMs.length}`);
    return {
      batch, threads, calls: loomMs.length,
      loomMs: median(loomMs),
      runMs: median(runMs),
      outsideMs: median(loomMs.map((ms, i) => ms - (runMs[i] as number))),
      opMs: profile.opMs,
      ...(reference !== undefined ? { torchMs: median(torchMs), version: reference.version } : {}),
    };
  } finally {
    await reference?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Best float32 GEMM rate of onnxruntime (MatMul of two 2048 x 2048 matrices, summed to one number). */
async function ortPeak(threads: number): Promise<number> {
  const size = 2048;
  const g = new GraphBuilder();
  const a = g.input('a', 'float32', [size, size]);
  const b = g.input('b', 'float32', [size, size]);
  const total = ops.reduceSum(g, ops.matMul(g, a, b), [0, 1]);
  const { session } = await createSession(buildModel(g, { outputs: { total } }), { threads });
  const rng = new Rng(3);
  const feeds: Record<string, TensorData> = { a: normalTensor(rng, 'float32', [size, size]), b: normalTensor(rng, 'float32', [size, size]) };
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const start = performance.now();
    await runSession(session, feeds, ['total']);
    if (i > 0) best = Math.min(best, performance.now() - start);
  }
  await session.release();
  return (2 * size ** 3) / (best / 1000);
}

async function main(): Promise<void> {
  const torch = !process.env['BENCH_SKIP_TORCH'] && pythonHas('torch');
  if (process.env['BENCH_SKIP_TORCH']) log('skipping PyTorch (BENCH_SKIP_TORCH set)');
  else if (!torch) log('torch not importable by /usr/bin/python3 (apt-get install -y python3-torch): Loom only');
  log(`CharCNN-small, Adam; batches ${BATCHES.join(',')} x threads ${THREADS.join(',')}; ${WARMUP} warm-up + ${CALLS}-${MAX_CALLS} timed calls ` +
    `(until ${MIN_TIMED_MS / 1000} s of Loom steps) of ${STEPS_PER_CALL} steps each`);
  const loadBefore = loadavg()[0] ?? NaN;

  // The peak is measured before and after the training runs and the higher rate kept: background load only
  // ever lowers it.
  const peak = new Map<number, { ort: number; torch: number }>();
  const measurePeak = async (when: string): Promise<void> => {
    for (const threads of THREADS) {
      const ort = await ortPeak(threads);
      const fromTorch = torch ? torchPeak(threads) : NaN;
      const best = peak.get(threads);
      peak.set(threads, { ort: Math.max(best?.ort ?? 0, ort), torch: Math.max(best?.torch ?? 0, fromTorch || 0) });
      log(`peak ${when}, ${threads} thread(s): onnxruntime ${fmt(ort / 1e9)} GFLOP/s${torch ? `, torch.mm ${fmt(fromTorch / 1e9)} GFLOP/s` : ''}`);
    }
  };
  await measurePeak('before');

  const results: ConfigResult[] = [];
  let version = '';
  for (const batch of BATCHES) {
    for (const threads of THREADS) {
      const result = await measure(batch, threads, torch);
      version = result.version ?? version;
      results.push(result);
      log(`batch ${batch}, ${threads} thread(s): Loom ${fmt(result.loomMs)} ms/step (onnxruntime run ${fmt(result.runMs)} ms)` +
        (result.torchMs !== undefined ? `, PyTorch ${fmt(result.torchMs)} ms/step` : ''));
    }
  }
  await measurePeak('after');
  const loadAfter = loadavg()[0] ?? NaN;

  const peakOf = (threads: number) => Math.max(peak.get(threads)?.ort ?? 0, peak.get(threads)?.torch ?? 0);
  const rate = (batch: number, ms: number) => (batch * 1000) / ms;
  const gflops = (samplesPerS: number, threads: number) => {
    const flops = samplesPerS * FLOPS_PER_SAMPLE;
    return `${fmt(flops / 1e9)} (${fmt((100 * flops) / peakOf(threads))}%)`;
  };
  printTable(
    `CharCNN-small training (Adam, 70 x ${LENGTH} one-hot input; per step, medians of 'calls' Loom calls of ${STEPS_PER_CALL} steps` +
      ` alternating with as many ${STEPS_PER_CALL}-step PyTorch runs, after ${WARMUP} and ${TORCH_WARMUP} warm-up calls and steps` +
      `${torch ? `; PyTorch ${version}` : ''}; target Loom/PyTorch >= ${TARGET}x)`,
    ['batch', 'threads', 'calls', 'Loom samples/s', 'PyTorch samples/s', 'Loom/PyTorch', 'Loom step ms', 'ORT run ms',
      'copy+host ms', 'Loom GFLOP/s (% peak)', 'PyTorch GFLOP/s (% peak)'],
    results.map((r) => {
      const loomRate = rate(r.batch, r.loomMs);
      const torchRate = r.torchMs === undefined ? undefined : rate(r.batch, r.torchMs);
      return [
        String(r.batch), String(r.threads), String(r.calls), fmt(loomRate, 1), torchRate === undefined ? 'n/a' : fmt(torchRate, 1),
        torchRate === undefined ? 'n/a' : `${fmt(loomRate / torchRate, 2)}x`,
        fmt(r.loomMs), fmt(r.runMs), fmt(r.outsideMs), gflops(loomRate, r.threads),
        torchRate === undefined ? 'n/a' : gflops(torchRate, r.threads),
      ];
    }),
  );
  console.log(`  Loom runs ${STEPS_PER_CALL} steps per onnxruntime call (Trainer.steps). ORT run: onnxruntime's Session::Run (every`);
  console.log('  kernel), per step. copy+host: the rest of the call, per step: mostly onnxruntime-node copying the outputs into');
  console.log(`  fresh JavaScript buffers (the ${fmt((3 * PARAMS * 4) / 2 ** 20)} MiB of weights and Adam moments, once per call), then stacking`);
  console.log(`  inputs and drawing dropout masks. FLOPs: ${fmt(FLOPS_PER_SAMPLE / 1e9, 2)} GFLOP per sample (convs and FC`);
  console.log(`  layers: forward, weight gradients, input gradients), the same count for both; % of the best peak below.`);
  console.log(`  Loom does the first conv's forward and weight gradient as table lookups (tableConv1d), so ${fmt(FIRST_CONV_FLOPS / 1e9, 2)} of those`);
  console.log('  GFLOP are multiply-adds it does not make: its rate reads as the PyTorch-equivalent work per second.');
  console.log(`  Load average (1 min) before ${fmt(loadBefore, 1)}, after ${fmt(loadAfter, 1)} on ${availableParallelism()} CPUs: other work on the machine`);
  console.log('  slows both systems, PyTorch usually more, so ratios measured under load read high.');

  printTable('Float32 GEMM peak (2048 x 2048 x 2048, best of 5, before and after)', ['threads', 'onnxruntime MatMul GFLOP/s', 'torch.mm GFLOP/s'],
    THREADS.map((threads) => [String(threads), fmt((peak.get(threads)?.ort ?? 0) / 1e9), torch ? fmt((peak.get(threads)?.torch ?? 0) / 1e9) : 'n/a']));

  const opTotals = new Map<string, number>();
  for (const result of results) for (const [op, ms] of result.opMs) opTotals.set(op, (opTotals.get(op) ?? 0) + ms);
  const top = [...opTotals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([op]) => op);
  const kernels = (r: ConfigResult) => [...r.opMs.values()].reduce((a, b) => a + b, 0);
  printTable("Loom's onnxruntime kernel time by op type (ms per step)", ['op', ...results.map((r) => `b${r.batch} t${r.threads}`)],
    [...top, 'all kernels'].map((op) => [op, ...results.map((r) => fmt(op === 'all kernels' ? kernels(r) : r.opMs.get(op), 1))]));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
