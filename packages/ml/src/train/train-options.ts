// train()'s options, their defaults and their validation: everything is checked before any task is sent.
import type { dataframe } from '@loom/client';
import { MlError } from '../errors.js';
import type { LearningRate } from '../trainer.js';
import { validateOptimizer, type OptimizerConfig } from '../optimizers.js';
import { STEPS_PER_CALL } from '../tasks/train-round.js';
import type { EarlyStoppingOptions } from './early-stopping.js';
import { charcnn, type TextModel } from './text-model.js';

// Defaults that learn on small data too (a few thousand rows): one epoch at Adam's textbook 1e-3 leaves a CharCNN
// near chance there, so the default is a cap of epochs that early stopping cuts short, a faster rate after a
// warm-up (the first steps of a fresh network take the largest gradients), and clipping against spikes.
const DEFAULT_MAX_EPOCHS = 30;
const DEFAULT_PATIENCE = 3;
const MIN_PATIENCE_STEPS = 300;
const MIN_LOSS_IMPROVEMENT = 1e-3;
const DEFAULT_PLATEAU = { epochs: 2, steps: 150 };
const DEFAULT_VALIDATION_FRACTION = 0.1;
const DEFAULT_OPTIMIZER: OptimizerConfig = { kind: 'adam', maxGradNorm: 1 };
const DEFAULT_PEAK_RATE = 2e-3;
const DEFAULT_WARMUP_STEPS = 100;

function defaultLearningRate(step: number): number {
  return DEFAULT_PEAK_RATE * Math.min(1, (step + 1) / DEFAULT_WARMUP_STEPS);
}

export interface TrainProgress {
  readonly epoch: number;
  /** Global step, 1-based: every replica makes one local step per global step. */
  readonly step: number;
  /** Mean training loss of the replicas at this step. */
  readonly loss: number;
  /** Training rows consumed so far. */
  readonly samples: number;
  readonly elapsedSeconds: number;
}

export interface TrainOptions {
  /** Any Loom DataFrame with a string column and a label column. */
  readonly data: dataframe.DataFrame;
  readonly text: string;
  readonly label: string;
  readonly model?: TextModel;
  /** Class names in output order; found from the data (sorted) when omitted, which costs one pass. */
  readonly classes?: readonly string[];
  /** A separate test set; otherwise `testFraction` of `data` (default 0.2) is held out by a hash of the text. */
  readonly test?: dataframe.DataFrame;
  readonly testFraction?: number;
  /**
   * Fraction of the training rows (what is left after the test rows) held out, by a hash of the text, to score
   * the model after every epoch for early stopping. Default 0.1 (0 with `epochs: 1`); 0 trains exactly `epochs`.
   */
  readonly validationFraction?: number;
  /** The most epochs to train. Default 30: early stopping usually ends a run sooner (set this for large data). */
  readonly epochs?: number;
  /**
   * Training stops once the epoch with the lowest validation loss (lower by 0.001 or more than any before) is
   * `patience` epochs and at least 300 steps behind; that epoch's weights are the ones tested and exported.
   * Default 3.
   */
  readonly patience?: number;
  /** Rows per step per replica. Default 32. */
  readonly batchSize?: number;
  /** Model replicas trained in parallel on different rows, averaged every `syncEvery` steps. Default 1. */
  readonly replicas?: number;
  /** Steps per round: replicas average after each. Default 16 (STEPS_PER_CALL: one session call per round). */
  readonly syncEvery?: number;
  /** Default Adam with gradients clipped to global norm 1 (`{ kind: 'adam', maxGradNorm: 1 }`). */
  readonly optimizer?: OptimizerConfig;
  /**
   * A rate or a schedule of the global step, used as given. Default: 2e-3 after a linear warm-up over the first
   * 100 steps, halved whenever the validation loss has not improved for 2 epochs and 150 steps.
   */
  readonly learningRate?: LearningRate;
  readonly seed?: number;
  /** Vectorized partitions the loader holds at once (the group drawn from plus the one prefetched). Default 4. */
  readonly maxPartitions?: number;
  /** 'auto' (default): replicas ask for { GPU: 1 } and CUDA when some worker declares a GPU, else CPU. */
  readonly device?: 'auto' | 'cpu' | 'cuda';
  /** onnxruntime threads per replica on CPU. Default 1. */
  readonly threads?: number;
  /** Where to write the trained model (plain inference ONNX with metadata). */
  readonly out?: string;
  readonly onProgress?: (progress: TrainProgress) => void;
}

export interface ResolvedTrainOptions {
  readonly model: TextModel;
  readonly epochs: number;
  readonly batchSize: number;
  readonly replicas: number;
  readonly syncEvery: number;
  readonly optimizer: OptimizerConfig;
  readonly learningRate: LearningRate;
  readonly seed: number;
  readonly maxPartitions: number;
  readonly testFraction: number | undefined;
  /** Undefined: no validation rows, no early stopping. */
  readonly validationFraction: number | undefined;
  /** When to stop, and (for the default rate only: a rate the user gave is used as given) when to cut the rate. */
  readonly earlyStopping: EarlyStoppingOptions;
  readonly device: 'auto' | 'cpu' | 'cuda';
  readonly threads: number;
}

export function resolveTrainOptions(options: TrainOptions): ResolvedTrainOptions {
  if (typeof options.text !== 'string' || options.text === '') throw new MlError('INVALID_ARGUMENT', 'train needs `text`, the name of a string column');
  if (typeof options.label !== 'string' || options.label === '') throw new MlError('INVALID_ARGUMENT', 'train needs `label`, the name of the label column');
  if (options.data === undefined || !Array.isArray(options.data.partitions)) throw new MlError('INVALID_ARGUMENT', 'train needs `data`, a Loom DataFrame (an Arrow table of any apache-arrow copy becomes one with dataframe.fromArrow(table, { npartitions }))');
  if (options.data.npartitions === 0) throw new MlError('INVALID_ARGUMENT', 'the training DataFrame has no partitions');
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const resolved = value ?? fallback;
    if (!Number.isInteger(resolved) || resolved < 1) throw new MlError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${resolved}`);
    return resolved;
  };
  const testFraction = options.test !== undefined ? undefined : (options.testFraction ?? 0.2);
  if (testFraction !== undefined && !(testFraction >= 0 && testFraction < 1)) {
    throw new MlError('INVALID_ARGUMENT', `testFraction must be in [0, 1), got ${testFraction}`);
  }
  const epochs = positive('epochs', options.epochs, DEFAULT_MAX_EPOCHS);
  // One epoch leaves early stopping nothing to choose between, and the validation pass would read the data again.
  const validationFraction = options.validationFraction ?? (epochs === 1 ? 0 : DEFAULT_VALIDATION_FRACTION);
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new MlError('INVALID_ARGUMENT', `validationFraction must be in [0, 1), got ${validationFraction}`);
  }
  const optimizer = options.optimizer ?? DEFAULT_OPTIMIZER;
  validateOptimizer(optimizer);
  const learningRate = options.learningRate ?? defaultLearningRate;
  if (typeof learningRate === 'number' && !(learningRate > 0)) throw new MlError('INVALID_ARGUMENT', `learning rate must be positive, got ${learningRate}`);
  const maxPartitions = positive('maxPartitions', options.maxPartitions, 4);
  if (maxPartitions < 2) throw new MlError('INVALID_ARGUMENT', 'maxPartitions must be at least 2 (one group drawn from, one prefetched)');
  const device = options.device ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(device)) throw new MlError('INVALID_ARGUMENT', `device must be 'auto', 'cpu' or 'cuda', got '${device}'`);
  if (options.classes !== undefined && new Set(options.classes).size !== options.classes.length) {
    throw new MlError('INVALID_ARGUMENT', 'classes must be distinct');
  }
  return {
    model: options.model ?? charcnn(),
    epochs,
    batchSize: positive('batchSize', options.batchSize, 32),
    replicas: positive('replicas', options.replicas, 1),
    syncEvery: positive('syncEvery', options.syncEvery, STEPS_PER_CALL),
    optimizer,
    learningRate,
    seed: options.seed ?? 0,
    maxPartitions,
    testFraction: testFraction === 0 ? undefined : testFraction,
    validationFraction: validationFraction === 0 ? undefined : validationFraction,
    earlyStopping: {
      patience: positive('patience', options.patience, DEFAULT_PATIENCE),
      minSteps: MIN_PATIENCE_STEPS,
      minDelta: MIN_LOSS_IMPROVEMENT,
      ...(options.learningRate === undefined ? { plateau: DEFAULT_PLATEAU } : {}),
    },
    device,
    threads: positive('threads', options.threads, 1),
  };
}
