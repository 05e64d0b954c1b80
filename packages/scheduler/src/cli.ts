// `loom scheduler`: parses flags, starts the scheduler, announces readiness on stdout (one `LOOM_READY` JSON
// line that launchers such as LocalCluster wait for) and shuts down cleanly on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { DEFAULT_DASHBOARD_PORT, startDashboard, type DashboardHandle } from '@loom/dashboard';
import { parseBytes, resolveToken, SERVER_FLAGS, tlsFromFlags, warmUpEnabled } from '@loom/protocol';
import { adaptiveRoute } from './adaptive-route.js';
import { loadSections, sectionSettings } from './dashboard-sections.js';
import { SchedulerDashboardSource } from './dashboard-source.js';
import { SchedulerServer, type SchedulerOptions } from './scheduler-server.js';
import { warmUpScheduler } from './warm-up.js';

export const SCHEDULER_USAGE = `Usage: loom scheduler [options]

Options:
  --host HOST                 address to bind (default 127.0.0.1; beyond loopback a token is required)
  --port PORT                 port to bind (default 8786; 0 picks a free one)
  --token TOKEN               cluster token every client and worker must present (default: $LOOM_TOKEN)
  --tls-cert FILE --tls-key FILE [--tls-ca FILE]
                              serve TLS with these PEM files (with --tls-ca, require client certificates)
  --max-message-size SIZE     largest accepted message (default 64MiB)
  --heartbeat-timeout MS      remove a worker silent for this long (default 5000)
  --validate                  check state-machine invariants after every event (slow; debugging)
  --dashboard-port PORT       the dashboard's HTTP port, also /health, /metrics, /api/v1 (default 8787; when
                              that port is taken, a free one; 0 picks a free one)
  --no-dashboard              serve no dashboard (and no /health or /metrics)
  --metrics-open              serve /metrics without the cluster token (Prometheus without credentials)
  --jobs-redis URL            show a Jobs page of the jobs queue in this Redis (default $LOOM_JOBS_REDIS;
                              redis://[user:password@]host:port[/db], rediss:// for TLS; a URL with a
                              password is better given in the variable, which other users cannot read)
  --jobs-queue NAME           the jobs queue to show (default $LOOM_JOBS_QUEUE, else loom)
  --model-store DIR           show a Models page of this model store (default $LOOM_MODEL_STORE)
  -h, --help                  show this help`;

export async function runScheduler(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SERVER_FLAGS,
      'max-message-size': { type: 'string' },
      'heartbeat-timeout': { type: 'string' },
      validate: { type: 'boolean' },
      'dashboard-port': { type: 'string' },
      'no-dashboard': { type: 'boolean' },
      'metrics-open': { type: 'boolean' },
      'jobs-redis': { type: 'string' },
      'jobs-queue': { type: 'string' },
      'model-store': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(SCHEDULER_USAGE);
    return;
  }
  const options: SchedulerOptions = {};
  if (values.host !== undefined) options.host = values.host;
  if (values.port !== undefined) options.port = parsePort(values.port, '--port');
  if (values.token !== undefined) options.token = values.token;
  const tls = tlsFromFlags(values);
  if (tls !== undefined) options.tls = tls;
  if (values['max-message-size'] !== undefined) options.maxMessageBytes = parseBytes(values['max-message-size']);
  if (values['heartbeat-timeout'] !== undefined) options.heartbeatTimeoutMs = Number(values['heartbeat-timeout']);
  if (values.validate) options.validate = true;

  // Before the scheduler starts: a section that cannot load (a bad URL, a package missing) fails the start.
  const sections = values['no-dashboard'] ? [] : await loadSections(sectionSettings(values));
  const scheduler = await new SchedulerServer(options).start();
  let dashboard: DashboardHandle | undefined;
  if (!values['no-dashboard']) {
    const explicitPort = values['dashboard-port'] !== undefined;
    dashboard = await startDashboard({
      source: new SchedulerDashboardSource(scheduler.state, (workerId) => scheduler.workerTelemetry(workerId)),
      host: options.host ?? '127.0.0.1',
      port: explicitPort ? parsePort(values['dashboard-port']!, '--dashboard-port') : DEFAULT_DASHBOARD_PORT,
      // Like Dask: the default port taken (another cluster on this machine) moves the dashboard, an explicit one fails.
      fallbackToFreePort: !explicitPort,
      token: resolveToken(options.token),
      metricsOpen: values['metrics-open'] === true,
      warn: (message) => scheduler.logger.warn(message),
      info: (message) => scheduler.logger.info(message),
      routes: { adaptive: adaptiveRoute(scheduler.state) },
      extensions: sections,
    });
  }
  // Handlers before the announcement: whoever waits for it may signal at once, and a signal that comes before
  // a listener exists takes the default action (the process dies without closing).
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    void Promise.all([dashboard?.close(), scheduler.close()]).then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  const ready = { role: 'scheduler', address: scheduler.address, ...(dashboard && { dashboard: dashboard.url }) };
  process.stdout.write(`LOOM_READY ${JSON.stringify(ready)}\n`);
  // After the announcement: workers take longer to start than the warm-up takes, and it yields to real work.
  if (warmUpEnabled()) {
    warmUpScheduler({ shouldStop: () => scheduler.state.tasks.size > 0 }).catch((error: unknown) => {
      process.stderr.write(`loom scheduler: the start-up warm-up failed (a bug; the scheduler is unaffected): ${String(error)}\n`);
    });
  }
}

function parsePort(text: string, flag: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag} must be an integer from 0 to 65535, got '${text}'`);
  return port;
}
