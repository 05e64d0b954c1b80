// A private redis-server for LocalCluster's jobs and for tests: started on a free loopback port with its data in
// a directory of its own, append-only file on (so what it acknowledged survives a kill) and the `noeviction`
// policy BullMQ requires. It can be killed and restarted on the same port and data, as a crash would leave it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoomError } from '@loom/protocol';

export interface EmbeddedRedisOptions {
  /** Data directory (default: a new temporary directory, removed by close()). */
  dir?: string;
  /** Port (default: a free loopback port). */
  port?: number;
  /** Require this password (Redis AUTH); the url then carries it. */
  password?: string;
  /** Extra redis-server arguments, e.g. ['--maxmemory-policy', 'allkeys-lru']; they override the defaults. */
  args?: string[];
  /** The redis-server binary (default: redis-server on PATH). */
  binary?: string;
  /** How long the server may take to accept connections (default 10 s). */
  readyTimeoutMs?: number;
}

const INSTALL_HINT = 'install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or give a redisUrl';

/** Whether a redis-server binary can be run. */
export function redisServerAvailable(binary = 'redis-server'): boolean {
  return spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
}

export class EmbeddedRedis {
  readonly port: number;
  readonly dir: string;
  readonly #options: EmbeddedRedisOptions;
  readonly #ownsDir: boolean;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  private constructor(port: number, dir: string, ownsDir: boolean, options: EmbeddedRedisOptions) {
    this.port = port;
    this.dir = dir;
    this.#ownsDir = ownsDir;
    this.#options = options;
  }

  /** Starts redis-server and resolves once it accepts connections. */
  static async start(options: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
    const binary = options.binary ?? 'redis-server';
    if (!redisServerAvailable(binary)) throw new LoomError('INTERNAL', `no redis-server binary ('${binary}') to start a private Redis for jobs: ${INSTALL_HINT}`);
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'loom-redis-'));
    mkdirSync(dir, { recursive: true });
    const redis = new EmbeddedRedis(options.port ?? (await freePort()), dir, options.dir === undefined, options);
    await redis.restart();
    return redis;
  }

  /** redis://[:password@]127.0.0.1:port */
  get url(): string {
    const auth = this.#options.password === undefined ? '' : `:${encodeURIComponent(this.#options.password)}@`;
    return `redis://${auth}127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** The server's pid, while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the server again on the same port and data directory (after kill()); it replays its append-only file. */
  async restart(): Promise<void> {
    if (this.#child) throw new LoomError('INTERNAL', `redis-server on port ${this.port} is already running`);
    const options = this.#options;
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', '', '--daemonize', 'no',
      ...(options.password === undefined ? [] : ['--requirepass', options.password]),
      ...(options.args ?? []),
    ];
    const child = spawn(options.binary ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    running.add(child);
    if (!exitHooked) process.once('exit', killRunning);
    exitHooked = true;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.#exited.then(() => {
      running.delete(child);
      if (this.#child === child) this.#child = undefined;
    });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new LoomError('INTERNAL', `redis-server on port ${this.port} ${why}: ${output.slice(-2000)}`));
      };
      const timeoutMs = options.readyTimeoutMs ?? 10_000;
      const timer = setTimeout(() => fail(`was not ready within ${timeoutMs} ms`), timeoutMs);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.stdout?.resume();
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.once('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before it was ready`));
      child.once('error', (error) => fail(`could not be started: ${error.message}`));
    });
  }

  /** Stops the server with `signal` (SIGKILL: a crash; SIGTERM: a clean shutdown) and resolves once it exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.#child?.kill(signal);
    await this.#exited;
  }

  /** Stops the server and removes its data directory if it made it. */
  async close(): Promise<void> {
    await this.kill('SIGTERM');
    if (this.#ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Servers still running: they must not outlive this process. */
const running = new Set<ChildProcess>();
let exitHooked = false;

function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** A port nothing listens on now (the kernel's pick for port 0, released again). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
