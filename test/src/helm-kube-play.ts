// Runs the chart's rendered pods with `podman kube play`, which runs Pods, Deployments and PersistentVolumeClaims
// from Kubernetes YAML but has no Services, StatefulSets or cluster-side objects. What stands in for those, and
// nothing else, is changed here:
// - a workload a Service selects becomes a Pod named after the Service: on a podman network a pod's name resolves
//   in DNS, so `loom-scheduler:8786` reaches it as the Service would (a StatefulSet's claim templates become claims);
// - Secrets are created with `podman secret create` in the form podman 4.3 reads (a JSON map of base64 values;
//   its own handling of a Secret document stores YAML it then cannot parse); podman 4.3 mounts no secret volumes,
//   so one becomes a hostPath directory holding the Secret's keys as files, as the kubelet would write them;
// - podman 4.3 publishes every containerPort on the host (Kubernetes never does), which makes two replicas clash
//   and a pod collide with whatever holds the port here: ports are dropped and probes given their numbers;
// - NetworkPolicy, PodDisruptionBudget, ServiceMonitor and KEDA objects have no podman meaning and are left out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from './helm-chart.js';

export interface KubePlay {
  /** The objects to give `podman kube play`. */
  play: Manifest[];
  /** Secrets to create first: name and the base64 data map. */
  secrets: { name: string; data: Record<string, string> }[];
  /** Claims podman will create volumes for (removed at the end). */
  volumes: string[];
  /** Pod names: Services' pods by Service name, Deployments' replicas as podman names them (`<name>-pod-<i>`). */
  pods: string[];
  /** `Kind/name` of what has no podman equivalent. */
  skipped: string[];
}

const CLUSTER_SIDE = new Set(['NetworkPolicy', 'PodDisruptionBudget', 'ServiceMonitor', 'ScaledObject', 'TriggerAuthentication']);

interface Container {
  ports?: { name?: string; containerPort: number }[];
  [field: string]: unknown;
}

interface Template {
  metadata: { labels: Record<string, string> };
  spec: { containers: Container[]; volumes?: Record<string, unknown>[]; [field: string]: unknown };
}

const PROBES = ['startupProbe', 'readinessProbe', 'livenessProbe'] as const;

/**
 * The pod spec as podman 4.3 can run it: no container ports (their probes given numbers), secret volumes as
 * hostPath directories of the Secret's files under `secretFiles`.
 */
function runnable(spec: Template['spec'], secrets: ReadonlyMap<string, Record<string, string>>, secretFiles: string): Template['spec'] {
  const copy = structuredClone(spec);
  copy.volumes = copy.volumes?.map((volume) => {
    const secret = volume['secret'] as { secretName: string } | undefined;
    if (secret === undefined) return volume;
    const data = secrets.get(secret.secretName);
    if (data === undefined) throw new Error(`volume ${String(volume['name'])} mounts Secret ${secret.secretName}, which is not among the rendered objects`);
    const directory = join(secretFiles, secret.secretName);
    mkdirSync(directory, { recursive: true, mode: 0o755 });
    // Readable by the pod's user, as the kubelet's default mode 0644 makes them; the parent directory is private.
    for (const [key, value] of Object.entries(data)) writeFileSync(join(directory, key), Buffer.from(value, 'base64'), { mode: 0o644 });
    return { name: volume['name'], hostPath: { path: directory, type: 'Directory' } };
  });
  for (const container of copy.containers) {
    const numbers = new Map((container.ports ?? []).map((port) => [port.name, port.containerPort]));
    for (const probe of PROBES) {
      const check = container[probe] as { httpGet?: { port: number | string }; tcpSocket?: { port: number | string } } | undefined;
      for (const target of [check?.httpGet, check?.tcpSocket]) {
        if (target === undefined || typeof target.port === 'number') continue;
        const number = numbers.get(target.port);
        if (number === undefined) throw new Error(`${container['name']}: ${probe} names port '${target.port}', which it does not declare`);
        target.port = number;
      }
    }
    delete container.ports;
  }
  return copy;
}

/** `secretFiles`: a private directory for the files of Secrets mounted as volumes (removed by the caller). */
export function kubePlay(manifests: Manifest[], secretFiles: string): KubePlay {
  const secretData = new Map(manifests.filter((manifest) => manifest.kind === 'Secret').map((manifest) => [manifest.metadata.name, manifest.data ?? {}]));
  const forPodman = (spec: Template['spec']) => runnable(spec, secretData, secretFiles);
  const services = manifests.filter((manifest) => manifest.kind === 'Service' && manifest.spec?.['clusterIP'] !== 'None');
  const serviceFor = (template: Template): string | undefined =>
    services.find((service) => Object.entries(service.spec!['selector'] as Record<string, string>).every(([key, value]) => template.metadata.labels[key] === value))?.metadata.name;
  const result: KubePlay = { play: [], secrets: [], volumes: [], pods: [], skipped: [] };
  for (const manifest of manifests) {
    const id = `${manifest.kind}/${manifest.metadata.name}`;
    const spec = manifest.spec as { replicas?: number; template: Template; volumeClaimTemplates?: Manifest[] } | undefined;
    switch (manifest.kind) {
      case 'Secret':
        result.secrets.push({ name: manifest.metadata.name, data: manifest.data ?? {} });
        break;
      case 'PersistentVolumeClaim':
        result.play.push(manifest);
        result.volumes.push(manifest.metadata.name);
        break;
      case 'Service':
        break;
      case 'Deployment':
      case 'StatefulSet': {
        const service = serviceFor(spec!.template);
        if (service === undefined) {
          if (manifest.kind === 'StatefulSet') throw new Error(`${id}: no Service selects it`);
          result.play.push({ ...manifest, spec: { ...spec, template: { ...spec!.template, spec: forPodman(spec!.template.spec) } } });
          for (let replica = 0; replica < (spec!.replicas ?? 1); replica++) result.pods.push(`${manifest.metadata.name}-pod-${replica}`);
          break;
        }
        if ((spec!.replicas ?? 1) !== 1) throw new Error(`${id}: a Service's workload runs here as one pod, it asks for ${spec!.replicas}`);
        const podSpec = forPodman(spec!.template.spec);
        for (const claim of spec!.volumeClaimTemplates ?? []) {
          // Kubernetes names a StatefulSet's claims <template>-<set>-<ordinal>.
          const claimName = `${claim.metadata.name}-${manifest.metadata.name}-0`;
          result.play.push({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claimName }, spec: claim.spec! });
          result.volumes.push(claimName);
          podSpec.volumes = [...(podSpec.volumes ?? []), { name: claim.metadata.name, persistentVolumeClaim: { claimName } }];
        }
        result.play.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: service, labels: spec!.template.metadata.labels }, spec: podSpec });
        result.pods.push(service);
        break;
      }
      default:
        if (!CLUSTER_SIDE.has(manifest.kind)) throw new Error(`${id}: the kube-play check does not know this kind`);
        result.skipped.push(id);
    }
  }
  return result;
}
