// The client the resume test kills: runs trainMany against the test's cluster and prints `staged <key>` as each
// batch is staged, so the test knows what a crashed run left behind.
import { Client } from '@loom/client';
import { loadFamily, ModelStore, readSplit, trainMany } from '../../src/index.js';

interface ChildArgs {
  address: string;
  split: string;
  store: string;
  group: string;
  family: { module: string; export: string; params: unknown };
  pointsPerSlice: number;
}

const args = JSON.parse(process.argv[2] as string) as ChildArgs;
const client = await Client.connect(args.address);
const store = await ModelStore.open(args.store);
const run = await trainMany(client, {
  split: await readSplit(args.split),
  family: await loadFamily(args.family),
  store,
  group: args.group,
  pointsPerSlice: args.pointsPerSlice,
  onProgress: (progress) => {
    if (progress.batch !== undefined) process.stdout.write(`staged ${progress.batch}\n`);
  },
});
process.stdout.write(`done ${run.version}\n`);
await client.close();
