// Builders shared by the worker tests: function definitions and compute tasks as a scheduler would send them,
// GetData calls made the way a peer or client makes them, and a worker started in this process.
import { createHash, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials, Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { callMetadata, codecFromWire, decodeValue, encodeTaskArgs, workerService, type ArgHole, type loom } from '@loom/protocol';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../src/index.js';

process.env['LOOM_LOG_LEVEL'] ??= 'warn';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function sourceFunction(fn: Function, name = fn.name): loom.v1.IFunctionDef {
  const source = fn.toString();
  return { id: createHash('sha256').update(source).digest('hex').slice(0, 16), name, source };
}

export function moduleFunction(specifier: string, exportName: string, name = exportName): loom.v1.IFunctionDef {
  const id = createHash('sha256').update(`${specifier}#${exportName}`).digest('hex').slice(0, 16);
  return { id, name, module: { specifier, exportName } };
}

export interface TaskOptions {
  holes?: ArgHole[];
  inputs?: loom.v1.IInputLocation[];
  sendValue?: boolean;
  runId?: number;
}

export function computeTask(key: string, fn: loom.v1.IFunctionDef, args: unknown[], options: TaskOptions = {}): loom.v1.IComputeTask {
  return {
    key,
    functionId: fn.id ?? '',
    args: encodeTaskArgs(args, options.holes ?? [], key),
    inputs: options.inputs ?? [],
    sendValue: options.sendValue ?? false,
    ...(options.runId !== undefined ? { runId: options.runId } : {}),
  };
}

/**
 * Resolves once `predicate` holds, looking every few milliseconds: for effects nothing announces, such as a file
 * removed in the background. Fails after `timeoutMs`.
 */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A file a gated task waits for: tests hold a task running for exactly as long as they need (no guessed sleeps)
 * and open the gate when they are done looking.
 */
export class Gate {
  readonly path = join(tmpdir(), `loom-gate-${randomUUID()}`);

  open(): void {
    writeFileSync(this.path, '');
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}

const gated = sourceFunction(async function gated(gatePath: string, value: unknown) {
  const fs = (process as unknown as { getBuiltinModule(id: string): { existsSync(path: string): boolean } }).getBuiltinModule('node:fs');
  while (!fs.existsSync(gatePath)) await new Promise((resolve) => setTimeout(resolve, 5));
  return value;
});

/**
 * gated(gatePath, value): waits until the gate file exists, then returns value. Each label is a function of its
 * own, so the durations a worker learns for one test's tasks do not change how another test's tasks are batched.
 */
export function gatedFunction(label: string): loom.v1.IFunctionDef {
  return { ...gated, id: `${gated.id ?? ''}-${label}`, name: `gated-${label}` };
}

/** The value a TaskFinished carries inline, decoded with the codec it names. */
export function decoded(finished: loom.v1.ITaskFinished): unknown {
  if (!finished.hasValue || !finished.value) throw new Error('no value');
  return decodeValue({ codec: codecFromWire(finished.codec), bytes: finished.value });
}

export async function startTestWorker(schedulerAddress: string, options: Partial<WorkerOptions> = {}): Promise<WorkerHandle> {
  return startWorker({
    schedulerAddress,
    // Tests close their workers before their fake scheduler; a test about losing the scheduler passes its own.
    onFatal: () => undefined,
    ...options,
  });
}

export interface GetDataResult {
  chunks: loom.v1.DataChunk[];
  values: Map<string, unknown>;
  missing: string[];
}

/** Reads keys from a worker like a client would, keeping every chunk for inspection. */
export function readData(address: string, keys: string[], token?: string | null): Promise<GetDataResult> {
  const client = new Client(address, credentials.createInsecure());
  const method = workerService.getData;
  const metadata = token === null ? new Metadata() : callMetadata(token);
  return new Promise<GetDataResult>((resolve, reject) => {
    const call: ClientReadableStream<loom.v1.DataChunk> = client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize as (bytes: Buffer) => loom.v1.DataChunk,
      { keys },
      metadata,
    );
    const chunks: loom.v1.DataChunk[] = [];
    let failed = false;
    call.on('data', (chunk: loom.v1.DataChunk) => chunks.push(chunk));
    call.on('error', (error) => {
      failed = true;
      reject(error);
    });
    // grpc-js ends the stream even when the call failed; only a successful one has values to decode.
    call.on('end', () => {
      if (failed) return;
      const values = new Map<string, unknown>();
      const missing: string[] = [];
      for (const key of keys) {
        const parts = chunks.filter((chunk) => chunk.key === key);
        if (parts.some((chunk) => chunk.missing)) {
          missing.push(key);
          continue;
        }
        const total = parts[0]?.totalBytes ?? 0;
        const bytes = new Uint8Array(total);
        for (const part of parts) bytes.set(part.data, part.offset);
        values.set(key, decodeValue({ codec: codecFromWire(parts[0]?.codec), bytes }));
      }
      resolve({ chunks, values, missing });
    });
  }).finally(() => client.close());
}
