import * as ort from 'onnxruntime-node';
import { charCnn, Trainer, Rng } from '@loom/ml';
const extra = JSON.parse(process.argv[2] ?? '{}');
const create = ort.InferenceSession.create.bind(ort.InferenceSession);
ort.InferenceSession.create = (m, o) => create(m, { ...o, ...extra });
const spec = charCnn({ classes: ['a','b','c','d'], size: 'small', length: 1014 });
const t = await Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 1e-3, seed: 1, execution: { threads: 1 } });
const rng = new Rng(1);
const batch = 32; const times = [];
for (let i = 0; i < 8; i++) {
  const data = { inputs: { chars: BigInt64Array.from({ length: batch * 1014 }, () => BigInt(rng.int(71))) }, labels: Int32Array.from({ length: batch }, () => rng.int(4)) };
  const t0 = performance.now(); await t.step(data); times.push(performance.now() - t0);
}
const rss = process.memoryUsage().rss / 2**20;
console.log(JSON.stringify(extra), times.map(x => x.toFixed(0)).join(' '), 'rss MiB', rss.toFixed(0));
