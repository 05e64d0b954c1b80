// A loopback port nothing listens on at the moment of asking (the kernel's pick for port 0, released again): for
// a server a test starts next, or for an address where a test needs nothing to answer.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
