// A job runner as a child process (`loom jobs runner`), for tests, demos and LocalCluster-style setups: resolves
// once it announced it serves the queue; stop it with SIGTERM (graceful) or SIGKILL (a crash).
import { fileURLToPath } from 'node:url';
import { LoomProcess } from '@loom/client';

export interface RunnerProcessOptions {
  redisUrl: string;
  scheduler: string;
  /** Jobs modules besides the built-ins. */
  jobs?: string[];
  queue?: string;
  /** Further runner flags, e.g. ['--lock-duration', '1000', '--stalled-interval', '500']. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

export async function startRunnerProcess(options: RunnerProcessOptions): Promise<LoomProcess> {
  const args = ['runner', '--redis', options.redisUrl, '--scheduler', options.scheduler];
  for (const file of options.jobs ?? []) args.push('--jobs', file);
  if (options.queue !== undefined) args.push('--queue', options.queue);
  args.push(...(options.args ?? []));
  const { process } = await LoomProcess.launch({
    label: 'a Loom jobs runner',
    entry: fileURLToPath(new URL('./jobs-main.js', import.meta.url)),
    args,
    env: { ...globalThis.process.env, ...options.env },
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
  });
  return process;
}
