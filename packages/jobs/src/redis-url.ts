// Redis URLs as @loom/jobs takes them: the form it accepts, and the same URL with its password masked for every
// message and log line. Kept apart from the connection code so that a reader of URLs (the dashboard's Jobs
// section, before anyone opens it) does not load ioredis.
import { JobsError } from './jobs-error.js';

/** The URL with its password replaced by ***, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(an unparsable Redis URL)';
  }
}

/** Checks the URL's form: redis:// or rediss:// (TLS), optional user:password, host, port, /db. */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new JobsError('BAD_OPTIONS', `${JSON.stringify(url)} is not a Redis URL (expected redis://[user:password@]host:port[/db] or rediss:// for TLS)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new JobsError('BAD_OPTIONS', `${redactUrl(url)}: the scheme must be redis:// or rediss:// (TLS), not ${parsed.protocol}//`);
  }
  return url;
}
