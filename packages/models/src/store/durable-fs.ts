// The file operations publishing rests on. A file is written under a temporary name, fsync'ed, renamed into
// place and its directory fsync'ed, so after a crash it is either absent or complete; rename(2) within one
// filesystem is atomic, which is what makes a published version or a moved `CURRENT` pointer all-or-nothing.
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A name no other writer picks: pid and random bytes (two processes may stage into one directory). */
export function temporaryName(base: string): string {
  return `.${base}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Writes `bytes` to `path` all-or-nothing (temporary file, fsync, rename, fsync of the directory). */
export async function writeFileDurable(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = join(dirname(path), temporaryName(basename(path)));
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
  await syncDirectory(dirname(path));
}

/** Writes a file that is renamed into place by the caller (a file inside a directory that is renamed whole). */
export async function writeFileSynced(path: string, bytes: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a directory's entries (files created, renamed or removed in it) durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
