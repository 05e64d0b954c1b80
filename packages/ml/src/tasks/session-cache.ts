// Trainers and evaluators cached per task thread. Creating an onnxruntime session for CharCNN takes about as
// long as a training step, and a run's round tasks come back to the same threads again and again, so each
// thread keeps its most recent few and disposes of them when displaced or idle. Correctness never depends on
// a hit: every round task brings the full checkpoint it starts from.
const IDLE_MS = 60_000;
const MAX_ENTRIES = 2;

interface Entry<T> {
  readonly value: Promise<T>;
  readonly dispose: (value: T) => Promise<void>;
  timer: NodeJS.Timeout;
}

export class SessionCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly dispose: (value: T) => Promise<void>) {}

  get(key: string, create: () => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      clearTimeout(entry.timer);
    } else {
      const value = create();
      value.catch(() => this.entries.delete(key));
      entry = { value, dispose: this.dispose, timer: undefined as unknown as NodeJS.Timeout };
    }
    entry.timer = setTimeout(() => this.evict(key), IDLE_MS).unref();
    this.entries.set(key, entry); // most recently used last
    while (this.entries.size > MAX_ENTRIES) this.evict(this.entries.keys().next().value as string);
    return entry.value;
  }

  private evict(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    clearTimeout(entry.timer);
    entry.value.then((value) => entry.dispose(value)).catch(() => undefined);
  }
}
