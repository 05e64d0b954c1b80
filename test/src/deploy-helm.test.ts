// The Helm chart, checked with the real tools: `helm lint --strict` and `helm template` for each values file (the
// defaults, CPU only, a GPU group, external Redis, TLS), every rendered manifest validated against the Kubernetes
// API schemas, and what each scenario must wire (memory limit from the downward API, GPU limits and --resources,
// the token only in a Secret, KEDA polling the adaptive target). The pods really run in deploy-helm-kube-play.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubePlay } from './helm-kube-play.js';
import { byKind, CHART, helm, named, podSpec, renderChart, renderNotes, typeCheckManifests, validateManifest, type ContainerView, type Manifest } from './helm-chart.js';

const SCENARIOS = {
  defaults: [],
  cpu: ['deploy/helm/values-cpu.yaml'],
  gpu: ['deploy/helm/values-gpu.yaml'],
  'external-redis': ['deploy/helm/values-external-redis.yaml'],
  tls: ['deploy/helm/values-tls.yaml'],
  'kube-play': ['deploy/helm/ci/kube-play-values.yaml'],
} satisfies Record<string, string[]>;

const rendered = new Map<string, Manifest[]>();
function render(scenario: keyof typeof SCENARIOS): Manifest[] {
  let manifests = rendered.get(scenario);
  if (manifests === undefined) rendered.set(scenario, (manifests = renderChart('loom', SCENARIOS[scenario])));
  return manifests;
}

function env(container: ContainerView, name: string): NonNullable<ContainerView['env']>[number] {
  const found = container.env?.find((variable) => variable.name === name);
  assert.ok(found, `${container.name} has no ${name} in its environment`);
  return found;
}

test('helm lint --strict passes for every values file', () => {
  for (const [scenario, files] of Object.entries(SCENARIOS)) {
    const result = helm(['lint', '--strict', CHART, ...files.flatMap((file) => ['-f', file])]);
    assert.equal(result.status, 0, `${scenario}: ${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

test('every manifest of every scenario matches its Kubernetes API schema', async () => {
  for (const scenario of Object.keys(SCENARIOS) as (keyof typeof SCENARIOS)[]) {
    const manifests = render(scenario);
    assert.ok(manifests.length >= 8, `${scenario} renders ${manifests.length} objects`);
    for (const manifest of manifests) await validateManifest(manifest);
    const names = manifests.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`);
    assert.equal(new Set(names).size, names.length, `${scenario}: two objects share a kind and name`);
  }
});

test('every pod volume names its source (a null emptyDir passes the schema but no runtime mounts it)', () => {
  for (const scenario of Object.keys(SCENARIOS) as (keyof typeof SCENARIOS)[]) {
    for (const workload of [...byKind(render(scenario), 'Deployment'), ...byKind(render(scenario), 'StatefulSet')]) {
      for (const { name, ...source } of podSpec(workload).volumes ?? []) {
        const sources = Object.entries(source).filter(([, value]) => value !== null && value !== undefined);
        assert.equal(sources.length, 1, `${scenario}: ${workload.metadata.name}'s volume ${name} has ${JSON.stringify(source)}`);
      }
    }
  }
});

test('no manifest of any scenario has a field its API type does not know', () => {
  const all = (Object.keys(SCENARIOS) as (keyof typeof SCENARIOS)[]).flatMap((scenario) => render(scenario).map((manifest) => ({ label: scenario, manifest })));
  assert.deepEqual(typeCheckManifests(all), []);
});

test('the schema checks fail on a broken manifest, a kind the API does not have and a misspelt field', async () => {
  const scheduler = structuredClone(named(render('defaults'), 'Deployment', 'loom-scheduler'));
  (scheduler.spec as { replicas: unknown }).replicas = 'one';
  await assert.rejects(validateManifest(scheduler), /Deployment\/loom-scheduler .*does not match its API schema: .*replicas must be integer/);
  delete (podSpec(scheduler) as { containers?: unknown }).containers;
  await assert.rejects(validateManifest(scheduler), /containers/);
  await assert.rejects(validateManifest({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } }), /no Kubernetes API schema/);
  const misspelt = structuredClone(named(render('defaults'), 'Deployment', 'loom-scheduler'));
  const [container] = podSpec(misspelt).containers;
  container!['imagePullPolcy'] = container!['imagePullPolicy'];
  await validateManifest(misspelt);
  const [problem, ...others] = typeCheckManifests([{ label: 'defaults', manifest: misspelt }]);
  assert.match(problem ?? '', /^defaults: Deployment\/loom-scheduler: .*imagePullPolcy\W+ does not exist in type 'IContainer'/);
  assert.deepEqual(others, []);
});

test('the scheduler: Deployment and Service with gRPC and dashboard ports, probes on the open /health', () => {
  const manifests = render('defaults');
  const deployment = named(manifests, 'Deployment', 'loom-scheduler');
  const [container] = podSpec(deployment).containers;
  assert.deepEqual(container!.args!.slice(0, 4), ['scheduler', '--host=0.0.0.0', '--port=8786', '--dashboard-port=8787']);
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    assert.deepEqual((container![probe] as { httpGet: unknown }).httpGet, { path: '/health', port: 'dashboard' }, probe);
  }
  const service = named(manifests, 'Service', 'loom-scheduler');
  assert.deepEqual((service.spec!['ports'] as { name: string; port: number }[]).map(({ name, port }) => [name, port]), [['grpc', 8786], ['dashboard', 8787]]);
  assert.equal(env(container!, 'LOOM_SCHEDULER_ADDRESS').value, 'loom-scheduler:8786');
});

test('workers: memory limit from the downward API, name from the pod, scheduler address from the environment, a PDB per group', () => {
  const manifests = render('cpu');
  const deployment = named(manifests, 'Deployment', 'loom-worker-cpu');
  const [worker] = podSpec(deployment).containers;
  assert.deepEqual(env(worker!, 'LOOM_MEMORY_LIMIT').valueFrom, { resourceFieldRef: { containerName: 'worker', resource: 'limits.memory' } });
  assert.deepEqual(env(worker!, 'LOOM_WORKER_NAME').valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  assert.equal(env(worker!, 'LOOM_SCHEDULER_ADDRESS').value, 'loom-scheduler:8786');
  assert.deepEqual(env(worker!, 'LOOM_TOKEN').valueFrom, { secretKeyRef: { name: 'loom-token', key: 'token' } });
  assert.equal(worker!.name, 'worker', 'the resourceFieldRef names this container');
  assert.ok(worker!.args!.includes('--nthreads=4'));
  assert.equal(worker!.resources!.limits!['memory'], '8Gi');
  assert.equal((deployment.spec as { replicas?: number }).replicas, undefined, 'an autoscaled group leaves replicas to KEDA');
  const budget = named(manifests, 'PodDisruptionBudget', 'loom-worker-cpu');
  assert.deepEqual(budget.spec, { maxUnavailable: 1, selector: (deployment.spec as { selector: unknown }).selector });
  const monitor = named(manifests, 'ServiceMonitor', 'loom-scheduler');
  assert.deepEqual((monitor.spec!['endpoints'] as Record<string, unknown>[])[0]!['authorization'], { type: 'Bearer', credentials: { name: 'loom-token', key: 'token' } });
});

test('a GPU group: nvidia.com/gpu limits, node selector, tolerations, --resources GPU=1, scaled from zero on GPU work', () => {
  const manifests = render('gpu');
  const gpu = named(manifests, 'Deployment', 'loom-worker-gpu');
  const spec = podSpec(gpu);
  const [worker] = spec.containers;
  assert.equal(worker!.image, 'loom-cuda:0.1.0');
  assert.equal(worker!.resources!.limits!['nvidia.com/gpu'], 1);
  assert.ok(worker!.args!.includes('--resources=GPU=1'));
  assert.deepEqual(spec.nodeSelector, { 'nvidia.com/gpu.present': 'true' });
  assert.deepEqual(spec.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  const cpu = podSpec(named(manifests, 'Deployment', 'loom-worker-cpu')).containers[0]!;
  assert.ok(!cpu.args!.some((arg) => arg.startsWith('--resources')), 'the CPU group offers no resources');
  const scaled = named(manifests, 'ScaledObject', 'loom-worker-gpu');
  assert.equal((scaled.spec as { minReplicaCount: number }).minReplicaCount, 0);
  const [trigger] = (scaled.spec as { triggers: { type: string; metadata: Record<string, string>; authenticationRef: { name: string } }[] }).triggers;
  assert.equal(trigger!.type, 'metrics-api');
  assert.equal(trigger!.metadata['url'], 'http://loom-scheduler:8787/api/v1/adaptive?resource=GPU&threads=1&target-duration=5s');
  assert.equal(trigger!.metadata['valueLocation'], 'workers');
  const auth = named(manifests, 'TriggerAuthentication', trigger!.authenticationRef.name);
  assert.deepEqual(auth.spec, { secretTargetRef: [{ parameter: 'token', name: 'loom-token', key: 'token' }] });
  assert.equal(byKind(manifests, 'ScaledObject').length, 1, 'the CPU group has fixed replicas here');
});

test('the token: generated into a Secret when not given (never a value), or read from one the user names', () => {
  const [first, second] = [renderChart('loom', []), renderChart('loom', [])].map((manifests) => named(manifests, 'Secret', 'loom-token'));
  const token = Buffer.from(first!.data!['token']!, 'base64').toString();
  assert.match(token, /^[A-Za-z0-9]{48}$/);
  assert.notEqual(second!.data!['token'], first!.data!['token'], 'each install draws its own (upgrades keep it via lookup)');
  assert.equal(first!.metadata.annotations!['helm.sh/resource-policy'], 'keep');
  const external = render('external-redis');
  assert.equal(byKind(external, 'Secret').length, 0, 'with token.existingSecret the chart makes no Secret');
  assert.deepEqual(env(podSpec(named(external, 'Deployment', 'loom-scheduler')).containers[0]!, 'LOOM_TOKEN').valueFrom, { secretKeyRef: { name: 'loom-token', key: 'token' } });
  const plain = helm(['template', 'loom', CHART, '--set', 'token.value=hunter2']);
  assert.notEqual(plain.status, 0);
  assert.match(plain.stderr, /token: Additional property value is not allowed/);
});

test('Redis: bundled as a StatefulSet with a claim, AOF and noeviction, or external by a URL from a Secret', () => {
  const bundled = render('defaults');
  const redis = named(bundled, 'StatefulSet', 'loom-redis');
  const args = podSpec(redis).containers[0]!.args!;
  assert.equal(args[args.indexOf('--appendonly') + 1], 'yes');
  assert.equal(args[args.indexOf('--maxmemory-policy') + 1], 'noeviction');
  assert.equal((redis.spec as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates[0]!.metadata.name, 'data');
  assert.equal(env(podSpec(named(bundled, 'Deployment', 'loom-jobs')).containers[0]!, 'LOOM_REDIS_URL').value, 'redis://loom-redis:6379');
  const external = render('external-redis');
  assert.equal(byKind(external, 'StatefulSet').length, 0);
  assert.deepEqual(env(podSpec(named(external, 'Deployment', 'loom-jobs')).containers[0]!, 'LOOM_REDIS_URL').valueFrom, { secretKeyRef: { name: 'loom-redis-url', key: 'url' } });
  const missing = helm(['template', 'loom', CHART, '--set', 'redis.enabled=false']);
  assert.match(missing.stderr, /set redis.external.url or redis.external.existingSecret/);
});

test('the scheduler\'s Jobs and Models pages: the jobs\' Redis and the model store (read only), or neither when off', () => {
  const scheduler = (manifests: Manifest[]) => podSpec(named(manifests, 'Deployment', 'loom-scheduler'));
  const defaults = scheduler(render('defaults'));
  const container = defaults.containers[0]!;
  assert.equal(env(container, 'LOOM_JOBS_REDIS').value, 'redis://loom-redis:6379');
  assert.equal(env(container, 'LOOM_MODEL_STORE').value, '/models');
  assert.deepEqual(container.volumeMounts!.find((mount) => mount.name === 'models'), { name: 'models', mountPath: '/models', readOnly: true });
  assert.equal((defaults.volumes!.find((volume) => volume.name === 'models')!['persistentVolumeClaim'] as { claimName: string }).claimName, 'loom-models');
  assert.deepEqual(env(scheduler(render('external-redis')).containers[0]!, 'LOOM_JOBS_REDIS').valueFrom, { secretKeyRef: { name: 'loom-redis-url', key: 'url' } });
  const neither = scheduler(renderChart('loom', [], ['jobs.enabled=false', 'modelStore.enabled=false', 'serve.enabled=false']));
  const names = neither.containers[0]!.env!.map((variable) => variable.name);
  assert.ok(!names.includes('LOOM_JOBS_REDIS') && !names.includes('LOOM_MODEL_STORE'), names.join(', '));
  assert.ok(!neither.volumes!.some((volume) => volume.name === 'models'));
});

test('TLS: every gRPC party gets the certificate Secret and the flags, the jobs runner too', () => {
  const manifests = render('tls');
  const withJobs = renderChart('loom', SCENARIOS.tls, ['jobs.enabled=true']);
  for (const [rendered, name] of [[manifests, 'loom-scheduler'], [manifests, 'loom-worker-cpu'], [withJobs, 'loom-jobs']] as const) {
    const spec = podSpec(named(rendered, 'Deployment', name));
    const args = spec.containers[0]!.args!;
    assert.ok(args.includes('--tls-cert=/etc/loom/tls/tls.crt') && args.includes('--tls-key=/etc/loom/tls/tls.key') && args.includes('--tls-ca=/etc/loom/tls/ca.crt'), name);
    assert.deepEqual(spec.volumes!.find((volume) => volume.name === 'tls'), { name: 'tls', secret: { secretName: 'loom-tls' } });
  }
});

test('serve: the model store volume shared with workers and the runner, a Service, health probes', () => {
  const manifests = render('defaults');
  const serve = podSpec(named(manifests, 'Deployment', 'loom-serve'));
  assert.deepEqual((serve.containers[0]!['readinessProbe'] as { httpGet: unknown }).httpGet, { path: '/v2/health/ready', port: 'http' });
  const claims = ['loom-serve', 'loom-jobs', 'loom-worker-cpu'].map((name) => podSpec(named(manifests, 'Deployment', name)).volumes!.find((volume) => volume.name === 'models'));
  assert.ok(claims.every((volume) => (volume!['persistentVolumeClaim'] as { claimName: string }).claimName === 'loom-models'));
  assert.deepEqual(named(manifests, 'PersistentVolumeClaim', 'loom-models').spec!['accessModes'], ['ReadWriteMany']);
  named(manifests, 'Service', 'loom-serve');
});

test('NOTES.txt says how to reach the dashboard, read the token and ask for the adaptive target', () => {
  const notes = renderNotes('loom', 'analytics', ['workers.groups[0].name=cpu', 'workers.groups[0].replicas=3', 'workers.groups[0].threads=4', 'workers.groups[0].containerResources.limits.memory=8Gi']);
  assert.match(notes, /kubectl port-forward -n analytics svc\/loom-scheduler 8787:8787/);
  assert.match(notes, /kubectl get secret -n analytics loom-token -o jsonpath='\{\.data\.token\}' \| base64 -d/);
  assert.match(notes, /cpu: 3 x 4 threads/);
  assert.match(notes, /curl -H "Authorization: Bearer \$LOOM_TOKEN" http:\/\/127\.0\.0\.1:8787\/api\/v1\/adaptive/);
});

test('the kube-play stand-ins: a Service\'s workload is a pod of its name, ports dropped with probes numbered, Secrets apart', () => {
  const files = mkdtempSync(join(tmpdir(), 'loom-kube-play-plan-'));
  try {
    const plan = kubePlay(renderChart('kp', SCENARIOS['kube-play'], ['tls.enabled=true', 'tls.secretName=kp-tls', 'jobs.enabled=false']).concat([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kp-tls' }, data: { 'ca.crt': Buffer.from('ca').toString('base64') } },
    ]), files);
    assert.deepEqual(plan.pods.sort(), ['kp-loom-redis', 'kp-loom-scheduler', 'kp-loom-serve', 'kp-loom-worker-cpu-pod-0', 'kp-loom-worker-cpu-pod-1', 'kp-loom-worker-gpu-pod-0']);
    assert.deepEqual(plan.secrets.map((secret) => secret.name).sort(), ['kp-loom-token', 'kp-tls']);
    assert.deepEqual(plan.volumes.sort(), ['data-kp-loom-redis-0', 'kp-loom-models']);
    const scheduler = named(plan.play, 'Pod', 'kp-loom-scheduler');
    const spec = scheduler.spec as unknown as { containers: ContainerView[]; volumes: { name: string; hostPath?: { path: string } }[] };
    assert.equal(spec.containers[0]!.ports, undefined);
    assert.deepEqual((spec.containers[0]!['livenessProbe'] as { httpGet: unknown }).httpGet, { path: '/health', port: 8787 });
    const tls = spec.volumes.find((volume) => volume.name === 'tls')!;
    assert.equal(readFileSync(join(tls.hostPath!.path, 'ca.crt'), 'utf8'), 'ca');
    assert.ok(!plan.play.some((manifest) => manifest.kind === 'Service' || manifest.kind === 'Secret' || manifest.kind === 'StatefulSet'));
    const redis = named(plan.play, 'Pod', 'kp-loom-redis').spec as unknown as { volumes: unknown[] };
    assert.deepEqual(redis.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-kp-loom-redis-0' } }]);
  } finally {
    rmSync(files, { recursive: true, force: true });
  }
});
