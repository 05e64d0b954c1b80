// Where everything lives in a model store directory (the README's "Model store" section draws the same tree):
//
//   <store>/loom-model-store.json            marker: this directory is a model store, and its format
//   <store>/groups/<group>/CURRENT           {"version": N}: the current version, replaced by rename
//   <store>/groups/<group>/versions/000007/  one published version: manifest.json + part-00000.arrow, ...
//   <store>/groups/<group>/staging/<stage>/  a version being written: stage.json, batches/, lock, publish/
import { join } from 'node:path';
import { ModelStoreError } from './store-error.js';

export const STORE_MARKER = 'loom-model-store.json';
export const STORE_FORMAT = 'loom-model-store/1';
export const CURRENT_FILE = 'CURRENT';
export const MANIFEST_FILE = 'manifest.json';

/** Group and stage names: safe as a directory name on every filesystem, never hidden, never `.` or `..`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const VERSION_DIR = /^\d{6,}$/;

export function checkName(kind: 'group' | 'stage', name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ModelStoreError('INVALID_NAME', `${kind} name ${JSON.stringify(name)} must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return name;
}

export function groupsDir(root: string): string {
  return join(root, 'groups');
}

export function groupDir(root: string, group: string): string {
  return join(root, 'groups', checkName('group', group));
}

export function versionsDir(root: string, group: string): string {
  return join(groupDir(root, group), 'versions');
}

export function versionDirName(version: number): string {
  return String(version).padStart(6, '0');
}

export function versionDir(root: string, group: string, version: number): string {
  return join(versionsDir(root, group), versionDirName(version));
}

/** The version a directory entry of `versions/` holds, or undefined for anything else (temporary, trash). */
export function parseVersionDir(name: string): number | undefined {
  return VERSION_DIR.test(name) ? Number(name) : undefined;
}

export function stagingDir(root: string, group: string): string {
  return join(groupDir(root, group), 'staging');
}

export function stageDir(root: string, group: string, stage: string): string {
  return join(stagingDir(root, group), checkName('stage', stage));
}
