// The Writer's spans, per the OpenTelemetry messaging semantic conventions: one `send <topic>`
// span (kind PRODUCER) per message, a child of the context active when writeMessages was called,
// its context carried to consumers in the message's `traceparent` header; the partition is set
// when the message is routed, the offset or the error when its batch is answered.

import type { PreparedMessage } from '../producer/prepare.js'
import type { RecordHeader } from '../protocol/record-batch.js'
import {
  SPAN_KIND_PRODUCER,
  SPAN_STATUS_ERROR,
  type OtelAttributes,
  type OtelSpanOptions,
  type OtelSpan,
  type OtelTracer,
} from './otel-types.js'
import { TRACEPARENT, TRACESTATE, formatTraceparent } from './trace-context.js'

/** Per-record bytes a header costs beyond its key and value (as prepare.ts counts). */
const HEADER_OVERHEAD = 10

export class ProducerTracing {
  readonly #tracer: OtelTracer
  readonly #clientId: string

  constructor(tracer: OtelTracer, clientId: string) {
    this.#tracer = tracer
    this.#clientId = clientId
  }

  /** Starts one span per message and puts its context in the message's headers (replacing any there). */
  start(prepared: PreparedMessage[]): OtelSpan[] {
    return prepared.map((p) => {
      const { key, value } = p.record
      const attributes: OtelAttributes = {
        'messaging.system': 'kafka',
        'messaging.operation.name': 'send',
        'messaging.operation.type': 'send',
        'messaging.destination.name': p.topic,
        'messaging.client.id': this.#clientId,
        'messaging.message.body.size': value?.length ?? 0,
      }
      if (key !== null) attributes['messaging.kafka.message.key'] = key.toString('utf8')
      if (value === null) attributes['messaging.kafka.message.tombstone'] = true
      const options: OtelSpanOptions = { kind: SPAN_KIND_PRODUCER, attributes }
      const span = this.#tracer.startSpan(`send ${p.topic}`, options)
      const context = span.spanContext()
      if (/^0*$/.test(context.traceId)) return span // a non-recording tracer: nothing to propagate
      const headers: RecordHeader[] = (p.record.headers ?? []).filter(
        (h) => h.key !== TRACEPARENT && h.key !== TRACESTATE,
      )
      const added: RecordHeader[] = [{ key: TRACEPARENT, value: Buffer.from(formatTraceparent(context), 'latin1') }]
      const state = context.traceState?.serialize() ?? ''
      if (state !== '') added.push({ key: TRACESTATE, value: Buffer.from(state, 'latin1') })
      for (const h of added) p.size += h.key.length + (h.value?.length ?? 0) + HEADER_OVERHEAD
      p.record = { ...p.record, headers: [...headers, ...added] }
      return span
    })
  }

  /** `settle`, also ending the message's span with where it went or why it failed. */
  settler(
    span: OtelSpan,
    partition: number,
    settle: (error: Error | null, offset: bigint) => void,
  ): (error: Error | null, offset: bigint) => void {
    span.setAttribute('messaging.destination.partition.id', String(partition))
    return (error, offset) => {
      if (error !== null) {
        span.recordException(error)
        span.setAttribute('error.type', (error as { code?: unknown }).code?.toString() ?? error.name)
        span.setStatus({ code: SPAN_STATUS_ERROR, message: error.message })
      } else if (offset >= 0n) span.setAttribute('messaging.kafka.offset', Number(offset))
      span.end()
      settle(error, offset)
    }
  }

  /** Ends the spans of messages writeMessages gave up on before buffering them. */
  notSent(spans: readonly OtelSpan[], err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err))
    for (const span of spans) {
      span.recordException(error)
      span.setStatus({ code: SPAN_STATUS_ERROR, message: error.message })
      span.end()
    }
  }
}
