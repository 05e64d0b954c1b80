#!/usr/bin/env node
// Runs every test: static checks (generated code fresh, no import cycles), then every compiled *.test.js with
// node's test runner, one file at a time (each integration file starts its own cluster of processes).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePostgres, ensurePythonReferences } from './services.mjs';

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
console.error(`[test] ${files.length} test files`);
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', ...files.map((f) => relative(root, f))], {
  cwd: root,
  stdio: 'inherit',
  env: { LOOM_LOG_LEVEL: 'warn', LOOM_TEST_PG_URL: pgUrl, ...process.env },
});
process.exit(result.status ?? 1);
