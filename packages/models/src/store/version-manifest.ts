// A version's manifest: what files it has, their sizes, row counts and sha256, and a checksum over the manifest
// itself, so that a bit flip anywhere in a version is found on load and reported naming the file.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from './durable-fs.js';
import { MANIFEST_FILE, STORE_FORMAT } from './store-layout.js';
import { ModelStoreError } from './store-error.js';

export interface FileEntry {
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface VersionManifest {
  format: typeof STORE_FORMAT;
  group: string;
  version: number;
  /** ISO time of publishing. */
  createdAt: string;
  models: number;
  /** Models per family key. */
  families: Record<string, number>;
  /** The params width when every model has the same (FixedSizeList column), else null (List column). */
  paramWidth: number | null;
  extraColumns: string[];
  /** The version unchanged models were carried forward from, and how many. */
  carriedFrom: number | null;
  carried: number;
  files: FileEntry[];
  /** The stage it was published from (a resumed writer whose publish had already landed finds it by `token`). */
  stage: { name: string; token: string };
  /** What the writer was asked to record (trainMany: family, options, split summary). */
  meta: Record<string, unknown>;
}

/** The manifest's text, its checksum included. */
export function manifestText(manifest: VersionManifest): string {
  const body = JSON.stringify(manifest);
  return `${JSON.stringify({ ...manifest, sha256: sha256(Buffer.from(body)) }, null, 2)}\n`;
}

export async function readManifest(dir: string): Promise<VersionManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ModelStoreError('CORRUPT_FILE', `${path}: cannot read the version's manifest: ${(error as Error).message}`, { path, cause: error });
  }
  return parseManifest(text, path);
}

/** readManifest without waiting: for planners that run synchronously on the client (scoreMany). */
export function readManifestSync(dir: string): VersionManifest {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ModelStoreError('CORRUPT_FILE', `${path}: cannot read the version's manifest: ${(error as Error).message}`, { path, cause: error });
  }
  return parseManifest(text, path);
}

function parseManifest(text: string, path: string): VersionManifest {
  let parsed: VersionManifest & { sha256?: unknown };
  try {
    parsed = JSON.parse(text) as VersionManifest & { sha256?: unknown };
  } catch (error) {
    throw new ModelStoreError('CORRUPT_FILE', `${path}: not valid JSON`, { path, cause: error });
  }
  const { sha256: recorded, ...manifest } = parsed ?? {};
  if (recorded !== sha256(Buffer.from(JSON.stringify(manifest)))) throw new ModelStoreError('CORRUPT_FILE', `${path}: checksum mismatch (the manifest was altered or damaged)`, { path });
  if (manifest.format !== STORE_FORMAT) throw new ModelStoreError('CORRUPT_FILE', `${path}: unknown format ${JSON.stringify(manifest.format)} (this Loom reads ${STORE_FORMAT})`, { path });
  return manifest as VersionManifest;
}

/** A file of a version (or a stage), read whole and checked against its entry. */
export async function readVerified(dir: string, entry: FileEntry): Promise<Buffer> {
  const path = join(dir, entry.name);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ModelStoreError('CORRUPT_FILE', `${path}: cannot read: ${(error as Error).message}`, { path, cause: error });
  }
  if (bytes.length !== entry.bytes) throw new ModelStoreError('CORRUPT_FILE', `${path}: ${bytes.length} bytes, the manifest says ${entry.bytes}`, { path });
  if (sha256(bytes) !== entry.sha256) throw new ModelStoreError('CORRUPT_FILE', `${path}: sha256 mismatch (the file was altered or damaged)`, { path });
  return bytes;
}
