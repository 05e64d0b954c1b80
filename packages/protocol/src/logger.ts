// One pino logger factory for every Loom process, so all logs share fields and levels; logs go to stderr as JSON
// lines. LOOM_LOG_LEVEL sets the level. Without it the processes Loom runs as services (scheduler, worker, nanny)
// log at info, as a server does, and Loom code inside a user's own process (client, train) logs warnings and
// errors only, so a script's terminal shows its own output. LocalCluster starts its services at 'warn' too.
import { pino, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVEL_ENV = 'LOOM_LOG_LEVEL';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino level number as pino names it ('warn' for 40), or the number as text for a level pino does not name. */
export function logLevelName(level: number): string {
  return pino.levels.labels[level] ?? String(level);
}

const SERVICE_ROLES: ReadonlySet<string> = new Set(['scheduler', 'worker', 'nanny']);

/** Receives every JSON line the logger writes to stderr (a worker keeps its recent ones for the dashboard). */
export interface LogTee {
  write(line: string): void;
}

export interface LoggerOptions {
  /** Also gets each line, synchronously, after stderr: only lines at the logger's level reach it. */
  tee?: LogTee;
}

export function createLogger(role: string, fields: Record<string, unknown> = {}, options: LoggerOptions = {}): Logger {
  const level = process.env[LOG_LEVEL_ENV] || (SERVICE_ROLES.has(role) ? 'info' : 'warn');
  const stderr = pino.destination({ dest: 2, sync: true });
  // The logger's level filters before either stream sees a line; a multistream entry's own level defaults to
  // info, so both are opened all the way down, or debug lines would vanish from stderr once a tee is added.
  const destination = options.tee === undefined
    ? stderr
    : pino.multistream([{ level: 'trace', stream: stderr }, { level: 'trace', stream: options.tee }]);
  return pino({ name: `loom-${role}`, level, base: { pid: process.pid, ...fields } }, destination);
}
