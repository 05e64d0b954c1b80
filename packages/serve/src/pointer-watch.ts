// When a group's CURRENT pointer needs to be read again. Reading it costs a stat, a syscall of several
// microseconds here, and at thousands of requests a second that was a fifth of a single-model request. So the
// group's directory is watched (inotify on Linux): a publish renames a new CURRENT into it, which marks the
// pointer stale, and the next request stats it. Watches miss changes on network filesystems (NFS, EFS) and
// may be unavailable (the inotify watch limit), so the pointer is also read again once `recheckMs` has passed
// since the last read, and on every request where no watch could be set. This is the repository polling of
// TF Serving and Triton, with the change notice in front of it.
import { watch, type FSWatcher } from 'node:fs';

/** The longest a published version can go unnoticed where the filesystem sends no change notices. */
export const DEFAULT_RECHECK_MS = 1_000;

export class PointerWatch {
  readonly #recheckMs: number;
  readonly #watcher: FSWatcher | undefined;
  #watching: boolean;
  #stale = true;
  #readAt = 0;

  constructor(groupDir: string, recheckMs: number) {
    this.#recheckMs = recheckMs;
    this.#watcher = tryWatch(groupDir, () => {
      this.#stale = true;
    }, () => {
      this.#watching = false;
    });
    this.#watching = this.#watcher !== undefined;
  }

  /** Whether CURRENT may have changed since `read()` was last called. */
  stale(now: number): boolean {
    return this.#stale || !this.#watching || now - this.#readAt >= this.#recheckMs;
  }

  /** Call just before reading CURRENT: changes after this moment mark it stale again. */
  read(now: number): void {
    this.#stale = false;
    this.#readAt = now;
  }

  close(): void {
    this.#watcher?.close();
  }
}

function tryWatch(dir: string, onChange: () => void, onLost: () => void): FSWatcher | undefined {
  try {
    // Not persistent: a watch must not keep a process alive after its server closed.
    const watcher = watch(dir, { persistent: false }, onChange);
    // A watch that fails later (the directory removed, the watch revoked) leaves the pointer read per request.
    watcher.on('error', () => {
      onLost();
      watcher.close();
    });
    return watcher;
  } catch {
    return undefined;
  }
}
