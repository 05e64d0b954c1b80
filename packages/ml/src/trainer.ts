// The training loop's engine: owns one model's weights and optimizer state, runs training steps in onnxruntime
// (loss, gradients and update of a step together; several steps per session call), and exposes what
// data-parallel training needs: get/set weights for averaging, checkpoints that resume exactly, and export of a
// plain inference model.
import { writeFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { batchSize, inputTensors, labelTensor, rowsOf, type Batch, type BatchArray } from './batch.js';
import { CHECKPOINT_FORMAT, type Checkpoint } from './checkpoint.js';
import { evaluateDim } from './dims.js';
import { MlError } from './errors.js';
import { createSession, type ExecutionConfig, type ProviderName } from './execution.js';
import { BATCH, outputName, type ModelSpec } from './model-spec.js';
import {
  buildInferenceGraph, buildTrainingGraph, GRAD_NORM, LABELS, LEARNING_RATE, LOSS, nextName, zeroState, type TrainingGraph,
} from './model-graphs.js';
import { validateOptimizer, type OptimizerConfig } from './optimizers.js';
import { runSession } from './ort-tensors.js';
import { Rng } from './random.js';
import { stack, unstackRow, type TensorData } from './tensor-data.js';
import { checkWeights, copyWeights, initialWeights, type WeightSet } from './weights.js';

/** A constant, or a schedule from the 0-based index of the step about to run. */
export type LearningRate = number | ((step: number) => number);

export interface TrainerOptions {
  readonly optimizer: OptimizerConfig;
  readonly learningRate: LearningRate;
  /** Seeds weight initialization and, with `replica` and the step, every dropout mask. Default 0. */
  readonly seed?: number;
  /** This replica's index in data-parallel training, so replicas draw different dropout masks. Default 0. */
  readonly replica?: number;
  readonly execution?: ExecutionConfig;
  /** Start from these weights instead of the seeded initialization. */
  readonly weights?: WeightSet;
}

export type ResumeOptions = Omit<TrainerOptions, 'optimizer' | 'seed' | 'replica' | 'weights'>;

export interface StepResult {
  /** Steps completed, this one included. */
  readonly step: number;
  readonly loss: number;
  readonly learningRate: number;
  /** The model output for the batch, computed with the weights before this step's update. */
  readonly output: TensorData;
  /** Global gradient norm before clipping (only when the optimizer clips). */
  readonly gradNorm?: number;
}

export interface EvaluateResult {
  readonly loss: number;
  readonly output: TensorData;
  /** Fraction of rows whose arg-max logit is the label (classifiers only). */
  readonly accuracy?: number;
}

/** Keys dropout streams apart from initialization streams of the same seed. */
const DROPOUT_STREAM = 0xd809;

export class Trainer {
  private weights: WeightSet;
  private state: Record<string, TensorData>;
  /** Steps completed so far. */
  private completed: number;
  private queue: Promise<unknown> = Promise.resolve();
  private evalSession: Promise<ort.InferenceSession> | undefined;
  private predictSession: Promise<ort.InferenceSession> | undefined;

  private constructor(
    readonly spec: ModelSpec,
    private readonly options: TrainerOptions,
    private readonly graph: TrainingGraph,
    private readonly session: ort.InferenceSession,
    /** The execution provider the training session runs on. */
    readonly provider: ProviderName,
    start: { weights: WeightSet; state: Record<string, TensorData>; step: number },
  ) {
    this.weights = start.weights;
    this.state = start.state;
    this.completed = start.step;
  }

  static async create(spec: ModelSpec, options: TrainerOptions): Promise<Trainer> {
    validateOptimizer(options.optimizer);
    const weights = options.weights !== undefined ? copyWeights(options.weights) : initialWeights(spec, options.seed ?? 0);
    checkWeights(spec.params, weights, 'initial weights');
    const graph = buildTrainingGraph(spec, options.optimizer);
    const { session, provider } = await createSession(graph.model, options.execution);
    return new Trainer(spec, options, graph, session, provider, { weights, state: zeroState(graph), step: 0 });
  }

  /** A trainer that continues exactly where `checkpoint` left off (same masks, schedule and optimizer state). */
  static async resume(spec: ModelSpec, checkpoint: Checkpoint, options: ResumeOptions): Promise<Trainer> {
    if (checkpoint.format !== CHECKPOINT_FORMAT) throw new MlError('CHECKPOINT_MISMATCH', `unsupported checkpoint '${checkpoint.format}'`);
    if (checkpoint.model !== spec.name) {
      throw new MlError('CHECKPOINT_MISMATCH', `checkpoint is of model '${checkpoint.model}', not '${spec.name}'`);
    }
    const trainer = await Trainer.create(spec, {
      ...options,
      optimizer: checkpoint.optimizer,
      seed: checkpoint.seed,
      replica: checkpoint.replica,
      weights: checkpoint.weights,
    });
    const expected = Object.keys(trainer.state).sort().join(',');
    if (Object.keys(checkpoint.state).sort().join(',') !== expected) {
      throw new MlError('CHECKPOINT_MISMATCH', `checkpoint optimizer state does not match [${expected}]`);
    }
    for (const [name, value] of Object.entries(checkpoint.state)) {
      if (value.data.length !== trainer.state[name]?.data.length) throw new MlError('CHECKPOINT_MISMATCH', `state '${name}' has the wrong size`);
      trainer.state[name] = { ...value, data: value.data.slice() };
    }
    trainer.completed = checkpoint.step;
    return trainer;
  }

  /** Steps completed so far. */
  get stepCount(): number {
    return this.completed;
  }

  /** Runs one training step: forward, loss, backward and optimizer update in a single session run. */
  async step(batch: Batch, options: { learningRate?: number } = {}): Promise<StepResult> {
    const rate = options.learningRate;
    const [result] = await this.steps([batch], rate === undefined ? {} : { learningRates: [rate] });
    return result as StepResult;
  }

  /**
   * Runs one training step per batch, in order. Consecutive batches of one size run in a single session call
   * (step-loop.ts): weights and optimizer state stay inside onnxruntime between those steps instead of being
   * copied out to JavaScript after each. Every batch and rate is checked before any step runs; steps of
   * earlier calls stay applied when a later call fails.
   */
  steps(batches: readonly Batch[], options: { learningRates?: readonly number[] } = {}): Promise<StepResult[]> {
    return this.serially(async () => {
      const rates = options.learningRates;
      if (rates !== undefined && rates.length !== batches.length) {
        throw new MlError('INVALID_ARGUMENT', `${rates.length} learning rates for ${batches.length} batches`);
      }
      const planned = batches.map((batch, i) => this.planStep(batch, this.completed + i, rates?.[i]));
      const results: StepResult[] = [];
      for (const run of runsOfOneSize(planned)) results.push(...(await this.runSteps(run)));
      return results;
    });
  }

  /** Loss (and accuracy for classifiers) of the current weights on a batch, without dropout or updates. */
  evaluate(batch: Batch): Promise<EvaluateResult> {
    return this.serially(async () => {
      this.evalSession ??= this.inferenceSession(true);
      const n = batchSize(this.spec, batch.labels);
      const labels = labelTensor(this.spec, batch.labels);
      const feeds = { ...inputTensors(this.spec, batch.inputs, n), [LABELS]: labels, ...this.weights };
      const results = await runSession(await this.evalSession, feeds, [LOSS, outputName(this.spec)]);
      const out = output(results, outputName(this.spec));
      const loss = Number(output(results, LOSS).data[0]);
      return this.spec.target.kind === 'classes' ? { loss, output: out, accuracy: accuracy(out, labels) } : { loss, output: out };
    });
  }

  /** Model outputs (logits or predictions) for inputs, with the current weights and no dropout. */
  predict(inputs: Readonly<Record<string, BatchArray>>): Promise<TensorData> {
    return this.serially(async () => {
      this.predictSession ??= this.inferenceSession(false);
      const [first] = this.spec.inputs;
      if (first === undefined) throw new MlError('INVALID_ARGUMENT', `model ${this.spec.name} has no inputs`);
      const values = inputs[first.name];
      if (values === undefined) throw new MlError('INVALID_ARGUMENT', `inputs lack '${first.name}'`);
      const feeds = { ...inputTensors(this.spec, inputs, rowsOf(first, values)), ...this.weights };
      const results = await runSession(await this.predictSession, feeds, [outputName(this.spec)]);
      return output(results, outputName(this.spec));
    });
  }

  /** A copy of the current weights (safe to transfer to another thread or average). */
  getWeights(): WeightSet {
    return copyWeights(this.weights);
  }

  /** Replaces the weights (e.g. with the replicas' average); optimizer state and step count are kept. */
  setWeights(weights: Readonly<WeightSet>): void {
    checkWeights(this.spec.params, weights, 'setWeights');
    this.weights = copyWeights(weights);
  }

  /**
   * Continues from `checkpoint` (weights, optimizer state and step) in this trainer's session, as replicas do
   * after averaging: no new session. Takes ownership of the checkpoint's arrays (they are not copied).
   */
  restore(checkpoint: Checkpoint): Promise<void> {
    return this.serially(async () => {
      if (checkpoint.model !== this.spec.name) {
        throw new MlError('CHECKPOINT_MISMATCH', `checkpoint is of model '${checkpoint.model}', not '${this.spec.name}'`);
      }
      if (JSON.stringify(checkpoint.optimizer) !== JSON.stringify(this.options.optimizer)) {
        throw new MlError('CHECKPOINT_MISMATCH', 'checkpoint was taken with a different optimizer configuration');
      }
      checkWeights(this.spec.params, checkpoint.weights, 'restore');
      for (const [name, value] of Object.entries(this.state)) {
        if (checkpoint.state[name]?.data.length !== value.data.length) {
          throw new MlError('CHECKPOINT_MISMATCH', `checkpoint lacks optimizer state '${name}' of ${value.data.length} values`);
        }
      }
      this.weights = { ...checkpoint.weights };
      this.state = { ...checkpoint.state };
      this.completed = checkpoint.step;
    });
  }

  checkpoint(): Checkpoint {
    const state: Record<string, TensorData> = {};
    for (const [name, value] of Object.entries(this.state)) state[name] = { ...value, shape: [...value.shape], data: value.data.slice() };
    return {
      format: CHECKPOINT_FORMAT,
      model: this.spec.name,
      optimizer: this.options.optimizer,
      step: this.completed,
      seed: this.options.seed ?? 0,
      replica: this.options.replica ?? 0,
      weights: copyWeights(this.weights),
      state,
    };
  }

  /** The plain inference model (weights as initializers, metadata_props from the spec) as ONNX bytes. */
  exportModel(): Uint8Array {
    return buildInferenceGraph(this.spec, { weights: this.weights });
  }

  async export(path: string): Promise<void> {
    await writeFile(path, this.exportModel());
  }

  async dispose(): Promise<void> {
    await this.queue.catch(() => undefined);
    const sessions = [this.session, await this.evalSession, await this.predictSession];
    await Promise.all(sessions.map((session) => session?.release()));
  }

  /** The per-step feeds of the step with 0-based index `index`, checked. */
  private planStep(batch: Batch, index: number, rate: number | undefined): PlannedStep {
    const rows = batchSize(this.spec, batch.labels);
    const learningRate = rate ?? this.learningRateAt(index);
    if (!Number.isFinite(learningRate) || learningRate < 0) throw new MlError('INVALID_ARGUMENT', `learning rate ${learningRate} is invalid`);
    const feeds: Record<string, TensorData> = {
      ...inputTensors(this.spec, batch.inputs, rows),
      [LABELS]: labelTensor(this.spec, batch.labels),
      [LEARNING_RATE]: { dtype: 'float32', shape: [], data: Float32Array.of(learningRate) },
      ...this.dropoutMasks(rows, index),
    };
    return { rows, learningRate, feeds };
  }

  /** Steps of one batch size in one session call; the weights and state become those after the last one. */
  private async runSteps(run: readonly PlannedStep[]): Promise<StepResult[]> {
    const [first] = run;
    if (first === undefined) return [];
    const feeds: Record<string, TensorData> = { ...this.weights, ...this.state };
    for (const name of Object.keys(first.feeds)) feeds[name] = stack(run.map((step) => step.feeds[name] as TensorData));
    const results = await runSession(this.session, feeds, this.graph.outputs);
    const weights: WeightSet = {};
    for (const name of Object.keys(this.weights)) weights[name] = output(results, nextName(name));
    const state: Record<string, TensorData> = {};
    for (const name of Object.keys(this.state)) state[name] = output(results, nextName(name));
    this.weights = weights;
    this.state = state;
    const before = this.completed;
    this.completed += run.length;
    const losses = output(results, LOSS);
    const outputs = output(results, outputName(this.spec));
    const gradNorms = results[GRAD_NORM];
    return run.map((step, i) => ({
      step: before + i + 1,
      loss: Number(unstackRow(losses, i).data[0]),
      learningRate: step.learningRate,
      output: unstackRow(outputs, i),
      ...(gradNorms !== undefined ? { gradNorm: Number(unstackRow(gradNorms, i).data[0]) } : {}),
    }));
  }

  private learningRateAt(step: number): number {
    const rate = this.options.learningRate;
    return typeof rate === 'number' ? rate : rate(step);
  }

  /** Inverted-dropout masks for one step, drawn from a stream keyed by (seed, replica, step, layer). */
  private dropoutMasks(batch: number, step: number): Record<string, TensorData> {
    const masks: Record<string, TensorData> = {};
    this.graph.dropout.forEach((slot, layer) => {
      const shape = slot.shape.map((dim) => evaluateDim(dim, { [BATCH]: batch }));
      const rng = new Rng(this.options.seed ?? 0, DROPOUT_STREAM, this.options.replica ?? 0, step, layer);
      const keep = 1 - slot.rate;
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = rng.uniform() < keep ? 1 / keep : 0;
      masks[slot.name] = { dtype: 'float32', shape, data };
    });
    return masks;
  }

  private async inferenceSession(withLoss: boolean): Promise<ort.InferenceSession> {
    return (await createSession(buildInferenceGraph(this.spec, { withLoss }), this.options.execution)).session;
  }

  /** Steps, evaluations and predictions run one at a time: each reads weights the previous one may replace. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

interface PlannedStep {
  readonly rows: number;
  readonly learningRate: number;
  /** Data, labels, learning rate and dropout masks of this step alone. */
  readonly feeds: Readonly<Record<string, TensorData>>;
}

/** Consecutive steps grouped by batch size: each group stacks into one session call. */
function runsOfOneSize(steps: readonly PlannedStep[]): PlannedStep[][] {
  const runs: PlannedStep[][] = [];
  for (const step of steps) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0]?.rows === step.rows) last.push(step);
    else runs.push([step]);
  }
  return runs;
}

function output(results: Readonly<Record<string, TensorData>>, name: string): TensorData {
  const value = results[name];
  if (value === undefined) throw new MlError('RUNTIME_FAILED', `training step returned no '${name}'`);
  return value;
}

function accuracy(logits: TensorData, labels: TensorData): number {
  const [rows = 0, classes = 0] = logits.shape;
  const data = logits.data as Float32Array;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if ((data[r * classes + c] as number) > (data[r * classes + best] as number)) best = c;
    if (BigInt(best) === labels.data[r]) correct++;
  }
  return rows === 0 ? 0 : correct / rows;
}
