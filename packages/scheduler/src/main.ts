// Process entry for `loom scheduler` (and LocalCluster's scheduler child process).
import { runScheduler } from './cli.js';

runScheduler(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`loom scheduler: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
