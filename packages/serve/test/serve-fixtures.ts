// Shared by the server's tests: a temporary model store with AR(2) groups whose coefficients are known, a
// server on 127.0.0.1:0 over it (closed after the file's tests), and small HTTP helpers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ModelStore, type ModelRecord } from '@loom/models';
import { silentLogger, type Logger } from '@loom/protocol';
import { serve, type InferenceServer, type ServeOptions } from '../src/index.js';

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `loom-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** AR(2), k = 3: [const, phi1, phi2, sigma]; model `m<i>` of round r has const = r, phi = (0.5, 0.1 + i / 1000), sigma = 1. */
export function arRecord(index: number, round = 1): ModelRecord {
  return {
    id: `m${index}`,
    family: 'ar',
    familyKey: 'ar(p=2,d=0,k=3)',
    params: Float64Array.of(round, 0.5, 0.1 + index / 1000, 1),
    trainRange: { from: 0, to: 100 },
    testRange: { from: 100, to: 150 },
    metrics: { trainPoints: 100, testPoints: 50, trainRmse: 1, trainMae: 0.8, testRmse: 1, testMae: 0.8, anomalies: 0, anomalyRate: 0, trainMs: 0.1 },
    extra: {},
  };
}

/** What model `m<index>` of `round` forecasts after `..., y2, y1` (y1 the latest). */
export function arForecast(index: number, round: number, y1: number, y2: number): number {
  return round + 0.5 * y1 + (0.1 + index / 1000) * y2;
}

export async function publishGroup(store: ModelStore, group: string, models: number, round = 1): Promise<void> {
  const writer = await store.writer(group);
  const batch = 10_000;
  for (let from = 0; from < models; from += batch) {
    await writer.writeBatch(`b${from}`, Array.from({ length: Math.min(batch, models - from) }, (_, i) => arRecord(from + i, round)));
  }
  await writer.publish();
}

export async function storeWith(groups: Record<string, number>): Promise<ModelStore> {
  const store = await ModelStore.open(join(tempDir('serve'), 'store'));
  for (const [group, models] of Object.entries(groups)) await publishGroup(store, group, models);
  return store;
}

export const quietLogger: Logger = silentLogger();

export async function startServer(store: ModelStore, options: ServeOptions = {}): Promise<InferenceServer> {
  const server = await serve(store, { port: 0, logger: quietLogger, ...options });
  after(() => server.close());
  return server;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { text };
  }
  return { status: response.status, body, headers: response.headers };
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return call(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
}

/** An infer request body for `ids`, each with the same row of values. */
export function inferBody(ids: string[], row: number[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    inputs: [
      { name: 'ids', datatype: 'BYTES', shape: [ids.length], data: ids },
      { name: 'values', datatype: 'FP64', shape: [ids.length, row.length], data: ids.flatMap(() => row) },
    ],
    ...extra,
  };
}

export interface Output {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

export function output(body: Record<string, unknown>, name: string): Output {
  const found = (body['outputs'] as Output[] | undefined)?.find((o) => o.name === name);
  if (found === undefined) throw new Error(`no output ${name} in ${JSON.stringify(body).slice(0, 300)}`);
  return found;
}

/** Waits until the server's current version of `group` is `version` (a publish is noticed soon, not at once). */
export async function untilCurrent(server: InferenceServer, group: string, version: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ready = await call(`${server.url}/v2/models/${group}/ready`);
    if (ready.body['version'] === String(version)) return;
    if (Date.now() > deadline) throw new Error(`group ${group}: version ${version} was published, the server still answers ${JSON.stringify(ready.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
