// The PyTorch side of `pnpm bench:train` (bench/torch_train.py under Debian's /usr/bin/python3): a process that
// trains on request, one step per request, so the benchmark can alternate PyTorch and Loom steps under the same
// background load, and the float32 GEMM peak of torch.mm.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runPythonReference, SYSTEM_PYTHON } from './reference.js';

const SCRIPT = fileURLToPath(new URL('../torch_train.py', import.meta.url));

/** Pins torch's OpenMP pool and OpenBLAS (Debian's torch calls it for Linear layers) to `threads`. */
function threadEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
}

interface Reply {
  readonly kind: string;
  readonly ms?: number;
  readonly torch?: string;
  readonly flops?: number;
}

export class TorchTrainer {
  private readonly lines: AsyncIterator<string>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly reader: Interface,
    readonly version: string,
    lines: AsyncIterator<string>,
  ) {
    this.lines = lines;
  }

  /** Starts the process; it builds CharCNN-small and runs `warmup` steps before it answers. */
  static async start(batch: number, threads: number, warmup: number): Promise<TorchTrainer> {
    const child = spawn(SYSTEM_PYTHON, [SCRIPT, 'serve', String(batch), String(threads), String(warmup)], { env: threadEnv(threads) });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
    const reader = createInterface({ input: child.stdout });
    const lines = reader[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done === true) throw new Error(`torch_train.py serve exited: ${stderr.split('\n').slice(-8).join('\n')}`);
    const ready = JSON.parse(first.value) as Reply;
    return new TorchTrainer(child, reader, ready.torch ?? '', lines);
  }

  /** One training step on a fresh random batch; its milliseconds as PyTorch timed them. */
  async step(): Promise<number> {
    this.child.stdin.write('step\n');
    const line = await this.lines.next();
    if (line.done === true) throw new Error('torch_train.py serve exited during a step');
    const reply = JSON.parse(line.value) as Reply;
    if (reply.kind !== 'step' || reply.ms === undefined) throw new Error(`unexpected reply from torch_train.py: ${line.value}`);
    return reply.ms;
  }

  async close(): Promise<void> {
    const exited = this.child.exitCode !== null || this.child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end('quit\n');
    this.reader.close();
    await exited;
  }
}

/** torch.mm's best float32 rate (FLOP/s) on 2048 x 2048 matrices with `threads` threads. */
export function torchPeak(threads: number): number {
  const [reply] = runPythonReference<Reply>(SCRIPT, ['peak', String(threads)], 120_000, threadEnv(threads));
  return reply?.flops ?? NaN;
}
