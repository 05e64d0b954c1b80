// A group's `CURRENT` pointer and its list of published versions. The pointer is a small JSON file replaced
// by rename, so a reader sees the old version or the new one, never a torn pointer; it only moves forward.
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurable } from './durable-fs.js';
import { StageLock } from './stage-lock.js';
import { CURRENT_FILE, groupDir, parseVersionDir, versionsDir } from './store-layout.js';
import { isModelStoreError, ModelStoreError } from './store-error.js';

/** The current version, or undefined when the group has none (or does not exist). */
export async function readCurrent(root: string, group: string): Promise<number | undefined> {
  const path = join(groupDir(root, group), CURRENT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseCurrent(text, path);
}

/** readCurrent without waiting: for planners that run synchronously on the client (scoreMany). */
export function readCurrentSync(root: string, group: string): number | undefined {
  const path = join(groupDir(root, group), CURRENT_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseCurrent(text, path);
}

function parseCurrent(text: string, path: string): number {
  let version: unknown;
  try {
    version = (JSON.parse(text) as { version?: unknown }).version;
  } catch {
    version = undefined;
  }
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new ModelStoreError('CORRUPT_FILE', `${path}: not a version pointer: ${JSON.stringify(text.slice(0, 80))}`, { path });
  }
  return version;
}

/** Points `CURRENT` at `version` unless it already points at a newer one. */
export async function writeCurrent(root: string, group: string, version: number): Promise<void> {
  const current = await readCurrent(root, group);
  if (current !== undefined && current >= version) return;
  await writeFileDurable(join(groupDir(root, group), CURRENT_FILE), `${JSON.stringify({ version })}\n`);
}

/** Published versions, oldest first (temporary and trashed directories are not versions). */
export async function listVersions(root: string, group: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(versionsDir(root, group));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.map(parseVersionDir).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
}

/** How long a publish or prune waits for another one on the same group before giving up. */
const GROUP_LOCK_WAIT_MS = 60_000;

/** Runs `fn` holding the group's lock: publishes and prunes of one group take turns. */
export async function withGroupLock<T>(root: string, group: string, fn: () => Promise<T>): Promise<T> {
  const path = join(groupDir(root, group), 'lock');
  const deadline = Date.now() + GROUP_LOCK_WAIT_MS;
  let lock: StageLock;
  for (;;) {
    try {
      lock = await StageLock.acquire(path);
      break;
    } catch (error) {
      if (!isModelStoreError(error, 'STAGE_BUSY') || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
