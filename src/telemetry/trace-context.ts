// W3C Trace Context (https://www.w3.org/TR/trace-context/) in record headers: the `traceparent`
// header a traced send adds (`00-<trace id>-<span id>-<flags>`) and its parsing on the consumer
// side. Written here rather than through a global propagator so it works whatever the
// application registered, and a malformed header is ignored, never an error.

import type { Header } from '../message.js'
import type { OtelSpanContext } from './otel-types.js'

export const TRACEPARENT = 'traceparent'
export const TRACESTATE = 'tracestate'

const PARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

export function formatTraceparent(c: OtelSpanContext): string {
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`
}

/** The span context in a `traceparent` value, or null when it is not a valid one (per the spec). */
export function parseTraceparent(value: string, tracestate?: string): OtelSpanContext | null {
  const m = PARENT.exec(value.trim())
  if (m === null) return null
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string?]
  // Version ff is invalid; version 00 has nothing after the flags; ids of all zeros are invalid.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return null
  const context: OtelSpanContext = { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true }
  if (tracestate !== undefined && tracestate !== '') context.traceState = { serialize: () => tracestate }
  return context
}

/** The producer's span context carried by a message's headers (the last traceparent wins), if any. */
export function traceContextOf(message: { headers?: readonly Header[] | undefined }): OtelSpanContext | null {
  let parent: string | undefined
  let state: string | undefined
  for (const h of message.headers ?? []) {
    if (h.key === TRACEPARENT) parent = headerText(h.value)
    else if (h.key === TRACESTATE) state = headerText(h.value)
  }
  return parent === undefined ? null : parseTraceparent(parent, state)
}

function headerText(value: Header['value']): string | undefined {
  if (value === null || value === undefined) return undefined
  return typeof value === 'string'
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1')
}
