// Prometheus exposition of the clients' metrics: renderPrometheus (the text format, no
// dependency) and registerPrometheus (collectors on a prom-client Registry; prom-client is an
// optional peer, loaded only when that function is called). Names follow Prometheus conventions:
// `kafka_<client>_` plus Java's name in snake case (topic-level producer metrics get
// `kafka_producer_topic_`, as they sum differently), labels `client_id`, `topic`, `partition`.

import { createRequire } from 'node:module'
// Types only (erased): prom-client itself is required lazily by registerPrometheus.
import type * as PromClientModule from 'prom-client'
import { KafkaTsError } from '../errors.js'
import type { ClientKind, MetricFamily, MetricsSnapshot, MetricsSource } from './registry.js'
import { escapeHelp, renderLabels, renderValue } from './text-format.js'

/** The prefix of each Java group's metrics; other groups get `kafka_<client>_`. */
const PREFIX: Readonly<Record<string, string>> = {
  'producer-metrics': 'kafka_producer_',
  'producer-topic-metrics': 'kafka_producer_topic_',
  'consumer-metrics': 'kafka_consumer_',
  'consumer-fetch-manager-metrics': 'kafka_consumer_',
  'consumer-coordinator-metrics': 'kafka_consumer_',
  'admin-client-metrics': 'kafka_admin_',
  'stream-thread-metrics': 'kafka_streams_',
  'stream-task-metrics': 'kafka_streams_',
}

/** Every label a kafkats metric may carry (Java's tags, snake case). */
export const PROMETHEUS_LABELS = ['client_id', 'topic', 'partition'] as const

/** The Prometheus name of a Java metric, e.g. `kafka_producer_record_send_rate`. */
export function prometheusName(client: ClientKind, family: { group: string; name: string }): string {
  return (PREFIX[family.group] ?? `kafka_${client}_`) + family.name.replace(/[^a-zA-Z0-9_]/g, '_')
}

/** Java's tags as Prometheus labels (`client-id` → `client_id`). */
export function prometheusLabels(tags: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(tags)) out[k.replace(/[^a-zA-Z0-9_]/g, '_')] = v
  return out
}

function help(f: MetricFamily): string {
  return `${f.description} (Java: ${f.group} ${f.name})`
}

/**
 * The metrics of every client given in the Prometheus text exposition format (version 0.0.4),
 * one family per name across the clients; serve it with content type
 * `text/plain; version=0.0.4; charset=utf-8`.
 */
export function renderPrometheus(...clients: MetricsSource[]): string {
  const families = new Map<string, { family: MetricFamily; lines: string[] }>()
  for (const client of clients) {
    const snap = client.metrics()
    for (const m of snap.metrics) {
      const name = prometheusName(snap.client, m)
      let f = families.get(name)
      if (f === undefined) families.set(name, (f = { family: m, lines: [] }))
      f.lines.push(`${name}${renderLabels(prometheusLabels(m.tags))} ${renderValue(m.value)}`)
    }
  }
  let out = ''
  for (const [name, { family, lines }] of families) {
    out += `# HELP ${name} ${escapeHelp(help(family))}\n`
    out += `# TYPE ${name} ${family.type}\n`
    for (const line of lines) out += `${line}\n`
  }
  return out
}

// --- prom-client ----------------------------------------------------------------------------------

/** The parts of a prom-client Registry used here (so kafkats's types do not need prom-client). */
export interface PromClientRegistry {
  getSingleMetric(name: string): unknown
  removeSingleMetric(name: string): void
}

type PromClient = typeof PromClientModule

interface Registration {
  /** The clients our collectors on this registry report. */
  sources: Set<MetricsSource>
  /** The collectors we registered. */
  names: string[]
  /** One snapshot per client per scrape, however many collectors ask (they run in the same turn). */
  cache: Map<MetricsSource, MetricsSnapshot> | null
}

const registrations = new WeakMap<PromClientRegistry, Registration>()

/**
 * Registers a collector per metric on a prom-client Registry, reporting the given clients (more
 * clients may be registered on the same registry by later calls). Returns a function that
 * removes these clients again (and the collectors, once no client is left). Throws
 * `KafkaTsError` (code `KAFKATS_MISSING_PEER`) when prom-client is not installed.
 */
export function registerPrometheus(registry: PromClientRegistry, ...clients: MetricsSource[]): () => void {
  const prom = loadPromClient()
  let reg = registrations.get(registry)
  if (reg === undefined) registrations.set(registry, (reg = { sources: new Set(), names: [], cache: null }))
  const r = reg
  for (const client of clients) r.sources.add(client)
  r.cache = null
  const snapshots = (): Map<MetricsSource, MetricsSnapshot> => {
    if (r.cache === null) {
      r.cache = new Map([...r.sources].map((c) => [c, c.metrics()]))
      setImmediate(() => (r.cache = null))
    }
    return r.cache
  }
  for (const client of clients) {
    const snap = client.metrics()
    for (const family of snap.families) {
      const name = prometheusName(snap.client, family)
      if (registry.getSingleMetric(name) !== undefined) continue
      r.names.push(name)
      const options = {
        name,
        help: help(family),
        labelNames: PROMETHEUS_LABELS,
        registers: [registry as never],
      }
      // prom-client's documented way to compute values at scrape time: collect() sets them.
      const values = (): { labels: Record<string, string>; value: number }[] => {
        const out: { labels: Record<string, string>; value: number }[] = []
        for (const s of snapshots().values())
          for (const m of s.metrics)
            if (m.group === family.group && m.name === family.name && prometheusName(s.client, m) === name)
              out.push({ labels: prometheusLabels(m.tags), value: m.value })
        return out
      }
      if (family.type === 'counter') {
        new prom.Counter({
          ...options,
          collect(this: InstanceType<PromClient['Counter']>) {
            this.reset()
            for (const v of values()) this.inc(v.labels, v.value)
          },
        })
      } else {
        new prom.Gauge({
          ...options,
          collect(this: InstanceType<PromClient['Gauge']>) {
            this.reset()
            for (const v of values()) this.set(v.labels, v.value)
          },
        })
      }
    }
  }
  return () => {
    for (const client of clients) r.sources.delete(client)
    r.cache = null
    if (r.sources.size > 0 || registrations.get(registry) !== r) return
    registrations.delete(registry)
    for (const name of r.names) registry.removeSingleMetric(name)
  }
}

function loadPromClient(): PromClient {
  try {
    return createRequire(import.meta.url)('prom-client') as PromClient
  } catch (err) {
    throw new KafkaTsError(
      'KAFKATS_MISSING_PEER',
      'registerPrometheus needs the optional peer dependency prom-client (npm install prom-client); renderPrometheus needs nothing',
      { cause: err },
    )
  }
}
