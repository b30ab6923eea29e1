// docs/grafana/kafkats-dashboard.json: it parses, its panels are well formed, and every metric
// it queries is one that is exported: broker names from a real scrape of the reference broker's
// Prometheus text (read with parse-prometheus-text-format), client names from the list below.

import { readFileSync } from 'node:fs'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, renderBrokerPrometheus } from '../../src/broker/index.js'

/**
 * The client metrics the dashboard may use: the Java client's names in Prometheus form
 * (issue 16), exported by the clients' Prometheus renderer (src/metrics) with the labels
 * client_id, topic, partition.
 */
const CLIENT_METRICS = new Set([
  'kafka_producer_record_send_rate',
  'kafka_producer_record_error_rate',
  'kafka_producer_request_latency_avg',
  'kafka_consumer_records_consumed_rate',
  'kafka_consumer_records_lag',
  'kafka_consumer_commit_latency_avg',
])
const CLIENT_LABELS = new Set(['client_id', 'topic', 'partition'])

interface Panel {
  id: number
  type: string
  title: string
  gridPos: { x: number; y: number; w: number; h: number }
  datasource?: { type: string; uid: string }
  targets?: { refId: string; expr: string }[]
  panels?: Panel[]
}

interface Dashboard {
  uid: string
  title: string
  panels: Panel[]
  templating: { list: { name: string; type: string; definition?: string }[] }
}

const dashboard = JSON.parse(readFileSync('docs/grafana/kafkats-dashboard.json', 'utf8')) as Dashboard
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])
const queries = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
  ...dashboard.templating.list.flatMap((v) => (v.definition !== undefined ? [v.definition] : [])),
]

/** Metric names in a PromQL expression: every exported name starts with kafka_. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bkafka_[a-z0-9_]+/g)].map((m) => m[0])
}

/** Label names used in selectors and by/without clauses. */
function labelNames(expr: string): string[] {
  const names: string[] = []
  for (const sel of expr.matchAll(/\{([^}]*)\}/g))
    for (const m of sel[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)/g)) names.push(m[1]!)
  for (const by of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g))
    names.push(...by[1]!.split(',').map((s) => s.trim()))
  return names
}

describe('Grafana dashboard', () => {
  let cluster: Cluster
  let brokerFamilies: Map<string, Set<string>>
  beforeAll(async () => {
    // Enough traffic that every broker family is present: produce, fetch, metadata.
    cluster = await Cluster.start({ brokers: 1, groupInitialRebalanceDelayMs: 0 })
    cluster.createTopic('dash', { partitions: 1, replicationFactor: 1 })
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
    const kafka = new Kafka({ brokers: cluster.bootstrapServers, logLevel: logLevel.NOTHING })
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: 'dash', messages: [{ value: 'x' }] })
    await producer.disconnect()
    const parsed = parsePrometheusTextFormat(renderBrokerPrometheus(cluster.metrics()))
    brokerFamilies = new Map(
      parsed.map((f) => [f.name, new Set(f.metrics.flatMap((m) => Object.keys(m.labels ?? {})))]),
    )
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('has panels with unique ids, a Prometheus datasource and at least one query each', () => {
    expect(dashboard.uid).toBe('kafkats-overview')
    const ids = panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    const queryPanels = panels.filter((p) => p.type !== 'row')
    expect(queryPanels.length).toBeGreaterThanOrEqual(15)
    for (const p of queryPanels) {
      expect(p.datasource?.type, p.title).toBe('prometheus')
      expect(p.targets?.length, p.title).toBeGreaterThan(0)
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24)
    }
  })

  it('queries only metrics and labels that the broker exporter or the clients emit', () => {
    const used = new Set(queries.flatMap(metricNames))
    expect(used.size).toBeGreaterThan(10)
    for (const expr of queries) {
      for (const name of metricNames(expr)) {
        const broker = brokerFamilies.get(name)
        if (broker === undefined) {
          expect(CLIENT_METRICS.has(name), `${name} in ${expr}`).toBe(true)
          for (const label of labelNames(expr)) expect(CLIENT_LABELS.has(label), `${label} in ${expr}`).toBe(true)
        } else {
          for (const label of labelNames(expr)) expect(broker.has(label), `${label} of ${name} in ${expr}`).toBe(true)
        }
      }
    }
    // The mission's metrics are all on the dashboard.
    for (const name of [
      ...CLIENT_METRICS,
      'kafka_server_brokertopicmetrics_bytesin_total',
      'kafka_server_brokertopicmetrics_bytesout_total',
      'kafka_server_replicamanager_underreplicatedpartitions',
    ])
      expect(used.has(name), name).toBe(true)
  })

  it('has balanced brackets in every query', () => {
    for (const expr of queries) {
      let depth = 0
      for (const c of expr) {
        if ('({['.includes(c)) depth++
        if (')}]'.includes(c)) depth--
        expect(depth, expr).toBeGreaterThanOrEqual(0)
      }
      expect(depth, expr).toBe(0)
    }
  })
})
