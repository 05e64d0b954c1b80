// bench:many's Python side: runs many_baselines.py on the fleet's .npy matrix with Debian's python3 and gathers
// what it prints (statsmodels sampled per model, NumPy batched over every series, coefficient checks).
import { fileURLToPath } from 'node:url';
import { runPythonReference } from './reference.js';

export interface PythonConfig {
  npy: string;
  series: number;
  train: number;
  p: number;
  k: number;
  /** Series the statsmodels loops time (a stride sample over all of them). */
  sample: number;
  processes: number;
  repeats: number;
  /** Series per NumPy batch; 0: the fastest of a few sizes, tried first on up to 20,000 series. */
  chunk: number;
  /** Rows of the .npy whose coefficients are printed for the correctness checks. */
  checks: number[];
  arima?: { series: number; sample: number; order: [number, number, number] };
}

interface Timed {
  models: number;
  seconds: number;
}

export interface PythonResults {
  loop: Timed;
  pool?: Timed & { processes: number; peak_rss_bytes: number };
  numpy: Array<Timed & { repeat: number; chunk: number; read_s: number; fit_s: number; score_s: number; anomalies: number; peak_rss_bytes: number }>;
  arima?: Timed & { failed: number; order: number[] };
  /** Row of the .npy to its coefficients by statsmodels and by the NumPy baseline. */
  checks: Map<number, { statsmodels: number[]; numpy: number[] }>;
  environment: { numpy: string; statsmodels: string };
}

type Line = { measure: string } & Record<string, unknown>;

export function runPythonBaselines(config: PythonConfig): PythonResults {
  const script = fileURLToPath(new URL('../many_baselines.py', import.meta.url));
  // One BLAS thread per process, as a careful user sets it: the matrices are 9 wide, where threads only cost,
  // and a pool of 2 processes with 2 BLAS threads each would oversubscribe the cores.
  const env = { ...process.env, OPENBLAS_NUM_THREADS: process.env['OPENBLAS_NUM_THREADS'] ?? '1', OMP_NUM_THREADS: process.env['OMP_NUM_THREADS'] ?? '1' };
  const lines = runPythonReference<Line>(script, [JSON.stringify(config)], 60 * 60_000, env);
  const one = <T>(measure: string): T | undefined => lines.find((line) => line.measure === measure) as T | undefined;
  const loop = one<Timed>('statsmodels_loop');
  if (loop === undefined) throw new Error('many_baselines.py printed no statsmodels_loop result');
  const checks = new Map<number, { statsmodels: number[]; numpy: number[] }>();
  for (const line of lines) {
    if (line.measure === 'check') checks.set(line['index'] as number, { statsmodels: line['statsmodels'] as number[], numpy: line['numpy'] as number[] });
  }
  const pool = one<PythonResults['pool'] & object>('statsmodels_pool');
  const arima = one<PythonResults['arima'] & object>('statsmodels_arima');
  return {
    loop,
    ...(pool === undefined ? {} : { pool }),
    numpy: lines.filter((line) => line.measure === 'numpy_batched') as unknown as PythonResults['numpy'],
    ...(arima === undefined ? {} : { arima }),
    checks,
    environment: one<PythonResults['environment']>('environment') ?? { numpy: '?', statsmodels: '?' },
  };
}
