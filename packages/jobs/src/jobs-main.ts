#!/usr/bin/env node
// The `loom jobs` command as a process of its own (what `loom jobs` runs, and what tests start as a runner).
import { runJobsCli } from './jobs-cli.js';

runJobsCli(process.argv.slice(2)).then(
  // A runner has closed its connections by now; anything left (a timer of a library) must not keep it alive.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`loom jobs: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
