// Execution providers and threading from configuration: CPU by default, CUDA on request when this onnxruntime
// build has it, and a clear PROVIDER_UNAVAILABLE error (instead of a silent CPU fallback) when it does not.
import * as ort from 'onnxruntime-node';
import { MlError } from './errors.js';

export type ProviderName = 'cpu' | 'cuda';

export interface ExecutionConfig {
  /**
   * 'cpu' (default), 'cuda' (fails with PROVIDER_UNAVAILABLE when onnxruntime cannot load CUDA), or 'auto'
   * (CUDA when it loads, else CPU).
   */
  readonly provider?: ProviderName | 'auto';
  /** The CUDA device ordinal. */
  readonly deviceId?: number;
  /** Threads inside one op (onnxruntime's intra-op pool); 0 or unset lets onnxruntime choose. */
  readonly threads?: number;
  /** onnxruntime graph optimization level; 'all' by default. */
  readonly graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Record onnxruntime's per-op profile (Chrome trace JSON: one `model_run` event per run, one event per kernel)
   * to a file named `${profile}_<date>.json`, written when the session is released (Trainer.dispose).
   */
  readonly profile?: string;
}

export interface LoadedSession {
  readonly session: ort.InferenceSession;
  readonly provider: ProviderName;
}

function sessionOptions(config: ExecutionConfig, provider: ProviderName): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] = provider === 'cuda'
    ? [{ name: 'cuda', deviceId: config.deviceId ?? 0 }]
    : ['cpu'];
  return {
    executionProviders,
    graphOptimizationLevel: config.graphOptimization ?? 'all',
    // Sessions are reused across steps; a fixed thread count keeps step times comparable between replicas.
    ...(config.threads !== undefined && config.threads > 0 ? { intraOpNumThreads: config.threads, interOpNumThreads: 1 } : {}),
    executionMode: 'sequential',
    ...(config.profile !== undefined ? { enableProfiling: true, profileFilePrefix: config.profile } : {}),
  };
}

/** Whether this onnxruntime-node build knows the provider at all (it may still fail to load its library). */
export function providerListed(provider: ProviderName): boolean {
  return ort.listSupportedBackends().some((backend) => backend.name === provider);
}

/**
 * Set once a CUDA session failed in this process: later 'auto' sessions go straight to the CPU instead of
 * retrying (each try makes onnxruntime print native load errors and costs a session creation). An explicit
 * 'cuda' request always tries, so its error is the real one.
 */
let cudaFailed = false;

/** Creates a session on the configured provider; see ExecutionConfig.provider for the fallback rules. */
export async function createSession(model: Uint8Array, config: ExecutionConfig = {}): Promise<LoadedSession> {
  const requested = config.provider ?? 'cpu';
  if (requested === 'cpu' || (requested === 'auto' && cudaFailed)) return { session: await create(model, config, 'cpu'), provider: 'cpu' };
  try {
    if (!providerListed('cuda')) throw new Error('this onnxruntime-node build lists no CUDA backend');
    return { session: await ort.InferenceSession.create(model, sessionOptions(config, 'cuda')), provider: 'cuda' };
  } catch (error: unknown) {
    cudaFailed = true;
    if (requested === 'auto') return { session: await create(model, config, 'cpu'), provider: 'cpu' };
    const reason = error instanceof Error ? error.message : String(error);
    throw new MlError(
      'PROVIDER_UNAVAILABLE',
      `execution provider 'cuda' was requested but onnxruntime-node cannot use it here (${reason}). ` +
        'Install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with an NVIDIA GPU and CUDA 12, ' +
        "or configure provider 'cpu' or 'auto'.",
      { cause: error },
    );
  }
}

async function create(model: Uint8Array, config: ExecutionConfig, provider: ProviderName): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(model, sessionOptions(config, provider));
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MlError('RUNTIME_FAILED', `onnxruntime rejected the model: ${reason}`, { cause: error });
  }
}
