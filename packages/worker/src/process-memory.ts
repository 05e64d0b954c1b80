// Another process's memory as the kernel reports it in /proc/<pid>/status (Linux): current resident set (VmRSS),
// which the nanny polices, and its peak (VmHWM), which tests and benchmarks check against the memory limit.
import { readFileSync } from 'node:fs';

/** Bytes of `VmRSS` (current) or `VmHWM` (peak) for `pid`; undefined when the process or field is unreadable. */
export function processMemory(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}
