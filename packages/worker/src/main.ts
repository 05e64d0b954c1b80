// The worker process's entry point (`node dist/src/main.js <scheduler-address> ...`): runs the CLI, and turns
// any failure into one logged error and exit status 1.
import { createLogger } from '@loom/protocol';
import { UsageError, runWorker } from './cli.js';

try {
  await runWorker(process.argv.slice(2));
  // A nanny passes on its worker's exit status through process.exitCode.
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
} catch (error) {
  if (error instanceof UsageError) process.stderr.write(`loom-worker: ${error.message}\n`);
  else createLogger('worker').fatal({ err: error }, `worker failed: ${(error as Error).message}`);
  process.exit(1);
}
