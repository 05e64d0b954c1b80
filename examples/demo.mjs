#!/usr/bin/env node
// `npm run demo`: Loom on a local cluster (a scheduler and two worker processes on 127.0.0.1), no setup needed.
// 1. the README example; 2. a Monte Carlo estimate of pi over 48 tasks, reported as they complete;
// 3. a word count over generated text, mapped per partition and reduced as a tree.
import { Client, LocalCluster, compute, delayed } from '@loom/client';

const say = (message) => process.stdout.write(`${message}\n`);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(2)} s`;

say('Starting a local cluster: 1 scheduler + 2 workers x 1 thread ...');
// Workers log structured JSON (pino) to stderr; keep the demo's terminal to warnings unless asked for more.
const cluster = await LocalCluster.start({
  workers: 2,
  threadsPerWorker: 1,
  memoryLimit: '1GiB',
  env: { LOOM_LOG_LEVEL: process.env.LOOM_LOG_LEVEL ?? 'warn' },
});
const client = await Client.connect(cluster.address);
say(`  scheduler at ${cluster.address} (${elapsed()})`);

try {
  // 1. Delayed values: one graph, shared sub-results computed once.
  const inc = delayed((x) => x + 1);
  const add = delayed((a, b) => a + b);
  const total = add(inc(1), inc(2));
  say(`\n1. add(inc(1), inc(2)) = ${await total.compute()}; compute(total, inc(10)) = ${JSON.stringify(await compute(total, inc(10)))}`);

  // 2. Monte Carlo pi: CPU-heavy tasks run in worker threads; progress as each finishes.
  const samples = 2_000_000;
  const tasks = 48;
  const darts = ({ seed, n }) => {
    let state = seed >>> 0 || 1;
    const next = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    let inside = 0;
    for (let i = 0; i < n; i++) {
      const x = next();
      const y = next();
      if (x * x + y * y <= 1) inside++;
    }
    return inside;
  };
  say(`\n2. Monte Carlo pi: ${tasks} tasks x ${samples.toLocaleString()} darts`);
  const futures = client.map(darts, Array.from({ length: tasks }, (_, i) => ({ seed: (i + 1) * 7919, n: samples })));
  let done = 0;
  let inside = 0;
  for await (const future of client.asCompleted(futures)) {
    inside += await future.result();
    done++;
    if (done % 12 === 0) say(`   ${done}/${tasks} tasks done, pi ~ ${((4 * inside) / (done * samples)).toFixed(5)} (${elapsed()})`);
  }
  say(`   pi ~ ${((4 * inside) / (tasks * samples)).toFixed(5)}`);

  // 3. Word count: generate text per partition on the workers, count per partition, merge as a tree.
  const makeText = delayed((partition, lines) => {
    const words = ['loom', 'task', 'graph', 'worker', 'arrow', 'spill', 'model', 'train'];
    const out = [];
    let state = partition + 1;
    for (let i = 0; i < lines; i++) {
      const line = [];
      for (let w = 0; w < 12; w++) {
        state = (state * 1103515245 + 12345) % 2147483648;
        // The low bits of this generator cycle quickly; the high bits are the random ones.
        line.push(words[(state >>> 16) % words.length]);
      }
      out.push(line.join(' '));
    }
    return out;
  });
  const countWords = delayed((lines) => {
    const counts = {};
    for (const line of lines) for (const word of line.split(' ')) counts[word] = (counts[word] ?? 0) + 1;
    return counts;
  });
  const merge = delayed((a, b) => {
    const merged = { ...a };
    for (const [word, n] of Object.entries(b)) merged[word] = (merged[word] ?? 0) + n;
    return merged;
  });
  let level = Array.from({ length: 32 }, (_, p) => countWords(makeText(p, 5000)));
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) next.push(merge(level[i], level[i + 1]));
    level = next;
  }
  const counts = await level[0].compute();
  const totalWords = Object.values(counts).reduce((a, b) => a + b, 0);
  say(`\n3. Word count over 32 partitions x 5,000 lines: ${totalWords.toLocaleString()} words`);
  for (const [word, n] of Object.entries(counts).sort((a, b) => b[1] - a[1])) say(`   ${word.padEnd(8)} ${n}`);

  const info = await client.schedulerInfo();
  say('\nWorkers:');
  for (const w of info.workers) say(`   ${w.name} at ${w.address}: ${w.nthreads} thread(s), rss ${(w.rssBytes / 2 ** 20).toFixed(0)} MiB`);
  say(`\nDone in ${elapsed()}.`);
} finally {
  await client.close();
  await cluster.close();
}
