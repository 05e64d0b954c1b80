// Obtains task inputs held by other workers through their `Worker.GetData` service. Requests made in one
// event-loop turn are grouped into one call per peer, a key wanted by several tasks is fetched once, and a
// holder that fails or lacks the key makes us try the next holder before giving up on the key.
import { Client, status, type ClientReadableStream } from '@grpc/grpc-js';
import {
  callMetadata,
  channelCredentials,
  codecFromWire,
  fromServiceError,
  grpcOptions,
  workerService,
  type EncodedValue,
  type Logger,
  type TlsFiles,
  type loom,
} from '@loom/protocol';
import type { WorkerActivity } from './worker-activity.js';

export type FetchOutcome = { ok: true; value: EncodedValue } | { ok: false; failedHolders: string[] };

/**
 * What the task runner needs from the data plane; a test double may stand in. Callers waiting for the same key
 * together may share one value, but once a fetch has resolved its value belongs to those callers: the runner
 * hands its buffer to a task thread (detaching it here), so a fetcher must not give it out again later.
 */
export interface InputFetcher {
  /** `nbytes`: the value's size as the scheduler reported it (for the in-flight gauges; 0 when unknown). */
  fetch(key: string, holders: readonly string[], nbytes: number): Promise<FetchOutcome>;
}

export interface PeerFetcherOptions {
  /** This worker's own address: it is never dialled (the caller already looked in the local store). */
  selfAddress: string;
  token: string | undefined;
  tls: TlsFiles | undefined;
  maxMessageBytes: number | undefined;
  logger: Logger;
  /** Told of each GetData call's bytes and time (metrics, task stream). */
  activity?: WorkerActivity;
}

interface PendingKey {
  key: string;
  holders: readonly string[];
  next: number;
  failedHolders: string[];
  resolve: (outcome: FetchOutcome) => void;
  promise: Promise<FetchOutcome>;
}

export class PeerFetcher implements InputFetcher {
  private readonly clients = new Map<string, Client>();
  private readonly inflight = new Map<string, PendingKey>();
  private queued = new Map<string, PendingKey[]>();
  private flushScheduled = false;
  private closed = false;
  /** Aborted by close(): cancels the calls still open, which closing their clients would not. */
  private readonly closing = new AbortController();

  constructor(private readonly options: PeerFetcherOptions) {}

  fetch(key: string, holders: readonly string[], nbytes: number): Promise<FetchOutcome> {
    const existing = this.inflight.get(key);
    if (existing) return existing.promise;
    let resolve!: (outcome: FetchOutcome) => void;
    const promise = new Promise<FetchOutcome>((r) => (resolve = r));
    const pending: PendingKey = { key, holders, next: 0, failedHolders: [], resolve, promise };
    this.inflight.set(key, pending);
    const gauges = this.options.activity?.inFlight;
    if (gauges) {
      gauges.transferIncomingBytes += nbytes;
      void promise.then(() => (gauges.transferIncomingBytes -= nbytes));
    }
    this.tryNextHolder(pending);
    return promise;
  }

  close(): void {
    this.closed = true;
    this.closing.abort();
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    for (const pending of this.inflight.values()) pending.resolve({ ok: false, failedHolders: pending.failedHolders });
    this.inflight.clear();
  }

  private tryNextHolder(pending: PendingKey): void {
    while (pending.next < pending.holders.length) {
      const holder = pending.holders[pending.next++] as string;
      if (holder === this.options.selfAddress) {
        // We were told we hold it, but the local store did not have it: count ourselves as a failed holder.
        pending.failedHolders.push(holder);
        continue;
      }
      if (this.closed) break;
      const list = this.queued.get(holder);
      if (list) list.push(pending);
      else this.queued.set(holder, [pending]);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
      return;
    }
    this.inflight.delete(pending.key);
    pending.resolve({ ok: false, failedHolders: pending.failedHolders });
  }

  private flush(): void {
    this.flushScheduled = false;
    const queued = this.queued;
    this.queued = new Map();
    for (const [peer, pendings] of queued) this.requestFromPeer(peer, pendings);
  }

  private requestFromPeer(peer: string, pendings: PendingKey[]): void {
    const byKey = new Map(pendings.map((pending) => [pending.key, pending]));
    const settle = (key: string, value: EncodedValue | undefined): void => {
      const pending = byKey.get(key);
      if (!pending) return;
      byKey.delete(key);
      if (value) {
        this.inflight.delete(key);
        pending.resolve({ ok: true, value });
      } else {
        pending.failedHolders.push(peer);
        this.tryNextHolder(pending);
      }
    };
    const keys = [...byKey.keys()];
    this.options.logger.debug({ peer, keys: keys.length }, 'fetching inputs from peer');
    const started = performance.now();
    let received = 0;
    const settleCounted = (key: string, value: EncodedValue | undefined): void => {
      if (value !== undefined) received += value.bytes.byteLength;
      settle(key, value);
    };
    const gauges = this.options.activity?.inFlight;
    if (gauges) gauges.transferIncomingCalls += 1;
    const done = (): void => {
      if (gauges) gauges.transferIncomingCalls -= 1;
      this.options.activity?.transferred(peer, started, received);
    };
    getData(this.client(peer), keys, this.options.token, settleCounted, FETCH_IDLE_TIMEOUT_MS, this.closing.signal).finally(done).then(
      () => {
        // The peer ended the stream without mentioning some keys: treat them as not held there.
        for (const key of [...byKey.keys()]) settle(key, undefined);
      },
      (error: unknown) => {
        const loomError = fromServiceError(error, `GetData from ${peer}`);
        // Cancelled by close(): nothing went wrong with the peer.
        if (!this.closed) this.options.logger.warn({ peer, keys: keys.length, error: loomError.message }, 'fetching inputs from peer failed');
        // A peer that went away leaves its channel in backoff; a fresh client reconnects at once if it returns.
        if ((error as { code?: number }).code === status.UNAVAILABLE) this.dropClient(peer);
        for (const key of [...byKey.keys()]) settle(key, undefined);
      },
    );
  }

  private client(peer: string): Client {
    let client = this.clients.get(peer);
    if (!client) {
      client = new Client(peer, channelCredentials(this.options.tls), grpcOptions(this.options.maxMessageBytes));
      this.clients.set(peer, client);
    }
    return client;
  }

  private dropClient(peer: string): void {
    this.clients.get(peer)?.close();
    this.clients.delete(peer);
  }
}

interface PartialValue {
  codec: EncodedValue['codec'];
  bytes: Uint8Array;
  received: number;
}

/**
 * A fetch that receives nothing for this long is abandoned (its keys reported missing, so the scheduler
 * reschedules): a frozen peer (SIGSTOP, swapping, a hung host) keeps its socket open and would otherwise hold
 * the dependent task forever. Measured on progress, not total time, so large values are never cut short.
 */
export const FETCH_IDLE_TIMEOUT_MS = 10_000;

/**
 * One GetData call: reassembles each key's chunks by offset and hands over every complete key (or `undefined` for
 * one the peer does not hold) as soon as it is complete. Resolves when the stream ends, rejects on a call error,
 * or when `signal` aborts (the call is cancelled: closing a channel leaves its calls running).
 */
export function getData(
  client: Client,
  keys: string[],
  token: string | undefined,
  onKey: (key: string, value: EncodedValue | undefined) => void,
  idleTimeoutMs = FETCH_IDLE_TIMEOUT_MS,
  signal?: AbortSignal,
): Promise<void> {
  const method = workerService.getData;
  return new Promise((resolve, reject) => {
    const call: ClientReadableStream<loom.v1.DataChunk> = client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize as (bytes: Buffer) => loom.v1.DataChunk,
      { keys },
      callMetadata(token),
    );
    const idle = setTimeout(function abandon() {
      call.cancel();
      reject(new Error(`no data from the peer for ${idleTimeoutMs} ms`));
    }, idleTimeoutMs);
    const cancel = () => call.cancel();
    if (signal?.aborted) cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    const settled = () => {
      clearTimeout(idle);
      signal?.removeEventListener('abort', cancel);
    };
    const partial = new Map<string, PartialValue>();
    call.on('data', (chunk: loom.v1.DataChunk) => {
      idle.refresh();
      if (chunk.missing) {
        partial.delete(chunk.key);
        onKey(chunk.key, undefined);
        return;
      }
      let entry = partial.get(chunk.key);
      if (!entry) {
        let codec: EncodedValue['codec'];
        try {
          codec = codecFromWire(chunk.codec);
        } catch {
          onKey(chunk.key, undefined);
          return;
        }
        // A fresh buffer of exactly the value's size: it outlives the gRPC message and can be posted to a thread.
        entry = { codec, bytes: new Uint8Array(chunk.totalBytes), received: 0 };
        partial.set(chunk.key, entry);
      }
      if (chunk.offset + chunk.data.byteLength > entry.bytes.byteLength) {
        partial.delete(chunk.key);
        onKey(chunk.key, undefined);
        return;
      }
      entry.bytes.set(chunk.data, chunk.offset);
      entry.received += chunk.data.byteLength;
      if (entry.received >= entry.bytes.byteLength) {
        partial.delete(chunk.key);
        onKey(chunk.key, { codec: entry.codec, bytes: entry.bytes });
      }
    });
    call.on('error', (error: Error) => {
      settled();
      reject(error);
    });
    call.on('end', () => {
      settled();
      resolve();
    });
  });
}
