// The image's HEALTHCHECK: one image runs every role, so the check reads the role from the container's main
// process (PID 1, `node /app/dist/src/main.js <role> ...`) and asks that role's own readiness signal:
//   scheduler    GET /health on the dashboard (--dashboard-port, default 8787); with --no-dashboard, its gRPC port accepts
//   serve        GET /v2/health/ready (--port, default 8000)
//   worker       its data server accepts connections (--host/--port; the entry point sets both)
//   jobs runner  the Redis it serves from accepts connections (--redis or $LOOM_REDIS_URL)
// Exit 0 is healthy, 1 is not (Docker's contract); anything else PID 1 runs (models, --help) counts as healthy.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const TIMEOUT_MS = 4000;
const args = readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean);
const main = args.findIndex((arg) => arg.endsWith('/main.js'));
const [role, ...rest] = main >= 0 ? args.slice(main + 1) : [];

function option(name, fallback) {
  const at = rest.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at < 0) return fallback;
  return rest[at].includes('=') ? rest[at].slice(name.length + 1) : rest[at + 1];
}

/** Where a process bound to `host` can be reached from inside its own container. */
function local(host) {
  return host === undefined || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

async function httpOk(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
}

function accepts(host, port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port), timeout: TIMEOUT_MS });
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => socket.destroy(new Error(`${host}:${port} did not answer in ${TIMEOUT_MS} ms`)));
    socket.once('error', reject);
  });
}

async function check() {
  switch (role) {
    case 'scheduler':
      if (rest.includes('--no-dashboard')) return accepts(local(option('--host')), option('--port', '8786'));
      return httpOk(`http://${local(option('--host'))}:${option('--dashboard-port', '8787')}/health`);
    case 'serve':
      return httpOk(`http://${local(option('--host'))}:${option('--port', '8000')}/v2/health/ready`);
    case 'worker':
      return accepts(local(option('--host')), option('--port', '8788'));
    case 'jobs': {
      const redis = new URL(option('--redis', process.env.LOOM_REDIS_URL ?? 'redis://127.0.0.1:6379'));
      return accepts(redis.hostname, redis.port || '6379');
    }
    default:
      return undefined;
  }
}

check().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`unhealthy ${role}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
