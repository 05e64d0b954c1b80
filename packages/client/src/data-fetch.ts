// Reads results that did not come inline straight from the workers holding them (Worker.GetData): one grpc-js
// client per worker address, keys batched per holder, chunks reassembled in order; when a holder fails or lacks
// a key the next holder is tried, and a key no holder can serve fails with LOST_DATA. Concurrent requests for
// one key share a single fetch.
import { Client as GrpcClient, type ChannelCredentials, type Metadata } from '@grpc/grpc-js';
import {
  LoomError,
  codecFromWire,
  decodeValue,
  fromServiceError,
  grpcOptions,
  workerService,
  type EncodedValue,
  type Logger,
  type loom,
} from '@loom/protocol';
import type { KeyState } from './key-store.js';

/** How long a fetch may receive nothing before it is abandoned. */
const FETCH_IDLE_TIMEOUT_MS = 10_000;

export interface FetchRequest {
  key: string;
  holders: readonly string[];
}

export type FetchResult = EncodedValue | LoomError;

interface Assembly {
  codec: loom.v1.Codec;
  bytes: Uint8Array;
  received: number;
}

export class DataFetcher {
  private readonly clients = new Map<string, GrpcClient>();
  private closed = false;

  constructor(
    private readonly credentials: ChannelCredentials,
    private readonly metadata: () => Metadata,
    private readonly maxMessageBytes: number,
    private readonly log: Logger,
  ) {}

  /**
   * Fills in the value of each finished state that has none yet, from its holders. Rejects with the first
   * failure (LOST_DATA, SERIALIZATION_FAILED) once every fetch has settled.
   */
  async fillValues(states: readonly KeyState[]): Promise<void> {
    const waits = new Set<Promise<void>>();
    const toFetch = new Set<KeyState>();
    for (const state of states) {
      if (state.hasValue) continue;
      if (state.fetching) waits.add(state.fetching);
      else toFetch.add(state);
    }
    if (toFetch.size > 0) {
      const fetchNow = [...toFetch];
      const batch = this.fetch(fetchNow.map((state) => ({ key: state.key, holders: state.holders }))).then((results) => {
        let failure: LoomError | undefined;
        for (const state of fetchNow) {
          state.fetching = undefined;
          const result = results.get(state.key) as FetchResult;
          if (result instanceof LoomError) {
            failure ??= result;
            continue;
          }
          try {
            state.value = decodeValue(result);
            state.hasValue = true;
          } catch (error) {
            failure ??= new LoomError('SERIALIZATION_FAILED', `cannot decode '${state.key}': ${(error as Error).message}`, { taskKey: state.key });
          }
        }
        if (failure) throw failure;
      });
      for (const state of fetchNow) state.fetching = batch;
      waits.add(batch);
    }
    await Promise.all(waits);
  }

  /** Fetches every requested key, trying each key's holders in order. Never rejects: failures are per key. */
  async fetch(requests: readonly FetchRequest[]): Promise<Map<string, FetchResult>> {
    const results = new Map<string, FetchResult>();
    const attempt = new Map<string, number>();
    const lastFailure = new Map<string, string>();
    let remaining = requests.filter((request) => request.holders.length > 0);
    for (const request of requests) {
      if (request.holders.length === 0) {
        results.set(request.key, new LoomError('LOST_DATA', `no worker holds '${request.key}'`, { taskKey: request.key }));
      }
    }
    while (remaining.length > 0) {
      const byHolder = new Map<string, FetchRequest[]>();
      for (const request of remaining) {
        const holder = request.holders[attempt.get(request.key) ?? 0] as string;
        let batch = byHolder.get(holder);
        if (!batch) byHolder.set(holder, (batch = []));
        batch.push(request);
      }
      const retry: FetchRequest[] = [];
      await Promise.all(
        [...byHolder].map(async ([holder, batch]) => {
          const { values, failure } = await this.fetchFrom(holder, batch.map((request) => request.key));
          for (const request of batch) {
            const value = values.get(request.key);
            if (value) {
              results.set(request.key, value);
              continue;
            }
            lastFailure.set(request.key, `${holder}: ${failure ?? 'does not hold it'}`);
            const next = (attempt.get(request.key) ?? 0) + 1;
            if (next < request.holders.length) {
              attempt.set(request.key, next);
              retry.push(request);
            } else {
              results.set(
                request.key,
                new LoomError('LOST_DATA', `could not fetch '${request.key}' from any of its holders (last: ${lastFailure.get(request.key)})`, {
                  taskKey: request.key,
                }),
              );
            }
          }
        }),
      );
      remaining = retry;
    }
    return results;
  }

  close(): void {
    this.closed = true;
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private fetchFrom(address: string, keys: string[]): Promise<{ values: Map<string, EncodedValue>; failure?: string }> {
    const values = new Map<string, EncodedValue>();
    if (this.closed) return Promise.resolve({ values, failure: 'the client is closed' });
    const assemblies = new Map<string, Assembly>();
    return new Promise((resolve) => {
      const call = this.client(address).makeServerStreamRequest(
        workerService.getData.path,
        workerService.getData.requestSerialize,
        workerService.getData.responseDeserialize,
        { keys },
        this.metadata(),
        {},
      );
      let failure: string | undefined;
      // A frozen worker keeps its socket open: give up after a stretch with no data (progress, not total time,
      // so large values are never cut short) and let the caller try another holder.
      const idle = setTimeout(() => {
        failure = `no data from ${address} for ${FETCH_IDLE_TIMEOUT_MS} ms`;
        call.cancel();
      }, FETCH_IDLE_TIMEOUT_MS);
      call.on('data', (chunk: loom.v1.DataChunk) => {
        idle.refresh();
        if (chunk.missing || failure !== undefined) return;
        try {
          const value = addChunk(assemblies, chunk);
          if (value) values.set(chunk.key, value);
        } catch (error) {
          failure = (error as Error).message;
          call.cancel();
        }
      });
      call.on('error', (error: unknown) => {
        clearTimeout(idle);
        const reason = failure ?? fromServiceError(error, `GetData from ${address}`).message;
        this.log.warn({ worker: address, keys: keys.length, err: reason }, 'fetching results from a worker failed');
        resolve({ values, failure: reason });
      });
      call.on('end', () => {
        clearTimeout(idle);
        resolve(failure === undefined ? { values } : { values, failure });
      });
    });
  }

  private client(address: string): GrpcClient {
    let client = this.clients.get(address);
    if (!client) {
      client = new GrpcClient(address, this.credentials, grpcOptions(this.maxMessageBytes));
      this.clients.set(address, client);
    }
    return client;
  }
}

/** Adds one chunk; returns the value when its last byte has arrived. Throws on an unknown codec or a bad offset. */
function addChunk(assemblies: Map<string, Assembly>, chunk: loom.v1.DataChunk): EncodedValue | undefined {
  const total = chunk.totalBytes;
  let assembly = assemblies.get(chunk.key);
  if (!assembly) {
    // A value in one chunk (the usual case) is used as received, without a copy.
    if (chunk.offset === 0 && chunk.data.byteLength === total) return { codec: codecFromWire(chunk.codec), bytes: chunk.data };
    assembly = { codec: chunk.codec, bytes: Buffer.allocUnsafe(total), received: 0 };
    assemblies.set(chunk.key, assembly);
  }
  if (chunk.offset + chunk.data.byteLength > total) throw new Error(`chunk of '${chunk.key}' runs past its ${total} bytes`);
  (assembly.bytes as Buffer).set(chunk.data, chunk.offset);
  assembly.received += chunk.data.byteLength;
  if (assembly.received < total) return undefined;
  assemblies.delete(chunk.key);
  return { codec: codecFromWire(assembly.codec), bytes: assembly.bytes };
}
