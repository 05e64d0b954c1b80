// Who may see the dashboard when the cluster has a token: a request presents it as `Authorization: Bearer`, or
// as a session cookie that the login form hands out after checking the token once. The cookie holds a random
// session id, never the token (HttpOnly, SameSite=Strict, Path=/); sessions expire and can be logged out, and
// the event streams of a session that ended are closed. Tokens are compared over digests in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'loom_dashboard_session';
/** A login lasts a working day; after that the page asks again. */
export const DEFAULT_SESSION_MS = 12 * 60 * 60 * 1000;
/** Enough for every person and tab of a team; beyond it the oldest session ends (a login flood cannot grow memory). */
const MAX_SESSIONS = 1024;

export class DashboardAuth {
  readonly #expected: Buffer | undefined;
  /** Session id -> expiry (epoch ms), in creation order. */
  readonly #sessions = new Map<string, number>();

  constructor(
    token: string | undefined,
    private readonly sessionMs = DEFAULT_SESSION_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.#expected = token === undefined || token === '' ? undefined : digest(token);
  }

  get required(): boolean {
    return this.#expected !== undefined;
  }

  /** Whether `presented` is the cluster token (constant time, over digests so not even its length leaks). */
  tokenMatches(presented: string): boolean {
    return this.#expected !== undefined && timingSafeEqual(digest(presented), this.#expected);
  }

  /** Whether the request may read the dashboard: no token needed, a right bearer token, or a live session. */
  allows(request: IncomingMessage): boolean {
    if (this.#expected === undefined) return true;
    const header = request.headers.authorization;
    if (header !== undefined && header.startsWith('Bearer ')) return this.tokenMatches(header.slice(7));
    const session = sessionIdOf(request);
    return session !== undefined && this.sessionLive(session);
  }

  /** The session a request's cookie names, if any (live or not). */
  sessionOf(request: IncomingMessage): string | undefined {
    return sessionIdOf(request);
  }

  sessionLive(session: string): boolean {
    const expires = this.#sessions.get(session);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.#sessions.delete(session);
    return false;
  }

  /** A new session after a successful login; returns its Set-Cookie header value. */
  openSession(secure: boolean): string {
    const session = randomBytes(32).toString('base64url');
    this.#sessions.set(session, this.now() + this.sessionMs);
    while (this.#sessions.size > MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    return cookie(session, Math.floor(this.sessionMs / 1000), secure);
  }

  /** Ends the request's session; returns the Set-Cookie header that clears it in the browser. */
  closeSession(request: IncomingMessage, secure: boolean): string {
    const session = sessionIdOf(request);
    if (session !== undefined) this.#sessions.delete(session);
    return cookie('', 0, secure);
  }
}

function cookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

function sessionIdOf(request: IncomingMessage): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === SESSION_COOKIE) return part.slice(separator + 1).trim() || undefined;
  }
  return undefined;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
