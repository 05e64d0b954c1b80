// The server's Prometheus metrics, on a registry of its own (two servers in one process do not mix counts):
// requests by route and status code, request latency by route, what the group cache holds, and group loads.
// prom-client writes the text exposition format; the process and Node.js defaults come with it.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheStats } from './group-cache.js';
import type { RouteKind } from './routes.js';

/** Seconds; dense below 10 ms, where an infer request of a few models should land. */
const LATENCY_BUCKETS = [0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LOAD_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** The route label of a request that matched no route. */
export type RouteLabel = RouteKind | 'unknown';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'route' | 'code'>;
  readonly #latency: Histogram<'route'>;
  readonly #loads: Histogram;
  readonly #models: Counter;
  /** Bound children per label set: a request does no label hashing beyond one Map lookup. */
  readonly #requestChildren = new Map<string, { inc(): void }>();
  readonly #latencyChildren = new Map<string, { observe(value: number): void }>();

  constructor(stats: () => CacheStats) {
    const registers = [this.registry];
    this.#requests = new Counter({ name: 'loom_serve_requests_total', help: 'HTTP requests answered, by route and status code', labelNames: ['route', 'code'], registers });
    this.#latency = new Histogram({ name: 'loom_serve_request_duration_seconds', help: 'Time from a request arriving to its response being written, by route', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers });
    this.#loads = new Histogram({ name: 'loom_serve_group_load_duration_seconds', help: 'Time to load one group version (read, check, index)', buckets: LOAD_BUCKETS, registers });
    this.#models = new Counter({ name: 'loom_serve_models_scored_total', help: 'Model ids scored by infer requests', registers });
    new Gauge({ name: 'loom_serve_groups_loaded', help: 'Group versions held in memory', registers, collect() { this.set(stats().groups); } });
    new Gauge({ name: 'loom_serve_models_loaded', help: 'Models in the group versions held in memory', registers, collect() { this.set(stats().models); } });
    new Gauge({ name: 'loom_serve_loaded_bytes', help: 'Bytes the loaded group versions hold (files and id indexes)', registers, collect() { this.set(stats().bytes); } });
    collectDefaultMetrics({ register: this.registry });
  }

  request(route: RouteLabel, status: number, seconds: number): void {
    const labels = `${route} ${status}`;
    let counter = this.#requestChildren.get(labels);
    if (counter === undefined) {
      counter = this.#requests.labels(route, String(status));
      this.#requestChildren.set(labels, counter);
    }
    counter.inc();
    let histogram = this.#latencyChildren.get(route);
    if (histogram === undefined) {
      histogram = this.#latency.labels(route);
      this.#latencyChildren.set(route, histogram);
    }
    histogram.observe(seconds);
  }

  scored(models: number): void {
    this.#models.inc(models);
  }

  loaded(seconds: number): void {
    this.#loads.observe(seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
