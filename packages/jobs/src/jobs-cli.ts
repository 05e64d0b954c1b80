// `loom jobs ...`: the runner process and the producer commands (submit, ls, show, cancel, schedule add/ls/rm).
// The Redis URL comes from --redis or $LOOM_REDIS_URL. Output for people by default, --json for scripts.
import { parseArgs } from 'node:util';
import { tlsFromFlags } from '@loom/protocol';
import { builtinJobs } from './builtin/index.js';
import { parseParams, type Backoff, type Json } from './define-job.js';
import { JobQueue, type ScheduleInfo } from './job-queue.js';
import { JobRunner } from './job-runner.js';
import { detailsText, JOB_STATES, summaryTable, type JobState } from './job-view.js';
import { JobsError } from './jobs-error.js';
import { loadJobs, mergeJobs } from './load-jobs.js';

export const REDIS_URL_ENV = 'LOOM_REDIS_URL';

export const JOBS_USAGE = `loom jobs <command>   durable jobs and schedules on Redis (BullMQ)
  runner --scheduler HOST:PORT [--jobs FILE]... [--concurrency N] [--no-builtins] [--grace S]
         [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]
                              serve the queue's jobs: the built-ins (retrain, drift-check) and FILE's; the
                              TLS files reach a scheduler that serves TLS (its token: $LOOM_TOKEN)
  submit NAME [--params JSON] [--attempts N] [--backoff MS] [--timeout MS] [--id ID] [--delay MS] [--wait]
                              add a job; prints its id (--wait: waits, prints its outcome, fails if it failed)
  ls [--state S,...] [--limit N] [--json]      jobs, newest first (states: ${JOB_STATES.join(', ')})
  show ID [--json]            state, progress, tries, result or error with its stack, log
  cancel ID                   abort a running job (its signal), or fail a waiting one, with CANCELLED
  schedule add ID --job NAME (--cron PATTERN [--tz ZONE] | --every MS) [--params JSON] [--attempts N]
  schedule ls [--json]
  schedule rm ID
Every command takes --redis URL (default $${REDIS_URL_ENV}; redis://[user:password@]host:port[/db], rediss:// for
TLS) and --queue NAME (default loom). The runner also takes --lock-duration MS and --stalled-interval MS (how
soon a job whose runner died is taken over; default 30000 each).`;

type Out = (text: string) => void;

const COMMON = { redis: { type: 'string' }, queue: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

const usage = (message: string): JobsError => new JobsError('BAD_OPTIONS', `jobs: ${message}\n(loom jobs --help for every command)`);

function parse<const O extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage((error as Error).message);
  }
}

function redisUrl(value: string | undefined): string {
  const url = value ?? process.env[REDIS_URL_ENV];
  if (url === undefined || url === '') throw usage(`give --redis URL or set $${REDIS_URL_ENV}`);
  return url;
}

function positive(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usage(`${name} takes a positive number, got ${JSON.stringify(value)}`);
  return n;
}

function wholePositive(value: string | undefined, name: string): number | undefined {
  const n = positive(value, name);
  if (n !== undefined && !Number.isSafeInteger(n)) throw usage(`${name} takes a whole number, got ${JSON.stringify(value)}`);
  return n;
}

export async function runJobsCli(argv: string[], out: Out = (text) => process.stdout.write(text)): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'runner':
      return runRunner(rest, out);
    case 'submit':
    case 'ls':
    case 'show':
    case 'cancel':
    case 'schedule':
      return runProducer(command, rest, out);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      out(`${JOBS_USAGE}\n`);
      return;
    default:
      throw usage(`unknown command '${command}'`);
  }
}

async function runRunner(argv: string[], out: Out): Promise<void> {
  const { values, positionals } = parse(argv, {
    scheduler: { type: 'string' },
    jobs: { type: 'string', multiple: true },
    concurrency: { type: 'string' },
    'no-builtins': { type: 'boolean' },
    grace: { type: 'string' },
    'lock-duration': { type: 'string' },
    'stalled-interval': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-ca': { type: 'string' },
  });
  if (values.help) return out(`${JOBS_USAGE}\n`);
  if (positionals.length > 0) throw usage(`runner takes no positional arguments, got ${positionals.join(' ')}`);
  if (values.scheduler === undefined) throw usage('runner needs --scheduler HOST:PORT');
  const own = (await Promise.all((values.jobs ?? []).map((file) => loadJobs(file)))).flat();
  const jobs = values['no-builtins'] ? mergeJobs([], own) : mergeJobs(builtinJobs(), own);
  if (jobs.length === 0) throw usage('--no-builtins without --jobs leaves nothing to serve');
  const concurrency = wholePositive(values.concurrency, '--concurrency');
  const lockDurationMs = wholePositive(values['lock-duration'], '--lock-duration');
  const stalledIntervalMs = wholePositive(values['stalled-interval'], '--stalled-interval');
  const graceMs = (positive(values.grace, '--grace') ?? 30) * 1000;
  let tls;
  try {
    tls = tlsFromFlags(values);
  } catch (error) {
    throw usage((error as Error).message);
  }
  const runner = await JobRunner.start({
    redisUrl: redisUrl(values.redis),
    scheduler: values.scheduler,
    jobs,
    ...(values.queue === undefined ? {} : { queue: values.queue }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(lockDurationMs === undefined ? {} : { lockDurationMs }),
    ...(stalledIntervalMs === undefined ? {} : { stalledIntervalMs }),
    ...(tls === undefined ? {} : { client: { tls } }),
  });
  // The LocalCluster-style announcement (LoomProcess waits for it): the runner serves from now on.
  // Handlers before the announcement: a signal that comes before a listener exists kills the process unclosed.
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void runner.close(graceMs).finally(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  out(`LOOM_READY ${JSON.stringify({ pid: process.pid, queue: runner.queue, jobs: jobs.map((job) => job.name) })}\n`);
  await stopped;
}

async function runProducer(command: 'submit' | 'ls' | 'show' | 'cancel' | 'schedule', argv: string[], out: Out): Promise<void> {
  const { values, positionals } = parse(argv, {
    params: { type: 'string' },
    attempts: { type: 'string' },
    backoff: { type: 'string' },
    timeout: { type: 'string' },
    id: { type: 'string' },
    delay: { type: 'string' },
    wait: { type: 'boolean' },
    state: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    job: { type: 'string' },
    cron: { type: 'string' },
    tz: { type: 'string' },
    every: { type: 'string' },
  });
  if (values.help) return out(`${JOBS_USAGE}\n`);
  const params = values.params === undefined ? undefined : parseParams(values.params);
  const attempts = wholePositive(values.attempts, '--attempts');
  const backoffMs = positive(values.backoff, '--backoff');
  const backoff: Backoff | undefined = backoffMs === undefined ? undefined : { type: 'exponential', delay: backoffMs };
  const timeoutMs = positive(values.timeout, '--timeout');
  const one = (what: string): string => {
    if (positionals.length !== 1) throw usage(`${command} takes ${what}, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    return positionals[0] as string;
  };
  // Checked before connecting: a typo should not wait for Redis.
  const states = values.state?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = states?.filter((s) => !(JOB_STATES as readonly string[]).includes(s)) ?? [];
  if (unknown.length > 0) throw usage(`--state ${unknown.join(',')}: states are ${JOB_STATES.join(', ')}`);
  const queue = await JobQueue.open(redisUrl(values.redis), values.queue === undefined ? {} : { queue: values.queue });
  try {
    switch (command) {
      case 'submit': {
        const name = one('a job name');
        const delayMs = positive(values.delay, '--delay');
        const id = await queue.submit(name, params ?? {}, {
          ...(attempts === undefined ? {} : { attempts }),
          ...(backoff === undefined ? {} : { backoff }),
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
          ...(values.id === undefined ? {} : { jobId: values.id }),
          ...(delayMs === undefined ? {} : { delayMs }),
        });
        if (!values.wait) return out(`${id}\n`);
        const done = await queue.finished(id);
        out(values.json ? `${JSON.stringify(done, null, 2)}\n` : `${detailsText(done)}\n`);
        if (done.state === 'failed') throw new JobsError('BAD_OPTIONS', `job ${id} failed: ${done.error?.reason ?? 'no reason recorded'}`);
        return;
      }
      case 'ls': {
        const limit = wholePositive(values.limit, '--limit');
        const jobs = await queue.list({ ...(states === undefined ? {} : { states: states as JobState[] }), ...(limit === undefined ? {} : { limit }) });
        return out(values.json ? `${JSON.stringify(jobs, null, 2)}\n` : `${summaryTable(jobs)}\n`);
      }
      case 'show': {
        const job = await queue.show(one('a job id'));
        return out(values.json ? `${JSON.stringify(job, null, 2)}\n` : `${detailsText(job)}\n`);
      }
      case 'cancel': {
        const id = one('a job id');
        const outcome = await queue.cancel(id);
        return out(outcome === 'already-finished' ? `job ${id} had already finished; nothing to cancel\n` : `job ${id}: cancel requested\n`);
      }
      case 'schedule':
        return await runSchedule(queue, positionals, { ...values, params, attempts, backoff, timeoutMs }, out);
    }
  } finally {
    await queue.close();
  }
}

interface ScheduleValues {
  job?: string | undefined;
  cron?: string | undefined;
  tz?: string | undefined;
  every?: string | undefined;
  json?: boolean | undefined;
  params: Json | undefined;
  attempts: number | undefined;
  backoff: Backoff | undefined;
  timeoutMs: number | undefined;
}

async function runSchedule(queue: JobQueue, positionals: string[], values: ScheduleValues, out: Out): Promise<void> {
  const [sub, id, ...extra] = positionals;
  if (extra.length > 0) throw usage(`schedule ${sub ?? ''}: unexpected ${extra.join(' ')}`);
  switch (sub) {
    case 'add': {
      if (id === undefined) throw usage('schedule add takes an ID');
      if (values.job === undefined) throw usage('schedule add needs --job NAME');
      const everyMs = positive(values.every, '--every');
      const info = await queue.schedule(id, {
        job: values.job,
        ...(values.cron === undefined ? {} : { cron: values.cron }),
        ...(values.tz === undefined ? {} : { tz: values.tz }),
        ...(everyMs === undefined ? {} : { everyMs }),
        ...(values.params === undefined ? {} : { params: values.params }),
        ...(values.attempts === undefined ? {} : { attempts: values.attempts }),
        ...(values.backoff === undefined ? {} : { backoff: values.backoff }),
        ...(values.timeoutMs === undefined ? {} : { timeoutMs: values.timeoutMs }),
      });
      return out(`schedule ${info.id}: ${describeSchedule(info)}\n`);
    }
    case 'ls': {
      const schedules = await queue.schedules();
      if (values.json) return out(`${JSON.stringify(schedules, null, 2)}\n`);
      return out(schedules.length === 0 ? 'no schedules\n' : `${schedules.map((s) => `${s.id}: ${describeSchedule(s)}`).join('\n')}\n`);
    }
    case 'rm':
      if (id === undefined) throw usage('schedule rm takes an ID');
      await queue.unschedule(id);
      return out(`schedule ${id} removed\n`);
    default:
      throw usage(`schedule takes add, ls or rm, got ${sub === undefined ? 'nothing' : `'${sub}'`}`);
  }
}

function describeSchedule(s: ScheduleInfo): string {
  const when = s.cron === undefined ? `every ${s.everyMs} ms` : `cron '${s.cron}'${s.tz ? ` (${s.tz})` : ' (UTC)'}`;
  return `${s.job} ${when}, next ${s.next ?? '-'}, fired ${s.fired} times, params ${JSON.stringify(s.params ?? {})}`;
}
