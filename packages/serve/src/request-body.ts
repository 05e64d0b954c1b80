// Reads a request body up to a limit. A declared Content-Length over the limit is refused before a byte is
// read; a chunked body is counted as it arrives and refused the moment it passes the limit, so an oversized
// upload costs at most `limit` bytes of memory.
import type { IncomingMessage } from 'node:http';
import { ServeError } from './serve-error.js';

/** The client went away mid-body: nothing to answer. */
export class ClientGone extends Error {
  override readonly name = 'ClientGone';
}

export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): ServeError => new ServeError('BODY_TOO_LARGE', `the request body is larger than the server's limit of ${limit} bytes`);
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limit) {
        cleanup();
        request.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length));
    };
    const onGone = (): void => {
      cleanup();
      reject(new ClientGone('the client closed the connection before the body ended'));
    };
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onGone);
      request.off('error', onGone);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('aborted', onGone);
    request.on('error', onGone);
  });
}
