#!/usr/bin/env node
// `npm run demo:train`: CharCNN (Zhang, Zhao & LeCun 2015) learns to tell spam from ham in the SpamAssassin
// public corpus, trained through a local Loom cluster: CSV partitions are read and vectorized on the workers,
// two data-parallel replicas train on them and average every few steps, and the held-out 20 % (chosen by a hash
// of each message) is scored at the end. Epochs, learning rate and optimizer are train()'s defaults: it trains
// until the loss on a validation tenth of the training rows stops improving and keeps the best epoch. The model
// is written to spam-charcnn.onnx with its alphabet, length and classes in metadata_props, so any onnxruntime
// can use it.
//
//   --paper     CharCNN-small as in the paper (256 features, 1024 units, 1014 characters); slow on a laptop CPU
//   --epochs N  the most epochs (default: train()'s, 30, cut short by early stopping)
//   --replicas N (default 2)     --out FILE (default spam-charcnn.onnx)
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, LocalCluster, dataframe as dd } from '@loom/client';
import { charcnn, InferenceModel, train } from '@loom/ml';
import { writeSpamCorpus } from './spam-corpus.mjs';

const { values: args } = parseArgs({
  options: {
    paper: { type: 'boolean', default: false },
    epochs: { type: 'string' },
    replicas: { type: 'string', default: '2' },
    out: { type: 'string', default: 'spam-charcnn.onnx' },
  },
});
const say = (message) => process.stdout.write(`${message}\n`);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

const corpus = writeSpamCorpus(join(tmpdir(), 'loom-spam-assassin'));
const baseline = Math.max(corpus.counts.spam, corpus.counts.ham) / corpus.messages;
say(`SpamAssassin corpus: ${corpus.messages} messages (${corpus.counts.spam} spam, ${corpus.counts.ham} ham) as CSV; ` +
  `majority-class baseline ${(100 * baseline).toFixed(1)} %`);

const model = args.paper ? charcnn({ size: 'small', length: 1014 }) : charcnn({ size: 'small', length: 512, width: 64 });
const cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1, memoryLimit: '2GiB' });
const client = await Client.connect(cluster.address);
say(`Local cluster: 2 workers x 1 thread at ${cluster.address} (${elapsed()})`);
try {
  const df = dd.readCsv(corpus.glob, { blocksize: '4MiB' });
  say(`${df.npartitions} partitions; model CharCNN ${args.paper ? 'small (paper)' : 'small, width 64, 512 characters'}, ` +
    `${args.replicas} replicas, batch 32, train()'s default epochs, rate and optimizer`);
  let lastReport = 0;
  const result = await train(client, {
    data: df, text: 'body', label: 'label', model,
    ...(args.epochs !== undefined ? { epochs: Number(args.epochs) } : {}), batchSize: 32, replicas: Number(args.replicas),
    testFraction: 0.2, seed: 1, out: args.out,
    onProgress: ({ epoch, step, loss, samples, elapsedSeconds }) => {
      if (elapsedSeconds - lastReport < 5) return;
      lastReport = elapsedSeconds;
      say(`  epoch ${epoch + 1} step ${step}: loss ${loss.toFixed(4)} (${samples} samples, ${elapsedSeconds.toFixed(0)} s)`);
    },
  });
  const { metrics } = result;
  const curve = [];
  const every = Math.max(1, Math.floor(metrics.trainLoss.length / 12));
  for (let i = 0; i < metrics.trainLoss.length; i += every) {
    const window = metrics.trainLoss.slice(i, i + every);
    curve.push((window.reduce((a, b) => a + b, 0) / window.length).toFixed(3));
  }
  say(`\nLoss curve (mean per ${every} steps): ${curve.join(' ')}`);
  say(`Validation loss per epoch (${metrics.validationRows} messages): ${metrics.validationLoss.map((loss) => loss.toFixed(3)).join(' ')}; ` +
    `${metrics.epochs} epochs, kept epoch ${metrics.bestEpoch + 1}`);
  say(`Test accuracy ${(100 * (metrics.testAccuracy ?? 0)).toFixed(2)} % on ${metrics.testRows} held-out messages ` +
    `(baseline ${(100 * baseline).toFixed(1)} %), test loss ${metrics.testLoss?.toFixed(4)}`);
  for (const warning of metrics.warnings) say(`Warning: ${warning}`);
  say(`${metrics.steps} steps, ${metrics.samples} samples in ${metrics.seconds.toFixed(1)} s (${metrics.samplesPerSecond.toFixed(0)} samples/s), ` +
    `at most ${metrics.maxPartitionsHeld} partitions held by the loader, provider ${metrics.provider}`);

  // The exported file stands alone: onnxruntime with the metadata it carries.
  const exported = await InferenceModel.load(result.modelPath);
  const samples = ['Subject: URGENT: claim your FREE prize now!!! Click here to unsubscribe',
    'Subject: Re: patch for the build script\n\nThanks, I applied it to CVS and the tests pass now.'];
  const predictions = await exported.classifyTexts(samples);
  say(`Exported ${result.modelPath} (${(result.model.length / 2 ** 20).toFixed(1)} MiB); loaded back with onnxruntime:`);
  predictions.forEach((prediction, i) => say(`  ${JSON.stringify(samples[i].slice(0, 60))}... -> ${prediction.label} ` +
    `(p(spam) = ${prediction.probabilities.spam.toFixed(3)})`));
  await exported.dispose();
} finally {
  await client.close();
  await cluster.close();
}
say(`Done in ${elapsed()}`);
