// The server's paths (the Open Inference Protocol's REST endpoints and /metrics) as data: a request's method and
// path become one Route, or a ServeError saying the path is unknown (404) or the method wrong (405). Nothing
// here touches the store; a group or version named in a path is only syntax until the handler looks it up.
import { ServeError } from './serve-error.js';

export type RouteKind = 'server_live' | 'server_ready' | 'server_metadata' | 'model_metadata' | 'model_ready' | 'infer' | 'metrics';

export interface Route {
  readonly kind: RouteKind;
  /** The group (the protocol's model name), decoded. */
  readonly group?: string;
  /** The version segment as written; the handler checks it names a version. */
  readonly version?: string;
}

/** Routes open without a token: container probes must not need a secret. */
export const OPEN_ROUTES: ReadonlySet<RouteKind> = new Set(['server_live', 'server_ready']);

const METHODS: Readonly<Record<RouteKind, readonly string[]>> = {
  server_live: ['GET', 'HEAD'],
  server_ready: ['GET', 'HEAD'],
  server_metadata: ['GET', 'HEAD'],
  model_metadata: ['GET', 'HEAD'],
  model_ready: ['GET', 'HEAD'],
  infer: ['POST'],
  metrics: ['GET', 'HEAD'],
};

/** The route of `path` (query string excluded), without checking the method. */
export function matchPath(path: string): Route | undefined {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  switch (trimmed) {
    case '/v2':
      return { kind: 'server_metadata' };
    case '/v2/health/live':
      return { kind: 'server_live' };
    case '/v2/health/ready':
      return { kind: 'server_ready' };
    case '/metrics':
      return { kind: 'metrics' };
  }
  if (!trimmed.startsWith('/v2/models/')) return undefined;
  const parts = trimmed.slice('/v2/models/'.length).split('/');
  const group = decodeSegment(parts[0] as string);
  if (group === undefined || group === '') return undefined;
  let rest = parts.slice(1);
  let version: string | undefined;
  if (rest[0] === 'versions') {
    version = rest[1] === undefined ? undefined : decodeSegment(rest[1]);
    if (version === undefined || version === '') return undefined;
    rest = rest.slice(2);
  }
  const kind: RouteKind | undefined = rest.length === 0 ? 'model_metadata' : rest.length === 1 && rest[0] === 'ready' ? 'model_ready' : rest.length === 1 && rest[0] === 'infer' ? 'infer' : undefined;
  if (kind === undefined) return undefined;
  return version === undefined ? { kind, group } : { kind, group, version };
}

/** The route of a request; 404 for an unknown path, 405 (with `Allow`) for a known path and a wrong method. */
export function route(method: string, url: string): Route {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  const found = matchPath(path);
  if (found === undefined) throw new ServeError('NOT_FOUND', `no such path: ${method} ${path.slice(0, 200)} (the server speaks the Open Inference Protocol under /v2, and /metrics)`);
  const allowed = METHODS[found.kind];
  if (!allowed.includes(method)) {
    throw new ServeError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path.slice(0, 200)}; use ${allowed.join(' or ')}`, { headers: { allow: allowed.join(', ') } });
  }
  return found;
}

/** Paths matched most recently, at most this many: clients call the same few URLs again and again. */
const KNOWN_PATHS = 1024;

/**
 * route() with a memory of the paths it matched: a repeated URL costs one Map lookup rather than a split and
 * a decode of its segments. Unknown paths are not kept, so probing for them cannot grow the map; it is
 * emptied when full rather than kept in recency order, since a server sees a handful of distinct URLs.
 */
export class Router {
  readonly #known = new Map<string, Route>();

  route(method: string, url: string): Route {
    let found = this.#known.get(url);
    if (found === undefined) {
      found = route(method, url);
      if (this.#known.size >= KNOWN_PATHS) this.#known.clear();
      this.#known.set(url, found);
    } else if (!METHODS[found.kind].includes(method)) {
      return route(method, url);
    }
    return found;
  }
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
