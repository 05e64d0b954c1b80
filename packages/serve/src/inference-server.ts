// serve(): the Open Inference Protocol over node:http in front of a model store. One handler routes each
// request, checks the token, runs the route and writes JSON; every error becomes `{"error": message}` with
// its ServeError's status, so a client's mistake is a 4xx and never takes the server down. Every response is
// counted in the metrics and, at LOOM_LOG_LEVEL=info or below, written to the access log.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ModelStore } from '@loom/models';
import { createLogger, parseBytes, type Logger } from '@loom/protocol';
import { assertSafeBind, BearerToken, SERVE_TOKEN_ENV } from './bearer-token.js';
import { GroupCache } from './group-cache.js';
import { inferResponse } from './infer-response.js';
import { parseInferRequest } from './infer-request.js';
import type { LoadedGroup } from './loaded-group.js';
import { modelMetadata } from './model-metadata.js';
import { ClientGone, readBody } from './request-body.js';
import { OPEN_ROUTES, Router, type Route, type RouteKind } from './routes.js';
import { scoreIds } from './score-ids.js';
import { isServeError, ServeError } from './serve-error.js';
import type { RouteLabel } from './request-series.js';
import { ServeMetrics } from './serve-metrics.js';

export interface ServeOptions {
  /** Address to bind. Default 127.0.0.1; anything beyond loopback needs a token. */
  host?: string;
  /** Default 8000; 0 picks a free port (see `port` on the result). */
  port?: number;
  /** Required as `Authorization: Bearer` on every request but /v2/health/*. Default $LOOM_SERVE_TOKEN. */
  token?: string;
  /** Bytes the loaded group versions may hold together ('2GiB', '512MB' or a number). Default 2 GiB. */
  maxMemory?: number | string;
  /** Largest request body accepted (413 beyond). Default 16 MiB. */
  maxBodyBytes?: number | string;
  /**
   * A new version is picked up as soon as the filesystem reports the publish (inotify: local disks and volumes
   * of this host); where it reports nothing (NFS, EFS), within this many milliseconds. Default 1,000.
   */
  pointerRecheckMs?: number;
  /** Default: a pino logger on stderr at LOOM_LOG_LEVEL (warn when unset: access logs are at info). */
  logger?: Logger;
}

export interface InferenceServer {
  readonly store: ModelStore;
  readonly host: string;
  readonly port: number;
  /** e.g. http://127.0.0.1:8000 */
  readonly url: string;
  readonly metrics: ServeMetrics;
  /** Stops accepting connections and resolves once the requests in progress are answered. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8000;
export const DEFAULT_MAX_MEMORY = 2 * 2 ** 30;
export const DEFAULT_MAX_BODY_BYTES = 16 * 2 ** 20;

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

export async function serve(storeOrPath: string | ModelStore, options: ServeOptions = {}): Promise<InferenceServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  const tokenText = options.token ?? (process.env[SERVE_TOKEN_ENV] || undefined);
  assertSafeBind(host, tokenText);
  const token = tokenText === undefined ? undefined : new BearerToken(tokenText);
  const maxMemory = byteOption('maxMemory', options.maxMemory, DEFAULT_MAX_MEMORY);
  const maxBodyBytes = byteOption('maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ServeError('BAD_OPTIONS', `port must be an integer in 0..65535, got ${String(port)}`);
  const store = typeof storeOrPath === 'string' ? await ModelStore.open(storeOrPath, { create: false }) : storeOrPath;
  const logger = options.logger ?? createLogger('serve');
  let metrics: ServeMetrics | undefined;
  const recheckMs = options.pointerRecheckMs ?? 1_000;
  if (!Number.isFinite(recheckMs) || recheckMs < 0) throw new ServeError('BAD_OPTIONS', `pointerRecheckMs must be a non-negative number, got ${String(options.pointerRecheckMs)}`);
  const cache = new GroupCache(store, { maxMemory, logger, recheckMs, onLoad: (_loaded, seconds) => metrics?.loaded(seconds) });
  metrics = new ServeMetrics(() => cache.stats);
  const served = metrics;
  const accessLog = logger.isLevelEnabled('info');
  const router = new Router();
  let closing = false;

  const resolveGroup = (target: Route): LoadedGroup | Promise<LoadedGroup> =>
    target.version === undefined ? cache.current(target.group as string) : cache.version(target.group as string, target.version);

  /** Every route but infer: answered from memory or after a load, never on the path of a scoring request. */
  async function run(kind: Exclude<RouteKind, 'infer'>, target: Route): Promise<Reply> {
    switch (kind) {
      case 'server_live':
        return json(200, { live: true });
      case 'server_ready':
        return closing ? json(503, { ready: false }) : json(200, { ready: true });
      case 'server_metadata':
        return json(200, { name: 'loom-serve', version: VERSION, extensions: [] });
      case 'model_ready': {
        const loaded = await resolveGroup(target);
        return json(200, { name: loaded.name, version: String(loaded.version), ready: true });
      }
      case 'model_metadata':
        return json(200, await modelMetadata(store, await resolveGroup(target)));
      case 'metrics':
        return { status: 200, body: await served.text(), contentType: served.contentType };
    }
  }

  /** An infer request's answer: synchronous when its group version is loaded, which is nearly always. */
  function infer(target: Route, body: Buffer): Reply | Promise<Reply> {
    const loaded = resolveGroup(target);
    return loaded instanceof Promise ? loaded.then((group) => inferReply(group, body)) : inferReply(loaded, body);
  }

  function inferReply(loaded: LoadedGroup, body: Buffer): Reply {
    const request = parseInferRequest(body);
    const scores = scoreIds(loaded, request);
    served.scored(request.ids.length);
    return { status: 200, body: inferResponse(loaded, request, scores) };
  }

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const started = performance.now();
    let label: RouteLabel = 'unknown';
    const send = (reply: Reply, headers?: Readonly<Record<string, string>>): void => {
      const head = { 'content-type': reply.contentType ?? 'application/json', 'content-length': Buffer.byteLength(reply.body) };
      response.writeHead(reply.status, headers === undefined ? head : { ...head, ...headers });
      response.end(reply.body);
      const seconds = (performance.now() - started) / 1000;
      served.request(label, reply.status, seconds);
      if (accessLog) logger.info({ method: request.method, url: request.url, route: label, status: reply.status, ms: Math.round(seconds * 1e5) / 100, bytes: reply.body.length }, 'request');
    };
    const fail = (error: unknown): void => {
      if (error instanceof ClientGone) {
        response.destroy();
        return;
      }
      if (isServeError(error)) {
        // An unread body left on the connection would be parsed as the next request: close it instead.
        const headers = error.code === 'BODY_TOO_LARGE' ? { ...error.headers, connection: 'close' } : error.headers;
        if (error.status >= 500) logger.error({ err: error, url: request.url }, 'request failed');
        send(json(error.status, { error: error.message }), headers);
        return;
      }
      logger.error({ err: error, url: request.url }, 'internal error');
      send(json(500, { error: `internal error: ${error instanceof Error ? error.message : String(error)}` }));
    };
    try {
      const target = router.route(request.method ?? 'GET', request.url ?? '/');
      const kind = target.kind;
      label = kind;
      if (token !== undefined && !OPEN_ROUTES.has(kind)) token.check(request.headers.authorization);
      if (kind !== 'infer') {
        run(kind, target).then((reply) => send(reply), fail);
        return;
      }
      readBody(request, maxBodyBytes, (body) => {
        try {
          const reply = infer(target, body);
          if (reply instanceof Promise) reply.then((answer) => send(answer), fail);
          else send(reply);
        } catch (error) {
          fail(error);
        }
      }, fail);
    } catch (error) {
      fail(error);
    }
  };

  const server = createServer({ requestTimeout: 30_000 }, handle);
  server.on('clientError', (error, socket) => {
    // A request line or headers Node cannot parse: answer 400 if the socket still takes it.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":"malformed HTTP request"}');
    logger.debug({ err: error }, 'malformed HTTP request');
  });
  await listen(server, host, port);
  const address = server.address() as AddressInfo;
  logger.info({ host, port: address.port, store: store.dir }, 'serving');
  return {
    store,
    host,
    port: address.port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    metrics: served,
    close: () => {
      closing = true;
      return new Promise<void>((resolve, reject) => {
        server.close((error) => {
          cache.close();
          if (error === undefined) resolve();
          else reject(error);
        });
        server.closeIdleConnections();
      });
    },
  };
}

function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value) };
}

function byteOption(name: string, value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  let bytes: number;
  try {
    bytes = parseBytes(value);
  } catch (error) {
    throw new ServeError('BAD_OPTIONS', `${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (bytes <= 0) throw new ServeError('BAD_OPTIONS', `${name} must be positive, got ${String(value)}`);
  return bytes;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
