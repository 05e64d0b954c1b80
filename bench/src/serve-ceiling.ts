// The ceiling for bench:serve: a bare node:http server, in its own process as `loom serve` is, that reads
// each request body whole and answers a fixed JSON body of the size Loom's answer has. No routing, parsing,
// model lookup or scoring: what is left is node:http and the load generator on this machine.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export async function startCeiling(responseBytes: number): Promise<{ url: string; pid: number | undefined; stop: () => void }> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--ceiling', String(responseBytes)]);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve(message as number));
    child.once('exit', (code) => reject(new Error(`the ceiling server exited with ${String(code)}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.kill() };
}

if (process.argv[2] === '--ceiling') {
  const bytes = Number(process.argv[3]);
  const body = JSON.stringify({ outputs: 'x'.repeat(Math.max(0, bytes - 15)) });
  const server = createServer((request, response) => {
    request.on('data', () => undefined);
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
}
