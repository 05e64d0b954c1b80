// One writer per stage. The lock file names the process holding it; a writer resuming after a crash finds the
// holder dead and takes the stage over, while a second live writer (an overlapping re-run) is refused instead
// of interleaving its batches with the first one's.
import { hostname } from 'node:os';
import { open, readFile, rm } from 'node:fs/promises';
import { ModelStoreError } from './store-error.js';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** Locks this process holds now: its pid in a lock file says nothing about which of its writers holds it. */
const heldHere = new Set<string>();

export class StageLock {
  private constructor(readonly path: string) {}

  static async acquire(path: string): Promise<StageLock> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx');
        const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
        await handle.writeFile(JSON.stringify(owner));
        await handle.sync();
        await handle.close();
        heldHere.add(path);
        return new StageLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await readOwner(path);
      if (owner !== undefined && isAlive(owner, heldHere.has(path))) {
        throw new ModelStoreError('STAGE_BUSY', `${path} is held by process ${owner.pid} on ${owner.host} since ${owner.since} (another writer of this stage or group); remove the file if that process is gone`, { path });
      }
      await rm(path, { force: true }); // the holder died: take the stage over
    }
    throw new ModelStoreError('STAGE_BUSY', `${path}: another process took the lock while this one was taking it over from a dead holder`, { path });
  }

  async release(): Promise<void> {
    heldHere.delete(this.path);
    await rm(this.path, { force: true });
  }
}

/** A lock file with unreadable contents belonged to a writer that died while creating it. */
async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the holder may still run. A holder on another host cannot be checked and counts as alive. */
function isAlive(owner: LockOwner, heldByThisProcess: boolean): boolean {
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return heldByThisProcess;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
