// How fast the lstm family trains, batched and alone: fits N generated 720-value series (noisy sines) with
// fitBatch at a given number of models per onnxruntime call and prints models per second, wall and CPU.
// The session of that shape is built and run once first, so its one-time cost is not counted.
//   node packages/models/dist/bench/lstm-rate.js [--series 256] [--per-call 256] [--window 24] [--hidden 16] [--steps 300] [--batch 32]
import { parseArgs } from 'node:util';
import { lstm } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    series: { type: 'string', default: '256' },
    'per-call': { type: 'string', default: '256' },
    window: { type: 'string', default: '24' },
    hidden: { type: 'string', default: '16' },
    steps: { type: 'string', default: '300' },
    batch: { type: 'string', default: '32' },
  },
});
const [count, perCall, window, hidden, steps, batch] = [args.series, args['per-call'], args.window, args.hidden, args.steps, args.batch].map(Number) as [number, number, number, number, number, number];

let state = 1;
const uniform = (): number => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 2 ** 32;
};
const series = Array.from({ length: count }, () => {
  const period = 12 + 36 * uniform();
  const phase = 2 * Math.PI * uniform();
  return Float64Array.from({ length: 720 }, (_, t) => Math.sin((2 * Math.PI * t) / period + phase) + 0.2 * (uniform() - 0.5));
});
const family = lstm({ window, hidden, steps, batch });
await family.fitBatch(series.slice(0, Math.min(perCall, count)), { modelsPerCall: perCall });
const cpuBefore = process.cpuUsage();
const started = performance.now();
const fitted = await family.fitBatch(series, { modelsPerCall: perCall });
const wall = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpuBefore);
const cpu = (used.user + used.system) / 1e6;
console.log(JSON.stringify({
  family: family.key(), series: count, modelsPerCall: perCall, sessions: fitted.training.groups, calls: fitted.training.calls,
  wallSeconds: +wall.toFixed(2), cpuSeconds: +cpu.toFixed(2), modelsPerSecond: +(count / wall).toFixed(1), modelsPerCpuSecond: +(count / cpu).toFixed(1),
  finalLoss: +(fitted.training.lossCurve.at(-1) ?? NaN).toFixed(4), failures: fitted.failures.length,
}));
