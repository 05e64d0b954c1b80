// The jobs' pino logger. A runner is a service, so it logs at info when its stderr goes to a file or a log
// collector; in a terminal it shows warnings and errors only (as Loom code in a user's process does), unless
// LOOM_LOG_LEVEL says otherwise. Every line of a job's work carries its id (job-context.ts).
import { pino, type Logger } from 'pino';
import { LOG_LEVEL_ENV } from '@loom/protocol';

export function jobsLogger(role: 'runner' | 'jobs', fields: Record<string, unknown> = {}): Logger {
  const level = process.env[LOG_LEVEL_ENV] || (role === 'runner' && !process.stderr.isTTY ? 'info' : 'warn');
  return pino({ name: `loom-jobs-${role}`, level, base: { pid: process.pid, ...fields } }, pino.destination({ dest: 2, sync: true }));
}
