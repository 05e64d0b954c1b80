// Command-line flags every Loom server role shares (where it listens, its token, its TLS files), parsed one way
// for `loom scheduler` and `loom worker`.
import type { TlsFiles } from './auth.js';

/** `node:util` parseArgs options for --host, --port, --token and the TLS files. */
export const SERVER_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  token: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
} as const;

/** The TLS files named by the flags, or undefined for plaintext; a certificate and its key go together. */
export function tlsFromFlags(values: { 'tls-cert'?: string; 'tls-key'?: string; 'tls-ca'?: string }): TlsFiles | undefined {
  const tls: TlsFiles = {};
  if (values['tls-cert'] !== undefined) tls.certFile = values['tls-cert'];
  if (values['tls-key'] !== undefined) tls.keyFile = values['tls-key'];
  if (values['tls-ca'] !== undefined) tls.caFile = values['tls-ca'];
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new Error('--tls-cert and --tls-key go together');
  }
  return Object.keys(tls).length > 0 ? tls : undefined;
}
