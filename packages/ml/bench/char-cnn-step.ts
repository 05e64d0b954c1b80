// Measures CharCNN training-step time: one Trainer.step (forward, loss, backward, Adam update in one
// onnxruntime run) on random text at the paper's input size. Usage:
//   node packages/ml/dist/bench/char-cnn-step.js [--size small|large] [--batch 32] [--threads 1] [--steps 5]
import { parseArgs } from 'node:util';
import { charCnn, Rng, Trainer } from '../src/index.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'small' },
    batch: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    steps: { type: 'string', default: '5' },
    length: { type: 'string', default: '1014' },
  },
});
const size = values.size === 'large' ? 'large' : 'small';
const batch = Number(values.batch);
const length = Number(values.length);
const spec = charCnn({ classes: ['world', 'sports', 'business', 'science'], size, length });
const started = performance.now();
const trainer = await Trainer.create(spec, {
  optimizer: { kind: 'adam' },
  learningRate: 1e-3,
  execution: { threads: Number(values.threads) },
});
const setup = performance.now() - started;
const rng = new Rng(1);
const makeBatch = (): { inputs: { chars: BigInt64Array }; labels: number[] } => ({
  inputs: { chars: BigInt64Array.from({ length: batch * length }, () => BigInt(rng.int(71))) },
  labels: Array.from({ length: batch }, () => rng.int(4)),
});
// The first step allocates onnxruntime's buffers; it is reported but not counted.
const warm = performance.now();
await trainer.step(makeBatch());
const first = performance.now() - warm;
const times: number[] = [];
for (let i = 0; i < Number(values.steps); i++) {
  const data = makeBatch();
  const t0 = performance.now();
  await trainer.step(data);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] ?? NaN;
console.log(JSON.stringify({
  model: spec.name, batch, length, threads: Number(values.threads),
  params: spec.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0),
  setupMs: Math.round(setup), firstStepMs: Math.round(first),
  medianStepMs: Math.round(median), minStepMs: Math.round(times[0] ?? NaN), stepsMs: times.map(Math.round),
}));
await trainer.dispose();
