// Converts between wire messages and the state machine's domain types. The only scheduler module that knows
// the generated protobuf types besides the gRPC handlers.
import { pb, type loom } from '@loom/protocol';
import type { FinishedTask, KeyUpdate, NewTask, RunId, WorkerAnnouncement, WorkerReport } from './stimuli.js';
import type { FunctionDefinition, TaskError, TaskState } from './task-state.js';

export function newTaskFromWire(spec: loom.v1.ITaskSpec): NewTask {
  const resources = spec.resources && Object.keys(spec.resources).length > 0 ? { ...spec.resources } : undefined;
  return {
    key: spec.key ?? '',
    functionId: spec.functionId ?? '',
    args: spec.args ?? new Uint8Array(),
    dependencies: spec.dependencies ?? [],
    priority: spec.priority ?? 0,
    order: spec.order ?? 0,
    retries: spec.retries ?? 0,
    resources,
  };
}

export function functionFromWire(fn: loom.v1.IFunctionDef): FunctionDefinition {
  const definition: FunctionDefinition = { id: fn.id ?? '', name: fn.name ?? '' };
  if (fn.source) definition.source = fn.source;
  if (fn.module) definition.module = { specifier: fn.module.specifier ?? '', exportName: fn.module.exportName ?? '' };
  if (fn.chain) definition.chain = [...(fn.chain.functionIds ?? [])];
  return definition;
}

export function functionToWire(fn: FunctionDefinition): loom.v1.IFunctionDef {
  if (fn.module) return { id: fn.id, name: fn.name, module: { specifier: fn.module.specifier, exportName: fn.module.exportName } };
  if (fn.chain) return { id: fn.id, name: fn.name, chain: { functionIds: fn.chain } };
  return { id: fn.id, name: fn.name, source: fn.source ?? '' };
}

export function workerFromHello(id: string, hello: loom.v1.IWorkerHello): WorkerAnnouncement {
  return {
    id,
    name: hello.name ?? id,
    address: hello.address ?? '',
    nthreads: hello.nthreads ?? 1,
    memoryLimit: hello.memoryLimit ?? 0,
    resources: { ...(hello.resources ?? {}) },
  };
}

export function finishedFromWire(finished: loom.v1.ITaskFinished): FinishedTask {
  return {
    key: finished.key ?? '',
    runId: finished.runId ?? 0,
    nbytes: finished.nbytes ?? 0,
    codec: finished.codec ?? pb.Codec.CODEC_V8,
    durationMs: finished.durationMs ?? 0,
    thread: finished.thread ?? 0,
    value: finished.hasValue ? (finished.value ?? new Uint8Array()) : undefined,
  };
}

export function taskErrorFromWire(error: loom.v1.ITaskError | null | undefined, key: string): TaskError {
  return {
    code: error?.code != null ? (pb.ErrorCode[error.code] ?? 'INTERNAL') : 'INTERNAL',
    message: error?.message ?? 'task failed without a message',
    stack: error?.stack ?? '',
    errorName: error?.errorName ?? '',
    taskKey: error?.taskKey || key,
    worker: error?.worker ?? '',
    remoteCode: error?.remoteCode ?? '',
  };
}

export function taskErrorToWire(error: TaskError): loom.v1.ITaskError {
  const code = pb.ErrorCode[error.code as keyof typeof pb.ErrorCode];
  return {
    code: typeof code === 'number' ? code : pb.ErrorCode.INTERNAL,
    message: error.message,
    stack: error.stack,
    errorName: error.errorName,
    taskKey: error.taskKey,
    worker: error.worker,
    remoteCode: error.remoteCode ?? '',
  };
}

/** One worker message in domain form (see `stimuliFromWorkerReport` for the stimuli it becomes). */
export function workerReportFromWire(message: loom.v1.WorkerToScheduler): WorkerReport {
  const metrics = message.metrics;
  return {
    finished: message.finished.map(finishedFromWire),
    failed: message.failed.map((failed) => {
      const key = failed.key ?? '';
      return { key, runId: failed.runId ?? 0, thread: failed.thread ?? 0, error: taskErrorFromWire(failed.error, key) };
    }),
    missing: message.missing.map((missing) => ({
      key: missing.key ?? '',
      runId: missing.runId ?? 0,
      missingKeys: missing.missingKeys ?? [],
      failedHolders: missing.failedHolders ?? [],
    })),
    lostKeys: message.lostKeys,
    handedBack: message.handedBack,
    closing: message.closing,
    metrics: metrics
      ? { managedBytes: metrics.managedBytes ?? 0, spilledBytes: metrics.spilledBytes ?? 0, rssBytes: metrics.rssBytes ?? 0, paused: metrics.paused ?? false }
      : undefined,
  };
}

export function computeTaskToWire(task: TaskState, runId: RunId, sendValue: boolean): loom.v1.IComputeTask {
  const inputs: loom.v1.IInputLocation[] = [];
  for (const dependency of task.dependencies) {
    const holders: string[] = [];
    for (const worker of dependency.whoHas) holders.push(worker.address);
    inputs.push({ key: dependency.key, nbytes: dependency.nbytes, holders });
  }
  return { key: task.key, functionId: task.functionId, args: task.args, inputs, sendValue, resources: task.resources ?? {}, runId };
}

export function keyUpdateToWire(update: KeyUpdate): loom.v1.IKeyUpdate {
  switch (update.state) {
    case 'memory':
      return {
        key: update.key,
        state: pb.KeyUpdate.State.MEMORY,
        nbytes: update.nbytes,
        codec: update.codec,
        value: update.value ?? new Uint8Array(),
        hasValue: update.value !== undefined,
        holders: update.holders,
      };
    case 'erred':
      return { key: update.key, state: pb.KeyUpdate.State.ERRED, error: taskErrorToWire(update.error) };
    case 'cancelled':
      return { key: update.key, state: pb.KeyUpdate.State.CANCELLED };
  }
}
