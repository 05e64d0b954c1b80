// The `loom-worker` command line: parses flags, starts a worker, announces it on stdout with one LOOM_READY line
// (a supervising process such as LocalCluster waits for it), and closes gracefully on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { parseBytes, type TlsFiles } from '@loom/protocol';
import { startWorker, type WorkerOptions } from './worker.js';

export const USAGE = `Usage: loom-worker <scheduler-address> [options]

Connects to a Loom scheduler and runs its tasks.

Options:
  --nthreads N              task threads (tasks run at once); default 1
  --memory-limit SIZE       memory this worker may use, e.g. 4GiB; default: total machine memory
  --resources LIST          abstract resources offered, e.g. GPU=1,FOO=2
  --name NAME               unique worker name; default worker-<pid>-<random>
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

/** Parses argv into worker options; undefined means --help was asked for. */
export function parseWorkerArgs(argv: string[]): WorkerOptions | undefined {
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
        host: { type: 'string' },
        port: { type: 'string' },
        token: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. Run with --help for the options.`);
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'missing the scheduler address (host:port). Run with --help for usage.'
        : `expected one scheduler address, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  const options: WorkerOptions = { schedulerAddress: positionals[0] as string };
  if (values.nthreads !== undefined) options.nthreads = integer('--nthreads', values.nthreads, 1, 1024);
  if (values['memory-limit'] !== undefined) {
    try {
      options.memoryLimit = parseBytes(values['memory-limit']);
    } catch (error) {
      throw new UsageError(`--memory-limit: ${(error as Error).message}`);
    }
  }
  if (values.resources !== undefined) options.resources = parseResources(values.resources);
  if (values.name !== undefined) options.name = values.name;
  if (values.host !== undefined) options.host = values.host;
  if (values.port !== undefined) options.port = integer('--port', values.port, 0, 65535);
  if (values.token !== undefined) options.token = values.token;
  const tls: TlsFiles = {};
  if (values['tls-cert'] !== undefined) tls.certFile = values['tls-cert'];
  if (values['tls-key'] !== undefined) tls.keyFile = values['tls-key'];
  if (values['tls-ca'] !== undefined) tls.caFile = values['tls-ca'];
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (Object.keys(tls).length > 0) options.tls = tls;
  return options;
}

/** Runs a worker until it closes (signal or scheduler shutdown). */
export async function runWorker(argv: string[]): Promise<void> {
  const options = parseWorkerArgs(argv);
  if (!options) {
    process.stdout.write(USAGE);
    return;
  }
  const worker = await startWorker(options);
  process.stdout.write(`LOOM_READY ${JSON.stringify({ role: 'worker', id: worker.id, name: worker.name, address: worker.address })}\n`);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal means "now": the user gave up on the graceful close.
    if (signalled) process.exit(signal === 'SIGINT' ? 130 : 143);
    signalled = true;
    void worker.close();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await worker.closed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

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
