// The two per-request series of /metrics, counted in place: requests by route and status code, and request
// latency by route. prom-client's labelled children hash their label values on every observation (about
// 1.5 µs of the request path on the machines Loom was measured on, where the whole budget beyond bare
// node:http is tens of µs); here a request costs a Map lookup for its code and a scan of the buckets. The
// label values are Loom's own (route kinds and numeric codes), so the text needs no escaping.
import type { RouteKind } from './routes.js';

/** The route label of a request that matched no route. */
export type RouteLabel = RouteKind | 'unknown';

/** Seconds; dense below 10 ms, where an infer request of a few models should land. */
const LATENCY_BUCKETS: readonly number[] = [0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const REQUESTS = 'loom_serve_requests_total';
const LATENCY = 'loom_serve_request_duration_seconds';

class RouteSeries {
  /** Status code -> requests answered with it. */
  readonly codes = new Map<number, number>();
  /** Observations per bucket, not cumulative (the text's buckets are). */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length);
  sum = 0;
  count = 0;
}

export class RequestSeries {
  readonly #routes = new Map<RouteLabel, RouteSeries>();

  observe(route: RouteLabel, status: number, seconds: number): void {
    let series = this.#routes.get(route);
    if (series === undefined) {
      series = new RouteSeries();
      this.#routes.set(route, series);
    }
    series.codes.set(status, (series.codes.get(status) ?? 0) + 1);
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[bucket] as number)) bucket++;
    if (bucket < LATENCY_BUCKETS.length) series.buckets[bucket] = (series.buckets[bucket] as number) + 1;
    series.sum += seconds;
    series.count++;
  }

  /** Both families in the Prometheus text format (0.0.4), each line ending in a newline. */
  text(): string {
    const requests = [`# HELP ${REQUESTS} HTTP requests answered, by route and status code`, `# TYPE ${REQUESTS} counter`];
    const latency = [`# HELP ${LATENCY} Time from a request arriving to its response being written, by route`, `# TYPE ${LATENCY} histogram`];
    for (const [route, series] of this.#routes) {
      for (const [code, count] of series.codes) requests.push(`${REQUESTS}{route="${route}",code="${code}"} ${count}`);
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        cumulative += series.buckets[i] as number;
        latency.push(`${LATENCY}_bucket{le="${bound}",route="${route}"} ${cumulative}`);
      });
      latency.push(`${LATENCY}_bucket{le="+Inf",route="${route}"} ${series.count}`, `${LATENCY}_sum{route="${route}"} ${series.sum}`, `${LATENCY}_count{route="${route}"} ${series.count}`);
    }
    return `${requests.join('\n')}\n\n${latency.join('\n')}\n`;
  }
}
