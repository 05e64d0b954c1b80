// The data-parallel training tasks. A run is a chain of rounds: in each, every replica starts from the same
// checkpoint, trains `steps` steps on the rows its plan picks from vectorized partitions, and returns its
// checkpoint; averageRound averages the replicas' weights and optimizer state into the next round's start.
import type { Table } from 'apache-arrow';
import { CHECKPOINT_FORMAT, type Checkpoint } from '../checkpoint.js';
import { MlError } from '../errors.js';
import { VectorizedRows, tensorize } from '../text/tensorize.js';
import { Trainer } from '../trainer.js';
import { buildTrainingGraph, zeroState } from '../model-graphs.js';
import { averageWeights, initialWeights } from '../weights.js';
import { modelSpecOf, type RunSpec } from './run-spec.js';
import { SessionCache } from './session-cache.js';

export interface RoundPlan {
  readonly replica: number;
  readonly steps: number;
  readonly batchSize: number;
  /** (index into the round's tables, row) pairs, steps x batchSize of them, in training order. */
  readonly picks: readonly number[];
  /** Learning rate of each step (the client evaluates the schedule). */
  readonly rates: readonly number[];
}

export interface RoundResult {
  readonly checkpoint: Checkpoint;
  readonly summary: RoundSummary;
}

export interface RoundSummary {
  readonly replica: number;
  readonly losses: readonly number[];
  readonly rows: number;
  /** Seconds spent in training steps (excluding session creation and data gathering). */
  readonly stepSeconds: number;
  readonly seconds: number;
  readonly provider: string;
  /** The worker process that ran the round (where replicas run shows in the run's metrics). */
  readonly pid: number;
}

const trainers = new SessionCache<Trainer>((trainer) => trainer.dispose());

/**
 * Steps per session call: the weights and optimizer state leave onnxruntime once per call (step-loop.ts), and a
 * call holds this many batches of input (16 x 32 rows x 1014 characters is 4 MiB of int64 indices).
 * onnxruntime-node copies every output into fresh memory: for CharCNN-small that is 130 MiB a call, measured at
 * 75-450 ms here, so 8 steps a call paid 11-56 ms a step for it and 16 pay half that. Train rounds are this
 * long by default (syncEvery), so a round is one call.
 */
export const STEPS_PER_CALL = 16;

/**
 * The seeded starting point of a run, made on a worker so the client never uploads weights. Built from the seed
 * alone, never from a cached trainer: a lost result recomputed later must come out the same.
 */
export function initialCheckpoint(run: RunSpec): Checkpoint {
  const spec = modelSpecOf(run);
  return {
    format: CHECKPOINT_FORMAT, model: spec.name, optimizer: run.optimizer, step: 0, seed: run.seed, replica: 0,
    weights: initialWeights(spec, run.seed), state: zeroState(buildTrainingGraph(spec, run.optimizer)),
  };
}

export async function trainRound(run: RunSpec, start: Checkpoint, plan: RoundPlan, ...tables: Table[]): Promise<RoundResult> {
  const began = performance.now();
  if (plan.picks.length !== 2 * plan.steps * plan.batchSize || plan.rates.length !== plan.steps) {
    throw new MlError('INVALID_ARGUMENT', `round plan of ${plan.steps} steps x ${plan.batchSize} rows has ${plan.picks.length / 2} picks and ${plan.rates.length} rates`);
  }
  const rows = tables.map((table) => new VectorizedRows(table));
  const picks = Int32Array.from(plan.picks);
  const trainer = await trainerFor(run, plan.replica);
  await trainer.restore(start);
  const losses: number[] = [];
  let stepSeconds = 0;
  for (let first = 0; first < plan.steps; first += STEPS_PER_CALL) {
    const count = Math.min(STEPS_PER_CALL, plan.steps - first);
    const batches = Array.from({ length: count }, (_, i) => {
      const batch = tensorize(rows, picks, (first + i) * plan.batchSize, plan.batchSize);
      return { inputs: { chars: batch.chars }, labels: batch.labels };
    });
    const callStart = performance.now();
    const results = await trainer.steps(batches, { learningRates: plan.rates.slice(first, first + count) });
    stepSeconds += (performance.now() - callStart) / 1000;
    for (const result of results) {
      if (!Number.isFinite(result.loss)) {
        throw new MlError('RUNTIME_FAILED', `replica ${plan.replica} diverged at step ${result.step}: loss ${result.loss} (lower the learning rate)`);
      }
      losses.push(result.loss);
    }
  }
  const checkpoint = trainer.checkpoint();
  if (checkpoint.step !== start.step + plan.steps) {
    throw new MlError('RUNTIME_FAILED', `replica ${plan.replica} ended at step ${checkpoint.step}, not ${start.step} + ${plan.steps}`);
  }
  return {
    checkpoint,
    summary: {
      replica: plan.replica, losses, rows: plan.steps * plan.batchSize, stepSeconds,
      seconds: (performance.now() - began) / 1000, provider: trainer.provider, pid: process.pid,
    },
  };
}

/** The replicas' mean weights and optimizer state (Adam's moments average; every replica made the same steps). */
export function averageRound(...results: RoundResult[]): Checkpoint {
  const [first] = results;
  if (first === undefined) throw new MlError('INVALID_ARGUMENT', 'averageRound needs at least one replica result');
  const steps = new Set(results.map((result) => result.checkpoint.step));
  if (steps.size !== 1) {
    const detail = results.map((r) => `replica ${r.summary.replica} step ${r.checkpoint.step} (${r.summary.losses.length} steps in pid ${r.summary.pid})`);
    throw new MlError('INVALID_ARGUMENT', `replicas disagree on the step count: ${detail.join(', ')}`);
  }
  if (results.length === 1) return { ...first.checkpoint, replica: 0 };
  return {
    ...first.checkpoint,
    replica: 0,
    weights: averageWeights(results.map((result) => result.checkpoint.weights)),
    state: averageWeights(results.map((result) => result.checkpoint.state)),
  };
}

/** The small part of a round result the client reads for progress. */
export function roundSummary(result: RoundResult): RoundSummary {
  return result.summary;
}

function trainerFor(run: RunSpec, replica: number): Promise<Trainer> {
  return trainers.get(`${run.id}/${replica}`, () => Trainer.create(modelSpecOf(run), {
    optimizer: run.optimizer,
    learningRate: 0, // every step passes its rate
    seed: run.seed,
    replica,
    execution: run.execution,
  }));
}
