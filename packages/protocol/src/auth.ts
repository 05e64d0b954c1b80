// Cluster authentication and transport security. A cluster token travels as `authorization: Bearer <token>`
// metadata on every call; TLS uses grpc-js's standard credentials when certificate files are given.
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import {
  ChannelCredentials,
  Metadata,
  ServerCredentials,
  credentials as grpcCredentials,
  status,
  type CallCredentials,
} from '@grpc/grpc-js';
import { LoomError } from './errors.js';

export const TOKEN_ENV = 'LOOM_TOKEN';

export interface TlsFiles {
  /** PEM certificate of this process (servers always, clients for mutual TLS). */
  certFile?: string;
  /** PEM private key matching certFile. */
  keyFile?: string;
  /** PEM CA bundle used to verify the other side. */
  caFile?: string;
}

export interface SecurityOptions {
  /** The cluster token; defaults to the LOOM_TOKEN environment variable. */
  token?: string;
  tls?: TlsFiles;
}

export function resolveToken(token: string | undefined): string | undefined {
  const value = token ?? process.env[TOKEN_ENV];
  return value === undefined || value === '' ? undefined : value;
}

/** Refuses to listen beyond loopback without a token: an open port would run anyone's code. */
export function assertSafeBind(host: string, token: string | undefined): void {
  if (token !== undefined) return;
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (!loopback) {
    throw new LoomError(
      'UNAUTHENTICATED',
      `refusing to listen on ${host} without a cluster token: anyone who reaches the port could run code. ` +
        `Pass --token (or set ${TOKEN_ENV}), or bind to 127.0.0.1.`,
    );
  }
}

/**
 * Checks a server call's token. Returns undefined when the call may proceed, else the error to answer with.
 * Comparison is constant-time so the token cannot be guessed byte by byte.
 */
export function checkToken(call: { metadata: Metadata }, token: string | undefined): { code: status; details: string } | undefined {
  if (token === undefined) return undefined;
  const header = call.metadata.get('authorization')[0];
  const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
  if (presented !== undefined && constantTimeEqual(presented, token)) return undefined;
  return {
    code: status.UNAUTHENTICATED,
    details: presented === undefined ? 'missing cluster token' : 'wrong cluster token',
  };
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function callMetadata(token: string | undefined): Metadata {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** TLS when a certificate and key are given; with a CA bundle too, callers must present certificates (mutual TLS). */
export function serverCredentials(tls: TlsFiles | undefined): ServerCredentials {
  if (!tls?.certFile || !tls.keyFile) return ServerCredentials.createInsecure();
  const ca = tls.caFile ? readFileSync(tls.caFile) : null;
  return ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], ca !== null);
}

export function channelCredentials(tls: TlsFiles | undefined): ChannelCredentials {
  if (!tls?.caFile && !tls?.certFile) return grpcCredentials.createInsecure();
  return grpcCredentials.createSsl(
    tls.caFile ? readFileSync(tls.caFile) : null,
    tls.keyFile ? readFileSync(tls.keyFile) : null,
    tls.certFile ? readFileSync(tls.certFile) : null,
  );
}

export type { CallCredentials };
