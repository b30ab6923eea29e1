// The clients' metrics as OpenTelemetry observable instruments, collected by the OpenTelemetry
// SDK's own MeterProvider and MetricReader: the instrument names, kinds (counters vs gauges),
// attributes and values of a scenario with known totals (records sent, records read, lag left).

import { DataPointType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin, Reader, Writer, registerOpenTelemetryMetrics } from '../../src/index.js'
import { readMessages, waitFor } from '../consumer/helpers.js'
import { createTopic, startReferenceCluster, uniqueTopic } from '../producer/helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

/** A reader that collects on demand (the SDK's base class; nothing exported periodically). */
class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

interface Point {
  type: DataPointType
  attributes: Record<string, unknown>
  value: unknown
}

function points(metrics: ResourceMetrics, name: string): Point[] {
  const out: Point[] = []
  for (const scope of metrics.scopeMetrics)
    for (const m of scope.metrics)
      if (m.descriptor.name === name)
        for (const p of m.dataPoints) out.push({ type: m.dataPointType, attributes: p.attributes, value: p.value })
  return out
}

describe.sequential('OpenTelemetry metrics', () => {
  let cluster: Cluster
  let bootstrap: string[]
  let topic: string
  const closers: { close(): Promise<void> }[] = []

  beforeAll(async () => {
    cluster = await startReferenceCluster({ brokers: 1 })
    bootstrap = cluster.bootstrapServers
    topic = uniqueTopic('otel-metrics')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 1 })
  })

  afterAll(async () => {
    await Promise.allSettled(closers.map((c) => c.close()))
    await cluster?.stop()
  })

  it('the telemetry option reports the Writer and Reader metrics as observable instruments', async () => {
    const reader = new OnDemandReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const writer = new Writer({ brokers: bootstrap, topic, clientId: 'otel-w', telemetry: { meterProvider } })
    closers.push(writer)
    await writer.writeMessages(Array.from({ length: 6 }, (_, i) => ({ value: `v${i}` })))
    const consumer = new Reader({
      brokers: bootstrap,
      topic,
      partition: 0,
      clientId: 'otel-r',
      telemetry: { meterProvider },
    })
    closers.push(consumer)
    await readMessages(consumer, 4)
    await waitFor(() => consumer.lag().some((l) => l.lag === 2n), 5_000, 'lag 2')

    const { resourceMetrics, errors } = await reader.collect()
    expect(errors).toEqual([])
    expect(points(resourceMetrics, 'kafka.producer.record_send_total')).toEqual([
      { type: DataPointType.SUM, attributes: { client_id: 'otel-w' }, value: 6 },
    ])
    expect(points(resourceMetrics, 'kafka.producer.topic.record_send_total')).toEqual([
      { type: DataPointType.SUM, attributes: { client_id: 'otel-w', topic }, value: 6 },
    ])
    const rate = points(resourceMetrics, 'kafka.producer.record_send_rate')
    expect(rate[0]?.type).toBe(DataPointType.GAUGE)
    expect(rate[0]?.value).toBeGreaterThan(0)
    expect(points(resourceMetrics, 'kafka.consumer.records_consumed_total')).toEqual([
      { type: DataPointType.SUM, attributes: { client_id: 'otel-r' }, value: 4 },
    ])
    expect(points(resourceMetrics, 'kafka.consumer.records_lag')).toEqual([
      { type: DataPointType.GAUGE, attributes: { client_id: 'otel-r', topic, partition: '0' }, value: 2 },
    ])
    // NaN (an average of nothing: no commit yet) is left out rather than reported.
    expect(points(resourceMetrics, 'kafka.consumer.commit_latency_avg')).toEqual([])

    // Values follow the clients; closing one removes its callback (the SDK keeps a cumulative
    // counter's last observed value: the Writer's total stays at the one collected before).
    await readMessages(consumer, 1)
    await writer.writeMessages({ value: 'after the first collection' })
    await writer.close()
    await writer.writeMessages({ value: 'refused' }).catch(() => {})
    const after = await reader.collect()
    expect(writer.metrics().metrics.find((m) => m.name === 'record-send-total')?.value).toBe(7)
    expect(points(after.resourceMetrics, 'kafka.producer.record_send_total')[0]?.value).toBe(6)
    expect(points(after.resourceMetrics, 'kafka.consumer.records_consumed_total')[0]?.value).toBe(5)
    await meterProvider.shutdown()
  })

  it('registerOpenTelemetryMetrics reports any client, the Admin too, until unregistered', async () => {
    const reader = new OnDemandReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const admin = new Admin({ brokers: bootstrap, clientId: 'otel-admin' })
    closers.push(admin)
    await admin.listTopics()
    const stop = registerOpenTelemetryMetrics(meterProvider, admin)
    const { resourceMetrics } = await reader.collect()
    const requests = points(resourceMetrics, 'kafka.admin.request_total')
    expect(requests).toHaveLength(1)
    expect(requests[0]!.value).toBe(admin.metrics().metrics.find((m) => m.name === 'request-total')?.value)
    expect(requests[0]!.value).toBeGreaterThan(0)
    stop()
    const before = requests[0]!.value as number
    await admin.listTopics()
    expect(admin.metrics().metrics.find((m) => m.name === 'request-total')?.value).toBeGreaterThan(before)
    const after = points((await reader.collect()).resourceMetrics, 'kafka.admin.request_total')
    expect(after.map((p) => p.value)).toEqual([before]) // no longer observed: the last value stays
    await meterProvider.shutdown()
  })
})
