// How many LSTM models train side by side in one onnxruntime session by default: its own module, with no
// imports, so trainMany's batch planner can size lstm batches without loading the trainer.
/**
 * Models trained side by side in one session by default. A step is bound by arithmetic from about 16 models,
 * while a session's memory grows with its models (its activations for the backward pass), so more would
 * cost memory and gain nothing.
 */
export const MODELS_PER_CALL = 64;
