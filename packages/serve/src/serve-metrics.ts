// The server's Prometheus metrics, on a registry of its own (two servers in one process do not mix counts):
// requests by route and status code, request latency by route, what the group cache holds, and group loads.
// The per-request series are RequestSeries' (counted in place, on the path of every request); prom-client
// keeps the rest and writes their text, with the process and Node.js defaults.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheStats } from './group-cache.js';
import { RequestSeries, type RouteLabel } from './request-series.js';

const LOAD_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

export class ServeMetrics {
  readonly registry = new Registry();
  readonly #requests = new RequestSeries();
  readonly #loads: Histogram;
  /** Model ids scored; handed to prom-client's counter when scraped (its inc hashes labels, even none). */
  #scored = 0;

  constructor(stats: () => CacheStats) {
    const registers = [this.registry];
    this.#loads = new Histogram({ name: 'loom_serve_group_load_duration_seconds', help: 'Time to load one group version (read, check, index)', buckets: LOAD_BUCKETS, registers });
    let counted = 0;
    const scored = (): number => this.#scored;
    new Counter({ name: 'loom_serve_models_scored_total', help: 'Model ids scored by infer requests', registers, collect() { const now = scored(); this.inc(now - counted); counted = now; } });
    new Gauge({ name: 'loom_serve_groups_loaded', help: 'Group versions held in memory', registers, collect() { this.set(stats().groups); } });
    new Gauge({ name: 'loom_serve_models_loaded', help: 'Models in the group versions held in memory', registers, collect() { this.set(stats().models); } });
    new Gauge({ name: 'loom_serve_loaded_bytes', help: 'Bytes the loaded group versions hold (files and id indexes)', registers, collect() { this.set(stats().bytes); } });
    collectDefaultMetrics({ register: this.registry });
  }

  request(route: RouteLabel, status: number, seconds: number): void {
    this.#requests.observe(route, status, seconds);
  }

  scored(models: number): void {
    this.#scored += models;
  }

  loaded(seconds: number): void {
    this.#loads.observe(seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async text(): Promise<string> {
    return `${this.#requests.text()}\n${await this.registry.metrics()}`;
  }
}
