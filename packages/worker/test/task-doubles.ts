// Test doubles and builders for the worker's task rules: assignments and thread results as the scheduler and the
// threads produce them, a model of which results the store holds (and where), and stand-ins for the executor,
// fetcher and reporter the task runner drives.
import { encodeTaskArgs, encodeValue, type EncodedValue } from '@loom/protocol';
import type { FetchOutcome, InputFetcher } from '../src/peer-fetch.js';
import type { TaskExecutor } from '../src/thread-pool.js';
import type { ThreadResult, ThreadTask } from '../src/thread-messages.js';
import type { InputLocation, MissingInputsReport, TaskAssignment, TaskFailedReport, TaskFinishedReport, TaskReporter } from '../src/task-types.js';
import type { WorkerInstruction } from '../src/worker-instructions.js';
import type { HeldValues } from '../src/worker-state-machine.js';

export function task(key: string, options: { fn?: string; inputs?: InputLocation[]; runId?: number; sendValue?: boolean } = {}): TaskAssignment {
  return {
    key,
    functionId: options.fn ?? 'fn',
    args: encodeTaskArgs([], [], key),
    inputs: options.inputs ?? [],
    sendValue: options.sendValue ?? true,
    runId: options.runId ?? 1,
  };
}

/** An input of `nbytes` held by `holders` (default: a peer). */
export function input(key: string, nbytes = 0, holders = ['peer:1']): InputLocation {
  return { key, nbytes, holders };
}

export function ok(key: string, value: unknown, durationMs = 0.01): ThreadResult {
  const encoded = encodeValue(value);
  return { key, ok: true, codec: encoded.codec, bytes: encoded.bytes, durationMs };
}

export function threw(key: string, message = 'boom'): ThreadResult {
  return { key, ok: false, durationMs: 0.01, error: { code: 'TASK_FAILED', message, stack: '', errorName: 'Error' } };
}

/** Which results the store holds and whether in memory: what the state machine may ask. */
export class HeldKeys implements HeldValues {
  readonly memory = new Set<string>();
  readonly disk = new Set<string>();
  has(key: string): boolean {
    return this.memory.has(key) || this.disk.has(key);
  }
  inMemory(key: string): boolean {
    return this.memory.has(key);
  }
}

/** Instructions in one line each, e.g. `execute a,b`, `finished k#2`, `load k`: readable in deepEqual failures. */
export function summary(instructions: readonly WorkerInstruction[]): string[] {
  return instructions.map((instruction) => {
    switch (instruction.type) {
      case 'execute':
        return `execute ${instruction.tasks.map((t) => t.key).join(',')}`;
      case 'load-inputs':
        return `load ${instruction.key}`;
      case 'read-held':
        return `read-held ${instruction.key}`;
      case 'send-finished':
        return `finished ${instruction.key}#${instruction.runId}${instruction.store ? '' : ' (held)'}`;
      case 'send-failed':
        return `failed ${instruction.key}#${instruction.runId}`;
      case 'send-missing':
        return `missing ${instruction.key}#${instruction.runId} [${instruction.missingKeys.join(',')}]`;
      case 'hand-back':
        return `hand-back ${instruction.keys.join(',')}`;
      case 'release':
        return `release ${instruction.keys.join(',')}`;
    }
  });
}

export class RecordingReporter implements TaskReporter {
  readonly finishedReports: TaskFinishedReport[] = [];
  readonly failedReports: TaskFailedReport[] = [];
  readonly missingReports: MissingInputsReport[] = [];
  readonly handedBack: string[] = [];
  finished(report: TaskFinishedReport): void {
    this.finishedReports.push(report);
  }
  failed(report: TaskFailedReport): void {
    this.failedReports.push(report);
  }
  missing(report: MissingInputsReport): void {
    this.missingReports.push(report);
  }
  handBack(keys: string[]): void {
    this.handedBack.push(...keys);
  }
}

/** Records the batches it is given; the test plays the threads. */
export class ManualExecutor implements TaskExecutor {
  readonly batches: ThreadTask[][] = [];
  constructor(readonly threadCount: number) {}
  define(): void {}
  run(tasks: ThreadTask[]): void {
    this.batches.push(tasks);
  }
}

export class MapFetcher implements InputFetcher {
  /** Keys asked for, in order. */
  readonly requested: string[] = [];
  constructor(private readonly values: Map<string, EncodedValue>) {}
  async fetch(key: string, holders: readonly string[], _nbytes: number): Promise<FetchOutcome> {
    this.requested.push(key);
    const value = this.values.get(key);
    return value ? { ok: true, value } : { ok: false, failedHolders: [...holders] };
  }
}
