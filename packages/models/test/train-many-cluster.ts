// A real cluster for the trainMany tests of one file: a scheduler and worker processes on 127.0.0.1 (2 workers x
// 1 thread, as the benchmark runs), and a connected client; torn down after the file.
import { after, before } from 'node:test';
import { Client, LocalCluster } from '@loom/client';

export interface ClusterFixture {
  cluster: LocalCluster;
  client: Client;
}

export function useLocalCluster(workers = 2): ClusterFixture {
  const fixture = {} as ClusterFixture;
  before(async () => {
    fixture.cluster = await LocalCluster.start({ workers, threadsPerWorker: 1, memoryLimit: '1GiB' });
    fixture.client = await Client.connect(fixture.cluster.address);
  });
  after(async () => {
    await fixture.client?.close();
    await fixture.cluster?.close();
  });
  return fixture;
}
