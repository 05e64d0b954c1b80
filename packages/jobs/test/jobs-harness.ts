// Shared by the jobs tests: a private Redis per test file, a fleet of small CSV series with its split, and a
// wait on a condition (the tests synchronize on job states and events, never on sleeps).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@loom/testing';

export const FIXTURE_JOBS = fileURLToPath(new URL('./fixture-jobs.js', import.meta.url));

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `loom-jobs-${label}-`));
}

/** Polls `check` every 25 ms until it returns a value other than undefined/false; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const HOUR = 3_600_000;
const START = Date.UTC(2024, 0, 1);

/** `files` CSV sources of `hours` hourly values (columns a and b, seeded AR(2)), and a split CSV of one slice per column. */
export function writeFleet(dir: string, files: number, hours = 120): { split: string; ids: string[] } {
  const rows = ['id,file,column,train_from,train_to,test_from,test_to'];
  const iso = (h: number): string => new Date(START + h * HOUR).toISOString();
  const ids: string[] = [];
  for (let f = 0; f < files; f++) {
    const next = seededRandom(1000 + f);
    const series = ['a', 'b'].map(() => {
      const level = 10 + 90 * next();
      let x1 = 0;
      let x2 = 0;
      return Array.from({ length: hours }, () => {
        const x = 0.6 * x1 - 0.2 * x2 + (next() - 0.5) * 2;
        x2 = x1;
        x1 = x;
        return level + x;
      });
    });
    const lines = ['ts,a,b', ...Array.from({ length: hours }, (_, t) => `${iso(t)},${series[0]![t]},${series[1]![t]}`)];
    writeFileSync(join(dir, `s${f}.csv`), `${lines.join('\n')}\n`);
    for (const column of ['a', 'b']) {
      ids.push(`s${f}.${column}`);
      rows.push(`s${f}.${column},s${f}.csv,${column},${iso(0)},${iso(hours - 24)},${iso(hours - 24)},${iso(hours)}`);
    }
  }
  const split = join(dir, 'split.csv');
  writeFileSync(split, `${rows.join('\n')}\n`);
  return { split, ids };
}
