// The cluster snapshot returned by Client#schedulerInfo: the scheduler's Info reply as plain Loom types.
import type { loom } from '@loom/protocol';

export interface WorkerSummary {
  id: string;
  name: string;
  /** host:port of the worker's data service. */
  address: string;
  nthreads: number;
  memoryLimit: number;
  /** Bytes of results held in memory. */
  managedBytes: number;
  /** Bytes of results spilled to disk. */
  spilledBytes: number;
  rssBytes: number;
  resources: Record<string, number>;
  /** Tasks assigned to the worker and not yet finished. */
  processing: number;
  /** Results the worker holds. */
  inMemory: number;
  /** The worker starts no new tasks because of memory pressure. */
  paused: boolean;
}

export interface SchedulerInfo {
  workers: WorkerSummary[];
  /** Number of tasks per scheduler state. */
  taskCounts: Record<string, number>;
  /** Connected clients. */
  clients: number;
}

export function schedulerInfoFromWire(info: loom.v1.IClusterInfo): SchedulerInfo {
  return {
    workers: (info.workers ?? []).map((worker) => ({
      id: worker.id ?? '',
      name: worker.name ?? '',
      address: worker.address ?? '',
      nthreads: worker.nthreads ?? 0,
      memoryLimit: worker.memoryLimit ?? 0,
      managedBytes: worker.managedBytes ?? 0,
      spilledBytes: worker.spilledBytes ?? 0,
      rssBytes: worker.rssBytes ?? 0,
      resources: { ...worker.resources },
      processing: worker.processing ?? 0,
      inMemory: worker.inMemory ?? 0,
      paused: worker.paused ?? false,
    })),
    taskCounts: { ...info.taskCounts },
    clients: info.clients ?? 0,
  };
}
