// The worker's command line takes its scheduler address and name from the environment when not given, as the
// Dask operator wires dask-worker (DASK_SCHEDULER_ADDRESS, DASK_WORKER_NAME): a Kubernetes pod sets them from
// its Service and the downward API, and the command line says neither.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWorkerArgs } from '../src/index.js';

test('LOOM_SCHEDULER_ADDRESS, LOOM_WORKER_NAME and LOOM_MEMORY_LIMIT stand in for the address, --name and --memory-limit; the command line wins', () => {
  // The downward API gives limits.memory in bytes.
  const env = { LOOM_SCHEDULER_ADDRESS: 'loom-scheduler:8786', LOOM_WORKER_NAME: 'loom-worker-cpu-7d9f-x2', LOOM_MEMORY_LIMIT: '4294967296' };
  assert.deepEqual(parseWorkerArgs(['--nthreads', '2'], env), { schedulerAddress: 'loom-scheduler:8786', name: 'loom-worker-cpu-7d9f-x2', memoryLimit: 2 ** 32, nthreads: 2 });
  assert.deepEqual(parseWorkerArgs(['other:1', '--name', 'mine', '--memory-limit', '1GiB'], env), { schedulerAddress: 'other:1', name: 'mine', memoryLimit: 2 ** 30 });
  assert.throws(() => parseWorkerArgs([], { LOOM_SCHEDULER_ADDRESS: 'a:1', LOOM_MEMORY_LIMIT: 'lots' }), /--memory-limit/);
  assert.throws(() => parseWorkerArgs([], {}), /missing the scheduler address \(host:port, or LOOM_SCHEDULER_ADDRESS\)/);
  assert.deepEqual(parseWorkerArgs(['a:1'], { LOOM_SCHEDULER_ADDRESS: '', LOOM_WORKER_NAME: '' }), { schedulerAddress: 'a:1' }, 'empty means unset');
});
