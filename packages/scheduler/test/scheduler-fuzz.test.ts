// Randomized state-machine testing of the scheduler: seeded sequences of stimuli (graphs sharing keys, releases
// and re-submissions in one turn, workers joining, dying, pausing, closing, losing keys, runs failing and
// retried, reports of cancelled runs arriving late) through `handleStimulus` in validate mode, checked after
// every step and driven to rest at the end (test/fuzz/simulation.ts). The workers are models of a worker, and in
// the second test the real worker state machine with its report batching (test/fuzz/real-worker.ts), so the
// two state machines are checked against each other. Every seed replays exactly:
//   LOOM_FUZZ_SEED=1234 node --test packages/scheduler/dist/test/scheduler-fuzz.test.js   (one seed, full trace)
//   LOOM_FUZZ_ITERATIONS=100000 node --test packages/scheduler/dist/test/scheduler-fuzz.test.js   (a long run)
// LOOM_FUZZ_STEPS sets the steps per sequence, LOOM_FUZZ_FIRST_SEED where the seeds start, LOOM_FUZZ_WORKERS
// (model, real or mixed) which workers a replayed seed, or the second test, uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation, SimulationFailure, type WorkerKind } from './fuzz/simulation.js';

const iterations = Number(process.env['LOOM_FUZZ_ITERATIONS'] ?? 2000);
const steps = Number(process.env['LOOM_FUZZ_STEPS'] ?? 80);
const firstSeed = Number(process.env['LOOM_FUZZ_FIRST_SEED'] ?? 1);
const onlySeed = process.env['LOOM_FUZZ_SEED'];
const kindFromEnv = process.env['LOOM_FUZZ_WORKERS'] as WorkerKind | undefined;

/** Runs `prefix` random steps of the sequence `seed`, then settles it; returns the failure, if any. */
function run(kind: WorkerKind, seed: number, prefix: number, trace = false): { failure: Error | undefined; simulation: Simulation } {
  const simulation = new Simulation(seed, trace, kind);
  try {
    while (simulation.step < prefix) simulation.runStep();
    simulation.settle();
    return { failure: undefined, simulation };
  } catch (error) {
    return { failure: error as Error, simulation };
  }
}

/** The shortest prefix of the sequence that still fails (each prefix settles with the same seed). */
function shortestFailingPrefix(kind: WorkerKind, seed: number, failedAt: number): { prefix: number; failure: Error; simulation: Simulation } {
  for (let prefix = 0; prefix < failedAt; prefix++) {
    const attempt = run(kind, seed, prefix, true);
    if (attempt.failure !== undefined) return { prefix, failure: attempt.failure, simulation: attempt.simulation };
  }
  const attempt = run(kind, seed, failedAt, true);
  return { prefix: failedAt, failure: attempt.failure!, simulation: attempt.simulation };
}

function report(kind: WorkerKind, seed: number, failure: Error): string {
  const failedAt = failure instanceof SimulationFailure ? failure.step : steps;
  const shortest = shortestFailingPrefix(kind, seed, failedAt);
  const trace = shortest.simulation.trace.slice(-80).join('\n');
  return (
    `scheduler fuzz (${kind} workers): seed ${seed} fails (shortest failing prefix: ${shortest.prefix} of ${steps} steps, then settle)\n` +
    `  ${shortest.failure.message}\n  replay: LOOM_FUZZ_WORKERS=${kind} LOOM_FUZZ_SEED=${seed} LOOM_FUZZ_STEPS=${shortest.prefix}\n${trace}`
  );
}

function fuzz(kind: WorkerKind, count: number): void {
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const { failure } = run(kind, seed, steps);
    if (failure !== undefined) assert.fail(report(kind, seed, failure));
  }
}

if (onlySeed !== undefined) {
  const kind = kindFromEnv ?? 'model';
  test(`scheduler fuzz (${kind} workers): seed ${onlySeed}`, () => {
    const seed = Number(onlySeed);
    const { failure, simulation } = run(kind, seed, steps, true);
    console.log(simulation.trace.join('\n'));
    if (failure !== undefined) assert.fail(report(kind, seed, failure));
  });
} else {
  test(`scheduler fuzz: ${iterations} random sequences of ${steps} steps settle with every wanted key in memory or erred`, () => {
    fuzz('model', iterations);
  });

  test(`scheduler and worker fuzz: ${iterations} sequences against the real worker state machine and its report batching`, () => {
    fuzz(kindFromEnv ?? 'real', iterations);
  });
}
