// The dashboard's HTTP server, in the scheduler's process: pages (one HTML shell, static files), JSON under
// /api/v1 for tools and tests, server-sent events, Prometheus /metrics and an open /health for probes. Every
// request is answered from the shared snapshot feed or the source's capped views; none walks the task graph.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { DashboardAuth } from './dashboard-auth.js';
import { DashboardError } from './dashboard-error.js';
import { PrometheusMetrics } from './prometheus-metrics.js';
import { SectionCache, type SectionCacheOptions } from './section-cache.js';
import type { DashboardExtension } from './section-content.js';
import type { DashboardSource } from './snapshot.js';
import { SnapshotFeed, type FeedOptions } from './snapshot-feed.js';
import { loadAssets, type StaticAsset } from './static-assets.js';

export const DEFAULT_DASHBOARD_PORT = 8787;

export type { DashboardExtension } from './section-content.js';

export interface DashboardOptions {
  source: DashboardSource;
  /** Bind address (default 127.0.0.1, like the scheduler). */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** When the port is taken, listen on a free one instead (and say so) rather than fail. Default false. */
  fallbackToFreePort?: boolean;
  /** The cluster token: with one, everything but /health needs it (and /metrics unless metricsOpen). */
  token?: string;
  /** Serve /metrics without the token (for a Prometheus that cannot send one). */
  metricsOpen?: boolean;
  /** The cookie is marked Secure (set when a TLS-terminating proxy serves the pages over https). */
  secureCookie?: boolean;
  feed?: FeedOptions;
  /** Sections beside the built-in pages (the scheduler adds Jobs and Models when told where they are). */
  extensions?: DashboardExtension[];
  /** How often a section's data may be read, and how long a read may take. */
  sections?: SectionCacheOptions;
  /**
   * JSON answers beside the built-in ones, at /api/v1/<name>, behind the same token (the scheduler's adaptive
   * target). Called per request with the query; throw a DashboardError('BAD_REQUEST') for a bad one.
   */
  routes?: Record<string, (query: URLSearchParams) => unknown>;
  /** Where warnings go: the port taken at start-up, a section that cannot read its data (once per outage). */
  warn?: (message: string) => void;
  /** Where a section that reads again after an outage says so. */
  info?: (message: string) => void;
}

export interface DashboardHandle {
  /** http://host:port/ */
  readonly url: string;
  readonly port: number;
  readonly feed: SnapshotFeed;
  close(): Promise<void>;
}

const PAGES = new Set(['status', 'workers', 'graph']);
const MAX_LOGIN_BODY = 4096;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export async function startDashboard(options: DashboardOptions): Promise<DashboardHandle> {
  const host = options.host ?? '127.0.0.1';
  const auth = new DashboardAuth(options.token);
  const feed = new SnapshotFeed(options.source, options.feed);
  const metrics = new PrometheusMetrics(options.source);
  const assets = loadAssets();
  const log = { ...(options.warn && { warn: options.warn }), ...(options.info && { info: options.info }) };
  const extensions = new Map<string, SectionCache>();
  for (const extension of options.extensions ?? []) {
    if (!/^[A-Za-z0-9_-]+$/.test(extension.id)) throw new DashboardError('BAD_OPTIONS', `dashboard section id '${extension.id}' must be letters, digits, '-' or '_'`);
    if (extensions.has(extension.id)) throw new DashboardError('BAD_OPTIONS', `two dashboard sections have the id '${extension.id}'`);
    extensions.set(extension.id, new SectionCache(extension, options.sections, log));
  }
  const context: RouteContext = { auth, feed, metrics, assets, extensions, source: options.source, host, options };
  const server = createServer((request, response) => {
    handle(context, request, response).catch((error: unknown) => answerError(response, error));
  });
  // Event streams stay open for hours; the default timeouts would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  const port = await listen(server, host, options.port ?? DEFAULT_DASHBOARD_PORT, options.fallbackToFreePort ?? false, options.warn);
  context.port = port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    feed,
    close: async () => {
      feed.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // A section that cannot close (its Redis is gone) must not keep the scheduler from exiting.
      await Promise.all([...extensions.values()].map((section) => section.close().catch((error: unknown) => options.warn?.(`dashboard section '${section.id}' did not close: ${String(error)}`))));
    },
  };
}

interface RouteContext {
  auth: DashboardAuth;
  feed: SnapshotFeed;
  metrics: PrometheusMetrics;
  assets: Map<string, StaticAsset>;
  extensions: Map<string, SectionCache>;
  source: DashboardSource;
  host: string;
  port?: number;
  options: DashboardOptions;
}

async function handle(context: RouteContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
  const url = new URL(request.url ?? '/', 'http://dashboard');
  const path = url.pathname;
  const method = request.method ?? 'GET';
  if (path === '/health') return text(response, 200, 'ok\n');
  checkHost(context, request);
  if (path.startsWith('/static/')) return serveAsset(context, path.slice('/static/'.length), response);
  if (path === '/login' && method === 'POST') return login(context, request, response);
  if (path === '/login') return serveAsset(context, 'login.html', response);
  if (path === '/logout' && method === 'POST') {
    response.setHeader('set-cookie', context.auth.closeSession(request, context.options.secureCookie ?? false));
    return redirect(response, '/login');
  }
  if (path === '/metrics') {
    if (!context.options.metricsOpen) requireAuth(context, request);
    const body = await context.metrics.text();
    response.writeHead(200, { 'content-type': context.metrics.contentType, 'cache-control': 'no-store' });
    response.end(body);
    return;
  }
  if (path === '/' || PAGES.has(path.slice(1)) || /^\/workers\/[^/]+$/.test(path) || /^\/x\/[^/]+$/.test(path)) {
    if (!context.auth.allows(request)) return redirect(response, '/login');
    if (path === '/') return redirect(response, '/status');
    return serveAsset(context, 'index.html', response);
  }
  if (path.startsWith('/api/v1/')) {
    requireAuth(context, request);
    return api(context, path.slice('/api/v1/'.length), url.searchParams, request, response);
  }
  throw new DashboardError('NOT_FOUND', `no page at ${path}`);
}

async function api(context: RouteContext, route: string, query: URLSearchParams, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { feed, source } = context;
  if (route === 'events') {
    const session = context.auth.sessionOf(request);
    // A bearer-token stream stays valid (the token cannot change); a cookie stream ends with its session.
    const stillAllowed = !context.auth.required || session === undefined ? () => true : () => context.auth.sessionLive(session);
    feed.subscribe(response, stillAllowed);
    return;
  }
  if (route === 'snapshot') return json(response, feed.snapshot());
  if (route === 'session') return json(response, { tokenRequired: context.auth.required });
  if (route === 'workers') return json(response, source.snapshot({ workers: Number.MAX_SAFE_INTEGER, prefixes: 0 }).workers);
  if (route.startsWith('workers/')) {
    const id = decodeURIComponent(route.slice('workers/'.length));
    const worker = source.snapshot({ workers: Number.MAX_SAFE_INTEGER, prefixes: 0 }).workers.find((candidate) => candidate.id === id);
    if (worker === undefined) throw new DashboardError('NOT_FOUND', `no worker '${id}'`);
    const tasks = source.taskEvents(0, Number.MAX_SAFE_INTEGER).filter((event) => event.worker === id).slice(-200);
    const failures = source.failures(Number.MAX_SAFE_INTEGER).filter((failure) => failure.worker === id);
    const logs = source.workerLogs(id);
    return json(response, {
      worker, tasks, failures, prefixes: feed.snapshot().prefixes.map(({ id: prefixId, name }) => ({ id: prefixId, name })), logs: logs.lines, logsDropped: logs.dropped,
    });
  }
  if (route === 'prefixes') return json(response, feed.snapshot().prefixes);
  if (route === 'graph') {
    const { prefixes } = feed.snapshot();
    return json(response, {
      groups: prefixes.map(({ id, name, states }) => ({ id, name, states })),
      edges: prefixes.flatMap((prefix) => prefix.dependsOn.map((from) => ({ from, to: prefix.id }))),
    });
  }
  if (route === 'tasks') {
    const after = integerParam(query, 'after', 0);
    const limit = integerParam(query, 'limit', 1000);
    return json(response, source.taskEvents(after, limit));
  }
  if (route === 'failures') return json(response, source.failures(integerParam(query, 'limit', 50)));
  if (route === 'extensions') return json(response, [...context.extensions.values()].map(({ id, title }) => ({ id, title })));
  if (route.startsWith('x/')) {
    const extension = context.extensions.get(route.slice(2));
    if (extension === undefined) throw new DashboardError('NOT_FOUND', `no dashboard section '${route.slice(2)}'`);
    return json(response, await extension.answer());
  }
  const extraRoute = Object.hasOwn(context.options.routes ?? {}, route) ? context.options.routes![route] : undefined;
  if (extraRoute !== undefined) return json(response, await extraRoute(query));
  throw new DashboardError('NOT_FOUND', `no API route /api/v1/${route}`);
}

async function login(context: RouteContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (!context.auth.required) return redirect(response, '/status');
  const body = await readBody(request, MAX_LOGIN_BODY);
  const token = new URLSearchParams(body).get('token') ?? '';
  if (!context.auth.tokenMatches(token)) return redirect(response, '/login?failed=1');
  response.setHeader('set-cookie', context.auth.openSession(context.options.secureCookie ?? false));
  redirect(response, '/status');
}

function requireAuth(context: RouteContext, request: IncomingMessage): void {
  if (!context.auth.allows(request)) throw new DashboardError('UNAUTHENTICATED', 'this dashboard needs the cluster token: log in at /login or send Authorization: Bearer <token>');
}

/**
 * Without a token, only requests addressed to this server by a loopback name or its bind address are served:
 * a web page that rebinds its own domain to 127.0.0.1 (DNS rebinding) must not read an open dashboard.
 */
function checkHost(context: RouteContext, request: IncomingMessage): void {
  if (context.auth.required) return;
  const header = request.headers.host ?? '';
  const hostname = header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.split(':')[0]!;
  const loopback = hostname === 'localhost' || hostname === '::1' || (isIP(hostname) === 4 && hostname.startsWith('127.'));
  if (loopback || hostname === context.host) return;
  throw new DashboardError('FORBIDDEN_HOST', `this dashboard answers to ${context.host}, not '${hostname}'`);
}

function serveAsset(context: RouteContext, name: string, response: ServerResponse): void {
  const asset = context.assets.get(name);
  if (asset === undefined) throw new DashboardError('NOT_FOUND', `no file ${name}`);
  response.writeHead(200, { 'content-type': asset.contentType, 'cache-control': name.endsWith('.html') ? 'no-store' : 'max-age=300' });
  response.end(asset.body);
}

function json(response: ServerResponse, value: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(value));
}

function text(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(body);
}

function redirect(response: ServerResponse, location: string): void {
  response.writeHead(303, { location, 'cache-control': 'no-store' });
  response.end();
}

function answerError(response: ServerResponse, error: unknown): void {
  const known = error instanceof DashboardError ? error : undefined;
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const status = known?.httpStatus ?? 500;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
  response.end(JSON.stringify({ code: known?.code ?? 'INTERNAL', message: known?.message ?? 'internal error' }));
}

function integerParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new DashboardError('BAD_REQUEST', `${name} must be a non-negative integer, got '${raw}'`);
  return value;
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new DashboardError('BAD_REQUEST', 'the login form is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server, host: string, port: number, fallback: boolean, warn: ((message: string) => void) | undefined): Promise<number> {
  try {
    return await listenOn(server, host, port);
  } catch (error) {
    if (!fallback || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    const chosen = await listenOn(server, host, 0);
    warn?.(`dashboard port ${port} is in use; the dashboard listens on port ${chosen} instead`);
    return chosen;
  }
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
