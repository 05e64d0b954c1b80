// deploy/compose.yaml really brought up, as the last step of `npm test` (apart from the *.test.js files, with its
// own timeout, since building the image takes minutes; `node scripts/run-tests.mjs deploy` runs it alone): the
// image built with podman on the cached Debian base, the stack started with podman-compose, and a client on this
// host running a graph, a DataFrame over files in the shared data volume, a job through the runner, a trainMany
// into the model-store volume and REST inference against `loom serve`; then a worker container killed in the
// middle of a graph, and a teardown that leaves nothing behind but the cached bases.
//
// podman-compose 1.0 (Debian's) starts services in depends_on order but neither waits on `service_healthy` nor
// runs health checks on its own (podman runs them from systemd timers, absent here), so the test runs each
// container's health check itself until it passes: the checks are exercised, the ordering is not.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, dataframe as dd, delayed } from '@loom/client';
import { ModelStore, readSplit, resolveFamily, trainMany } from '@loom/models';
import { serve } from '@loom/serve';
import {
  BASE_IMAGE, buildLoomImage, ensureBaseImage, ensurePodman, ensureRedisImage, imageExists, imageSize, podman, podmanEnv, REDIS_IMAGE, ROOT,
} from '../../scripts/deploy-image.mjs';
import { thousandTaskGraph } from './thousand-task-graph.js';

const run = randomBytes(4).toString('hex');
const project = `loomtest${run}`;
/** LOOM_TEST_IMAGE: run against an image built before (kept afterwards) instead of building one from the tree. */
const prebuilt = process.env['LOOM_TEST_IMAGE'];
const tag = prebuilt ?? `localhost/loom:compose-test-${run}`;
const token = randomBytes(16).toString('hex');
const WORKER_MEMORY = 1024 ** 3;
const work = mkdtempSync(join(tmpdir(), 'loom-compose-'));
const data = join(work, 'data');
let ports: { scheduler: number; dashboard: number; serve: number };
let client: Client;
const timings: Record<string, number> = {};

function compose(args: string[], env: Record<string, string>): string {
  const result = spawnSync('podman-compose', ['-p', project, '-f', join(ROOT, 'deploy/compose.yaml'), ...args], {
    env: podmanEnv(env), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`podman-compose ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

let composeEnv: Record<string, string>;

function containers(service?: string): string[] {
  const filters = ['--filter', `label=io.podman.compose.project=${project}`, ...(service ? ['--filter', `label=com.docker.compose.service=${service}`] : [])];
  return podman(['ps', '-a', ...filters, '--format', '{{.Names}}']).split('\n').filter(Boolean).sort();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const healthy = (name: string): boolean => spawnSync('podman', ['healthcheck', 'run', name], { env: podmanEnv() }).status === 0;

async function dashboard<T>(path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${ports.dashboard}${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return (await response.json()) as T;
}

/** A series fleet: `files` CSVs of hourly values in columns a and b (AR(2) from a fixed seed) and a split CSV. */
function writeFleet(dir: string, files: number, hours = 96): string {
  let state = 12345;
  const next = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const iso = (h: number): string => new Date(Date.UTC(2024, 0, 1) + h * 3_600_000).toISOString();
  const rows = ['id,file,column,train_from,train_to,test_from,test_to'];
  for (let f = 0; f < files; f++) {
    const series = ['a', 'b'].map(() => {
      let [x1, x2] = [0, 0];
      const level = 10 + 90 * next();
      return Array.from({ length: hours }, () => {
        const x = 0.6 * x1 - 0.2 * x2 + (next() - 0.5) * 2;
        [x2, x1] = [x1, x];
        return level + x;
      });
    });
    writeFileSync(join(dir, `s${f}.csv`), ['ts,a,b', ...series[0]!.map((a, t) => `${iso(t)},${a},${series[1]![t]}`)].join('\n') + '\n');
    for (const column of ['a', 'b']) rows.push(`s${f}.${column},s${f}.csv,${column},${iso(0)},${iso(hours - 24)},${iso(hours - 24)},${iso(hours)}`);
  }
  writeFileSync(join(dir, 'split.csv'), rows.join('\n') + '\n');
  return join(dir, 'split.csv');
}

before(async () => {
  let started = Date.now();
  ensurePodman();
  const cached = imageExists(BASE_IMAGE) && imageExists(REDIS_IMAGE);
  ensureBaseImage();
  ensureRedisImage();
  timings[cached ? 'base images (cached)' : 'base images (made: debootstrap)'] = Date.now() - started;
  started = Date.now();
  if (prebuilt === undefined) buildLoomImage(tag);
  timings['image build'] = Date.now() - started;
  console.error(`[deploy-compose] ${tag}: ${(imageSize(tag) / 2 ** 20).toFixed(0)} MiB`);

  // The data directory is bind-mounted at the same path inside the containers: the client plans DataFrames and
  // splits by reading the files, the workers read them, and both name them by one path (a shared filesystem).
  mkdirSync(join(data, 'events'), { recursive: true });
  chmodSync(work, 0o755);
  chmodSync(data, 0o755);
  for (let f = 0; f < 4; f++) {
    writeFileSync(join(data, 'events', `part-${f}.csv`), ['id,amount', ...Array.from({ length: 2500 }, (_, i) => `${f * 2500 + i},${(f * 2500 + i) % 97}`)].join('\n') + '\n');
  }
  writeFleet(data, 6);
  writeFileSync(join(work, 'loom.env'), `LOOM_TOKEN=${token}\nLOOM_SERVE_TOKEN=${token}\n`);
  ports = { scheduler: await freePort(), dashboard: await freePort(), serve: await freePort() };
  composeEnv = {
    LOOM_IMAGE: tag,
    LOOM_REDIS_IMAGE: ensureRedisImage(),
    LOOM_ENV_FILE: join(work, 'loom.env'),
    LOOM_DATA_DIR: data,
    LOOM_DATA_MOUNT: data,
    LOOM_SCHEDULER_PORT: String(ports.scheduler),
    LOOM_DASHBOARD_PORT: String(ports.dashboard),
    LOOM_SERVE_PORT: String(ports.serve),
    LOOM_WORKERS: '2',
    LOOM_WORKER_MEMORY: String(WORKER_MEMORY),
    LOOM_LOG_LEVEL: 'warn',
  };
  started = Date.now();
  // Services named: podman-compose 1.0 knows no profiles, so the gpu profile's worker is left out by name.
  compose(['up', '-d', '--no-build', 'redis', 'scheduler', 'worker', 'jobs', 'serve'], composeEnv);
  const all = containers();
  assert.equal(all.length, 6, `containers: ${all.join(', ')}`);
  for (const name of all) await eventually(`${name} healthy`, () => (healthy(name) ? true : undefined));
  timings['stack up and healthy'] = Date.now() - started;
  client = await Client.connect(`127.0.0.1:${ports.scheduler}`, { token });
});

after(async () => {
  await client?.close();
  // The safety net when a test failed before the teardown test ran: nothing of this run may stay.
  if (containers().length > 0) spawnSync('podman-compose', ['-p', project, '-f', join(ROOT, 'deploy/compose.yaml'), 'down', '-v'], { env: podmanEnv(composeEnv) });
  spawnSync('podman', ['network', 'rm', '-f', `${project}_default`], { env: podmanEnv() });
  for (const volume of ['models', 'redis-data']) spawnSync('podman', ['volume', 'rm', '-f', `${project}_${volume}`], { env: podmanEnv() });
  if (prebuilt === undefined && imageExists(tag)) spawnSync('podman', ['rmi', '-f', tag], { env: podmanEnv() });
  rmSync(work, { recursive: true, force: true });
  console.error(`[deploy-compose] ${Object.entries(timings).map(([what, ms]) => `${what} ${(ms / 1000).toFixed(0)} s`).join(', ')}`);
});

test('workers take their memory limit from the container and advertise an address this host can dial', async () => {
  type Worker = { address: string; memoryLimit: number };
  const workers = await eventually('both workers joined', async () => {
    const joined = await dashboard<Worker[]>('/api/v1/workers');
    return joined.length === 2 ? joined : undefined;
  });
  for (const worker of workers) {
    assert.equal(worker.memoryLimit, WORKER_MEMORY, 'the --memory-limit the entry point read from the cgroup');
    assert.match(worker.address, /^\d+\.\d+\.\d+\.\d+:8788$/);
  }
});

test('a graph computes exactly on the containers, and its large result comes back from a worker', async () => {
  const square = delayed((i: number) => i * i);
  const total = delayed((values: number[]) => values.reduce((a, b) => a + b, 0));
  const big = delayed((n: number) => new Float64Array(n).fill(1.5));
  const squares = Array.from({ length: 200 }, (_, i) => square(i));
  assert.equal(await total(squares).compute(), (199 * 200 * 399) / 6);
  const array = await big(2_000_000).compute();
  assert.equal(array.length, 2_000_000);
  assert.equal(array[1_999_999], 1.5);
});

test('a DataFrame over CSV files in the shared data volume', async () => {
  const events = dd.readCsv(join(data, 'events', '*.csv'));
  assert.equal(await events.count().compute(), 10_000);
  let expected = 0n;
  for (let i = 0; i < 10_000; i++) expected += BigInt(i % 97);
  assert.equal(await events.sum('amount').compute(), expected);
});

test('a retrain job through the runner writes a version into the model-store volume', async () => {
  const [runner] = containers('jobs');
  const params = { store: '/models', group: 'job-fleet', split: join(data, 'split.csv'), family: { family: 'ar', params: { p: 2 } } };
  const result = spawnSync('podman', ['exec', runner!, 'loom', 'jobs', 'submit', 'retrain', '--params', JSON.stringify(params), '--wait'], { env: podmanEnv(), encoding: 'utf8' });
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /"trained":\s*12/);
});

let storeDir: string;

test('trainMany from this host into the model-store volume, then REST inference against loom serve', async () => {
  storeDir = podman(['volume', 'inspect', '--format', '{{.Mountpoint}}', `${project}_models`]);
  const store = await ModelStore.open(storeDir, { create: false });
  const run = await trainMany(client, { split: await readSplit(join(data, 'split.csv')), family: await resolveFamily({ family: 'ar', params: { p: 2 } }), store, group: 'host-fleet' });
  assert.equal(run.trained, 12);
  assert.equal(run.failed.length, 0);

  const request = JSON.stringify({
    inputs: [
      { name: 'ids', datatype: 'BYTES', shape: [2], data: ['s0.a', 's5.b'] },
      { name: 'values', datatype: 'FP64', shape: [2, 6], data: [41, 43, 40, 44, 42, 45, 60, 61, 59, 62, 60, 75] },
    ],
  });
  // The same store served in this process is the reference: the container must answer byte for byte alike.
  const reference = await serve(store, { port: 0, token });
  try {
    for (const group of ['host-fleet', 'job-fleet']) {
      const ask = async (base: string) => {
        const response = await fetch(`${base}/v2/models/${group}/infer`, { method: 'POST', body: request, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
        assert.equal(response.status, 200, `${base} ${group}: ${response.status} ${await response.clone().text()}`);
        return response.json() as Promise<{ outputs: Array<{ name: string; data: unknown[] }> }>;
      };
      const fromContainer = await ask(`http://127.0.0.1:${ports.serve}`);
      assert.deepEqual(fromContainer, await ask(reference.url));
      const forecast = fromContainer.outputs.find((output) => output.name === 'forecast')!;
      assert.equal(forecast.data.length, 2);
      assert.ok(forecast.data.every((value) => Number.isFinite(value)));
    }
    const unauthorized = await fetch(`http://127.0.0.1:${ports.serve}/v2/models/host-fleet/infer`, { method: 'POST', body: request });
    assert.equal(unauthorized.status, 401);
  } finally {
    await reference.close();
  }
});

test('the serve container runs loom serve as its one process, with its V8 flags; workers run with theirs under the nanny', () => {
  const [server] = containers('serve');
  const serving = podman(['exec', server!, 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; cat /proc/1/task/1/children']).split('\n');
  assert.match(serving[0] ?? '', /^node --single-threaded-gc \S+main\.js serve /, `PID 1 of ${server}: ${serving[0]}`);
  assert.equal((serving[1] ?? '').trim(), '', 'no second server process');
  for (const worker of containers('worker')) {
    const line = podman(['exec', worker, 'sh', '-c', 'child=$(cut -d" " -f1 /proc/1/task/1/children); tr "\\0" " " < /proc/$child/cmdline']);
    assert.match(line, /--single-threaded-gc \S+main\.js /, `the worker under the nanny in ${worker}: ${line}`);
  }
});

test('a worker container killed in the middle of a graph: the result is still exact', async () => {
  const { graph, expected } = thousandTaskGraph(11);
  const result = graph.compute();
  await eventually('work under way', async () => ((await client.schedulerInfo()).taskCounts['memory'] ?? 0) > 100 ? true : undefined, 60_000);
  const [victim] = containers('worker');
  podman(['kill', '--signal', 'KILL', victim!]);
  assert.equal(await result, expected);
});

test('teardown leaves no container, network, volume or image of the run', () => {
  const started = Date.now();
  compose(['down', '-v'], composeEnv);
  // podman-compose 1.0 leaves the project network behind: removing it is part of tearing down.
  podman(['network', 'rm', '-f', `${project}_default`]);
  if (prebuilt === undefined) podman(['rmi', tag]);
  timings['teardown'] = Date.now() - started;
  assert.deepEqual(containers(), []);
  assert.equal(podman(['network', 'ls', '--format', '{{.Name}}']).split('\n').filter((name) => name.startsWith(project)).length, 0);
  assert.equal(podman(['volume', 'ls', '--format', '{{.Name}}']).split('\n').filter((name) => name.startsWith(project)).length, 0);
  assert.equal(imageExists(tag), prebuilt !== undefined);
  assert.ok(imageExists(ensureRedisImage()), 'the cached bases stay');
});
