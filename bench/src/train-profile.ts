// Reading onnxruntime's profile of a training session (Chrome trace JSON): per-run times and per-op-type kernel
// time, and the analytic FLOP count of a CharCNN training step that achieved FLOP/s are measured against.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

interface TraceEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly dur?: number;
  readonly ts?: number;
  readonly args?: { readonly op_name?: string };
}

export interface RunProfile {
  /** Milliseconds per step of each `model_run` (onnxruntime's Session::Run: kernels and its own allocations). */
  readonly runMs: number[];
  /** Kernel milliseconds per step by op type, averaged over the runs from `skip` on. */
  readonly opMs: Map<string, number>;
}

/**
 * The profile onnxruntime wrote for the prefix given as ExecutionConfig.profile (`${prefix}_<date>.json`), of a
 * session whose runs each made `stepsPerRun` training steps.
 */
export function readProfile(prefix: string, skip: number, stepsPerRun: number): RunProfile {
  const dir = dirname(prefix);
  const file = readdirSync(dir).find((name) => name.startsWith(`${basename(prefix)}_`) && name.endsWith('.json'));
  if (file === undefined) throw new Error(`no onnxruntime profile for ${prefix}`);
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
  const counted = runs.slice(skip);
  const from = counted[0]?.ts ?? Infinity;
  const opMs = new Map<string, number>();
  const perStep = 1000 * Math.max(counted.length, 1) * stepsPerRun;
  for (const e of events) {
    if (e.cat !== 'Node' || !(e.name ?? '').endsWith('_kernel_time') || (e.ts ?? 0) < from) continue;
    const op = e.args?.op_name ?? '?';
    // The Loop node's own time is its body's kernels, which have events of their own.
    if (op === 'Loop') continue;
    opMs.set(op, (opMs.get(op) ?? 0) + (e.dur ?? 0) / perStep);
  }
  return { runMs: runs.map((e) => (e.dur ?? 0) / 1000 / stepsPerRun), opMs };
}

export interface CharCnnShape {
  readonly alphabet: number;
  readonly length: number;
  readonly features: number;
  readonly hidden: number;
  readonly classes: number;
  readonly convs: readonly { readonly kernel: number; readonly pool: boolean }[];
  readonly pool: number;
}

/**
 * Floating-point operations (multiply and add counted separately) of one training sample: the forward convs and
 * fully connected layers, their weight gradients (as many again), and their input gradients (as many again,
 * except the first conv, whose one-hot input needs none). Pooling, activations and Adam are left out: they are
 * a few per element, not per multiply-accumulate. The same count serves both systems.
 */
export function charCnnTrainingFlops(shape: CharCnnShape): number {
  let forward = 0;
  let firstLayer = 0;
  let channels = shape.alphabet;
  let steps = shape.length;
  shape.convs.forEach(({ kernel, pool }, i) => {
    steps = steps - kernel + 1;
    const flops = 2 * steps * shape.features * channels * kernel;
    if (i === 0) firstLayer = flops;
    forward += flops;
    if (pool) steps = Math.floor(steps / shape.pool);
    channels = shape.features;
  });
  const widths = [shape.features * steps, shape.hidden, shape.hidden, shape.classes];
  for (let i = 0; i < 3; i++) forward += 2 * (widths[i] as number) * (widths[i + 1] as number);
  return 3 * forward - firstLayer;
}
