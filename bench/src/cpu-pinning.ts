// Pins processes to CPUs with taskset(1), so a load generator and the server it drives each own a core instead
// of trading places on both: on a 2-core machine unpinned runs of the same server differed by up to 40 %
// from one run to the next, pinned ones by a few percent. Without taskset, or with one CPU, nothing is pinned
// and the bench says so.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Whether this machine can pin: taskset present and at least two CPUs. */
export const canPin: boolean = (() => {
  if (availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Pins every thread of `pid` to `cpu` (a no-op where pinning is unavailable). */
export function pin(pid: number | undefined, cpu: number): void {
  if (!canPin || pid === undefined) return;
  execFileSync('taskset', ['-a', '-c', '-p', String(cpu), String(pid)], { stdio: 'ignore' });
}
