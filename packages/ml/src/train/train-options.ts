// train()'s options, their defaults and their validation: everything is checked before any task is sent.
import type { dataframe } from '@loom/client';
import { MlError } from '../errors.js';
import type { LearningRate } from '../trainer.js';
import { validateOptimizer, type OptimizerConfig } from '../optimizers.js';
import { STEPS_PER_CALL } from '../tasks/train-round.js';
import { charcnn, type TextModel } from './text-model.js';

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
  readonly epochs?: number;
  /** Rows per step per replica. Default 32. */
  readonly batchSize?: number;
  /** Model replicas trained in parallel on different rows, averaged every `syncEvery` steps. Default 1. */
  readonly replicas?: number;
  /** Steps per round: replicas average after each. Default 16 (STEPS_PER_CALL: one session call per round). */
  readonly syncEvery?: number;
  readonly optimizer?: OptimizerConfig;
  /** A rate or a schedule of the global step. Default 1e-3 (Adam). */
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
  readonly device: 'auto' | 'cpu' | 'cuda';
  readonly threads: number;
}

export function resolveTrainOptions(options: TrainOptions): ResolvedTrainOptions {
  if (typeof options.text !== 'string' || options.text === '') throw new MlError('INVALID_ARGUMENT', 'train needs `text`, the name of a string column');
  if (typeof options.label !== 'string' || options.label === '') throw new MlError('INVALID_ARGUMENT', 'train needs `label`, the name of the label column');
  if (options.data === undefined || !Array.isArray(options.data.partitions)) throw new MlError('INVALID_ARGUMENT', 'train needs `data`, a Loom DataFrame');
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
  const optimizer = options.optimizer ?? { kind: 'adam' };
  validateOptimizer(optimizer);
  const learningRate = options.learningRate ?? 1e-3;
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
    epochs: positive('epochs', options.epochs, 1),
    batchSize: positive('batchSize', options.batchSize, 32),
    replicas: positive('replicas', options.replicas, 1),
    syncEvery: positive('syncEvery', options.syncEvery, STEPS_PER_CALL),
    optimizer,
    learningRate,
    seed: options.seed ?? 0,
    maxPartitions,
    testFraction: testFraction === 0 ? undefined : testFraction,
    device,
    threads: positive('threads', options.threads, 1),
  };
}
