// Reads a request body up to a limit. A declared Content-Length over the limit is refused before a byte is
// read; a chunked body is counted as it arrives and refused the moment it passes the limit, so an oversized
// upload costs at most `limit` bytes of memory. Callbacks rather than a promise: this is on the path of every
// infer request, and the promise, its reactions and the listener removals were measurable there.
import type { IncomingMessage } from 'node:http';
import { ServeError } from './serve-error.js';

/** The client went away mid-body: nothing to answer. */
export class ClientGone extends Error {
  override readonly name = 'ClientGone';
}

/** Calls `done` with the whole body, or `failed` once with BODY_TOO_LARGE or ClientGone; never both. */
export function readBody(request: IncomingMessage, limit: number, done: (body: Buffer) => void, failed: (error: Error) => void): void {
  const tooLarge = (): ServeError => new ServeError('BODY_TOO_LARGE', `the request body is larger than the server's limit of ${limit} bytes`);
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    failed(tooLarge());
    return;
  }
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let length = 0;
  let settled = false;
  request.on('data', (chunk: Buffer) => {
    if (settled) return;
    length += chunk.length;
    if (length > limit) {
      settled = true;
      request.pause();
      failed(tooLarge());
    } else if (first === undefined) {
      first = chunk;
    } else {
      (chunks ??= [first]).push(chunk);
    }
  });
  request.on('end', () => {
    if (settled) return;
    settled = true;
    done(chunks !== undefined ? Buffer.concat(chunks, length) : (first ?? Buffer.alloc(0)));
  });
  // An IncomingMessage destroyed before its end (the client closed the connection) emits 'error' when it has
  // a listener, and nothing else arrives after it.
  request.on('error', () => {
    if (settled) return;
    settled = true;
    failed(new ClientGone('the client closed the connection before the body ended'));
  });
}
