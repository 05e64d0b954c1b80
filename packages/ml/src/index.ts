// @loom/ml: Loom's training engine. A graph builder that emits ONNX, reverse-mode autodiff into ordinary ONNX
// ops, optimizers as graph pieces, model definitions (CharCNN, MLP, LSTM), and a Trainer that runs one
// onnxruntime session call per step, checkpoints, and exports plain inference models.
export { MlError, isMlError, type MlErrorCode } from './errors.js';
export type { DType, FloatType } from './dtype.js';
export { type Dim, type Shape, evaluateDim } from './dims.js';
export { tensor, type TensorData } from './tensor-data.js';
export { GraphBuilder, Value, attr, type Attr, type NodeRecord, type GraphOptions } from './graph.js';
export * as ops from './ops.js';
export { gradients, differentiableOps } from './autodiff.js';
export { softmaxCrossEntropy, meanSquaredError, oneHot } from './losses.js';
export { optimizerStep, validateOptimizer, type OptimizerConfig, type OptimizerGraph, type StateSlot } from './optimizers.js';
export { buildModel, modelProto, OPSET_VERSION, IR_VERSION, type ModelOptions } from './model-proto.js';
export { loopOverSteps, STEPS_DIM } from './step-loop.js';
export { createSession, providerListed, type ExecutionConfig, type ProviderName, type LoadedSession } from './execution.js';
export { runSession, toOrt, fromOrt } from './ort-tensors.js';
export { checkGradients, relativeError, type GradientCheckCase, type GradientCheckResult } from './gradient-check.js';
export { Rng, normalTensor } from './random.js';
export {
  BATCH, outputName, type ModelSpec, type InputSpec, type ParamSpec, type TargetSpec, type Init, type ForwardContext,
} from './model-spec.js';
export { ParamList, param, dense, conv, lstmCell, type LstmState } from './layers.js';
export {
  buildTrainingGraph, buildInferenceGraph, LABELS, LOSS, LEARNING_RATE, GRAD_NORM,
  type TrainingGraph, type DropoutSlot, type InferenceGraphOptions,
} from './model-graphs.js';
export {
  initialWeights, checkWeights, copyWeights, averageWeights, heNormal, glorotUniform, type WeightSet,
} from './weights.js';
export { type Batch, type BatchArray } from './batch.js';
export {
  Trainer, type TrainerOptions, type ResumeOptions, type StepResult, type EvaluateResult, type LearningRate,
} from './trainer.js';
export {
  encodeCheckpoint, decodeCheckpoint, saveCheckpoint, loadCheckpoint, CHECKPOINT_FORMAT, type Checkpoint,
} from './checkpoint.js';
export { InferenceModel, readModelMetadata, type TextPrediction } from './inference-model.js';
export { encodeTexts, textEncodingFromMetadata, type TextEncoding } from './text-encoding.js';
export { charCnn, PAPER_ALPHABET, type CharCnnConfig } from './models/char-cnn.js';
export { mlp, type MlpConfig } from './models/mlp.js';
export { lstm, type LstmConfig } from './models/lstm.js';
export { vectorizeText, CHARS_COLUMN, LABEL_COLUMN, type VectorizeOptions } from './text/vectorize.js';
export { tensorize, VectorizedRows, type TensorBatch } from './text/tensorize.js';
export { splitBucket, type SplitSpec } from './text/split.js';
export { charcnn, textModelSpec, type CharCnnOptions, type TextModel } from './train/text-model.js';
export { ShuffleWindow, type WindowSource, type WindowOptions, type Draw } from './train/shuffle-window.js';
export { DataLoader, type DataLoaderOptions } from './train/data-loader.js';
export { train, type TrainResult, type TrainMetrics } from './train/train.js';
export type { TrainOptions, TrainProgress } from './train/train-options.js';
