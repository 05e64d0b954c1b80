// The `loom-worker` command line: parses flags, starts a worker, announces it on stdout with one LOOM_READY line
// (a supervising process such as LocalCluster waits for it), and closes gracefully on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { parseBytes, SERVER_FLAGS, tlsFromFlags, type TlsFiles } from '@loom/protocol';
import { parseThreshold } from './memory-manager.js';
import { NANNY_PID_ENV, runNanny } from './nanny.js';
import { SPILL_COMPRESSIONS, type SpillCompression } from './spill-file.js';
import { startWorker, type WorkerOptions } from './worker.js';

export const USAGE = `Usage: loom-worker <scheduler-address> [options]   (address default: $LOOM_SCHEDULER_ADDRESS)

Connects to a Loom scheduler and runs its tasks.

Options:
  --nthreads N              task threads (tasks run at once); default 1
  --memory-limit SIZE       memory this worker may use, e.g. 4GiB; default $LOOM_MEMORY_LIMIT, else total machine memory
  --memory-target FRACTION  spill least recently used results above this share of the limit in managed
                            bytes; default 0.6 ('false' turns a threshold off)
  --memory-spill FRACTION   keep spilling while process RSS is above this share; default 0.7
  --memory-pause FRACTION   start no new task while process RSS is above this share; default 0.8
  --memory-terminate FRACTION  the nanny restarts the worker above this share; default 0.95
  --memory-transfer FRACTION  inputs read back from disk or fetched for tasks not yet running are held to
                            this share; default 0.1
  --local-directory DIR     where the worker's scratch directory (spill files) goes; default the OS temp dir
  --spill-compression C     none|gzip|deflate|brotli; default none
  --no-nanny                run the worker in this process, without a supervising nanny
  --resources LIST          abstract resources offered, e.g. GPU=1,FOO=2
  --name NAME               unique worker name; default $LOOM_WORKER_NAME, else worker-<pid>-<random>
  --host HOST               address the data server listens on; default 127.0.0.1
  --port PORT               data server port; default 0 (any free port)
  --token TOKEN             cluster token; default $LOOM_TOKEN (required beyond loopback)
  --tls-cert FILE           PEM certificate for the data server (and mutual TLS)
  --tls-key FILE            PEM private key for --tls-cert
  --tls-ca FILE             PEM CA bundle to verify the scheduler and peers
  -h, --help                show this help
`;

/** A mistake on the command line: reported as one plain line, not a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parses argv into worker options; undefined means --help was asked for. The scheduler address, name and
 * memory limit default to $LOOM_SCHEDULER_ADDRESS, $LOOM_WORKER_NAME and $LOOM_MEMORY_LIMIT (a Kubernetes pod sets
 * them from its Service and the downward API; see deploy/helm).
 */
export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        nthreads: { type: 'string' },
        'memory-limit': { type: 'string' },
        resources: { type: 'string' },
        name: { type: 'string' },
        ...SERVER_FLAGS,
        'memory-target': { type: 'string' },
        'memory-spill': { type: 'string' },
        'memory-pause': { type: 'string' },
        'memory-transfer': { type: 'string' },
        'memory-terminate': { type: 'string' },
        'local-directory': { type: 'string' },
        'spill-compression': { type: 'string' },
        'no-nanny': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. Run with --help for the options.`);
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  const schedulerAddress = positionals[0] ?? (env['LOOM_SCHEDULER_ADDRESS'] || undefined);
  if (positionals.length > 1 || schedulerAddress === undefined) {
    throw new UsageError(
      positionals.length === 0
        ? 'missing the scheduler address (host:port, or LOOM_SCHEDULER_ADDRESS). Run with --help for usage.'
        : `expected one scheduler address, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  const options: WorkerOptions = { schedulerAddress };
  if (values.nthreads !== undefined) options.nthreads = integer('--nthreads', values.nthreads, 1, 1024);
  const memoryLimit = values['memory-limit'] ?? (env['LOOM_MEMORY_LIMIT'] || undefined);
  if (memoryLimit !== undefined) {
    try {
      options.memoryLimit = parseBytes(memoryLimit);
    } catch (error) {
      throw new UsageError(`--memory-limit: ${(error as Error).message}`);
    }
  }
  const thresholds = [
    ['--memory-target', 'memoryTarget'],
    ['--memory-spill', 'memorySpill'],
    ['--memory-pause', 'memoryPause'],
    ['--memory-terminate', 'memoryTerminate'],
    ['--memory-transfer', 'memoryTransfer'],
  ] as const;
  for (const [flag, option] of thresholds) {
    const text = values[flag.slice(2) as 'memory-target'];
    if (text === undefined) continue;
    try {
      options[option] = parseThreshold(flag, text);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (values['local-directory'] !== undefined) options.localDirectory = values['local-directory'];
  const compression = values['spill-compression'];
  if (compression !== undefined) {
    if (!SPILL_COMPRESSIONS.includes(compression as SpillCompression)) {
      throw new UsageError(`--spill-compression must be one of ${SPILL_COMPRESSIONS.join(', ')}, got '${compression}'`);
    }
    options.spillCompression = compression as SpillCompression;
  }
  if (values.resources !== undefined) options.resources = parseResources(values.resources);
  const name = values.name ?? (env['LOOM_WORKER_NAME'] || undefined);
  if (name !== undefined) options.name = name;
  if (values.host !== undefined) options.host = values.host;
  if (values.port !== undefined) options.port = integer('--port', values.port, 0, 65535);
  if (values.token !== undefined) options.token = values.token;
  let tls: TlsFiles | undefined;
  try {
    tls = tlsFromFlags(values);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (tls !== undefined) options.tls = tls;
  return options;
}

/**
 * Runs a worker until it closes (signal or scheduler shutdown): by default under a nanny (a parent process that
 * restarts it when it dies or runs out of memory), with --no-nanny in this process.
 */
export async function runWorker(argv: string[]): Promise<void> {
  const options = parseWorkerArgs(argv);
  if (!options) {
    process.stdout.write(USAGE);
    return;
  }
  if (!argv.includes('--no-nanny')) {
    const code = await runNanny(argv, options);
    if (code !== 0) process.exitCode = code;
    return;
  }
  const worker = await startUnderNanny(options);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal means "now": the user gave up on the graceful close.
    if (signalled) process.exit(signal === 'SIGINT' ? 130 : 143);
    signalled = true;
    void worker.close();
  };
  // Handlers before the announcement: a signal that comes before a listener exists kills the process unclosed.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ready = { role: 'worker', id: worker.id, name: worker.name, address: worker.address, pid: process.pid, localDirectory: worker.localDirectory };
  process.stdout.write(`LOOM_READY ${JSON.stringify(ready)}\n`);
  const stopWatching = watchNanny();
  try {
    await worker.closed;
  } finally {
    stopWatching();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A restarted worker may reach the scheduler before it noticed the old one's death: retry the name briefly. */
async function startUnderNanny(options: WorkerOptions): Promise<Awaited<ReturnType<typeof startWorker>>> {
  const deadline = Date.now() + (process.env[NANNY_PID_ENV] ? NAME_RETRY_MS : 0);
  for (;;) {
    try {
      return await startWorker(options);
    } catch (error) {
      if (Date.now() >= deadline || !/already connected/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** A worker whose nanny died (SIGKILL) exits too rather than live on unsupervised. */
function watchNanny(): () => void {
  const nanny = Number(process.env[NANNY_PID_ENV]);
  if (!Number.isInteger(nanny) || nanny <= 0) return () => undefined;
  const timer = setInterval(() => {
    if (process.ppid !== nanny) {
      process.stderr.write('loom-worker: the nanny process is gone; exiting\n');
      process.exit(1);
    }
  }, 250);
  timer.unref();
  return () => clearInterval(timer);
}

const NAME_RETRY_MS = 10_000;

function integer(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got '${text}'`);
  return value;
}

function parseResources(text: string): Record<string, number> {
  const resources: Record<string, number> = {};
  for (const item of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = /^([^=\s]+)\s*=\s*(\d+(?:\.\d+)?)$/.exec(item);
    if (!match) throw new UsageError(`--resources expects NAME=AMOUNT pairs such as GPU=1,FOO=2, got '${item}'`);
    resources[match[1] as string] = Number(match[2]);
  }
  return resources;
}
