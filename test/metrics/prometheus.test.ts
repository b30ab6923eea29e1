// The Prometheus exposition read back by parsers we did not write: parse-prometheus-text-format
// reads renderPrometheus's text and prom-client's own scrape of the collectors registerPrometheus
// put on a prom-client Registry; the values must be the scenario's (records sent, lag left).

import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Reader, Writer, registerPrometheus, renderPrometheus } from '../../src/index.js'
import { createTopic, startReferenceCluster, uniqueTopic } from '../producer/helpers.js'
import { readMessages, waitFor } from '../consumer/helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>
type Parsed = ReturnType<typeof parsePrometheusTextFormat>

/** The samples of one family whose labels include `labels`, as numbers. */
function samples(parsed: Parsed, name: string, labels: Record<string, string> = {}): number[] {
  const family = parsed.find((f) => f.name === name)
  if (family === undefined) return []
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .map((m) => Number(m.value))
}

describe.sequential('Prometheus exposition', () => {
  let cluster: Cluster
  let bootstrap: string[]
  let topic: string
  let writer: Writer
  let reader: Reader

  beforeAll(async () => {
    cluster = await startReferenceCluster({ brokers: 1 })
    bootstrap = cluster.bootstrapServers
    topic = uniqueTopic('prom')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 1 })
    // A client id with the characters the format must escape.
    writer = new Writer({ brokers: bootstrap, topic, clientId: 'orders "eu" \\ 1' })
    await writer.writeMessages(Array.from({ length: 5 }, (_, i) => ({ value: `m${i}` })))
    reader = new Reader({ brokers: bootstrap, topic, partition: 0, clientId: 'orders-reader' })
    await readMessages(reader, 3)
    await waitFor(() => reader.lag().some((l) => l.lag === 2n), 5_000, 'lag 2')
  })

  afterAll(async () => {
    await Promise.allSettled([writer?.close(), reader?.close()])
    await cluster?.stop()
  })

  it('renderPrometheus: a third-party parser reads the families, types, labels and values', () => {
    const parsed = parsePrometheusTextFormat(renderPrometheus(writer, reader))
    const send = parsed.find((f) => f.name === 'kafka_producer_record_send_total')
    expect(send?.type).toBe('COUNTER')
    expect(send?.help).toMatch(/records sent/)
    expect(samples(parsed, 'kafka_producer_record_send_total', { client_id: 'orders "eu" \\ 1' })).toEqual([5])
    expect(samples(parsed, 'kafka_producer_topic_record_send_total', { topic })).toEqual([5])
    expect(parsed.find((f) => f.name === 'kafka_producer_record_send_rate')?.type).toBe('GAUGE')
    expect(samples(parsed, 'kafka_producer_record_send_rate')[0]).toBeGreaterThan(0)
    const lag = { client_id: 'orders-reader', topic, partition: '0' }
    expect(samples(parsed, 'kafka_consumer_records_lag', lag)).toEqual([2])
    expect(samples(parsed, 'kafka_consumer_records_consumed_total', { client_id: 'orders-reader' })).toEqual([3])
    // Nothing committed yet: Java's Avg is NaN, which the format spells NaN.
    expect(samples(parsed, 'kafka_consumer_commit_latency_avg')[0]).toBeNaN()
    // One family per name: every name appears once, with HELP and TYPE.
    const names = parsed.map((f) => f.name)
    expect(new Set(names).size).toBe(names.length)
    for (const f of parsed) expect(f.name).toMatch(/^kafka_(producer|consumer)_[a-z0-9_]+$/)
  })

  it('registerPrometheus: prom-client scrapes the same values, and two calls share one registry', async () => {
    const registry = new Registry()
    const unregisterWriter = registerPrometheus(registry, writer)
    const unregisterReader = registerPrometheus(registry, reader)
    const parsed = parsePrometheusTextFormat(await registry.metrics())
    expect(samples(parsed, 'kafka_producer_record_send_total', { client_id: 'orders "eu" \\ 1' })).toEqual([5])
    expect(samples(parsed, 'kafka_consumer_records_lag', { topic, partition: '0' })).toEqual([2])
    expect(parsed.find((f) => f.name === 'kafka_producer_record_send_total')?.type).toBe('COUNTER')
    // prom-client's JSON view of the same registry.
    const json = await registry.getMetricsAsJSON()
    const lag = json.find((m) => m.name === 'kafka_consumer_records_lag')
    expect(lag?.values).toEqual([{ value: 2, labels: { client_id: 'orders-reader', topic, partition: '0' } }])
    // Scrapes do not reset anything: a second one reads the same totals.
    const again = parsePrometheusTextFormat(await registry.metrics())
    expect(samples(again, 'kafka_producer_record_send_total')).toEqual([5])
    // The same families as renderPrometheus, with the same values for the counters.
    const rendered = parsePrometheusTextFormat(renderPrometheus(writer, reader))
    for (const f of rendered.filter((f) => f.type === 'COUNTER'))
      expect(samples(again, f.name).sort(), f.name).toEqual(samples(rendered, f.name).sort())
    unregisterWriter()
    expect(samples(parsePrometheusTextFormat(await registry.metrics()), 'kafka_producer_record_send_total')).toEqual([])
    unregisterReader()
    expect(await registry.metrics()).toBe('\n')
  })
})
