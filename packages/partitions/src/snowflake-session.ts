// Snowflake sessions through snowflake-sdk: one connection per connection config in each process (a worker's
// partition tasks share it), opened lazily, dropped and re-opened when Snowflake says the session is gone.
// Driver errors become PartitionErrors with Snowflake's code, SQL state and query id, and never a credential.
import { createHash } from 'node:crypto';
import type { Connection, ConnectionOptions, RowStatement, SnowflakeError } from 'snowflake-sdk';
import { PartitionError } from './errors.js';

/** snowflake-sdk connection options (account, username, password or authenticator + privateKey or token, ...). */
export type SnowflakeConnection = Record<string, unknown> & { account: string };

type Sdk = typeof import('snowflake-sdk');
let sdk: Promise<Sdk> | undefined;

/** The driver loads lazily: importing @loom/partitions must not pull in its cloud SDKs. */
export function snowflakeSdk(): Promise<Sdk> {
  sdk ??= import('snowflake-sdk').then((module) => {
    const loaded = ((module as { default?: Sdk }).default ?? module) as Sdk;
    // The driver's log goes nowhere unless asked for: it would otherwise write snowflake.log into the cwd.
    loaded.configure({ logLevel: (process.env.LOOM_SNOWFLAKE_LOG_LEVEL ?? 'OFF') as 'OFF' });
    return loaded;
  });
  return sdk;
}

export interface SnowflakeSession {
  connection: Connection;
  /** Session parameters already set on this connection, so each is set once. */
  settings: Set<string>;
}

const sessions = new Map<string, Promise<SnowflakeSession>>();

/** This process's session for `options`, opened on first use. */
export function sessionFor(options: SnowflakeConnection): Promise<SnowflakeSession> {
  const key = sessionKey(options);
  let session = sessions.get(key);
  if (session === undefined) {
    session = openSession(options);
    sessions.set(key, session);
    session.catch(() => sessions.delete(key));
  }
  return session;
}

/** Forgets (and closes) the session for `options`, so the next use logs in again. */
export function dropSession(options: SnowflakeConnection): void {
  const key = sessionKey(options);
  const session = sessions.get(key);
  sessions.delete(key);
  void session?.then(({ connection }) => connection.destroy(() => undefined), () => undefined);
}

/** Logs in: a refused login is a SNOWFLAKE_AUTH error naming account and user, never the credential. */
export async function openSession(options: SnowflakeConnection): Promise<SnowflakeSession> {
  const snowflake = await snowflakeSdk();
  const connection = snowflake.createConnection({ ...options, representNullAsStringNull: false } as ConnectionOptions);
  const failure = await new Promise<unknown>((resolve) => {
    connection.connect((error) => resolve(error ?? undefined));
  });
  if (failure !== undefined || !connection.isUp()) throw loginError(options, failure);
  return { connection, settings: new Set() };
}

/** Runs one statement to completion (for session settings such as ALTER SESSION). */
export function executeStatement(connection: Connection, sqlText: string): Promise<void> {
  return new Promise((resolve, reject) => {
    connection.execute({ sqlText, complete: (error) => (error ? reject(error) : resolve()) });
  });
}

/** Submits `sqlText` with asyncExec: resolves with the query id as soon as Snowflake has accepted it. */
export function submitAsync(connection: Connection, sqlText: string): Promise<{ queryId: string; statement: RowStatement }> {
  return new Promise((resolve, reject) => {
    connection.execute({
      sqlText,
      asyncExec: true,
      complete: (error, statement) => (error ? reject(error) : resolve({ queryId: statement.getQueryId(), statement: statement as RowStatement })),
    });
  });
}

// Snowflake's codes for a session that no longer exists: expired (session or master token), gone, invalid.
const SESSION_GONE = new Set(['390104', '390111', '390112', '390114']);
const DRIVER_DISCONNECTED = 407002;
const DRIVER_NETWORK = new Set([401001, 402001, 402002]);
const CANCELLED_CODE = '000604';

/** True when re-opening the session and trying again can succeed: the session or the network went away. */
export function isRetryable(error: unknown): boolean {
  const code = (error as SnowflakeError | undefined)?.code as unknown;
  if (SESSION_GONE.has(String(code)) || code === DRIVER_DISCONNECTED || DRIVER_NETWORK.has(code as number)) return true;
  const network = (error as { cause?: { code?: string } } | undefined)?.cause?.code ?? (error as { code?: unknown } | undefined)?.code;
  return network === 'ECONNRESET' || network === 'ETIMEDOUT' || network === 'ECONNREFUSED';
}

/** A query-level failure as a PartitionError: SQL errors keep code, SQL state, message and query id. */
export function queryError(error: unknown, queryId: string | undefined, options: SnowflakeConnection): PartitionError {
  if (error instanceof PartitionError) return error;
  const driver = (error ?? {}) as SnowflakeError & { data?: { queryId?: string } };
  const id = queryId ?? driver.data?.queryId;
  const code = driver.code === undefined ? undefined : String(driver.code);
  const message = redact(String(driver.message ?? error), options);
  const where = id === undefined ? '' : ` (query id ${id})`;
  if (code === CANCELLED_CODE || /\b(ABORTED|ABORTING)\b|cancel/i.test(message)) {
    return new PartitionError('SNOWFLAKE_CANCELLED', `Snowflake query was cancelled${where}: ${message}`, { cause: safeCause(driver) });
  }
  if (driver.sqlState !== undefined) {
    return new PartitionError('SNOWFLAKE_SQL', `Snowflake error ${code ?? '?'} (SQL state ${driver.sqlState})${where}: ${message}`, { cause: safeCause(driver) });
  }
  return new PartitionError('SNOWFLAKE_FAILED', `Snowflake request failed${code === undefined ? '' : ` (code ${code})`}${where}: ${message}`, { cause: safeCause(driver) });
}

function loginError(options: SnowflakeConnection, error: unknown): PartitionError {
  const driver = (error ?? {}) as SnowflakeError;
  const user = typeof options.username === 'string' ? ` as ${JSON.stringify(options.username)}` : '';
  const code = driver.code === undefined ? '' : ` (code ${String(driver.code)})`;
  const reason = redact(String(driver.message ?? 'the session did not open'), options);
  return new PartitionError('SNOWFLAKE_AUTH', `Snowflake login to account ${JSON.stringify(options.account)}${user} failed${code}: ${reason}`);
}

// Options whose values must never reach a message, a log line or a task error.
const SECRET_OPTIONS = ['password', 'token', 'privateKey', 'privateKeyPass', 'passcode', 'oauthClientSecret'];

/** `text` with every credential in `options` blanked out. */
export function redact(text: string, options: SnowflakeConnection): string {
  let safe = text;
  for (const name of SECRET_OPTIONS) {
    const secret = options[name];
    if (typeof secret === 'string' && secret.length >= 4) safe = safe.split(secret).join('[redacted]');
  }
  return safe;
}

/** A cause without the driver's request/response objects (which carry headers with tokens). */
function safeCause(driver: SnowflakeError): { code: unknown; sqlState: unknown } {
  return { code: driver.code, sqlState: driver.sqlState };
}

/** A stable per-process key for a connection config; hashed so the map never holds the secret as a key. */
function sessionKey(options: SnowflakeConnection): string {
  const entries = Object.entries(options).sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}
