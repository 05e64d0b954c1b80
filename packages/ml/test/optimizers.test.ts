import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildModel, createSession, GraphBuilder, isMlError, normalTensor, optimizerStep, relativeError, Rng, runSession,
  type OptimizerConfig, type TensorData, type Value,
} from '../src/index.js';

// The optimizer graph pieces against plain-JS reference implementations (float64), three steps each, with the
// state fed back in between exactly as the trainer does.
const shapes: Record<string, number[]> = { w: [2, 3], b: [3] };

function reference(config: OptimizerConfig, params: Record<string, number[]>, grads: Record<string, number[]>[], rates: number[]): Record<string, number[]> {
  const p = structuredClone(params);
  const m: Record<string, number[]> = {};
  const v: Record<string, number[]> = {};
  for (const name of Object.keys(p)) { m[name] = p[name]!.map(() => 0); v[name] = p[name]!.map(() => 0); }
  grads.forEach((stepGrads, t) => {
    let scale = 1;
    if (config.maxGradNorm !== undefined) {
      const norm = Math.sqrt(Object.values(stepGrads).flat().reduce((a, x) => a + x * x, 0));
      scale = Math.min(1, config.maxGradNorm / Math.max(norm, 1e-12));
    }
    for (const name of Object.keys(p)) {
      const decay = shapes[name]!.length >= 2 ? config.weightDecay ?? 0 : 0;
      p[name] = p[name]!.map((x, i) => {
        const g = stepGrads[name]![i]! * scale;
        let direction: number;
        if (config.kind === 'sgd') {
          const mu = config.momentum ?? 0;
          m[name]![i] = mu * m[name]![i]! + g;
          direction = config.nesterov ? g + mu * m[name]![i]! : m[name]![i]!;
        } else {
          const [b1, b2, eps] = [config.beta1 ?? 0.9, config.beta2 ?? 0.999, config.epsilon ?? 1e-8];
          m[name]![i] = b1 * m[name]![i]! + (1 - b1) * g;
          v[name]![i] = b2 * v[name]![i]! + (1 - b2) * g * g;
          direction = (m[name]![i]! / (1 - b1 ** (t + 1))) / (Math.sqrt(v[name]![i]! / (1 - b2 ** (t + 1))) + eps);
        }
        return x - rates[t]! * (direction + decay * x);
      });
    }
  });
  return p;
}

async function compare(config: OptimizerConfig): Promise<number> {
  const g = new GraphBuilder({ dtype: 'float64' });
  const params = Object.entries(shapes).map(([name, shape]) => g.param(name, shape));
  const grads = Object.entries(shapes).map(([name, shape]) => g.input(`${name}.grad`, 'float64', shape));
  const lr = g.input('lr', 'float64', []);
  const step = optimizerStep(g, params, grads, lr, config);
  const outputs: Record<string, Value> = {};
  params.forEach((p, i) => { outputs[`${p.name}.next`] = step.updated[i] as Value; });
  for (const slot of step.state) outputs[`${slot.name}.next`] = slot.output;
  const session = (await createSession(buildModel(g, { outputs }))).session;

  const rng = new Rng(13);
  let weights: Record<string, TensorData> = {};
  for (const [name, shape] of Object.entries(shapes)) weights[name] = normalTensor(rng, 'float64', shape);
  const start = Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, Array.from(t.data as Float64Array)]));
  let state: Record<string, TensorData> = {};
  for (const slot of step.state) state[slot.name] = { dtype: 'float64', shape: [...slot.shape], data: new Float64Array(slot.shape.reduce((a, b) => a * b, 1)) };
  const allGrads: Record<string, number[]>[] = [];
  const rates = [0.1, 0.05, 0.02];
  for (const rate of rates) {
    const stepGrads: Record<string, TensorData> = {};
    for (const [name, shape] of Object.entries(shapes)) stepGrads[`${name}.grad`] = normalTensor(rng, 'float64', shape, 3);
    allGrads.push(Object.fromEntries(Object.keys(shapes).map((name) => [name, Array.from(stepGrads[`${name}.grad`]!.data as Float64Array)])));
    const out = await runSession(session, { ...weights, ...state, ...stepGrads, lr: { dtype: 'float64', shape: [], data: Float64Array.of(rate) } }, Object.keys(outputs));
    weights = Object.fromEntries(Object.keys(shapes).map((name) => [name, out[`${name}.next`]!]));
    state = Object.fromEntries(step.state.map((slot) => [slot.name, out[`${slot.name}.next`]!]));
  }
  const want = reference(config, start, allGrads, rates);
  await session.release();
  return relativeError(Object.keys(shapes).flatMap((name) => Array.from(weights[name]!.data as Float64Array)), Object.values(want).flat());
}

test('SGD, SGD with momentum and Nesterov momentum match the reference', async () => {
  assert.ok(await compare({ kind: 'sgd' }) < 1e-12);
  assert.ok(await compare({ kind: 'sgd', momentum: 0.9, weightDecay: 0.1 }) < 1e-12);
  assert.ok(await compare({ kind: 'sgd', momentum: 0.8, nesterov: true }) < 1e-12);
});

test('Adam with decoupled weight decay and gradient clipping matches the reference', async () => {
  assert.ok(await compare({ kind: 'adam' }) < 1e-12);
  assert.ok(await compare({ kind: 'adam', beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.05 }) < 1e-12);
  assert.ok(await compare({ kind: 'adam', maxGradNorm: 1 }) < 1e-12);
});

test('optimizer settings out of range are refused', () => {
  const g = new GraphBuilder();
  const p = g.param('p', [2]);
  const lr = g.input('lr', 'float32', []);
  assert.throws(() => optimizerStep(g, [p], [p], lr, { kind: 'sgd', momentum: 1.5 }), (e: unknown) => isMlError(e, 'INVALID_ARGUMENT'));
  assert.throws(() => optimizerStep(g, [p], [p], lr, { kind: 'adam', beta2: 1 }), (e: unknown) => isMlError(e, 'INVALID_ARGUMENT'));
});
