// Types for parse-prometheus-text-format (the package ships none): the third-party parser the
// Prometheus tests read our exposition with.
declare module 'parse-prometheus-text-format' {
  interface ParsedSample {
    value: string
    labels?: Record<string, string>
  }
  interface ParsedFamily {
    name: string
    help: string
    type: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED'
    metrics: ParsedSample[]
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[]
}
