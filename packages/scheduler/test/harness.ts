// The state-machine test harness: a SchedulerState in validate mode fed stimuli with fresh stimulus ids, and
// helpers that read instruction lists as short strings ('a@w1') where a whole deepEqual would be noise.
import { SchedulerState, type Instruction, type NewTask, type StimulusEvent } from '../src/index.js';

export function task(key: string, dependencies: string[] = [], extra: Partial<NewTask> = {}): NewTask {
  return { key, functionId: 'fn', args: new Uint8Array(), dependencies, priority: 0, order: 0, retries: 0, resources: undefined, ...extra };
}

export interface HarnessOptions {
  validate?: boolean;
  /** Collects the messages of warnings the state machine logs. */
  warnings?: string[];
  /** How long every finished task is reported to have run (it sets how much work a worker is sent ahead). */
  durationMs?: number;
}

export class Harness {
  readonly state: SchedulerState;
  private counter = 0;
  private readonly durationMs: number;

  constructor(options: HarnessOptions = {}) {
    const warnings = options.warnings;
    this.state = new SchedulerState({
      validate: options.validate ?? true,
      logger: { debug: () => undefined, warn: (_fields: object, message?: string) => void warnings?.push(message ?? '') },
    });
    this.durationMs = options.durationMs ?? 1;
  }

  send(stimulus: StimulusEvent): Instruction[] {
    return this.state.handleStimulus({ ...stimulus, stimulusId: `s${++this.counter}` });
  }

  /** The id of the last stimulus sent. */
  get lastStimulus(): string {
    return `s${this.counter}`;
  }

  connectClient(clientId = 'c1'): void {
    this.send({ type: 'client-connected', clientId, name: clientId });
  }

  /** Connects a worker; its address is `addr-<id>`. */
  addWorker(workerId: string, nthreads = 1, resources: Record<string, number> = {}): Instruction[] {
    return this.send({
      type: 'worker-connected',
      worker: { id: workerId, name: workerId, address: `addr-${workerId}`, nthreads, memoryLimit: 1e9, resources },
    });
  }

  /** Submits tasks with every function they name defined (except 'nope', which stays unknown). */
  submit(tasks: NewTask[], wanted: string[], clientId = 'c1'): Instruction[] {
    const functions = [...new Set(['fn', ...tasks.map((t) => t.functionId)])]
      .filter((fnId) => fnId !== 'nope')
      .map((fnId) => ({ id: fnId, name: fnId, source: 'x => x' }));
    return this.send({ type: 'update-graph', clientId, tasks, functions, wanted });
  }

  /** The worker reports the current runs of `keys` finished, in one message. */
  finish(workerId: string, ...keys: string[]): Instruction[] {
    return this.send({
      type: 'tasks-finished',
      workerId,
      finished: keys.map((key) => ({ key, runId: this.runOf(key), nbytes: 8, codec: 1, durationMs: this.durationMs, thread: 1, value: undefined })),
    });
  }

  /** The worker reports run `runId` of `key` finished (current or not). */
  finishRun(workerId: string, key: string, runId: number): Instruction[] {
    return this.send({ type: 'tasks-finished', workerId, finished: [{ key, runId, nbytes: 8, codec: 1, durationMs: this.durationMs, thread: 1, value: undefined }] });
  }

  /** The key's current run: what a worker running it echoes. */
  runOf(key: string): number {
    return this.state.tasks.get(key)?.runId ?? 0;
  }

  stateOf(key: string): string | undefined {
    return this.state.tasks.get(key)?.state;
  }
}

export const computes = (instructions: Instruction[]) =>
  instructions.flatMap((i) => (i.type === 'compute' ? [`${i.key}@${i.workerId}`] : []));
export const clientUpdates = (instructions: Instruction[]) =>
  instructions.flatMap((i) => (i.type === 'client-update' ? [`${i.update.key}:${i.update.state}`] : []));
export const freed = (instructions: Instruction[]) =>
  instructions.flatMap((i) => (i.type === 'free-keys' ? i.keys.map((k) => `${k}@${i.workerId}`) : []));
