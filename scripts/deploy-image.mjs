#!/usr/bin/env node
// Builds Loom's container image with podman where no registry is reachable. The base image is made here once and
// cached in podman's image store: a Debian root filesystem from `debootstrap` (apt's configured mirror) with this
// machine's Node copied in, `podman import`ed; then `podman build --build-arg BASE=<it>` of deploy/docker/Dockerfile.
// A Redis image for compose is made the same way (the base plus Debian's redis-server). Every podman call gets
// deploy/docker/containers.conf through CONTAINERS_CONF (see that file for why), never a global configuration.
//
//   node scripts/deploy-image.mjs [--tag NAME]   builds the image and prints its name (default localhost/loom:dev)
//
// The compose test (test/src/deploy-compose.test.ts) and the Helm `podman kube play` check import these functions.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CONTAINERS_CONF = join(ROOT, 'deploy/docker/containers.conf');
const DEBIAN_SUITE = 'bookworm';
/** Named after what is in it, so a different Node on this machine makes (and caches) a different base. */
export const BASE_IMAGE = `localhost/loom-base:${DEBIAN_SUITE}-node${process.versions.node}`;
export const REDIS_IMAGE = `localhost/loom-redis:${DEBIAN_SUITE}`;
export const DEFAULT_TAG = 'localhost/loom:dev';

/** The environment every podman and podman-compose call runs with. */
export function podmanEnv(extra = {}) {
  return { ...process.env, CONTAINERS_CONF, ...extra };
}

/** Runs podman; returns its stdout, throws with its stderr on failure. `inherit` streams the output instead. */
export function podman(args, { inherit = false, input } = {}) {
  const result = spawnSync('podman', args, {
    env: podmanEnv(),
    encoding: 'utf8',
    input,
    maxBuffer: 64 * 1024 * 1024,
    stdio: inherit ? ['pipe', 'inherit', 'inherit'] : 'pipe',
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`podman ${args.join(' ')} failed (exit ${result.status}): ${(result.stderr ?? '').trim()}`);
  return (result.stdout ?? '').trim();
}

export function imageExists(name) {
  return spawnSync('podman', ['image', 'exists', name], { env: podmanEnv() }).status === 0;
}

/** podman, podman-compose, runc and debootstrap, installed with apt-get when missing (needs root, as podman here does). */
export function ensurePodman() {
  const missing = [['podman', 'podman'], ['podman-compose', 'podman-compose'], ['runc', 'runc'], ['debootstrap', 'debootstrap']]
    .filter(([command]) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0)
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`${missing.join(', ')} missing, and installing them needs root (apt-get install -y ${missing.join(' ')})`);
  console.error(`[deploy-image] installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-qq', ...missing];
  if (spawnSync('apt-get', install, { env, stdio: 'inherit' }).status !== 0) {
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-qq'], { env, stdio: 'inherit' });
    execFileSync('apt-get', install, { env, stdio: 'inherit' });
  }
}

/** The Debian mirror apt is configured with (deb822 `URIs:` or one-line `deb` entries), for debootstrap. */
export function debianMirror() {
  const files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((name) => join('/etc/apt/sources.list.d', name))];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const deb822 = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text);
    if (deb822) return deb822[1];
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+/m.exec(text);
    if (oneLine) return oneLine[1];
  }
  return 'http://deb.debian.org/debian';
}

function listDir(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The base image: Debian minbase from debootstrap with this machine's Node (binary, npm and npx) in /usr/local, as
 * in the official node images. Made once (about 3 minutes) and kept in podman's store under BASE_IMAGE.
 */
export function ensureBaseImage() {
  if (imageExists(BASE_IMAGE)) return BASE_IMAGE;
  const work = mkdtempSync(join(tmpdir(), 'loom-base-'));
  const rootfs = join(work, 'rootfs');
  try {
    console.error(`[deploy-image] making ${BASE_IMAGE}: debootstrap ${DEBIAN_SUITE} from ${debianMirror()}`);
    execFileSync('debootstrap', ['--variant=minbase', DEBIAN_SUITE, rootfs, debianMirror()], { stdio: ['ignore', 'ignore', 'inherit'] });
    // What an image does not need: downloaded packages, package lists, documentation.
    for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info']) {
      for (const entry of listDir(join(rootfs, dir))) if (entry !== 'partial' && entry !== 'lock') rmSync(join(rootfs, dir, entry), { recursive: true, force: true });
    }
    copyNodeInto(rootfs);
    const tarball = join(work, 'rootfs.tar');
    execFileSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', tarball, '.']);
    podman([
      'import',
      '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change', 'CMD ["node"]',
      '--message', `Debian ${DEBIAN_SUITE} minbase (debootstrap) with Node ${process.versions.node}`,
      tarball, BASE_IMAGE,
    ]);
    return BASE_IMAGE;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** This machine's node binary, and npm (with npx) when it was installed beside it. */
function copyNodeInto(rootfs) {
  const bin = join(rootfs, 'usr/local/bin');
  mkdirSync(bin, { recursive: true });
  cpSync(process.execPath, join(bin, 'node'));
  const npm = join(dirname(process.execPath), '../lib/node_modules/npm');
  if (!existsSync(npm)) return;
  cpSync(npm, join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true, verbatimSymlinks: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(bin, 'npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(bin, 'npx'));
}

/** Redis for compose where docker.io's image cannot be pulled: the base plus Debian's redis-server. Cached like it. */
export function ensureRedisImage() {
  if (imageExists(REDIS_IMAGE)) return REDIS_IMAGE;
  const base = ensureBaseImage();
  console.error(`[deploy-image] making ${REDIS_IMAGE} (apt-get install redis-server)`);
  const containerfile = [
    `FROM ${base}`,
    'RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \\',
    ' && rm -rf /var/lib/apt/lists/* /usr/share/doc/* && mkdir -p /data && chown redis:redis /data',
    'USER redis',
    'WORKDIR /data',
    'EXPOSE 6379',
    'CMD ["redis-server"]',
    '',
  ].join('\n');
  const context = mkdtempSync(join(tmpdir(), 'loom-redis-'));
  try {
    writeFileSync(join(context, 'Containerfile'), containerfile);
    podman(['build', '--format', 'docker', '-t', REDIS_IMAGE, '-f', join(context, 'Containerfile'), context], { inherit: true });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return REDIS_IMAGE;
}

/**
 * Builds deploy/docker/Dockerfile from the working tree on the cached base. Nothing of the build is kept but
 * the image (`--layers=false`: no intermediate images to clean up), so removing `tag` removes all it made.
 */
export function buildLoomImage(tag = DEFAULT_TAG, { base = ensureBaseImage() } = {}) {
  const version = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).version;
  const source = git(['remote', 'get-url', 'origin']);
  podman([
    'build', '--format', 'docker', '--layers=false', '--force-rm',
    '--build-arg', `BASE=${base}`,
    '--build-arg', `VERSION=${version}`,
    '--build-arg', `REVISION=${git(['rev-parse', 'HEAD']) ?? 'unknown'}`,
    ...(source === undefined ? [] : ['--build-arg', `SOURCE=${source}`]),
    // The CAs this machine's Node trusts (a TLS-intercepting proxy's among them), for the registry downloads.
    ...(process.env.NODE_EXTRA_CA_CERTS ? ['--secret', `id=ca,src=${process.env.NODE_EXTRA_CA_CERTS}`] : []),
    '-f', join(ROOT, 'deploy/docker/Dockerfile'),
    '-t', tag,
    ROOT,
  ], { inherit: true });
  return tag;
}

function git(args) {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The image's size in bytes, as podman reports it (uncompressed, all layers). */
export function imageSize(name) {
  return Number(podman(['image', 'inspect', '--format', '{{.Size}}', name]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tagAt = process.argv.indexOf('--tag');
  const tag = tagAt >= 0 ? process.argv[tagAt + 1] : DEFAULT_TAG;
  if (!tag) throw new Error('--tag needs a name');
  ensurePodman();
  const started = Date.now();
  buildLoomImage(tag);
  console.error(`[deploy-image] built ${tag} in ${((Date.now() - started) / 1000).toFixed(0)} s, ${(imageSize(tag) / 2 ** 20).toFixed(0)} MiB`);
  console.log(tag);
}
