// A local HTTP server speaking the part of Snowflake's REST protocol that snowflake-sdk uses to run a query and
// read its result: login and token renewal, query submission (asyncExec answers 333334; a result not ready yet
// answers 333333), status under /monitoring/queries, results by query id with the first rows inline and the rest
// in gzip chunks at local "presigned" URLs that demand the SSE-C headers built from `qrmk`, abort, SQL errors,
// and hooks for tests: expire sessions, fail one chunk download. Point the driver at it with
// `accessUrl: emulator.url` (http). Not a SQL engine: see tables.ts for the statements it understands.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { planStatement, SqlError, type WireTable } from './tables.js';

export interface EmulatorOptions {
  /** username -> password accepted at login (default: { loom: 'loom-secret' }). */
  users?: Record<string, string>;
  tables?: Record<string, WireTable>;
  /** Rows sent inline with the result (the first chunk); the rest go into chunks of `chunkRows`. */
  inlineRows?: number;
  chunkRows?: number;
  /** How long a SELECT "runs" before its status is SUCCESS (default 100 ms). */
  runMs?: number;
  /** Delay before each chunk download is answered (default 0), so tests can act while reads are under way. */
  chunkDelayMs?: number;
}

interface Query {
  id: string;
  sessionToken: string;
  status: 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';
  table: WireTable;
  error?: SqlError | undefined;
  timer?: NodeJS.Timeout;
  chunks?: Buffer[];
}

interface Session {
  id: number;
  user: string;
  sessionToken: string;
  masterToken: string;
  sessionExpired: boolean;
  masterExpired: boolean;
  parameters: Map<string, string>;
}

/** What the emulator saw, for tests to assert on. */
export interface EmulatorStats {
  logins: number;
  failedLogins: number;
  renewals: number;
  queriesSubmitted: number;
  resultRequests: number;
  chunkDownloads: number;
  aborts: number;
  /** Headers of the last chunk request (the driver sends the SSE-C key from qrmk). */
  lastChunkHeaders: Record<string, string | string[] | undefined>;
  /** Every request body the server received, decoded (tests check that no secret travels where it must not). */
  requestPaths: string[];
}

const DEFAULT_PARAMETERS: Record<string, string> = {
  TIMEZONE: 'UTC', TIME_OUTPUT_FORMAT: 'HH24:MI:SS', DATE_OUTPUT_FORMAT: 'YYYY-MM-DD', BINARY_OUTPUT_FORMAT: 'HEX',
  TIMESTAMP_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM', TIMESTAMP_NTZ_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3',
  CLIENT_RESULT_CHUNK_SIZE: '16',
};

export class SnowflakeEmulator {
  readonly stats: EmulatorStats = {
    logins: 0, failedLogins: 0, renewals: 0, queriesSubmitted: 0, resultRequests: 0, chunkDownloads: 0, aborts: 0,
    lastChunkHeaders: {}, requestPaths: [],
  };
  private readonly tables = new Map<string, WireTable>();
  private readonly sessions = new Map<string, Session>();
  private readonly queries = new Map<string, Query>();
  private readonly users: Record<string, string>;
  private readonly inlineRows: number;
  private readonly chunkRows: number;
  private readonly runMs: number;
  private readonly chunkDelayMs: number;
  private readonly qrmk = randomBytes(32).toString('base64');
  private chunkFailure: { index: number; expireSessions: boolean } | undefined;
  private nextSessionId = 1;
  private server: Server | undefined;
  url = '';

  constructor(options: EmulatorOptions = {}) {
    this.users = options.users ?? { loom: 'loom-secret' };
    this.inlineRows = options.inlineRows ?? 100;
    this.chunkRows = options.chunkRows ?? 500;
    this.runMs = options.runMs ?? 100;
    this.chunkDelayMs = options.chunkDelayMs ?? 0;
    for (const [name, table] of Object.entries(options.tables ?? {})) this.addTable(name, table);
  }

  addTable(name: string, table: WireTable): void {
    this.tables.set(name.toUpperCase(), table);
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const query of this.queries.values()) clearTimeout(query.timer);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** snowflake-sdk connection options for this emulator (add username/password). */
  connectionOptions(): { account: string; accessUrl: string } {
    return { account: 'emulator', accessUrl: this.url };
  }

  /** Ends every session: its session token (and with `master`, its master token too) is refused from now on. */
  expireSessions(options: { master?: boolean } = {}): void {
    for (const session of this.sessions.values()) {
      session.sessionExpired = true;
      if (options.master) session.masterExpired = true;
    }
  }

  /** The next download of chunk `index` (of any query) fails once; optionally every session expires with it. */
  failChunkOnce(index: number, options: { expireSessions?: boolean } = {}): void {
    this.chunkFailure = { index, expireSessions: options.expireSessions ?? false };
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    this.stats.requestPaths.push(url.pathname);
    const path = url.pathname;
    if (path.startsWith('/chunks/')) {
      if (this.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.chunkDelayMs));
      return this.serveChunk(path, request, response);
    }
    const body = await readJson(request);
    if (path === '/session/v1/login-request') return this.login(body, response);
    if (path === '/session/token-request') return this.renew(request, body, response);
    const session = this.authenticate(request, response);
    if (session === undefined) return;
    if (path === '/session') {
      this.sessions.delete(session.sessionToken);
      return json(response, { success: true, data: null });
    }
    if (path === '/queries/v1/query-request') return this.submit(session, body, response);
    let match = /^\/monitoring\/queries\/([\w-]+)$/.exec(path);
    if (match) return this.status(match[1]!, response);
    match = /^\/queries\/([\w-]+)\/result$/.exec(path);
    if (match) return this.result(session, match[1]!, response);
    match = /^\/queries\/([\w-]+)\/abort-request$/.exec(path);
    if (match) return this.abort(match[1]!, response);
    // Telemetry and heartbeats: accepted and ignored.
    return json(response, { success: true, data: null });
  }

  private login(body: LoginBody, response: ServerResponse): void {
    const user = body.data?.LOGIN_NAME ?? '';
    if (!(user in this.users) || this.users[user] !== body.data?.PASSWORD) {
      this.stats.failedLogins++;
      return json(response, { success: false, code: '390100', message: 'Incorrect username or password was specified.', data: { nextAction: 'RETRY_LOGIN' } });
    }
    this.stats.logins++;
    const session: Session = {
      id: this.nextSessionId++, user, sessionToken: token('ST'), masterToken: token('MT'), sessionExpired: false, masterExpired: false,
      parameters: new Map(Object.entries(DEFAULT_PARAMETERS)),
    };
    this.sessions.set(session.sessionToken, session);
    json(response, {
      success: true, code: null, message: null,
      data: {
        token: session.sessionToken, masterToken: session.masterToken, validityInSeconds: 3600, masterValidityInSeconds: 14400,
        sessionId: session.id, parameters: parameterList(session), sessionInfo: { databaseName: 'LOOM', schemaName: 'PUBLIC', warehouseName: 'EMULATOR', roleName: 'PUBLIC' },
      },
    });
  }

  /** Token renewal with the master token (the driver's answer to 390112, session token expired). */
  private renew(request: IncomingMessage, body: { oldSessionToken?: string }, response: ServerResponse): void {
    const master = bearer(request);
    const session = [...this.sessions.values()].find((candidate) => candidate.masterToken === master);
    if (session === undefined || session.masterExpired) {
      return json(response, { success: false, code: '390114', message: 'Authentication token has expired.  The user must authenticate again.', data: null });
    }
    this.stats.renewals++;
    this.sessions.delete(body.oldSessionToken ?? session.sessionToken);
    session.sessionToken = token('ST');
    session.sessionExpired = false;
    this.sessions.set(session.sessionToken, session);
    json(response, { success: true, data: { sessionToken: session.sessionToken, validityInSecondsST: 3600, masterToken: session.masterToken, validityInSecondsMT: 14400 } });
  }

  private authenticate(request: IncomingMessage, response: ServerResponse): Session | undefined {
    const session = this.sessions.get(bearer(request));
    if (session === undefined) {
      json(response, { success: false, code: '390104', message: 'User must login again to access the service.', data: null });
      return undefined;
    }
    if (session.sessionExpired) {
      json(response, { success: false, code: '390112', message: 'Session token expired', data: null });
      return undefined;
    }
    return session;
  }

  private submit(session: Session, body: { sqlText?: string; asyncExec?: boolean }, response: ServerResponse): void {
    this.stats.queriesSubmitted++;
    const id = randomUUID();
    let plan;
    try {
      plan = planStatement(body.sqlText ?? '', this.tables, this.runMs);
    } catch (error) {
      if (!(error instanceof SqlError)) throw error;
      // An asynchronous submission is accepted first and fails in its status, as Snowflake does; a synchronous
      // one fails at once.
      if (body.asyncExec) {
        this.queries.set(id, { id, sessionToken: session.sessionToken, status: 'FAILED_WITH_ERROR', table: EMPTY, error });
        return json(response, asyncAccepted(id));
      }
      return json(response, failure(id, error));
    }
    if (plan.kind === 'set') {
      session.parameters.set(plan.name, plan.value);
      const table: WireTable = { columns: [{ name: 'status', type: 'text' }], rowCount: 1, row: () => ['Statement executed successfully.'] };
      this.queries.set(id, { id, sessionToken: session.sessionToken, status: 'SUCCESS', table });
      return json(response, this.resultBody(session, this.queries.get(id)!));
    }
    const query: Query = { id, sessionToken: session.sessionToken, status: 'RUNNING', table: plan.table };
    this.queries.set(id, query);
    query.timer = setTimeout(() => {
      if (query.status === 'RUNNING') query.status = 'SUCCESS';
    }, plan.runMs);
    if (body.asyncExec) return json(response, asyncAccepted(id));
    json(response, { success: true, code: '333333', message: 'Query execution in progress', data: { queryId: id, getResultUrl: `/queries/${id}/result` } });
  }

  private status(id: string, response: ServerResponse): void {
    const query = this.queries.get(id);
    if (query === undefined) return json(response, { success: true, data: { queries: [] } });
    const failed = query.status === 'ABORTED' ? CANCELLED : query.error;
    json(response, {
      success: true, code: failed?.code ?? null, message: null,
      data: { queries: [{ id, status: query.status, errorCode: failed?.code, errorMessage: failed?.message }], sqlState: failed?.sqlState },
    });
  }

  private result(session: Session, id: string, response: ServerResponse): void {
    this.stats.resultRequests++;
    const query = this.queries.get(id);
    if (query === undefined) return json(response, { success: false, code: '000709', message: `Statement ${id} not found`, data: { queryId: id, sqlState: '02000' } });
    if (query.status === 'RUNNING') return json(response, { success: true, code: '333333', message: 'Query execution in progress', data: { queryId: id, getResultUrl: `/queries/${id}/result` } });
    if (query.status === 'ABORTED') return json(response, failure(id, CANCELLED));
    if (query.error !== undefined) return json(response, failure(id, query.error));
    json(response, this.resultBody(session, query));
  }

  /** The result: first rows inline, the rest as chunk descriptors whose URLs stand in for presigned ones. */
  private resultBody(session: Session, query: Query): unknown {
    const { table } = query;
    const inline = Math.min(this.inlineRows, table.rowCount);
    const rowset = Array.from({ length: inline }, (_, i) => table.row(i));
    const chunks = [];
    for (let start = inline, n = 0; start < table.rowCount; start += this.chunkRows, n++) {
      const rowCount = Math.min(this.chunkRows, table.rowCount - start);
      chunks.push({ url: `${this.url}/chunks/${query.id}/${n}?start=${start}&rows=${rowCount}&X-Amz-Signature=${token('SIG')}`, rowCount, uncompressedSize: rowCount * 64, compressedSize: rowCount * 16 });
    }
    return {
      success: true, code: null, message: null,
      data: {
        queryId: query.id, rowtype: table.columns.map(rowType), rowset, total: table.rowCount, returned: table.rowCount,
        chunks, qrmk: chunks.length > 0 ? this.qrmk : undefined, parameters: parameterList(session),
        queryResultFormat: 'json', version: 1, statementTypeId: 4096,
        finalDatabaseName: 'LOOM', finalSchemaName: 'PUBLIC', finalWarehouseName: 'EMULATOR', finalRoleName: 'PUBLIC',
      },
    };
  }

  private serveChunk(path: string, request: IncomingMessage, response: ServerResponse): void {
    const [, , id, n] = path.split('/');
    const query = this.queries.get(id ?? '');
    const url = new URL(request.url ?? '/', this.url);
    this.stats.lastChunkHeaders = { ...request.headers };
    if (request.headers['x-amz-server-side-encryption-customer-key'] !== this.qrmk ||
      request.headers['x-amz-server-side-encryption-customer-algorithm'] !== 'AES256') {
      response.writeHead(400, { 'Content-Type': 'application/xml' }).end('<Error><Code>InvalidRequest</Code><Message>The object was stored using a form of SSE-C.</Message></Error>');
      return;
    }
    if (query === undefined) {
      response.writeHead(404, { 'Content-Type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    if (this.chunkFailure?.index === Number(n)) {
      if (this.chunkFailure.expireSessions) this.expireSessions({ master: true });
      this.chunkFailure = undefined;
      response.writeHead(400, { 'Content-Type': 'application/xml' }).end('<Error><Code>InvalidRequest</Code><Message>injected failure</Message></Error>');
      return;
    }
    this.stats.chunkDownloads++;
    const start = Number(url.searchParams.get('start'));
    const rows = Number(url.searchParams.get('rows'));
    // A chunk is the rows' JSON arrays joined by commas, without the enclosing brackets (the driver adds them).
    const text = Array.from({ length: rows }, (_, i) => JSON.stringify(query.table.row(start + i))).join(',');
    response.writeHead(200, { 'Content-Type': 'binary/octet-stream', 'Content-Encoding': 'gzip' }).end(gzipSync(text));
  }

  private abort(id: string, response: ServerResponse): void {
    const query = this.queries.get(id);
    if (query !== undefined && query.status === 'RUNNING') {
      this.stats.aborts++;
      query.status = 'ABORTED';
      clearTimeout(query.timer);
    }
    json(response, { success: true, data: null });
  }
}

const EMPTY: WireTable = { columns: [], rowCount: 0, row: () => [] };
const CANCELLED = new SqlError('000604', '57014', 'SQL execution canceled');

function asyncAccepted(queryId: string): unknown {
  return {
    success: true, code: '333334', message: 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.',
    data: { queryId, getResultUrl: `/queries/${queryId}/result` },
  };
}

function failure(queryId: string, error: SqlError): unknown {
  return { success: false, code: error.code, message: error.message, data: { queryId, sqlState: error.sqlState, errorCode: error.code, internalError: false } };
}

interface LoginBody {
  data?: { LOGIN_NAME?: string; PASSWORD?: string };
}

async function readJson(request: IncomingMessage): Promise<any> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  if (parts.length === 0) return {};
  let bytes = Buffer.concat(parts);
  if (request.headers['content-encoding'] === 'gzip') bytes = gunzipSync(bytes);
  return JSON.parse(bytes.toString('utf8'));
}

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

function bearer(request: IncomingMessage): string {
  return /Snowflake Token="([^"]*)"/.exec(request.headers.authorization ?? '')?.[1] ?? '';
}

function token(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('hex')}`;
}

function parameterList(session: Session): { name: string; value: string }[] {
  return [...session.parameters].map(([name, value]) => ({ name, value }));
}

function rowType(column: WireTable['columns'][number]): unknown {
  return {
    name: column.name, type: column.type, precision: column.precision ?? null, scale: column.scale ?? null,
    nullable: column.nullable ?? true, database: 'LOOM', schema: 'PUBLIC', table: '', byteLength: null, length: null, collation: null,
  };
}
