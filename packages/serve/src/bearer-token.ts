// The server's token: `Authorization: Bearer <token>` on every request but the health probes, compared in
// constant time (over digests, so not even its length leaks) so it cannot be guessed byte by byte; and no listening beyond loopback without one, since an
// open port would hand every model and its data to anyone who reaches it (the scheduler's rule too).
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { ServeError } from './serve-error.js';

export const SERVE_TOKEN_ENV = 'LOOM_SERVE_TOKEN';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export function assertSafeBind(host: string, token: string | undefined): void {
  if (token === undefined && !isLoopback(host)) {
    throw new ServeError('BAD_OPTIONS', `refusing to serve on ${host} without a token: anyone who reaches the port could read every model. Pass --token (or set ${SERVE_TOKEN_ENV}), or bind to 127.0.0.1.`);
  }
}

export class BearerToken {
  readonly #expected: Buffer;

  constructor(token: string) {
    if (token === '') throw new ServeError('BAD_OPTIONS', 'the token must not be empty');
    this.#expected = digest(token);
  }

  /** Throws UNAUTHENTICATED unless `header` is `Bearer <the token>`. */
  check(header: string | undefined): void {
    const presented = header !== undefined && header.startsWith('Bearer ') ? digest(header.slice(7)) : undefined;
    if (presented !== undefined && timingSafeEqual(presented, this.#expected)) return;
    throw new ServeError('UNAUTHENTICATED', presented === undefined ? 'missing token: send Authorization: Bearer <token>' : 'wrong token', { headers: { 'www-authenticate': 'Bearer' } });
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
