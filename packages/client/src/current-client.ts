// The current client, like Dask's default client: the most recently connected client that is still open.
// Module-level compute/persist and Delayed#compute use it when no client is given.
import { LoomError } from '@loom/protocol';
import type { Delayed } from './delayed.js';

/** What delayed values need from a client. */
export interface DelayedRunner {
  computeDelayed(values: readonly Delayed<unknown>[]): Promise<unknown[]>;
  persistDelayed(values: readonly Delayed<unknown>[]): Promise<Delayed<unknown>[]>;
}

const open: DelayedRunner[] = [];

export function setCurrentClient(client: DelayedRunner): void {
  forgetClient(client);
  open.push(client);
}

export function forgetClient(client: DelayedRunner): void {
  const index = open.lastIndexOf(client);
  if (index >= 0) open.splice(index, 1);
}

export function currentClient(): DelayedRunner {
  const client = open[open.length - 1];
  if (!client) {
    throw new LoomError(
      'UNKNOWN_CLIENT',
      'no Loom client is connected: call `await Client.connect(address)` first (compute and persist use the most ' +
        'recently connected open client), or pass a client explicitly, e.g. value.compute(client).',
    );
  }
  return client;
}
