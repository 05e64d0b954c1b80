// Where replicas run: with device 'auto', on workers that declare a GPU (resources { GPU: 1 }, CUDA provider)
// when the cluster has any, otherwise on CPU threads. 'cuda' insists on GPU workers; 'cpu' never asks for one.
import type { Client } from '@loom/client';
import type { ExecutionConfig } from '../execution.js';
import { MlError } from '../errors.js';

export interface Placement {
  readonly resources: Record<string, number> | undefined;
  readonly execution: ExecutionConfig;
  /** Workers (or GPUs) that can run a replica at once. */
  readonly slots: number;
}

export async function choosePlacement(client: Client, device: 'auto' | 'cpu' | 'cuda', threads: number): Promise<Placement> {
  const { workers } = await client.schedulerInfo();
  if (workers.length === 0) throw new MlError('INVALID_ARGUMENT', 'the cluster has no workers');
  const gpus = workers.reduce((sum, worker) => sum + Math.floor(worker.resources['GPU'] ?? 0), 0);
  if (device === 'cuda' && gpus === 0) {
    throw new MlError('PROVIDER_UNAVAILABLE', "device 'cuda' was requested but no worker declares a GPU (start workers with --resources GPU=1)");
  }
  if (device !== 'cpu' && gpus > 0) {
    return { resources: { GPU: 1 }, execution: { provider: device === 'cuda' ? 'cuda' : 'auto' }, slots: gpus };
  }
  return { resources: undefined, execution: { provider: 'cpu', threads }, slots: workers.reduce((sum, w) => sum + w.nthreads, 0) };
}
