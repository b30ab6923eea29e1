// Traces per the OpenTelemetry messaging semantic conventions, recorded by the OpenTelemetry SDK
// (BasicTracerProvider + InMemorySpanExporter): a `send <topic>` PRODUCER span per message with
// its partition and offset, a `receive <topic>` CONSUMER span linked to the producer's context.
// The `traceparent` header is checked with OpenTelemetry's own W3C propagator (read on the way
// in, written for a message the Reader must link to), not only by our own parser.

import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Reader, Writer, traceContextOf, type WriterConfig } from '../../src/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { readMessages } from '../consumer/helpers.js'
import { createTopic, startReferenceCluster, uniqueTopic } from '../producer/helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

describe.sequential('OpenTelemetry traces', () => {
  let cluster: Cluster
  let bootstrap: string[]
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const propagator = new W3CTraceContextPropagator()
  const closers: { close(): Promise<void> }[] = []

  beforeAll(async () => {
    cluster = await startReferenceCluster({ brokers: 1 })
    bootstrap = cluster.bootstrapServers
  })

  beforeEach(() => exporter.reset())

  afterAll(async () => {
    await Promise.allSettled(closers.map((c) => c.close()))
    await cluster?.stop()
  })

  function writer(config: Omit<WriterConfig, 'brokers'>): Writer {
    const w = new Writer({ brokers: bootstrap, ...config })
    closers.push(w)
    return w
  }

  async function topic(prefix: string): Promise<string> {
    const name = uniqueTopic(prefix)
    await createTopic(bootstrap, name, { partitions: 1, replicationFactor: 1 })
    return name
  }

  it('a send span per message: kind PRODUCER, messaging attributes, partition and offset after the ack', async () => {
    const t = await topic('trace-send')
    const w = writer({ topic: t, clientId: 'traced-writer', telemetry: { tracerProvider } })
    await w.writeMessages([
      { key: 'k0', value: 'a' },
      { key: 'k1', value: 'b' },
      { key: 'k2', value: 'c' },
    ])
    const spans = exporter.getFinishedSpans()
    expect(spans.map((s) => s.name)).toEqual([`send ${t}`, `send ${t}`, `send ${t}`])
    spans.forEach((s, i) => {
      expect(s.kind).toBe(SpanKind.PRODUCER)
      expect(s.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.name': 'send',
        'messaging.destination.name': t,
        'messaging.destination.partition.id': '0',
        'messaging.kafka.message.key': `k${i}`,
        'messaging.kafka.offset': i,
        'messaging.client.id': 'traced-writer',
      })
      expect(s.status.code).toBe(SpanStatusCode.UNSET)
    })
    // The header each message carries is the span's context, as OpenTelemetry's propagator reads it.
    const reader = new Reader({ brokers: bootstrap, topic: t, partition: 0 })
    closers.push(reader)
    const read = await readMessages(reader, 3)
    read.forEach((m, i) => {
      const carrier = Object.fromEntries(m.headers.map((h) => [h.key, h.value?.toString('latin1') ?? '']))
      const context = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter))
      expect(context?.traceId).toBe(spans[i]!.spanContext().traceId)
      expect(context?.spanId).toBe(spans[i]!.spanContext().spanId)
      expect(context?.traceFlags).toBe(1) // sampled
    })
  })

  it('a failed send ends its span with status ERROR and the exception', async () => {
    const t = await topic('trace-error')
    const w = writer({ topic: t, telemetry: { tracerProvider } })
    await w.writeMessages({ value: 'warm-up' })
    exporter.reset()
    cluster.faults.failNext('Produce', 1, ErrorCode.INVALID_RECORD)
    await expect(w.writeMessages({ value: 'refused' })).rejects.toThrow()
    const [span] = exporter.getFinishedSpans()
    expect(span?.status.code).toBe(SpanStatusCode.ERROR)
    expect(span?.events.map((e) => e.name)).toContain('exception')
    expect(span?.attributes['messaging.kafka.offset']).toBeUndefined()
  })

  it('a receive span per message (kind CONSUMER) linked to the producer context in traceparent', async () => {
    const t = await topic('trace-receive')
    // The producer's context written by OpenTelemetry's own propagator, through an untraced Writer.
    const producerContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    }
    const carrier: Record<string, string> = {}
    propagator.inject(trace.setSpanContext(ROOT_CONTEXT, producerContext), carrier, defaultTextMapSetter)
    const plain = writer({ topic: t })
    await plain.writeMessages([
      { key: 'k', value: 'linked', headers: Object.entries(carrier).map(([key, value]) => ({ key, value })) },
      { value: 'no context', headers: [{ key: 'traceparent', value: 'not-a-traceparent' }] },
    ])
    const reader = new Reader({
      brokers: bootstrap,
      topic: t,
      partition: 0,
      clientId: 'traced-reader',
      telemetry: { tracerProvider },
    })
    closers.push(reader)
    const [linked, unlinked] = await readMessages(reader, 2)
    expect(traceContextOf(linked!)).toMatchObject(producerContext)
    expect(traceContextOf(unlinked!)).toBeNull()
    const spans = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CONSUMER)
    expect(spans.map((s) => s.name)).toEqual([`receive ${t}`, `receive ${t}`])
    expect(spans[0]!.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.name': 'receive',
      'messaging.destination.name': t,
      'messaging.destination.partition.id': '0',
      'messaging.kafka.offset': 0,
      'messaging.kafka.message.key': 'k',
      'messaging.client.id': 'traced-reader',
    })
    expect(spans[0]!.links.map((l) => l.context)).toEqual([expect.objectContaining(producerContext)])
    expect(spans[1]!.links).toEqual([]) // a malformed traceparent is ignored
  })

  it('end to end: a traced batch read links every message to its own send span', async () => {
    const t = await topic('trace-batch')
    const w = writer({ topic: t, telemetry: { tracerProvider } })
    await w.writeMessages(Array.from({ length: 4 }, (_, i) => ({ value: `m${i}` })))
    const sends = exporter.getFinishedSpans().map((s) => s.spanContext().spanId)
    const reader = new Reader({
      brokers: bootstrap,
      topic: t,
      partition: 0,
      telemetry: { tracerProvider },
    })
    closers.push(reader)
    const batch = await reader.fetchBatch({ signal: AbortSignal.timeout(10_000) })
    expect(batch.messages).toHaveLength(4)
    const receive = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CONSUMER)
    expect(receive?.attributes['messaging.batch.message_count']).toBe(4)
    expect(receive?.links.map((l) => l.context.spanId)).toEqual(sends)
  })
})
