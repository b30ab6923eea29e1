// The Reader's spans, per the OpenTelemetry messaging semantic conventions: a `receive <topic>`
// span (kind CONSUMER) for each message fetchMessage returns and each batch fetchBatch returns,
// from the call to the hand-out, linked to the producers' contexts found in the messages'
// `traceparent` headers. Applications parent their own processing spans with traceContextOf().

import type { FetchedMessage } from '../consumer/fetch-result.js'
import {
  SPAN_KIND_CONSUMER,
  type OtelAttributes,
  type OtelSpanOptions,
  type OtelSpanContext,
  type OtelTracer,
} from './otel-types.js'
import { traceContextOf } from './trace-context.js'

export class ConsumerTracing {
  readonly #tracer: OtelTracer
  readonly #clientId: string
  readonly #groupId: string | undefined

  constructor(tracer: OtelTracer, clientId: string, groupId: string | undefined) {
    this.#tracer = tracer
    this.#clientId = clientId
    this.#groupId = groupId
  }

  /** One span for the messages of one hand-out (one message, or one partition's batch). */
  received(messages: readonly FetchedMessage[], startTime: number, batch: boolean): void {
    const first = messages[0]
    if (first === undefined) return
    const attributes: OtelAttributes = {
      'messaging.system': 'kafka',
      'messaging.operation.name': 'receive',
      'messaging.operation.type': 'receive',
      'messaging.destination.name': first.topic,
      'messaging.destination.partition.id': String(first.partition),
      'messaging.client.id': this.#clientId,
    }
    if (this.#groupId !== undefined) attributes['messaging.consumer.group.name'] = this.#groupId
    if (batch) attributes['messaging.batch.message_count'] = messages.length
    else {
      attributes['messaging.kafka.offset'] = Number(first.offset)
      attributes['messaging.message.body.size'] = first.value?.length ?? 0
      if (first.key !== null) attributes['messaging.kafka.message.key'] = first.key.toString('utf8')
      if (first.value === null) attributes['messaging.kafka.message.tombstone'] = true
    }
    const links: { context: OtelSpanContext }[] = []
    for (const m of messages) {
      const context = traceContextOf(m)
      if (context !== null) links.push({ context })
    }
    const options: OtelSpanOptions = { kind: SPAN_KIND_CONSUMER, attributes, links, startTime }
    const span = this.#tracer.startSpan(`receive ${first.topic}`, options)
    span.end()
  }
}
