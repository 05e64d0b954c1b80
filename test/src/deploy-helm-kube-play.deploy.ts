// The chart's pods really run (a deploy test: the last step of `npm test`, beside the compose one; `node
// scripts/run-tests.mjs deploy-helm` runs it alone): `helm template` with deploy/helm/ci/kube-play-values.yaml, then
// `podman kube play` of the rendered scheduler, worker, Redis, jobs runner and serve pods (helm-kube-play.ts says
// what stands in for Services, StatefulSets and Secrets), on a network of their own, from the image built from this
// working tree. A client on this machine connects to the scheduler's pod and computes through every worker (GPU
// tasks on the GPU group's only); the workers carry the names, memory limits and scheduler address the chart gives
// them through the environment; the adaptive endpoint answers per group and asks for more workers while work
// queues. The TLS values run too, with a certificate made here.
// Everything made is removed: pods, volumes, secrets, networks, and the image when this test built it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Client, delayed, type Delayed, type SchedulerInfo } from '@loom/client';
import { buildLoomImage, ensurePodman, ensureRedisImage, podman } from '../../scripts/deploy-image.mjs';
import { eventually } from './cluster-fixture.js';
import { named, renderChart, type Manifest } from './helm-chart.js';
import { kubePlay, type KubePlay } from './helm-kube-play.js';

const WORKER_MEMORY_LIMIT = 768 * 2 ** 20;
const GPU_WORKER_MEMORY_LIMIT = 512 * 2 ** 20;
const VALUES = 'deploy/helm/ci/kube-play-values.yaml';

let image: string | undefined;
let builtHere = false;

/** The image to run: LOOM_TEST_IMAGE (run-tests.mjs builds one for both deploy tests, and removes it), or one built here. */
function loomImage(): string {
  if (image === undefined) {
    ensurePodman();
    const given = process.env['LOOM_TEST_IMAGE'];
    builtHere = given === undefined;
    image = given ?? buildLoomImage(`localhost/loom:test-${randomBytes(3).toString('hex')}`);
  }
  return image;
}

test.after(() => {
  if (builtHere && image !== undefined) quietly(['image', 'rm', '--force', image]);
});

function quietly(args: string[]): void {
  try {
    podman(args);
  } catch {
    // Already gone (or never made): teardown goes on with the rest.
  }
}

interface Release {
  name: string;
  plan: KubePlay;
  token: string;
  work: string;
  ipOf(pod: string): string;
  logsOf(pod: string, container: string): string;
  /** The CPU group's pods, then the GPU group's. */
  workerPods: string[];
  gpuPods: string[];
}

/**
 * Renders the chart as `<prefix><random>` with the kube-play values (and `values`), plays it on a network of its
 * own and registers the teardown, which also checks that nothing of the release is left.
 */
async function playRelease(t: TestContext, options: { values?: string[]; set?: (release: string) => string[]; subnet?: string; before?: (release: string, work: string) => string[] } = {}): Promise<Release> {
  const redisImage = ensureRedisImage();
  const loom = loomImage();
  const name = `kp${randomBytes(3).toString('hex')}`;
  const network = `${name}-net`;
  const work = mkdtempSync(join(tmpdir(), 'loom-kube-play-'));
  const split = (reference: string) => [reference.slice(0, reference.lastIndexOf(':')), reference.slice(reference.lastIndexOf(':') + 1)];
  const [repository, tag] = split(loom);
  const [redisRepository, redisTag] = split(redisImage);
  const set = [`image.repository=${repository}`, `image.tag=${tag}`, `redis.image.repository=${redisRepository}`, `redis.image.tag=${redisTag}`, ...(options.set?.(name) ?? [])];
  const extra = options.before?.(name, work) ?? [];
  const manifests: Manifest[] = [...renderChart(name, [VALUES, ...(options.values ?? [])], set), ...extra.map((text) => JSON.parse(text) as Manifest)];
  const token = Buffer.from(named(manifests, 'Secret', `${name}-loom-token`).data!['token']!, 'base64').toString();
  const plan = kubePlay(manifests, join(work, 'secret-volumes'));
  const playFile = join(work, 'play.yaml');
  writeFileSync(playFile, plan.play.map((manifest) => stringify(manifest)).join('---\n'));

  t.after(() => {
    quietly(['kube', 'down', playFile]);
    for (const pod of plan.pods) quietly(['pod', 'rm', '--force', '--ignore', pod]);
    for (const volume of plan.volumes) quietly(['volume', 'rm', '--force', volume]);
    for (const secret of plan.secrets) quietly(['secret', 'rm', secret.name]);
    quietly(['network', 'rm', '--force', network]);
    rmSync(work, { recursive: true, force: true });
    const left = ['pod ps', 'volume ls', 'secret ls', 'network ls']
      .flatMap((command) => podman([...command.split(' '), '--format', '{{.Name}}']).split('\n'))
      .filter((left) => left.startsWith(name));
    assert.deepEqual(left, [], 'the test leaves nothing behind');
  });

  podman(['network', 'create', ...(options.subnet ? ['--subnet', options.subnet] : []), network]);
  for (const secret of plan.secrets) {
    // From a file: podman reads `-` only from a FIFO, and Node gives a child a socket for its stdin.
    const file = join(work, `${secret.name}.json`);
    writeFileSync(file, JSON.stringify(secret.data), { mode: 0o600 });
    podman(['secret', 'create', secret.name, file]);
    rmSync(file);
  }
  podman(['kube', 'play', '--network', network, playFile]);
  const ipOf = (pod: string): string => {
    const infra = podman(['pod', 'inspect', pod, '--format', '{{.InfraContainerID}}']);
    return podman(['inspect', infra, '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}']);
  };
  const logsOf = (pod: string, container: string): string => podman(['logs', `${pod}-${container}`]);
  const workerPods = plan.pods.filter((pod) => pod.startsWith(`${name}-loom-worker-cpu-pod-`)).sort();
  const gpuPods = plan.pods.filter((pod) => pod.startsWith(`${name}-loom-worker-gpu-pod-`));
  assert.equal(workerPods.length, 2);
  assert.equal(gpuPods.length, 1);
  const dashboard = `http://${ipOf(`${name}-loom-scheduler`)}:8787`;
  await eventually('the scheduler answers /health', async () => ((await fetch(`${dashboard}/health`).catch(() => undefined))?.ok ? true : undefined), 60_000);
  return { name, plan, token, work, ipOf, logsOf, workerPods, gpuPods };
}

async function allWorkers(release: Release, client: Client): Promise<SchedulerInfo['workers']> {
  const pods = [...release.workerPods, ...release.gpuPods];
  return eventually('every worker joined', async () => {
    const { workers } = await client.schedulerInfo();
    return workers.length === pods.length ? workers : undefined;
  }, 60_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${pods.map((pod) => release.logsOf(pod, 'worker')).join('\n')}`);
  });
}

/** 64 quarter-second leaves summed in pairs, then in total: pairs read leaves from other workers. */
function pairwiseSum(): { graph: Delayed<number>; expected: number } {
  const slow = delayed(async (i: number) => {
    await new Promise((resolve) => setTimeout(resolve, 250));
    return i * i;
  });
  const add = delayed((a: number, b: number) => a + b);
  const total = delayed((values: number[]) => values.reduce((a, b) => a + b, 0));
  const leaves = Array.from({ length: 64 }, (_, i) => slow(i));
  const pairs: Delayed<number>[] = [];
  for (let i = 0; i < leaves.length; i += 2) pairs.push(add(leaves[i]!, leaves[i + 1]!));
  return { graph: total(pairs), expected: Array.from({ length: 64 }, (_, i) => i * i).reduce((a, b) => a + b, 0) };
}

test('the rendered scheduler, workers, Redis, jobs runner and serve run under podman kube play, and a client computes through them', { timeout: 900_000 }, async (t) => {
  const release = await playRelease(t);
  const { name, token, ipOf, logsOf } = release;
  assert.deepEqual(release.plan.skipped.sort(), [`NetworkPolicy/${name}-loom-redis`, `PodDisruptionBudget/${name}-loom-worker-cpu`, `PodDisruptionBudget/${name}-loom-worker-gpu`]);
  const schedulerIp = ipOf(`${name}-loom-scheduler`);
  const dashboard = `http://${schedulerIp}:8787`;
  const bearer = { authorization: `Bearer ${token}` };
  const client = await Client.connect(`${schedulerIp}:8786`, { token });
  t.after(() => client.close());
  const workers = await allWorkers(release, client);
  // Names from metadata.name, the limit from limits.memory (downward API), each at its pod's own IP.
  assert.deepEqual(workers.map((worker) => worker.name).sort(), [...release.workerPods, ...release.gpuPods].sort());
  for (const worker of workers) {
    const gpu = release.gpuPods.includes(worker.name);
    assert.equal(worker.memoryLimit, gpu ? GPU_WORKER_MEMORY_LIMIT : WORKER_MEMORY_LIMIT);
    assert.equal(worker.nthreads, gpu ? 1 : 2);
    assert.deepEqual(worker.resources, gpu ? { GPU: 1 } : {});
    assert.equal(worker.address, `${ipOf(worker.name)}:8788`, `${worker.name} advertises its pod's IP`);
  }
  // Tasks that ask for a GPU run on the GPU group's worker only (its name is its pod's, from the environment).
  const whereAmI = delayed((i: number) => `${process.env['LOOM_WORKER_NAME']}:${i}`, { resources: { GPU: 1 } });
  const placed = await Promise.all([1, 2, 3].map((i) => whereAmI(i).compute(client)));
  assert.deepEqual(placed, [1, 2, 3].map((i) => `${release.gpuPods[0]}:${i}`));
  const groupTarget = async (resource: string) => (await (await fetch(`${dashboard}/api/v1/adaptive?resource=${resource}`, { headers: bearer })).json()) as { current: number; scope: string };
  assert.deepEqual([await groupTarget('GPU'), await groupTarget('none')].map(({ scope, current }) => [scope, current]), [['GPU', 1], ['none', 2]]);

  // Work that queues: the adaptive target asks for more than the two workers while it waits.
  const { graph, expected } = pairwiseSum();
  const result = graph.compute(client);
  const wanted = await eventually('the adaptive target sees the queue', async () => {
    // Work that should take a second: 64 quarter-second tasks want more than the 3 workers' 5 threads.
    const answer = (await (await fetch(`${dashboard}/api/v1/adaptive?target-duration=1s`, { headers: bearer })).json()) as { workers: number; current: number; readyTasks: number };
    return answer.readyTasks > 0 ? answer : undefined;
  }, 30_000);
  assert.equal(wanted.current, 3);
  assert.ok(wanted.workers > 3, `more workers wanted, got ${JSON.stringify(wanted)}`);
  assert.equal(await result, expected);
  assert.equal((await fetch(`${dashboard}/api/v1/adaptive`)).status, 401, 'the endpoint needs the token');
  const ran = (await (await fetch(`${dashboard}/api/v1/tasks?limit=1000`, { headers: bearer })).json()) as { worker: string }[];
  assert.equal(new Set(ran.map((event) => event.worker)).size, 3, 'every worker computed');

  // Redis as the chart configures it, the runner connected to it and to the scheduler, serve ready.
  const redisConfig = podman(['exec', `${name}-loom-redis-redis`, 'redis-cli', 'CONFIG', 'GET', '*']).split('\n');
  const setting = (key: string) => redisConfig[redisConfig.indexOf(key) + 1];
  assert.equal(setting('appendonly'), 'yes');
  assert.equal(setting('maxmemory-policy'), 'noeviction');
  assert.equal(setting('dir'), '/data');
  const jobsPod = release.plan.pods.find((pod) => pod.startsWith(`${name}-loom-jobs-pod-`))!;
  await eventually('the jobs runner is ready', async () => (/LOOM_READY/.test(logsOf(jobsPod, 'jobs')) ? true : undefined), 60_000);
  const serve = `http://${ipOf(`${name}-loom-serve`)}:8000`;
  await eventually('serve is ready', async () => ((await fetch(`${serve}/v2/health/ready`).catch(() => undefined))?.ok ? true : undefined), 60_000);
  assert.equal((await fetch(`${serve}/v2`)).status, 401, 'serve checks the cluster token');

  // The dashboard's Jobs and Models pages read the runner's Redis and the model store the chart mounts.
  for (const section of ['jobs', 'models']) {
    await eventually(`the ${section} page reads its source`, async () => {
      const response = await fetch(`${dashboard}/api/v1/x/${section}`, { headers: bearer });
      const content = response.ok ? ((await response.json()) as { error?: string; tables?: unknown[] }) : undefined;
      return content !== undefined && content.error === undefined && Array.isArray(content.tables) ? true : undefined;
    }, 60_000);
  }
});

/**
 * A CA and one certificate for every gRPC party (server and client use, as cert-manager would issue for the
 * release): the scheduler's Service name, and every address of the network's small subnet, which is what a
 * worker advertises and its peers verify (see deploy/helm/README.md, Tokens and TLS).
 */
function makeCertificate(work: string, release: string, subnetBase: string, hosts: number): Record<string, string> {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=loom-test-ca']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', `/CN=${release}-loom-scheduler`]);
  const addresses = Array.from({ length: hosts }, (_, i) => `IP:${subnetBase}${i + 1}`);
  writeFileSync(join(work, 'san.ext'), `subjectAltName=DNS:${release}-loom-scheduler,${addresses.join(',')}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '1', '-extfile', 'san.ext']);
  return Object.fromEntries(['tls.crt', 'tls.key', 'ca.crt'].map((file) => [file, readFileSync(join(work, file)).toString('base64')]));
}

test('the TLS values run: workers and a client reach the scheduler, and each other, over mutual TLS', { timeout: 900_000 }, async (t) => {
  // A /27 of its own: 30 addresses, all in the certificate.
  const subnetBase = `10.${randomInt(100, 250)}.${randomInt(0, 255)}.`;
  let certificates: Record<string, string> = {};
  const release = await playRelease(t, {
    values: ['deploy/helm/values-tls.yaml'],
    set: (name) => [`tls.secretName=${name}-tls`],
    subnet: `${subnetBase}0/27`,
    before: (name, work) => {
      certificates = makeCertificate(work, name, subnetBase, 30);
      return [JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-tls` }, type: 'kubernetes.io/tls', data: certificates })];
    },
  });
  const files = Object.fromEntries(Object.entries(certificates).map(([file, base64]) => {
    const path = join(release.work, `client-${file}`);
    writeFileSync(path, Buffer.from(base64, 'base64'), { mode: 0o600 });
    return [file, path];
  }));
  const schedulerIp = release.ipOf(`${release.name}-loom-scheduler`);
  await assert.rejects(
    Client.connect(`${schedulerIp}:8786`, { token: release.token, timeoutMs: 3000 }),
    'a client without TLS is not served',
  );
  const client = await Client.connect(`${schedulerIp}:8786`, { token: release.token, tls: { caFile: files['ca.crt']!, certFile: files['tls.crt']!, keyFile: files['tls.key']! } });
  t.after(() => client.close());
  await allWorkers(release, client);
  const { graph, expected } = pairwiseSum();
  assert.equal(await graph.compute(client), expected);
  const ran = (await (await fetch(`http://${schedulerIp}:8787/api/v1/tasks?limit=1000`, { headers: { authorization: `Bearer ${release.token}` } })).json()) as { worker: string }[];
  assert.equal(new Set(ran.map((event) => event.worker)).size, 3, 'every worker computed');
});
