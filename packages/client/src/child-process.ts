// Starting Loom processes (scheduler, workers) as children and knowing when they are ready: each prints one
// `LOOM_READY {json}` line on stdout. Their stderr (JSON logs) goes to ours, the last few KiB are kept for error
// messages, and every child still running is killed when this process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { LoomError } from '@loom/protocol';

const READY_PREFIX = 'LOOM_READY ';
const STDERR_TAIL_BYTES = 4096;

export interface LaunchOptions {
  /** For messages: 'scheduler', 'worker local-0'. */
  label: string;
  /** The script node runs. */
  entry: string;
  /** Flags for node itself (V8's among them), before the script. */
  nodeFlags?: readonly string[];
  args: string[];
  env: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class LoomProcess {
  readonly exited: Promise<ExitStatus>;
  private stderrTail = '';
  private exitStatus: ExitStatus | undefined;
  /** Later LOOM_READY lines: a nanny announces each worker it restarts. */
  onReannounce: ((ready: Record<string, unknown>) => void) | undefined;
  /** A process this one supervises (a nanny's worker): killed along with it when this process exits. */
  companionPid: number | undefined;

  private constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        live.delete(this);
        resolve(this.exitStatus);
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** Starts the process and resolves with its ready announcement; kills it and rejects if it is not ready in time. */
  static async launch(options: LaunchOptions): Promise<{ process: LoomProcess; ready: Record<string, unknown> }> {
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), options.entry, ...options.args], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    installExitHook();
    const launched = new LoomProcess(options.label, child);
    live.add(launched);
    const ready = await launched.waitForReady(options.readyTimeoutMs);
    return { process: launched, ready };
  }

  /** Sends `signal`, then SIGKILL if the process has not exited after `graceMs`. Resolves once it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.child.kill(signal);
    if (signal === 'SIGKILL') return this.exited;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  private waitForReady(timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let buffered = '';
      let announced = false;
      const fail = (reason: string): void => {
        clearTimeout(timer);
        this.child.kill('SIGKILL');
        const tail = this.stderrTail.trim();
        reject(new LoomError('INTERNAL', `${this.label} ${reason}${tail ? `; last stderr output:\n${tail}` : ''}`));
      };
      const timer = setTimeout(() => fail(`was not ready within ${timeoutMs} ms`), timeoutMs);
      this.child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (announced && line.startsWith(READY_PREFIX)) {
            try {
              this.onReannounce?.(JSON.parse(line.slice(READY_PREFIX.length)) as Record<string, unknown>);
            } catch {
              process.stdout.write(`${line}\n`);
            }
            continue;
          }
          if (announced || !line.startsWith(READY_PREFIX)) {
            // Anything else a child prints (e.g. console.log in a task) is passed through.
            process.stdout.write(`${line}\n`);
            continue;
          }
          announced = true;
          clearTimeout(timer);
          try {
            resolve(JSON.parse(line.slice(READY_PREFIX.length)) as Record<string, unknown>);
          } catch {
            fail(`announced readiness with invalid JSON: ${line}`);
          }
        }
      });
      void this.exited.then((status) => {
        if (announced) return;
        // Let the last stderr chunks arrive before quoting them.
        setImmediate(() => fail(`exited (${status.signal ?? `code ${status.code}`}) before it was ready`));
      });
      this.child.once('error', (error) => fail(`could not be started: ${error.message}`));
    });
  }
}

const live = new Set<LoomProcess>();
let hooked = false;

// Children must not outlive us. 'exit' covers normal exits and uncaught errors; a fatal signal skips 'exit', so
// SIGINT/SIGTERM/SIGHUP kill the children and are then re-raised with their default action when nobody else
// handles them. A SIGKILL of this process cannot be caught: children then stop when their sessions break.
function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function killAll(): void {
  for (const launched of live) {
    launched.child.kill('SIGKILL');
    if (launched.companionPid !== undefined) killPid(launched.companionPid, 'SIGKILL');
  }
  live.clear();
}

/** Signals a process that is not our child; one already gone is fine. */
export function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: it already exited.
  }
}
