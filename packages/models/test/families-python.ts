// Runs a Python reference script once per test file: the input travels as JSON through a temp file (Python
// start-up is slow, so a test file batches every case into one call) and the script prints JSON back.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';

/** Why the statsmodels differential tests cannot run here, or undefined when they can. */
export function statsmodelsMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import statsmodels, numpy; print(statsmodels.__version__)'], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  return `statsmodels is not importable by ${PYTHON} (apt-get install -y python3-statsmodels): ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`;
}

/** Runs `script` with the path of a JSON file holding `input` as sys.argv[1]; returns the JSON it prints. */
export function runPython<T>(script: string, input: unknown): T {
  const dir = mkdtempSync(join(tmpdir(), 'loom-families-'));
  try {
    const inputPath = join(dir, 'input.json');
    writeFileSync(inputPath, JSON.stringify(input));
    const result = spawnSync(PYTHON, ['-c', script, inputPath], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (result.status !== 0) throw new Error(`python reference failed (${result.status}): ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
