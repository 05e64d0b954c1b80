// The nanny: a small parent process that runs the real worker as its child (`main.js ... --no-nanny`), passes its
// stdout through (the LOOM_READY line carries the worker's own pid), watches its RSS through /proc, kills it above
// the terminate threshold and restarts it (also after a crash or the loss of its scheduler, once the scheduler answers
// again; with backoff, at most 5 restarts a minute), forwards
// SIGINT/SIGTERM, removes the worker's scratch files after each death, and exits when the worker exits cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, parseBytes } from '@loom/protocol';
import type { WorkerOptions } from './worker.js';
import { memoryThresholds } from './worker.js';
import { withWorkerMallocSettings } from './malloc-env.js';
import { processMemory } from './process-memory.js';
import { workerV8Flags } from './v8-flags.js';

export const NANNY_PID_ENV = 'LOOM_NANNY_PID';

const WORKER_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const RSS_POLL_MS = 150;
const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS_PER_WINDOW = 5;
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;
const SCHEDULER_PROBE_MS = 2_000;
/** How long a nanny whose worker died waits for an unreachable scheduler to answer again, and how often it asks. */
const SCHEDULER_WAIT_MS = 120_000;
const SCHEDULER_RETRY_MS = 500;

/** Supervises worker children until one exits cleanly or we are told to stop; resolves with the exit status. */
export async function runNanny(argv: string[], options: WorkerOptions): Promise<number> {
  const logger = createLogger('nanny', { worker: options.name });
  const memoryLimit = options.memoryLimit === undefined ? totalmem() : parseBytes(options.memoryLimit);
  const terminate = memoryThresholds(options).terminate;
  const terminateBytes = terminate === false ? undefined : terminate * memoryLimit;
  const parent = options.localDirectory ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  // The nanny owns a directory the worker creates its scratch space in: whatever a crashed worker left, we remove.
  const directory = mkdtempSync(join(parent, 'loom-nanny-'));
  const childArgs = [...withoutFlag(argv, '--local-directory'), '--local-directory', directory, '--no-nanny'];

  let child: ChildProcess | undefined;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const restarts: number[] = [];
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));

  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal is forwarded too: the worker treats it as "exit now".
    stopping = true;
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    else {
      clearTimeout(restartTimer);
      finish(0);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const start = (): void => {
    const worker = spawn(process.execPath, [...workerV8Flags(), WORKER_MAIN, ...childArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: withWorkerMallocSettings({ ...process.env, [NANNY_PID_ENV]: String(process.pid) }),
    });
    child = worker;
    // Everything the worker prints, its LOOM_READY line first of all, is ours to print.
    worker.stdout?.pipe(process.stdout, { end: false });
    let killedForMemory = false;
    const poll = setInterval(() => {
      if (terminateBytes === undefined || worker.pid === undefined) return;
      const rss = processMemory(worker.pid);
      if (rss !== undefined && rss > terminateBytes && !killedForMemory) {
        killedForMemory = true;
        logger.warn({ pid: worker.pid, rss, limit: memoryLimit }, 'worker memory above the terminate threshold: killing it');
        worker.kill('SIGKILL');
      }
    }, RSS_POLL_MS);
    worker.once('error', (error) => logger.error({ err: error }, 'cannot start the worker process'));
    worker.once('exit', (code, signal) => {
      clearInterval(poll);
      cleanDirectory(directory);
      if (stopping || (code === 0 && !killedForMemory)) {
        finish(code ?? (signal ? 1 : 0));
        return;
      }
      const reason = killedForMemory ? 'memory' : signal ? `signal ${signal}` : `exit code ${code}`;
      const now = Date.now();
      while (restarts.length > 0 && (restarts[0] as number) < now - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length >= MAX_RESTARTS_PER_WINDOW) {
        logger.error({ reason, restarts: restarts.length }, 'the worker keeps dying; giving up');
        finish(code ?? 1);
        return;
      }
      const delay = Math.min(FIRST_BACKOFF_MS * 2 ** restarts.length, MAX_BACKOFF_MS);
      restarts.push(now);
      logger.warn({ reason, delayMs: delay }, 'the worker died; restarting it');
      // A worker also exits when it loses its scheduler: a restarted scheduler (a deploy, a crash) should get its
      // workers back by themselves, so the nanny waits for it to answer again, up to SCHEDULER_WAIT_MS, as Dask's
      // workers keep trying to reconnect. Past that, a new worker would only wait and fail: the owner decides.
      const waitUntil = now + delay + SCHEDULER_WAIT_MS;
      let warned = false;
      const restartWhenReachable = (): void => {
        void reachable(options.schedulerAddress).then((ok) => {
          if (stopping) return finish(0);
          if (ok) return start();
          if (Date.now() >= waitUntil) {
            logger.error({ scheduler: options.schedulerAddress, waitedMs: SCHEDULER_WAIT_MS }, 'the scheduler is still unreachable; not restarting the worker');
            return finish(code ?? 1);
          }
          if (!warned) logger.warn({ scheduler: options.schedulerAddress, waitMs: SCHEDULER_WAIT_MS }, 'the scheduler is unreachable; restarting the worker once it answers');
          warned = true;
          restartTimer = setTimeout(restartWhenReachable, SCHEDULER_RETRY_MS);
        });
      };
      restartTimer = setTimeout(restartWhenReachable, delay);
    });
  };

  start();
  try {
    return await finished;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(directory, { recursive: true, force: true });
  }
}

/** argv without `flag VALUE` / `flag=VALUE`. */
function withoutFlag(argv: string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === flag) i++;
    else if (!arg.startsWith(`${flag}=`)) out.push(arg);
  }
  return out;
}

function cleanDirectory(directory: string): void {
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
}

/** Whether a TCP connection to host:port opens within a couple of seconds. */
function reachable(address: string): Promise<boolean> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), SCHEDULER_PROBE_MS);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
