// `loom serve`: the inference server from the command line. It prints one line when it listens (the URL, for
// scripts waiting on it) and stops cleanly on SIGINT or SIGTERM, answering the requests in progress first.
import { parseArgs } from 'node:util';
import { SERVE_TOKEN_ENV } from './bearer-token.js';
import { DEFAULT_PORT, serve } from './inference-server.js';
import { ServeError } from './serve-error.js';

export const SERVE_USAGE = `loom serve [--store DIR] [--host HOST] [--port PORT] [--token TOKEN] [--max-memory SIZE] [--max-body SIZE] [--recheck-ms MS]
    serves a model store over REST (the KServe v2 / Open Inference Protocol)

  --store DIR         the model store directory (default $LOOM_MODEL_STORE, else ./models)
  --host HOST         address to bind (default 127.0.0.1; beyond loopback a token is required)
  --port PORT         default ${DEFAULT_PORT}; 0 picks a free port
  --token TOKEN       required as Authorization: Bearer on all but /v2/health/*; default $${SERVE_TOKEN_ENV}
  --max-memory SIZE   memory for loaded groups, least recently used evicted first (default 2GiB)
  --max-body SIZE     largest request body (default 16MiB)
  --recheck-ms MS     new versions are seen at once where the filesystem reports changes; elsewhere
                      (NFS) within MS milliseconds (default 1000; 0 checks on every request)`;

export async function runServeCli(argv: string[], write: (text: string) => void = (text) => process.stdout.write(text)): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        store: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        token: { type: 'string' },
        'max-memory': { type: 'string' },
        'max-body': { type: 'string' },
        'recheck-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new ServeError('BAD_OPTIONS', `${error instanceof Error ? error.message : String(error)}\n${SERVE_USAGE}`);
  }
  const { values } = parsed;
  if (values.help) {
    write(`${SERVE_USAGE}\n`);
    return;
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || port > 65535) throw new ServeError('BAD_OPTIONS', `--port takes a port number, got ${values.port}\n${SERVE_USAGE}`);
  const options: Parameters<typeof serve>[1] = { port };
  if (values.host !== undefined) options.host = values.host;
  if (values.token !== undefined) options.token = values.token;
  if (values['max-memory'] !== undefined) options.maxMemory = values['max-memory'];
  if (values['max-body'] !== undefined) options.maxBodyBytes = values['max-body'];
  if (values['recheck-ms'] !== undefined) {
    if (!/^\d+$/.test(values['recheck-ms'])) throw new ServeError('BAD_OPTIONS', `--recheck-ms takes a whole number of milliseconds, got ${values['recheck-ms']}\n${SERVE_USAGE}`);
    options.pointerRecheckMs = Number(values['recheck-ms']);
  }
  const server = await serve(values.store ?? process.env['LOOM_MODEL_STORE'] ?? 'models', options);
  // The handlers go in before the announcement: whoever waits for it may signal at once, and a signal that
  // comes before a listener exists takes the default action (the process dies without closing the server).
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  write(`loom serve: ${server.store.dir} on ${server.url} (Open Inference Protocol under /v2, metrics at /metrics)\n`);
  await stopped;
}
