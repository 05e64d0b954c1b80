// Runs a Python reference benchmark (Dask) when Debian's interpreter has the package, and reads its JSON lines.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's python3 (where python3-distributed installs), not whatever python3 is first on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export function pythonHas(module: string): boolean {
  if (!existsSync(SYSTEM_PYTHON)) return false;
  return spawnSync(SYSTEM_PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

export function runPythonReference<T>(script: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): T[] {
  const result = spawnSync(SYSTEM_PYTHON, [script, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 2 ** 20, env });
  if (result.status !== 0) {
    throw new Error(`${script} failed (status ${result.status ?? result.signal}): ${result.stderr.split('\n').slice(-8).join('\n')}`);
  }
  return result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as T);
}
