// Redis that cannot serve jobs is refused within seconds with a clear message: nothing listening, a server that
// accepts but never answers, a wrong or missing password, and an eviction policy other than noeviction. A Redis
// with AUTH works with the password in the URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedRedis } from '@loom/client';
import { isJobsError, JobQueue, preflight } from '../src/index.js';

test('a Redis URL where nothing listens is REDIS_UNREACHABLE at once, naming the URL without its password', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  await assert.rejects(JobQueue.open(`redis://:secret@127.0.0.1:${port}`), (error: unknown) => {
    assert.ok(isJobsError(error, 'REDIS_UNREACHABLE'), String(error));
    assert.match(error.message, new RegExp(`cannot connect to Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    assert.doesNotMatch(error.message, /secret/);
    return true;
  });
});

test('a server that accepts but never answers is REDIS_UNREACHABLE after the connect timeout, not a hang', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  try {
    await assert.rejects(preflight({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 }), (error: unknown) => isJobsError(error, 'REDIS_UNREACHABLE') && /did not answer within 300 ms/.test(error.message));
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test('a Redis that may evict keys is refused, saying how to set noeviction', async () => {
  const redis = await EmbeddedRedis.start({ args: ['--maxmemory-policy', 'allkeys-lru'] });
  try {
    await assert.rejects(JobQueue.open(redis.url), (error: unknown) => isJobsError(error, 'EVICTION_POLICY') && /maxmemory-policy allkeys-lru.*CONFIG SET maxmemory-policy noeviction/s.test(error.message));
  } finally {
    await redis.close();
  }
});

test('Redis AUTH: the password in the URL works; a wrong or missing one is REDIS_AUTH', async () => {
  const redis = await EmbeddedRedis.start({ password: 's3cret' });
  try {
    const queue = await JobQueue.open(redis.url);
    const id = await queue.submit('anything', { a: 1 });
    assert.equal((await queue.show(id)).state, 'waiting');
    await queue.close();
    const port = redis.port;
    await assert.rejects(JobQueue.open(`redis://:wrong@127.0.0.1:${port}`), (error: unknown) => isJobsError(error, 'REDIS_AUTH') && /refused the connection's credentials/.test(error.message));
    await assert.rejects(JobQueue.open(`redis://127.0.0.1:${port}`), (error: unknown) => isJobsError(error, 'REDIS_AUTH'));
  } finally {
    await redis.close();
  }
});

/** A private CA and a server certificate for 127.0.0.1, made with openssl. */
function testCertificates(): { dir: string; ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'loom-redis-tls-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=loom test CA', '-keyout', at('ca.key'), '-out', at('ca.crt'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', at('server.key'), '-out', at('server.csr'));
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', at('san.ext'), '-out', at('server.crt'));
  return { dir, ca: at('ca.crt'), cert: at('server.crt'), key: at('server.key') };
}

test('rediss:// reaches a TLS-only port with the CA given; without it the server is not trusted, said within seconds', async () => {
  const certs = testCertificates();
  const tlsPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const redis = await EmbeddedRedis.start({ args: ['--tls-port', String(tlsPort), '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no'] });
  try {
    const url = `rediss://127.0.0.1:${tlsPort}`;
    const queue = await JobQueue.open(url, { tls: { ca: readFileSync(certs.ca) } });
    const id = await queue.submit('anything', { over: 'tls' });
    assert.equal((await queue.show(id)).state, 'waiting');
    await queue.close();
    const started = Date.now();
    await assert.rejects(JobQueue.open(url, { connectTimeoutMs: 3_000 }), (error: unknown) => isJobsError(error) && /certificate/i.test(error.message));
    assert.ok(Date.now() - started < 10_000, 'an untrusted server is an error within seconds');
  } finally {
    await redis.close();
  }
});

test('only redis:// and rediss:// URLs are taken', async () => {
  await assert.rejects(JobQueue.open('http://127.0.0.1:6379'), (error: unknown) => isJobsError(error, 'BAD_OPTIONS') && /redis:\/\/ or rediss:\/\//.test(error.message));
});
