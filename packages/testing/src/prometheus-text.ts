// Prometheus text exposition parsed by an independent parser (parse-prometheus-text-format, prom2json's shape),
// so tests of /metrics endpoints check what a scraper reads rather than what the exporter meant to write.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** One sample: a counter's or gauge's value, or a histogram's buckets, count and sum; values as written. */
export interface PrometheusSample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface PrometheusFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: PrometheusSample[];
}

export function parsePrometheusText(text: string): PrometheusFamily[] {
  return parsePrometheusTextFormat(text) as PrometheusFamily[];
}
