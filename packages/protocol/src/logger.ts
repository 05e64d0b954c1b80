// One pino logger factory for every Loom process, so all logs share fields and levels.
// LOOM_LOG_LEVEL sets the level (default 'info'; tests use 'warn'); logs go to stderr as JSON lines.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(role: string, fields: Record<string, unknown> = {}): Logger {
  return pino(
    { name: `loom-${role}`, level: process.env['LOOM_LOG_LEVEL'] ?? 'info', base: { pid: process.pid, ...fields } },
    pino.destination({ dest: 2, sync: true }),
  );
}
