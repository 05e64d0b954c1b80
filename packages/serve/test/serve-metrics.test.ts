// /metrics parses as the Prometheus text format (with parse-prometheus-text-format, a port of the Prometheus
// Python client's parser) and counts what happened: requests by route and code, latency, what is loaded.
// That parser merges the series of a labelled histogram into one, so per-route histogram lines are read from
// the text itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText as parsePrometheusTextFormat, type PrometheusFamily } from '@loom/testing';
import { call, inferBody, post, startServer, storeWith } from './serve-fixtures.js';

const store = await storeWith({ fleet: 40, other: 7 });
const server = await startServer(store);

let text = '';

async function scrape(): Promise<Map<string, PrometheusFamily>> {
  const answer = await fetch(`${server.url}/metrics`);
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  text = await answer.text();
  return new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
}

/** The value of one sample line, e.g. `name{route="infer"}`, in the last scrape's text. */
const line = (series: string): number => Number(new RegExp(`^${series.replace(/[{}+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);

const value = (family: PrometheusFamily | undefined, labels: Record<string, string> = {}): number => {
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(sample?.value ?? sample?.count ?? NaN);
};

test('requests by route and code, the latency histogram, and the groups, models and bytes loaded', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await post(`${server.url}/v2/models/fleet/infer`, inferBody(['m1', 'm2'], [1, 2, 3]))).status, 200);
  assert.equal((await post(`${server.url}/v2/models/fleet/infer`, '{')).status, 400);
  assert.equal((await post(`${server.url}/v2/models/nope/infer`, inferBody(['m1'], [1, 2, 3]))).status, 404);
  assert.equal((await call(`${server.url}/nowhere`)).status, 404);
  assert.equal((await call(`${server.url}/v2/models/other/ready`)).status, 200);
  const metrics = await scrape();
  const requests = metrics.get('loom_serve_requests_total');
  assert.equal(requests?.type, 'COUNTER');
  assert.equal(value(requests, { route: 'infer', code: '200' }), 3);
  assert.equal(value(requests, { route: 'infer', code: '400' }), 1);
  assert.equal(value(requests, { route: 'infer', code: '404' }), 1);
  assert.equal(value(requests, { route: 'unknown', code: '404' }), 1);
  const latency = metrics.get('loom_serve_request_duration_seconds');
  assert.equal(latency?.type, 'HISTOGRAM');
  assert.equal(line('loom_serve_request_duration_seconds_count{route="infer"}'), 5);
  assert.equal(line('loom_serve_request_duration_seconds_bucket{le="+Inf",route="infer"}'), 5);
  assert.equal(line('loom_serve_request_duration_seconds_count{route="unknown"}'), 1);
  assert.equal(value(metrics.get('loom_serve_models_scored_total')), 6);
  assert.equal(value(metrics.get('loom_serve_groups_loaded')), 2);
  assert.equal(value(metrics.get('loom_serve_models_loaded')), 47);
  assert.ok(value(metrics.get('loom_serve_loaded_bytes')) > 47 * 50, 'bytes loaded');
  assert.equal(Number(metrics.get('loom_serve_group_load_duration_seconds')?.metrics[0]?.count), 2);
  assert.ok(metrics.has('process_cpu_user_seconds_total'), 'process metrics');
  const again = await scrape();
  assert.equal(value(again.get('loom_serve_requests_total'), { route: 'metrics', code: '200' }), 1);
});
