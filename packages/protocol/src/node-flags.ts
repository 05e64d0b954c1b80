// V8 flags for Loom's long-running processes, and running a command again under them. V8 reads its flags when a
// process starts: `v8.setFlagsFromString('--single-threaded-gc')` in a running process aborts V8 at its next
// major collection (a cppgc check, Node 20), and Node takes few V8 flags in NODE_OPTIONS, so the flags go on
// the command line of a process we start: the nanny's worker, LocalCluster's, or `loom serve` itself.
import { spawn } from 'node:child_process';

/** Set in the environment of a command run again under its flags, so it never runs itself a third time. */
const RERUN_ENV = 'LOOM_RERUN_WITH_FLAGS';
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The flags `variable` names in `env` (whitespace-separated; empty for none), else a copy of `defaults`. */
export function nodeFlagsFromEnv(env: NodeJS.ProcessEnv, variable: string, defaults: readonly string[]): string[] {
  const given = env[variable];
  if (given === undefined) return [...defaults];
  return given.split(/\s+/).filter((flag) => flag.length > 0);
}

/** Whether this process runs with every one of `flags` (or is already the re-run of a command). */
export function runningWithFlags(flags: readonly string[]): boolean {
  return process.env[RERUN_ENV] === '1' || flags.every((flag) => process.execArgv.includes(flag));
}

/**
 * Runs this process's own command again as a child under `flags`, and becomes its shadow: SIGINT, SIGTERM and
 * SIGHUP are passed on, and this process exits as the child does (with its code, or by its signal). The child
 * gets a process group of its own, so a Ctrl-C in a terminal reaches it once, through us, not twice.
 */
export function rerunWithFlags(flags: readonly string[]): Promise<never> {
  const child = spawn(process.execPath, [...process.execArgv, ...flags, ...process.argv.slice(1)], {
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, [RERUN_ENV]: '1' },
  });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  return new Promise<never>((_, reject) => {
    child.once('error', (error) => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      for (const each of FORWARDED_SIGNALS) process.off(each, forward);
      if (signal !== null) process.kill(process.pid, signal);
      else process.exit(code ?? 1);
    });
  });
}
