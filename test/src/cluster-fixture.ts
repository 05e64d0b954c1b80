// One real cluster per test file: a scheduler process and N worker processes on 127.0.0.1, plus a connected
// client; torn down after the file (Dask's gen_cluster, as node:test hooks).
import { after, before } from 'node:test';
import { Client, LocalCluster } from '@loom/client';

export interface ClusterFixture {
  cluster: LocalCluster;
  client: Client;
}

type StartOptions = Parameters<typeof LocalCluster.start>[0];

export function useCluster(options: StartOptions = {}): ClusterFixture {
  const fixture = {} as ClusterFixture;
  before(async () => {
    fixture.cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1, memoryLimit: '1GiB', ...options });
    fixture.client = await Client.connect(fixture.cluster.address, options?.token ? { token: options.token } : {});
  });
  after(async () => {
    await fixture.client?.close();
    await fixture.cluster?.close();
  });
  return fixture;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { eventually } from '@loom/testing';
