// parse-prometheus-text-format ships no types; prometheus-text.ts gives its result a type.
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
