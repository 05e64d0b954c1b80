#!/usr/bin/env node
// Makes a fresh clone runnable with nothing but Node: installs dependencies with a pinned pnpm (through npx,
// so no global install or corepack signature check is needed) and compiles every package with `tsc -b`.
// Safe to run repeatedly: both steps are incremental.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PNPM_VERSION = '10.34.9';

const env = {
  ...process.env,
  // onnxruntime-node ships its CPU binaries inside the package; its install script would only download extras.
  ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip',
  ONNXRUNTIME_NODE_INSTALL_CUDA: process.env.ONNXRUNTIME_NODE_INSTALL_CUDA ?? 'skip',
  COREPACK_INTEGRITY_KEYS: process.env.COREPACK_INTEGRITY_KEYS ?? '0',
};

function run(command, args) {
  try {
    execFileSync(command, args, { cwd: root, stdio: 'inherit', env });
  } catch (error) {
    console.error(`[setup] failed: ${command} ${args.join(' ')} (exit ${error.status ?? error.signal})`);
    process.exit(1);
  }
}

const marker = join(root, 'node_modules/.modules.yaml');
const lockfile = join(root, 'pnpm-lock.yaml');
if (!existsSync(marker) || statSync(lockfile).mtimeMs > statSync(marker).mtimeMs) {
  console.error(`[setup] installing dependencies with pnpm ${PNPM_VERSION}`);
  const frozen = process.env.CI ? ['--frozen-lockfile'] : [];
  run('npx', ['-y', `pnpm@${PNPM_VERSION}`, 'install', ...frozen]);
}
console.error('[setup] compiling TypeScript (tsc -b)');
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json']);
