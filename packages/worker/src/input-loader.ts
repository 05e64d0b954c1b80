// Obtains a task's inputs for the task runner: from the local store (read back from disk if spilled) or from the
// holders the scheduler named. A local value that turns out unreadable (the store reports it lost) is fetched
// from the other holders, this worker counted among the failed ones.
import type { EncodedValue, Logger } from '@loom/protocol';
import type { DataStore } from './data-store.js';
import type { InputFetcher } from './peer-fetch.js';
import type { InputLocation } from './task-types.js';

export type InputsOutcome =
  | { ok: true; values: EncodedValue[]; privateValues: boolean[] }
  | { ok: false; missingKeys: string[]; failedHolders: string[] };

export interface InputSources {
  store: DataStore;
  fetcher: InputFetcher;
  /** This worker's address: the failed holder of a local value that vanished. */
  address: string;
  logger: Logger;
}

/** Never rejects: a store or fetcher that misbehaves makes every input missing, so the scheduler still hears of the task. */
export async function loadInputs(key: string, inputs: readonly InputLocation[], sources: InputSources): Promise<InputsOutcome> {
  const { store, fetcher, address } = sources;
  const values = new Array<EncodedValue>(inputs.length);
  const privateValues = new Array<boolean>(inputs.length).fill(false);
  const missingKeys: string[] = [];
  const failedHolders = new Set<string>();
  const load = async (input: InputLocation, index: number): Promise<void> => {
    if (store.has(input.key)) {
      // A spilled value is read back into memory of its own, which nothing else holds: like a fetched value, it
      // is the task's to hand to its thread without a copy.
      const readBack = !store.inMemory(input.key);
      const value = await store.get(input.key);
      if (value) {
        values[index] = value;
        privateValues[index] = readBack;
        return;
      }
      failedHolders.add(address);
    }
    const outcome = await fetcher.fetch(input.key, input.holders, input.nbytes);
    if (outcome.ok) {
      values[index] = outcome.value;
      privateValues[index] = true;
    } else {
      missingKeys.push(input.key);
      for (const holder of outcome.failedHolders) failedHolders.add(holder);
    }
  };
  try {
    await Promise.all(inputs.map(load));
  } catch (error) {
    sources.logger.error({ key, err: error }, 'loading inputs failed unexpectedly');
    return { ok: false, missingKeys: inputs.map((input) => input.key), failedHolders: [...failedHolders] };
  }
  if (missingKeys.length > 0) return { ok: false, missingKeys, failedHolders: [...failedHolders] };
  return { ok: true, values, privateValues };
}
