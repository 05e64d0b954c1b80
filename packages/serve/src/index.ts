// @loom/serve: a model store over REST. serve() speaks the KServe v2 / Open Inference Protocol: one-step-ahead
// forecasts, bands and anomaly flags for many models of a group per request, groups loaded lazily into a
// memory-bounded LRU, new versions picked up without a restart, a bearer token, Prometheus metrics.
export { serve, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_MEMORY, DEFAULT_PORT, type InferenceServer, type ServeOptions } from './inference-server.js';
export { runServeCli, SERVE_USAGE } from './serve-cli.js';
export { serveV8Flags, SERVE_V8_FLAGS_ENV } from './serve-v8-flags.js';
export { SERVE_TOKEN_ENV } from './bearer-token.js';
export { ServeError, isServeError, type ServeErrorCode } from './serve-error.js';
export { INPUTS, OUTPUTS, type InputName, type OutputName } from './infer-tensors.js';
export { PLATFORM, type ModelMetadata, type TensorMetadata } from './model-metadata.js';
export type { ServeMetrics } from './serve-metrics.js';
