#!/usr/bin/env node
// The `loom` command: one binary for every role. Each subcommand hands its arguments to the role's own runner.
import { rerunWithFlags, runningWithFlags } from '@loom/protocol';
import { runScheduler, SCHEDULER_USAGE } from '@loom/scheduler';
import { runWorker, USAGE as WORKER_USAGE } from '@loom/worker';

const USAGE = `Usage: loom <command> [options]

Commands:
  scheduler                 run a scheduler (loom scheduler --help)
  worker <scheduler-addr>   run a worker connected to a scheduler (loom worker --help)
  models ls|show|train      what a model store holds; train a split (loom models --help)
  jobs runner|submit|ls|... durable jobs and schedules on Redis (loom jobs --help)
  serve                     serve a model store over REST, KServe v2 protocol (loom serve --help)

Environment:
  LOOM_TOKEN                cluster token (instead of --token)
  LOOM_LOG_LEVEL            log level: trace, debug, info (default), warn, error

${SCHEDULER_USAGE}

${WORKER_USAGE}`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'scheduler':
      return runScheduler(rest);
    case 'worker':
      return runWorker(rest);
    case 'models': {
      // Loaded on demand: the scheduler and worker need none of the model store's code.
      const { runModelsCli } = await import('@loom/models');
      return runModelsCli(rest);
    }
    case 'jobs': {
      const { runJobsCli } = await import('@loom/jobs');
      return runJobsCli(rest);
    }
    case 'serve': {
      const { runServeCli, serveV8Flags } = await import('@loom/serve');
      const flags = serveV8Flags();
      if (!runningWithFlags(flags)) return rerunWithFlags(flags);
      return runServeCli(rest);
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return;
    default:
      throw new Error(`unknown command '${command}'; run 'loom --help'`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`loom: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
