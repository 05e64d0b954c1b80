// train(client, options): CharCNN text classification over a Loom DataFrame, out of core and data-parallel.
//
// The client plans, the workers compute. Partitions are vectorized on the workers and pulled into a bounded
// shuffle window (ShuffleWindow). Training runs in rounds of `syncEvery` steps: each replica's round is one task
// that starts from the previous round's averaged checkpoint and trains on the rows the window drew for it;
// an averaging task then produces the next start. Checkpoints move between workers, never through the client,
// and the client keeps up to two rounds submitted so workers do not wait on it. After every epoch the validation
// rows are scored (early stopping keeps the best epoch). Then the test rows are evaluated as one task per
// partition, and the kept weights are exported as a plain inference ONNX file.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Client, Delayed, Future } from '@loom/client';
import { createLogger } from '@loom/protocol';
import type { Checkpoint } from '../checkpoint.js';
import { MlError } from '../errors.js';
import { buildInferenceGraph } from '../model-graphs.js';
import type { RunSpec } from '../tasks/run-spec.js';
import { addEvaluations, type Evaluation } from '../tasks/evaluate.js';
import type { RoundPlan, RoundSummary } from '../tasks/train-round.js';
import type { SplitSpec } from '../text/split.js';
import type { VectorizeOptions } from '../text/vectorize.js';
import { EarlyStopping } from './early-stopping.js';
import { majorityBaseline, nearChanceWarning } from './near-chance.js';
import { choosePlacement } from './placement.js';
import { ShuffleWindow, type WindowSource } from './shuffle-window.js';
import { taskOp } from './task-ops.js';
import { textModelSpec } from './text-model.js';
import { resolveTrainOptions, type ResolvedTrainOptions, type TrainOptions } from './train-options.js';

export interface TrainResult {
  /** The exported model file, when `out` was given. */
  readonly modelPath: string | undefined;
  /** The exported model's bytes (input `chars`, output `logits`, metadata_props with alphabet/length/classes). */
  readonly model: Uint8Array;
  readonly classes: readonly string[];
  readonly metrics: TrainMetrics;
}

export interface TrainMetrics {
  /** Mean replica loss per global step. */
  readonly trainLoss: number[];
  readonly testAccuracy?: number;
  readonly testLoss?: number;
  readonly testRows?: number;
  /** Epochs trained (early stopping may end a run before `epochs`). */
  readonly epochs: number;
  /** The epoch (0-based) whose weights were kept: the lowest validation loss, or the last epoch without validation. */
  readonly bestEpoch: number;
  /** Validation loss and accuracy after each epoch (empty without validation rows). */
  readonly validationLoss: number[];
  readonly validationAccuracy: number[];
  readonly validationRows?: number;
  /** Accuracy of always answering the most common class on the held-out rows (test, else validation). */
  readonly majorityBaseline?: number;
  /** Things the caller should know, also logged at warn: e.g. held-out accuracy near chance. */
  readonly warnings: string[];
  readonly steps: number;
  readonly samples: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  /** The most vectorized partitions the loader held at once. */
  readonly maxPartitionsHeld: number;
  /** The execution provider the replicas ran on ('cpu' or 'cuda'). */
  readonly provider: string;
  /** Process ids of the workers that ran training rounds. */
  readonly processes: number[];
}

/** Rounds submitted ahead of the one whose losses the client waits for. */
const ROUNDS_IN_FLIGHT = 2;
/** How often the run logs its progress at info level (onProgress gets every step). */
const PROGRESS_LOG_MS = 10_000;

const log = createLogger('train');

export async function train(client: Client, options: TrainOptions): Promise<TrainResult> {
  const resolved = resolveTrainOptions(options);
  const started = performance.now();
  const classes = options.classes !== undefined ? [...options.classes] : await findClasses(client, options);
  if (classes.length < 2) throw new MlError('INVALID_ARGUMENT', `label column '${options.label}' has ${classes.length} class(es); a classifier needs two`);
  const placement = await choosePlacement(client, resolved.device, resolved.threads);
  if (resolved.replicas > placement.slots) {
    log.warn({ replicas: resolved.replicas, slots: placement.slots }, 'more replicas than worker threads: replicas will take turns');
  }
  const run: RunSpec = {
    id: randomUUID(), model: resolved.model, classes, optimizer: resolved.optimizer, seed: resolved.seed, execution: placement.execution,
  };
  const taskOptions = placement.resources !== undefined ? { resources: placement.resources } : {};
  const vectorize = (split: SplitSpec | undefined): VectorizeOptions => ({
    text: options.text, label: options.label, classes,
    alphabet: resolved.model.alphabet, length: resolved.model.length, lowercase: resolved.model.lowercase,
    ...(split !== undefined ? { split } : {}),
  });
  const split = (keep: SplitSpec['keep']): SplitSpec | undefined =>
    resolved.testFraction === undefined && resolved.validationFraction === undefined
      ? undefined
      : { testFraction: resolved.testFraction ?? 0, validationFraction: resolved.validationFraction ?? 0, seed: resolved.seed, keep };
  const vectorizeOp = taskOp('vectorizePartition');
  const trainParts = options.data.partitions.map((part) => vectorizeOp(part, vectorize(split('train'))));
  const validationParts = resolved.validationFraction === undefined
    ? undefined
    : options.data.partitions.map((part) => vectorizeOp(part, vectorize(split('validation'))));
  const testSource = options.test ?? (resolved.testFraction !== undefined ? options.data : undefined);
  const testParts = testSource?.partitions.map((part) => vectorizeOp(part, vectorize(options.test !== undefined ? undefined : split('test'))));

  log.info({ run: run.id, classes, partitions: trainParts.length, replicas: resolved.replicas, provider: placement.execution.provider },
    'training starts');
  const scoreOn = (parts: readonly Delayed<unknown>[]) => (state: Future<unknown>) =>
    evaluate(client, run, state, parts, taskOptions, resolved.maxPartitions);
  const validation = validationParts === undefined ? undefined : scoreOn(validationParts);
  const training = new TrainingRun(client, run, resolved, taskOptions, options.onProgress, started, validation);
  let state: Future<unknown> | undefined;
  try {
    state = await training.fit(trainParts);
    const evaluation = testParts === undefined ? undefined : await scoreOn(testParts)(state);
    const checkpoint = (await state.result()) as Checkpoint;
    const model = buildInferenceGraph(textModelSpec(run.model, classes), { weights: checkpoint.weights });
    if (options.out !== undefined) await writeFile(options.out, model);
    const seconds = (performance.now() - started) / 1000;
    const tested = evaluation !== undefined && evaluation.rows > 0 ? evaluation : undefined;
    const heldOut = tested ?? training.bestValidation;
    const nearChance = heldOut === undefined
      ? undefined
      : nearChanceWarning(heldOut.correct / heldOut.rows, heldOut.labelCounts, tested !== undefined ? 'test' : 'validation',
        training.stoppedEarly ? { epochs: training.epochsRun, steps: training.losses.length } : undefined);
    if (nearChance !== undefined) training.warn(nearChance);
    const metrics: TrainMetrics = {
      trainLoss: training.losses,
      ...(tested !== undefined
        ? { testAccuracy: tested.correct / tested.rows, testLoss: tested.lossSum / tested.rows, testRows: tested.rows }
        : {}),
      epochs: training.epochsRun,
      bestEpoch: training.bestEpoch,
      validationLoss: training.validationLoss,
      validationAccuracy: training.validationAccuracy,
      ...(training.validationRows !== undefined ? { validationRows: training.validationRows } : {}),
      ...(heldOut !== undefined ? { majorityBaseline: majorityBaseline(heldOut.labelCounts) } : {}),
      warnings: training.warnings,
      steps: training.losses.length,
      samples: training.samples,
      seconds,
      samplesPerSecond: training.samples / Math.max(training.trainSeconds, 1e-9),
      maxPartitionsHeld: training.maxPartitionsHeld,
      provider: training.provider,
      processes: [...training.processes].sort((a, b) => a - b),
    };
    log.info({ run: run.id, ...metrics, trainLoss: undefined, finalLoss: training.losses.at(-1) }, 'training done');
    return { modelPath: options.out, model, classes, metrics };
  } finally {
    state?.release();
    await training.close();
  }
}

/** One pass over the data for its distinct labels (sorted, as strings). */
async function findClasses(client: Client, options: TrainOptions): Promise<string[]> {
  const distinct = taskOp('distinctLabels');
  const frames = [options.data, ...(options.test !== undefined ? [options.test] : [])];
  const lists = frames.flatMap((frame) => frame.partitions.map((part) => distinct(part, options.label)));
  const [classes] = await client.computeDelayed([taskOp('mergeLabels')(...lists)]);
  return classes as string[];
}

interface SubmittedRound {
  readonly epoch: number;
  readonly summaries: Future<unknown>[];
}

class TrainingRun {
  readonly losses: number[] = [];
  readonly validationLoss: number[] = [];
  readonly validationAccuracy: number[] = [];
  readonly warnings: string[] = [];
  validationRows: number | undefined;
  /** The validation scores of the kept epoch. */
  bestValidation: Evaluation | undefined;
  epochsRun = 0;
  bestEpoch = -1;
  /** Early stopping ended the run before `epochs`. */
  stoppedEarly = false;
  samples = 0;
  trainSeconds = 0;
  maxPartitionsHeld = 0;
  provider = 'unknown';
  readonly processes = new Set<number>();
  private lastLog = performance.now();
  private readonly inFlight: SubmittedRound[] = [];
  private readonly windows: ShuffleWindow<Delayed<unknown>>[] = [];
  private readonly trainRound;
  private readonly averageRound;
  private readonly roundSummary = taskOp('roundSummary');
  private readonly countRows = taskOp('countRows');
  private readonly stopping: EarlyStopping;
  /** The best epoch's checkpoint, held while later epochs train. */
  private kept: Future<unknown> | undefined;

  constructor(
    private readonly client: Client,
    private readonly run: RunSpec,
    private readonly options: ResolvedTrainOptions,
    taskOptions: { resources?: Record<string, number> },
    private readonly onProgress: TrainOptions['onProgress'],
    private readonly started: number,
    /** Scores a checkpoint on the validation rows; undefined: no early stopping. */
    private validate: ((state: Future<unknown>) => Promise<Evaluation>) | undefined,
  ) {
    this.trainRound = taskOp('trainRound', { ...taskOptions, name: 'trainRound' });
    this.averageRound = taskOp('averageRound');
    this.stopping = new EarlyStopping(options.earlyStopping);
  }

  /** Records a warning for the run's metrics and logs it. */
  warn(warning: string): void {
    this.warnings.push(warning);
    log.warn({ run: this.run.id }, warning);
  }

  /**
   * Trains until `epochs` or early stopping; resolves to the future of the checkpoint to keep: the epoch with the
   * lowest validation loss, or the last one without validation.
   */
  async fit(partitions: readonly Delayed<unknown>[]): Promise<Future<unknown>> {
    const { replicas, batchSize, syncEvery } = this.options;
    let state = this.client.compute(taskOp('initialCheckpoint', { name: 'initialCheckpoint' })(this.run));
    let steps = 0;
    for (let epoch = 0; epoch < this.options.epochs; epoch++) {
      const window = new ShuffleWindow(partitions.length, this.source(partitions), {
        maxPartitions: this.options.maxPartitions, seed: this.run.seed, epoch,
      });
      this.windows.push(window);
      for (;;) {
        const draw = await window.draw(replicas * batchSize * syncEvery);
        // The epoch's last rows make as many whole steps for every replica as they can; the rest wait for the
        // next epoch's shuffle (like drop_last).
        const roundSteps = Math.floor(draw.rows / (replicas * batchSize));
        if (roundSteps === 0) {
          window.release();
          break;
        }
        const rates = Array.from({ length: roundSteps }, (_, i) => this.rateAt(steps + i));
        const rounds = Array.from({ length: replicas }, (_, replica) => {
          const plan = roundPlan(draw.picks, replica, replicas, roundSteps, batchSize, rates);
          return this.trainRound(this.run, state, plan.plan, ...plan.tables.map((t) => draw.tables[t] as Delayed<unknown>));
        });
        const [next, ...summaries] = this.client.compute([this.averageRound(...rounds), ...rounds.map((round) => this.roundSummary(round))]);
        // Submitted: the new round holds what it needs, so the client's own references can go (not the best one's).
        if (state !== this.kept) state.release();
        window.release();
        state = next as Future<unknown>;
        steps += roundSteps;
        this.inFlight.push({ epoch, summaries: summaries as Future<unknown>[] });
        while (this.inFlight.length > ROUNDS_IN_FLIGHT) await this.collect();
      }
      this.maxPartitionsHeld = Math.max(this.maxPartitionsHeld, window.maxHeld);
      await window.close();
      if (steps === 0) {
        // Not one step in a whole epoch: every later epoch would be the same, and the "trained" model the initial one.
        throw new MlError('INVALID_ARGUMENT', `the training split has fewer rows than one step needs (replicas x batchSize = ${replicas * batchSize}); ` +
          'use more data, a smaller batchSize or fewer replicas');
      }
      this.epochsRun = epoch + 1;
      if (await this.endEpoch(epoch, steps, state)) {
        this.stoppedEarly = epoch + 1 < this.options.epochs;
        break;
      }
    }
    while (this.inFlight.length > 0) await this.collect();
    if (this.kept !== undefined && this.kept !== state) {
      state.release();
      state = this.kept;
    }
    this.kept = undefined;
    this.bestEpoch = this.validationLoss.length > 0 ? this.stopping.bestEpoch : this.epochsRun - 1;
    await state.result();
    return state;
  }

  /** Scores the epoch's checkpoint on the validation rows, keeps it if it is the best so far; true: stop now. */
  private async endEpoch(epoch: number, step: number, state: Future<unknown>): Promise<boolean> {
    if (this.validate === undefined) return false;
    const scores = await this.validate(state);
    if (scores.rows === 0) {
      this.warn('the validation split has no rows: training runs every epoch without early stopping');
      this.validate = undefined;
      return false;
    }
    const loss = scores.lossSum / scores.rows;
    this.validationRows = scores.rows;
    this.validationLoss.push(loss);
    this.validationAccuracy.push(scores.correct / scores.rows);
    const verdict = this.stopping.observe(epoch, step, loss);
    if (verdict.best) {
      if (this.kept !== undefined) this.kept.release();
      this.kept = state;
      this.bestValidation = scores;
    }
    log.info({ run: this.run.id, epoch, validationLoss: loss, validationAccuracy: scores.correct / scores.rows, best: verdict.best,
      rateScale: this.stopping.rateScale }, 'epoch done');
    return verdict.stop;
  }

  async close(): Promise<void> {
    this.kept?.release();
    for (const round of this.inFlight.splice(0)) for (const summary of round.summaries) summary.release();
    for (const window of this.windows) await window.close();
  }

  private source(partitions: readonly Delayed<unknown>[]): WindowSource<Delayed<unknown>> {
    return {
      load: async (index) => {
        const [kept] = await this.client.persistDelayed([partitions[index] as Delayed<unknown>]);
        const [rows] = await this.client.computeDelayed([this.countRows(kept)]);
        return { handle: kept as Delayed<unknown>, rows: rows as number };
      },
      release: (handle) => handle.release(),
    };
  }

  /** Waits for the oldest submitted round and reports its steps. */
  private async collect(): Promise<void> {
    const round = this.inFlight.shift();
    if (round === undefined) return;
    const summaries = (await Promise.all(round.summaries.map((future) => future.result()))) as RoundSummary[];
    for (const future of round.summaries) future.release();
    const steps = summaries[0]?.losses.length ?? 0;
    this.provider = summaries[0]?.provider ?? this.provider;
    for (const summary of summaries) this.processes.add(summary.pid);
    this.trainSeconds += Math.max(...summaries.map((summary) => summary.seconds));
    for (let i = 0; i < steps; i++) {
      const loss = summaries.reduce((sum, summary) => sum + (summary.losses[i] as number), 0) / summaries.length;
      this.losses.push(loss);
      this.samples += this.options.batchSize * summaries.length;
      this.onProgress?.({
        epoch: round.epoch, step: this.losses.length, loss, samples: this.samples,
        elapsedSeconds: (performance.now() - this.started) / 1000,
      });
    }
    const now = performance.now();
    if (now - this.lastLog > PROGRESS_LOG_MS) {
      this.lastLog = now;
      log.info({ run: this.run.id, epoch: round.epoch, step: this.losses.length, loss: this.losses.at(-1), samples: this.samples }, 'training');
    }
  }

  private rateAt(step: number): number {
    const rate = this.options.learningRate;
    const value = (typeof rate === 'number' ? rate : rate(step)) * this.stopping.rateScale;
    if (!Number.isFinite(value) || value < 0) throw new MlError('INVALID_ARGUMENT', `learning rate schedule gave ${value} at step ${step}`);
    return value;
  }
}

/**
 * Replica `replica`'s share of a draw: rows replica, replica + R, replica + 2R, ... so every replica sees the
 * same mix of the window, renumbered against only the tables it needs.
 */
function roundPlan(picks: Int32Array, replica: number, replicas: number, steps: number, batchSize: number, rates: number[]):
  { plan: RoundPlan; tables: number[] } {
  const tables: number[] = [];
  const local = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < steps * batchSize; i++) {
    const at = 2 * (i * replicas + replica);
    const table = picks[at] as number;
    let index = local.get(table);
    if (index === undefined) {
      index = tables.length;
      tables.push(table);
      local.set(table, index);
    }
    out.push(index, picks[at + 1] as number);
  }
  return { plan: { replica, steps, batchSize, picks: out, rates }, tables };
}

/** Loss and accuracy of the final checkpoint on the held-out partitions, a bounded number at a time. */
async function evaluate(
  client: Client, run: RunSpec, state: Future<unknown>, parts: readonly Delayed<unknown>[],
  taskOptions: { resources?: Record<string, number> }, window: number,
): Promise<Evaluation> {
  const evaluateOp = taskOp('evaluatePartition', { ...taskOptions, name: 'evaluatePartition' });
  const sum = taskOp('sumEvaluations');
  let total: Evaluation = { rows: 0, lossSum: 0, correct: 0, labelCounts: [] };
  for (let i = 0; i < parts.length; i += window) {
    const batch = parts.slice(i, i + window).map((part) => evaluateOp(run, state, part));
    const [partial] = (await client.computeDelayed([sum(...batch)])) as [Evaluation];
    total = addEvaluations(total, partial);
  }
  return total;
}
