// Randomized, seeded testing of the worker state machine: random sequences of events (computes sharing inputs,
// duplicate and re-submitted computes, free, cancels of the current run and of a stale run,
// loads that succeed or fail, threads that finish, fail or die, spilling and lost spill files, pause, close)
// played against a model of the scheduler, the store and the threads. After every event the machine checks its
// own invariants (validate) and the model checks the instructions; at the end the world is driven to quiescence
// and every accepted assignment must have been answered exactly once, cancelled, or handed back.
//
//   LOOM_FUZZ_ITERATIONS=200000 LOOM_FUZZ_SEED=123 node --test packages/worker/dist/test/worker-state-fuzz.test.js
//
// A failure names the seed of its sequence; LOOM_FUZZ_SEED=<that seed> LOOM_FUZZ_ITERATIONS=1 replays it alone.
import { test } from 'node:test';
import { encodeValue, type EncodedValue } from '@loom/protocol';
import type { ThreadResult, ThreadTask } from '../src/thread-messages.js';
import type { InputLocation, TaskAssignment } from '../src/task-types.js';
import type { WorkerEvent } from '../src/worker-events.js';
import type { LoadInputsInstruction, ReadHeldInstruction, WorkerInstruction } from '../src/worker-instructions.js';
import { WorkerState } from '../src/worker-state-machine.js';
import { seededRandom } from '@loom/testing';
import { HeldKeys, summary } from './task-doubles.js';

const ITERATIONS = Number(process.env['LOOM_FUZZ_ITERATIONS'] ?? 3000);
// A fixed first seed by default, so `npm test` runs the same sequences every time (a CI failure replays as is);
// long runs pick their own with LOOM_FUZZ_SEED.
const SEED = Number(process.env['LOOM_FUZZ_SEED'] ?? 20261201);
/** Steps per sequence: short ones find shallow bugs fast, long ones reach states that need a history. */
const MAX_STEPS = 160;
const KEYS = Array.from({ length: 8 }, (_, i) => `k${i}`);
const INPUTS = Array.from({ length: 5 }, (_, i) => `in${i}`);
const VALUE = encodeValue(1);


type Body<E> = E extends WorkerEvent ? Omit<E, 'stimulusId'> : never;
type Outcome = 'pending' | 'reported' | 'cancelled' | 'handed-back';

/** What the scheduler expects of each key: its latest assignment and what became of it. */
interface Expectation {
  runId: number;
  outcome: Outcome;
}

interface Batch {
  tasks: ThreadTask[];
  reported: number;
}

class World {
  readonly rng: () => number;
  readonly held = new HeldKeys();
  readonly state: WorkerState;
  readonly nthreads: number;
  readonly expected = new Map<string, Expectation>();
  readonly nextRun = new Map<string, number>();
  batches: Batch[] = [];
  loads: LoadInputsInstruction[] = [];
  reads: ReadHeldInstruction[] = [];
  paused = false;
  closed = false;
  readonly log: string[] = [];
  /** Buffers a thread took (transferred, detached here): giving one to a task again would hand it an empty input. */
  private readonly taken = new WeakSet<Uint8Array>();
  /** Values fetched for a key that later loads may share, as concurrent fetches of one key share their value. */
  private readonly fetched = new Map<string, EncodedValue>();
  /** The store's own buffer per key in memory: every read returns the same one. */
  private readonly stored = new Map<string, EncodedValue>();
  private readonly inputsOf = new Map<string, InputLocation[]>();
  private stimuli = 0;

  constructor(readonly seed: number) {
    this.rng = seededRandom(seed);
    this.nthreads = 1 + this.int(3);
    const budget = this.pick([Infinity, 50, 100, 200]);
    this.state = new WorkerState({ nthreads: this.nthreads, held: this.held, loadBudgetBytes: budget, validate: true });
    this.state.inlineValueBytes = this.pick([0, 1024]);
    for (const key of INPUTS) {
      const where = this.rng();
      if (where < 0.3) this.held.memory.add(key);
      else if (where < 0.5) this.held.disk.add(key);
    }
    this.log.push(`nthreads ${this.nthreads}, budget ${budget}`);
  }

  int(n: number): number {
    return Math.floor(this.rng() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  feed(body: Body<WorkerEvent>, description: string): void {
    this.log.push(description);
    const instructions = this.state.handle({ ...body, stimulusId: `s${++this.stimuli}` } as WorkerEvent);
    if (instructions.length > 0) this.log.push(`  -> ${summary(instructions).join('; ')}`);
    for (const instruction of instructions) this.carryOut(instruction);
    this.checkAgreement();
  }

  /** One random step. */
  step(): void {
    const roll = this.rng();
    if (roll < 0.22) this.compute();
    else if (roll < 0.3) this.cancel();
    else if (roll < 0.34) this.free();
    else if (roll < 0.48) this.answerLoad(this.rng() < 0.8);
    else if (roll < 0.53) this.answerRead(this.rng() < 0.8);
    else if (roll < 0.72) this.threadProgress();
    else if (roll < 0.75) this.threadDeath();
    else if (roll < 0.9) this.feed({ type: 'dispatch' }, 'dispatch');
    else if (roll < 0.94) this.spill();
    else if (roll < 0.96) this.lose();
    else if (roll < 0.995) this.togglePause();
    else if (!this.closed) {
      this.closed = true;
      this.feed({ type: 'close' }, 'close');
    }
  }

  /** Drives everything pending to its end, as a live worker would, then checks nothing was left unanswered. */
  quiesce(): void {
    for (let guard = 0; guard < 10_000; guard++) {
      if (this.paused) this.togglePause();
      else if (this.loads.length > 0) this.answerLoad(true, 0);
      else if (this.reads.length > 0) this.answerRead(true, 0);
      else if (this.batches.length > 0) this.finishBatch(0);
      else if (this.state.wantsDispatch) this.feed({ type: 'dispatch' }, 'dispatch');
      else break;
    }
    for (const [key, expectation] of this.expected) {
      if (expectation.outcome === 'pending') this.fail(`at quiescence '${key}' run ${expectation.runId} was never answered`);
    }
    const { state } = this;
    if (state.tasks.size > 0) this.fail(`at quiescence the worker still has tasks: ${[...state.tasks.keys()].join(', ')}`);
    if (state.loadedBytes !== 0 || state.executingCount !== 0 || state.freeThreads !== state.nthreads) {
      this.fail(`at quiescence: loadedBytes ${state.loadedBytes}, executing ${state.executingCount}, free threads ${state.freeThreads}`);
    }
  }

  private compute(): void {
    const tasks: TaskAssignment[] = [];
    for (let i = 1 + this.int(3); i > 0; i--) {
      const key = this.pick(KEYS);
      // A message assigns a key at most once.
      if (tasks.some((t) => t.key === key)) continue;
      const current = this.nextRun.get(key) ?? 0;
      // Mostly a new assignment; sometimes the scheduler repeating the current one.
      const runId = current > 0 && this.rng() < 0.2 ? current : current + 1;
      this.nextRun.set(key, runId);
      tasks.push({ key, functionId: this.pick(['f', 'g']), args: new Uint8Array(0), inputs: this.inputsFor(key), sendValue: this.rng() < 0.5, runId });
    }
    // Expectations first: the instructions of this very event may answer them (hand-back, a held report).
    for (const { key, runId } of tasks) {
      const expectation = this.expected.get(key);
      if (this.closed) this.expected.set(key, { runId, outcome: 'pending' });
      else if (expectation?.runId !== runId || expectation.outcome !== 'pending') this.expected.set(key, { runId, outcome: 'pending' });
    }
    this.feed({ type: 'compute', tasks }, `compute ${tasks.map((t) => `${t.key}#${t.runId}(${t.inputs.map((i) => i.key).join(',')})`).join(' ')}`);
  }

  /** A key's inputs are part of its definition: every assignment of it names the same ones. */
  private inputsFor(key: string): InputLocation[] {
    const known = this.inputsOf.get(key);
    if (known) return known;
    const inputs: InputLocation[] = [];
    for (let n = this.int(4); n > 0; n--) {
      // Inputs are shared between tasks, and may be other tasks' results held here.
      const from = this.rng() < 0.7 ? this.pick(INPUTS) : this.pick(KEYS);
      if (from === key || inputs.some((i) => i.key === from)) continue;
      inputs.push({ key: from, nbytes: this.pick([0, 10, 40, 80, 300]), holders: ['peer:1'] });
    }
    this.inputsOf.set(key, inputs);
    return inputs;
  }

  private cancel(): void {
    const key = this.pick(KEYS);
    const current = this.nextRun.get(key) ?? 0;
    const roll = this.rng();
    const runId = roll < 0.7 ? current : current - 1;
    const expectation = this.expected.get(key);
    if (expectation?.outcome === 'pending' && runId === expectation.runId) expectation.outcome = 'cancelled';
    this.feed({ type: 'cancel', cancels: [{ key, runId }] }, `cancel ${key}#${runId}`);
  }

  private free(): void {
    const heldKeys = [...this.held.memory, ...this.held.disk].filter((key) => KEYS.includes(key));
    if (heldKeys.length === 0) return;
    const key = this.pick(heldKeys);
    this.feed({ type: 'free', keys: [key] }, `free ${key}`);
  }

  private answerLoad(success: boolean, index = this.int(this.loads.length)): void {
    const load = this.loads[index];
    if (!load) return;
    this.loads.splice(index, 1);
    const { key, attempt, inputs } = load;
    if (success) {
      const privateValues = inputs.map((location) => !this.held.inMemory(location.key));
      const values = inputs.map((location, index) => (privateValues[index] ? this.privateValue(location.key) : this.storedValue(location.key)));
      this.feed({ type: 'inputs-loaded', key, attempt, values, privateValues }, `inputs-loaded ${key}@${attempt}`);
    } else {
      const missingKeys = inputs.map((location) => location.key);
      this.feed({ type: 'inputs-missing', key, attempt, missingKeys, failedHolders: ['peer:1'] }, `inputs-missing ${key}@${attempt}`);
    }
  }

  private privateValue(key: string): EncodedValue {
    const shared = this.fetched.get(key);
    if (shared && !this.taken.has(shared.bytes) && this.rng() < 0.5) return shared;
    const value = { codec: VALUE.codec, bytes: new Uint8Array(VALUE.bytes) };
    this.fetched.set(key, value);
    return value;
  }

  private storedValue(key: string): EncodedValue {
    let value = this.stored.get(key);
    if (!value) this.stored.set(key, (value = { codec: VALUE.codec, bytes: new Uint8Array(VALUE.bytes) }));
    return value;
  }

  private answerRead(readable: boolean, index = this.int(this.reads.length)): void {
    const read = this.reads[index];
    if (!read) return;
    this.reads.splice(index, 1);
    const { key, attempt } = read;
    // Unreadable: its spill file is gone, and the store drops the key as it reports it lost.
    if (!readable) this.held.disk.delete(key);
    const value = this.held.has(key) ? VALUE : undefined;
    this.feed({ type: 'held-read', key, attempt, value }, `held-read ${key}@${attempt} ${value ? 'ok' : 'unreadable'}`);
  }

  private threadProgress(): void {
    if (this.batches.length === 0) return;
    const index = this.int(this.batches.length);
    const batch = this.batches[index] as Batch;
    const count = 1 + this.int(batch.tasks.length - batch.reported);
    const results: ThreadResult[] = [];
    for (let i = 0; i < count; i++) {
      const { key } = batch.tasks[batch.reported++] as ThreadTask;
      results.push(
        this.rng() < 0.85
          ? { key, ok: true, codec: VALUE.codec, bytes: VALUE.bytes, durationMs: this.pick([0.01, 1, 10]) }
          : { key, ok: false, durationMs: 1, error: { code: 'TASK_FAILED', message: 'boom', stack: '', errorName: 'Error' } },
      );
    }
    const done = batch.reported === batch.tasks.length;
    if (done) this.batches.splice(index, 1);
    this.feed({ type: 'executed', results, threadFreed: done, slot: 0 }, `executed ${results.map((r) => `${r.key}${r.ok ? '' : '!'}`).join(',')}${done ? ' (thread free)' : ''}`);
  }

  private finishBatch(index: number): void {
    const batch = this.batches[index] as Batch;
    const results: ThreadResult[] = batch.tasks.slice(batch.reported).map(({ key }) => ({ key, ok: true, codec: VALUE.codec, bytes: VALUE.bytes, durationMs: 1 }));
    this.batches.splice(index, 1);
    this.feed({ type: 'executed', results, threadFreed: true, slot: 0 }, `executed ${results.map((r) => r.key).join(',')} (thread free)`);
  }

  /** As the pool reports a dead thread: the unreported tasks after the running one requeued, the running one failed. */
  private threadDeath(): void {
    if (this.batches.length === 0) return;
    const index = this.int(this.batches.length);
    const batch = this.batches[index] as Batch;
    const running = batch.tasks[batch.reported] as ThreadTask;
    const rest = batch.tasks.slice(batch.reported + 1);
    // The requeued tasks leave the thread first; the thread itself is free once the running task's failure is in.
    batch.tasks = batch.tasks.slice(0, batch.reported + 1);
    if (rest.length > 0) this.feed({ type: 'requeued', tasks: rest }, `requeued ${rest.map((t) => t.key).join(',')}`);
    this.batches.splice(this.batches.indexOf(batch), 1);
    const failed: ThreadResult = { key: running.key, ok: false, durationMs: 0, error: { code: 'TASK_FAILED', message: 'thread died', stack: '', errorName: 'ThreadExit' } };
    this.feed({ type: 'executed', results: [failed], threadFreed: true, slot: 0 }, `thread died running ${running.key}`);
  }

  private spill(): void {
    if (this.held.memory.size === 0) return;
    const key = this.pick([...this.held.memory]);
    this.held.memory.delete(key);
    this.held.disk.add(key);
    this.log.push(`spill ${key}`);
  }

  private lose(): void {
    if (this.held.disk.size === 0) return;
    const key = this.pick([...this.held.disk]);
    this.held.disk.delete(key);
    this.log.push(`lose ${key}`);
  }

  private togglePause(): void {
    this.paused = !this.paused;
    this.feed({ type: 'pause', paused: this.paused }, this.paused ? 'pause' : 'unpause');
  }

  private carryOut(instruction: WorkerInstruction): void {
    switch (instruction.type) {
      case 'execute': {
        if (this.paused) this.fail(`executed ${instruction.tasks.map((t) => t.key).join(',')} while paused`);
        if (this.batches.length >= this.nthreads) this.fail('a batch was started with no free thread');
        if (instruction.tasks.length === 0) this.fail('an empty batch was started');
        for (const { key } of instruction.tasks) {
          if (this.batches.some((batch) => batch.tasks.slice(batch.reported).some((t) => t.key === key))) this.fail(`'${key}' executes twice at once`);
          if (this.expected.get(key)?.outcome !== 'pending') this.fail(`'${key}' was started though its assignment is ${this.expected.get(key)?.outcome}`);
        }
        for (const { key, inputs, ownedInputs } of instruction.tasks) {
          if (inputs.some(({ bytes }) => this.taken.has(bytes))) this.fail(`'${key}' was given an input buffer another task's thread took`);
          if (ownedInputs?.some((owned, index) => owned && [...this.stored.values()].includes(inputs[index] as EncodedValue))) this.fail(`'${key}' was given the store's own buffer to take`);
        }
        for (const { inputs, ownedInputs } of instruction.tasks) ownedInputs?.forEach((owned, index) => owned && this.taken.add((inputs[index] as EncodedValue).bytes));
        this.batches.push({ tasks: instruction.tasks, reported: 0 });
        break;
      }
      case 'load-inputs': {
        const cost = instruction.inputs.reduce((bytes, location) => bytes + (this.held.inMemory(location.key) ? 0 : location.nbytes), 0);
        if (this.paused && cost > 0) this.fail(`'${instruction.key}' loads ${cost} bytes while paused`);
        if (this.expected.get(instruction.key)?.outcome !== 'pending') this.fail(`'${instruction.key}' loads inputs though its assignment is ${this.expected.get(instruction.key)?.outcome}`);
        this.loads.push(instruction);
        break;
      }
      case 'read-held':
        if (!this.held.has(instruction.key)) this.fail(`'${instruction.key}' is read though not held`);
        this.reads.push(instruction);
        break;
      case 'send-finished':
        this.answered(instruction.key, instruction.runId, 'reported');
        if (instruction.store) this.held.memory.add(instruction.key);
        break;
      case 'send-failed':
      case 'send-missing':
        this.answered(instruction.key, instruction.runId, 'reported');
        break;
      case 'hand-back':
        for (const key of instruction.keys) this.answered(key, this.expected.get(key)?.runId ?? -1, 'handed-back');
        break;
      case 'release':
        for (const key of instruction.keys) {
          this.held.memory.delete(key);
          this.held.disk.delete(key);
        }
        break;
    }
  }

  private answered(key: string, runId: number, outcome: Outcome): void {
    const expectation = this.expected.get(key);
    if (!expectation || expectation.outcome !== 'pending' || expectation.runId !== runId) {
      this.fail(`'${key}' run ${runId} ${outcome}, but the scheduler expects ${expectation ? `run ${expectation.runId}, ${expectation.outcome}` : 'nothing'}`);
    }
    expectation.outcome = outcome;
  }

  /** The machine's own counters agree with the world: threads busy, tasks on them. */
  private checkAgreement(): void {
    const onThreads = this.batches.reduce((count, batch) => count + batch.tasks.length - batch.reported, 0);
    if (this.state.freeThreads !== this.nthreads - this.batches.length) this.fail(`${this.state.freeThreads} free threads, but ${this.batches.length} of ${this.nthreads} are busy`);
    if (this.state.executingCount !== onThreads) this.fail(`executingCount ${this.state.executingCount}, but ${onThreads} tasks are on threads`);
    if (this.state.paused !== this.paused) this.fail('the machine disagrees about being paused');
  }

  fail(what: string): never {
    throw new Error(`${what}\nreplay: LOOM_FUZZ_SEED=${this.seed} LOOM_FUZZ_ITERATIONS=1\nlast events:\n${this.log.slice(-40).join('\n')}`);
  }
}

test(`worker state machine: ${ITERATIONS} random event sequences keep every invariant and answer every assignment`, (t) => {
  t.diagnostic(`LOOM_FUZZ_SEED=${SEED} LOOM_FUZZ_ITERATIONS=${ITERATIONS}`);
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const world = new World((SEED + iteration) >>> 0);
    try {
      for (let step = 10 + world.int(MAX_STEPS - 10); step > 0; step--) world.step();
      world.quiesce();
    } catch (error) {
      // An invariant the machine checks itself throws its own error: give it the replay line too.
      if (error instanceof Error && !error.message.includes('replay:')) world.fail(error.message);
      throw error;
    }
  }
});
