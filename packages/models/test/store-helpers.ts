// Shared by the model store tests: a temporary directory removed after the file's tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `loom-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

