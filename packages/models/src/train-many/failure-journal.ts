// The failed slices of each finished batch, appended durably to a file in the run's stage directory before the
// batch's models are staged. The store keeps only trained models, so without it a resumed run could not report
// the slices its crashed predecessor failed, nor tell a batch whose slices all failed (nothing staged) from one
// never run. The file goes with the stage when the version is published.
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from '../store/durable-fs.js';
import type { SliceFailure } from './batch-records.js';

export const JOURNAL_FILE = 'train-many-failures.jsonl';

interface Entry {
  key: string;
  /** Slices in the batch, so a batch whose every slice failed counts as done. */
  slices: number;
  failures: Array<[id: string, code: string, error: string]>;
}

export class FailureJournal {
  readonly #entries = new Map<string, Entry>();
  readonly #handle: FileHandle;
  #tail: Promise<void> = Promise.resolve();

  private constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Opens the journal at `path`, reading what an earlier run of the stage recorded (a torn last line is ignored). */
  static async open(path: string): Promise<FailureJournal> {
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    const journal = new FailureJournal(await open(path, 'a'));
    if (text === undefined) {
      await syncDirectory(dirname(path)); // the new file's name survives a crash, not only its lines
      return journal;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const entry = JSON.parse(line) as Entry;
        if (typeof entry.key === 'string' && Array.isArray(entry.failures)) journal.#entries.set(entry.key, entry);
      } catch {
        // The line a crash cut short: its batch was not staged either, so it runs again.
      }
    }
    return journal;
  }

  /** The failures recorded for a batch, or undefined when none were. */
  failures(key: string): SliceFailure[] | undefined {
    return this.#entries.get(key)?.failures.map(([id, code, error]) => ({ id, code, error }));
  }

  /** Whether every one of the batch's `slices` slices failed (then nothing was staged for it, and it is done). */
  allFailed(key: string, slices: number): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.slices === slices && entry.failures.length === slices;
  }

  /** Records a batch's failures durably (appends are serialized, one line each). */
  record(key: string, slices: number, failures: readonly SliceFailure[]): Promise<void> {
    const entry: Entry = { key, slices, failures: failures.map((f) => [f.id, f.code, f.error]) };
    const write = this.#tail.then(async () => {
      await this.#handle.write(`${JSON.stringify(entry)}\n`);
      await this.#handle.datasync();
      this.#entries.set(key, entry);
    });
    this.#tail = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.#tail;
    await this.#handle.close();
  }
}
