// The Prometheus text exposition format (0.0.4): escaping and number rendering, shared by the
// clients' renderer (src/metrics/prometheus.ts) and the reference broker's (src/broker/prometheus.ts).

/** `{k="v",...}` with `\`, `"` and newlines escaped; empty for no labels. */
export function renderLabels(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  )
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

/** A sample value: NaN and the infinities as the format spells them. */
export function renderValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

/** A HELP text with `\` and newlines escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}
