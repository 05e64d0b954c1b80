// How @loom/jobs talks to Redis. Each role gets the ioredis settings BullMQ's production guide asks for: workers
// (runners) retry every command for as long as Redis is away (maxRetriesPerRequest: null) and reconnect with
// backoff; producers (submit, ls, cancel, the CLI) fail fast instead of queueing commands while Redis is down
// (enableOfflineQueue: false). Before either starts, a preflight connects once with a short deadline, so a Redis
// that does not answer, refuses the password, or may evict keys is a clear error within seconds, not a hang.
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { JobsError } from './jobs-error.js';
import { checkRedisUrl, redactUrl } from './redis-url.js';

/** How long the preflight waits for Redis to answer (connect, AUTH, first reply). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Reconnect waits: 0.2 s doubling to 5 s. Redis restarts take seconds; there is no point in waiting minutes. */
export function reconnectDelay(times: number): number {
  return Math.min(200 * 2 ** Math.max(0, times - 1), 5_000);
}

export interface ConnectionSettings {
  /** The URL (ioredis reads host, port, user, password, db and, for rediss://, TLS from it). */
  url: string;
  /** TLS options for rediss:// beyond ioredis' defaults (e.g. { ca } for a private CA). */
  tls?: RedisOptions['tls'];
  connectTimeoutMs?: number;
}

/** BullMQ connection options for a Worker (and QueueEvents): never give up on a command, reconnect forever. */
export function workerConnection(settings: ConnectionSettings): BullRedisOptions & { url: string } {
  return {
    url: settings.url,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    connectTimeout: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectDelay,
    ...tlsOf(settings),
  };
}

/** BullMQ connection options for a Queue used to submit and inspect: commands fail at once while Redis is down. */
export function producerConnection(settings: ConnectionSettings): BullRedisOptions & { url: string } {
  return {
    url: settings.url,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectDelay,
    ...tlsOf(settings),
  };
}

function tlsOf(settings: ConnectionSettings): Pick<RedisOptions, 'tls'> {
  // ioredis turns TLS on for rediss:// by itself; options given here (a CA, a servername) complete it.
  return settings.tls === undefined ? {} : { tls: settings.tls };
}

/**
 * Connects once, within `connectTimeoutMs`: REDIS_UNREACHABLE when nothing answers, REDIS_AUTH when the
 * credentials are refused, EVICTION_POLICY when Redis may evict keys (BullMQ requires noeviction).
 */
export async function preflight(settings: ConnectionSettings): Promise<void> {
  const url = checkRedisUrl(settings.url);
  const timeoutMs = settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const shown = redactUrl(url);
  let lastError: Error | undefined;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    // One try: the preflight's whole point is to report, not to wait for Redis to come back.
    retryStrategy: () => null,
    ...tlsOf(settings),
  });
  redis.on('error', (error: Error) => (lastError = error));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new JobsError('REDIS_UNREACHABLE', `Redis at ${shown} did not answer within ${timeoutMs} ms${lastError ? ` (${lastError.message})` : ''}`)), timeoutMs);
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), deadline]);
    const policy = await Promise.race([evictionPolicy(redis), deadline]);
    if (policy !== undefined && policy !== 'noeviction') {
      throw new JobsError(
        'EVICTION_POLICY',
        `Redis at ${shown} has maxmemory-policy ${policy}: it may evict BullMQ's keys and lose jobs. ` +
          "Set it to noeviction: 'redis-cli CONFIG SET maxmemory-policy noeviction' now, and 'maxmemory-policy noeviction' in redis.conf " +
          '(on a managed Redis, in its parameter group or settings).',
      );
    }
  } catch (error) {
    if (error instanceof JobsError) throw error;
    const message = (error as Error).message ?? String(error);
    // ioredis reports a refused AUTH as an 'error' event and then rejects connect() with a closed connection.
    const reported = `${message} ${lastError?.message ?? ''}`;
    if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(reported)) {
      throw new JobsError('REDIS_AUTH', `Redis at ${shown} refused the connection's credentials: ${lastError?.message ?? message} (give them in the URL: redis://user:password@host:port)`, { cause: error });
    }
    throw new JobsError('REDIS_UNREACHABLE', `cannot connect to Redis at ${shown}: ${lastError?.message ?? message}`, { cause: error });
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** The maxmemory-policy: CONFIG GET where allowed, else INFO (managed Redis services often rename CONFIG). */
async function evictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const reply = await redis.config('GET', 'maxmemory-policy');
    if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
  } catch (error) {
    if (/NOAUTH|WRONGPASS/i.test((error as Error).message)) throw error;
  }
  const info = await redis.info('memory');
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}
