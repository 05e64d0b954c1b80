#!/usr/bin/env node
// Runs every test: static checks (generated code fresh, no import cycles), then every compiled *.test.js with
// node's test runner, one file at a time (each integration file starts its own cluster of processes).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium, ensurePostgres, ensurePythonReferences, ensureRedis } from './services.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv[2];

function testFiles(dir) {
  const found = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return found;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...testFiles(path));
    else if (entry.endsWith('.test.js')) found.push(path);
  }
  return found;
}

console.error('[test] checking generated protocol code and import cycles');
execFileSync(process.execPath, [join(root, 'scripts/gen-proto.mjs'), '--check'], { cwd: root, stdio: 'inherit' });
execFileSync(process.execPath, [join(root, 'node_modules/madge/bin/cli.js'), '--circular', '--extensions', 'js',
  ...readdirSync(join(root, 'packages')).map((p) => join('packages', p, 'dist/src')).filter((d) => existsSync(join(root, d)))], { cwd: root, stdio: 'inherit' });

const dirs = [
  ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'dist/test')),
  join(root, 'test/dist'),
];
const files = dirs.flatMap(testFiles).filter((f) => !filter || f.includes(filter)).sort();
// Database tests run against a real PostgreSQL, installed and started here when missing.
const pgUrl = ensurePostgres();
ensurePythonReferences();
// Only when a dashboard browser test is among the files to run (it is a large package to install otherwise).
if (files.some((file) => file.includes('dashboard-browser'))) ensureChromium();
ensureRedis();
console.error(`[test] ${files.length} test files`);
const env = { LOOM_LOG_LEVEL: 'warn', LOOM_TEST_PG_URL: pgUrl, ...process.env };
// `node --test` with no file names runs every test-like file under the working directory (fixtures too), so a
// filter that names only deployments, or nothing, runs no main files at all.
const result =
  files.length === 0
    ? { status: 0 }
    : spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', ...files.map((f) => relative(root, f))], {
        cwd: root,
        stdio: 'inherit',
        env,
      });
// Last, the deployments brought up for real with podman: deploy/compose.yaml and the Helm chart's pods. They run
// the image built from this tree (minutes, not seconds), so they are not *.test.js files of the main run: the
// image is built once here for all of them (unless LOOM_TEST_IMAGE names one), removed after, and they have their
// own timeout. A filter runs only those it names.
const deployTests = readdirSync(join(root, 'test/dist'))
  .filter((name) => name.endsWith('.deploy.js'))
  .map((name) => `test/dist/${name}`)
  .filter((file) => !filter || file.includes(filter))
  .sort();
if (files.length === 0 && deployTests.length === 0) {
  console.error(`[test] no test file matches '${filter}'`);
  process.exit(1);
}
let deployStatus = 0;
if (deployTests.length > 0) {
  const deployEnv = { ...env };
  const { buildLoomImage, ensurePodman, podman } = await import('./deploy-image.mjs');
  let built;
  try {
    if (!deployEnv.LOOM_TEST_IMAGE) {
      ensurePodman();
      deployEnv.LOOM_TEST_IMAGE = built = buildLoomImage(`localhost/loom:test-${process.pid}`);
    }
    console.error(`[test] the deployments (podman): ${deployTests.join(', ')}`);
    deployStatus = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=1500000', ...deployTests], { cwd: root, stdio: 'inherit', env: deployEnv }).status ?? 1;
  } catch (error) {
    console.error(`[test] the deployments could not start: ${error.message}`);
    deployStatus = 1;
  } finally {
    if (built) podman(['image', 'rm', '--force', built]);
  }
}
process.exit(result.status === 0 ? deployStatus : (result.status ?? 1));
