// One file per partition, published the way a crash cannot tear: each task writes its file under a hidden
// temporary name, fsyncs it, renames it into place and fsyncs the directory (rename(2) within a filesystem is
// atomic), so a final name only ever holds a complete file. The client prepares the directory before the tasks
// run and commits after they all succeed: stale temporary files go, and with `overwrite` the old files too.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Table } from 'apache-arrow';
import { PartitionError } from './errors.js';

/** Where one partition's file goes; built by the client, carried in the task's arguments. */
export interface FileWriteTarget {
  /** Absolute directory. */
  dir: string;
  /** The write this file belongs to: it names the temporary files, so a commit can tell its own leftovers. */
  writeId: string;
  /** The partition's index: the file is `part-<index>.<extension>`, zero-padded to `width` digits. */
  index: number;
  width: number;
}

/** What one partition task wrote. */
export interface PartitionFile {
  partition: number;
  path: string;
  rows: number;
  bytes: number;
  /** The partition's Arrow schema metadata, when it has any (what a producer reports beside its rows). */
  metadata?: Record<string, string>;
}

/**
 * A table's schema metadata as a plain object, or undefined when it has none. The writers hand it back with
 * what they wrote: a partition's producer may report there what is not rows (scoreMany: the slices it could
 * not score), and a file or a table has no place for it.
 */
export function schemaMetadata(table: Table): Record<string, string> | undefined {
  const { metadata } = table.schema;
  return metadata.size === 0 ? undefined : Object.fromEntries(metadata);
}

/** Temporary names start with a dot (hidden from readers' globs and from pyarrow's dataset discovery) and end in .tmp. */
const TEMPORARY = /^\.part-.*\.tmp$/;

export function newWriteId(): string {
  return randomBytes(8).toString('hex');
}

export function partFileName(target: FileWriteTarget, extension: string): string {
  return `part-${String(target.index).padStart(target.width, '0')}.${extension}`;
}

/** Digits for part numbers, so that names sort in partition order (at least 5, as Spark's part-00000). */
export function partNumberWidth(npartitions: number): number {
  return Math.max(5, String(Math.max(0, npartitions - 1)).length);
}

/**
 * Writes `target`'s file through `write` (given an open, empty temporary file) and publishes it atomically.
 * `rows` is what `write` reports; the returned record names the final path and its size.
 */
export async function writePartitionFile(
  target: FileWriteTarget,
  extension: string,
  metadata: Record<string, string> | undefined,
  write: (handle: FileHandle, path: string) => Promise<number>,
): Promise<PartitionFile> {
  const name = partFileName(target, extension);
  const temporary = join(target.dir, `.${name}.${target.writeId}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const path = join(target.dir, name);
  let handle: FileHandle | undefined = await open(temporary, 'wx');
  try {
    const rows = await write(handle, temporary);
    await handle.sync();
    const { size } = await handle.stat();
    await handle.close();
    handle = undefined;
    await rename(temporary, path);
    await syncDirectory(target.dir);
    return { partition: target.index, path, rows, bytes: size, ...(metadata === undefined ? {} : { metadata }) };
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Makes a directory's entries (files created, renamed or removed in it) durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface PreparedDirectory {
  dir: string;
  /** Entries already there (with `overwrite`): removed at commit unless this write replaced them. */
  existing: string[];
}

/**
 * Makes `dir` (and its parents), proves it writable by creating a file in it, removes temporary files that
 * killed writers left, and refuses a directory that already holds anything unless `overwrite`. Runs on the
 * client: the workers and the client share the filesystem (as the readers assume).
 */
export function prepareDirectory(dir: string, options: { overwrite: boolean; writeId: string }): PreparedDirectory {
  const absolute = resolve(dir);
  try {
    mkdirSync(absolute, { recursive: true });
    if (!statSync(absolute).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    const probe = join(absolute, `.part-probe.${options.writeId}.tmp`);
    writeFileSync(probe, '', { flag: 'wx' });
    rmSync(probe);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new PartitionError('WRITE_UNWRITABLE', `cannot write into ${absolute}: ${reason}`, { cause: error });
  }
  const existing: string[] = [];
  for (const entry of readdirSync(absolute)) {
    if (TEMPORARY.test(entry)) rmSync(join(absolute, entry), { force: true });
    else existing.push(entry);
  }
  if (existing.length > 0 && !options.overwrite) {
    const shown = existing.sort().slice(0, 3).join(', ') + (existing.length > 3 ? `, ... (${existing.length} entries)` : '');
    throw new PartitionError('WRITE_TARGET_EXISTS', `${absolute} is not empty (${shown}); pass overwrite: true to replace its contents`);
  }
  return { dir: absolute, existing };
}

/**
 * After every partition's file is in place: removes what the directory held before that this write did not
 * replace (with `overwrite`), and temporary files of this write's killed attempts.
 */
export function commitDirectory(prepared: PreparedDirectory, written: readonly PartitionFile[], writeId: string): void {
  const replaced = new Set(written.map((file) => file.path));
  for (const entry of prepared.existing) {
    const path = join(prepared.dir, entry);
    if (!replaced.has(path)) rmSync(path, { recursive: true, force: true });
  }
  for (const entry of readdirSync(prepared.dir)) {
    if (TEMPORARY.test(entry) && entry.includes(`.${writeId}.`)) rmSync(join(prepared.dir, entry), { force: true });
  }
}
