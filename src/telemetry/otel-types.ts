// The parts of the OpenTelemetry API kafkats calls, typed structurally so that kafkats's own
// types never import @opentelemetry/api (an optional peer): a TracerProvider or MeterProvider
// from the API or an SDK fits these. Numeric constants are the API's (stable since 1.0).

import { createRequire } from 'node:module'
import { KafkaTsError } from '../errors.js'

/** @opentelemetry/api SpanKind. */
export const SPAN_KIND_PRODUCER = 3
export const SPAN_KIND_CONSUMER = 4
/** @opentelemetry/api SpanStatusCode.ERROR. */
export const SPAN_STATUS_ERROR = 2

export type OtelAttributes = Record<string, string | number | boolean>

export interface OtelSpanContext {
  traceId: string
  spanId: string
  traceFlags: number
  isRemote?: boolean
  traceState?: { serialize(): string }
}

export interface OtelSpan {
  spanContext(): OtelSpanContext
  setAttribute(key: string, value: string | number | boolean): unknown
  setStatus(status: { code: number; message?: string }): unknown
  recordException(exception: Error): void
  end(endTime?: number): void
}

export interface OtelSpanOptions {
  kind?: number
  attributes?: OtelAttributes
  links?: { context: OtelSpanContext }[]
  startTime?: number
}

export interface OtelTracer {
  /** Called with OtelSpanOptions (typed `object` so the API's richer SpanOptions fit). */
  startSpan(name: string, options?: object): OtelSpan
}

export interface OtelTracerProvider {
  getTracer(name: string, version?: string): OtelTracer
}

/** An observable instrument (opaque here: only handed back to observe()). */
export type OtelObservable = object

export interface OtelBatchResult {
  observe(observable: OtelObservable, value: number, attributes?: Record<string, string>): void
}

export interface OtelMeter {
  createObservableGauge(name: string, options?: { description?: string; unit?: string }): OtelObservable
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): OtelObservable
  addBatchObservableCallback(callback: (result: OtelBatchResult) => void, observables: OtelObservable[]): void
  removeBatchObservableCallback(callback: (result: OtelBatchResult) => void, observables: OtelObservable[]): void
}

export interface OtelMeterProvider {
  getMeter(name: string, version?: string): OtelMeter
}

/**
 * The `telemetry` option of the Writer and the Reader: spans (per message sent, per message or
 * batch received) from `tracerProvider`, and the client's metrics as observable instruments of
 * `meterProvider`. `'global'` takes the one registered with @opentelemetry/api.
 */
export interface TelemetryOptions {
  tracerProvider?: OtelTracerProvider | 'global'
  meterProvider?: OtelMeterProvider | 'global'
}

export const INSTRUMENTATION_NAME = 'kafkats'

/** The config check for `telemetry`. */
export function checkTelemetry(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'must be an object { tracerProvider?, meterProvider? }'
  const t = v as Record<string, unknown>
  if (
    t.tracerProvider !== undefined &&
    t.tracerProvider !== 'global' &&
    typeof (t.tracerProvider as OtelTracerProvider).getTracer !== 'function'
  )
    return "tracerProvider must be an OpenTelemetry TracerProvider or 'global'"
  if (
    t.meterProvider !== undefined &&
    t.meterProvider !== 'global' &&
    typeof (t.meterProvider as OtelMeterProvider).getMeter !== 'function'
  )
    return "meterProvider must be an OpenTelemetry MeterProvider or 'global'"
  return null
}

interface OtelApi {
  trace: { getTracerProvider(): OtelTracerProvider }
  metrics: { getMeterProvider(): OtelMeterProvider }
}

/** @opentelemetry/api, required only when 'global' is asked for. */
export function otelApi(): OtelApi {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as OtelApi
  } catch (err) {
    throw new KafkaTsError(
      'KAFKATS_MISSING_PEER',
      "telemetry 'global' needs the optional peer dependency @opentelemetry/api (npm install @opentelemetry/api)",
      { cause: err },
    )
  }
}

export function tracerOf(options: TelemetryOptions | undefined): OtelTracer | null {
  const p = options?.tracerProvider
  if (p === undefined) return null
  return (p === 'global' ? otelApi().trace.getTracerProvider() : p).getTracer(INSTRUMENTATION_NAME)
}

export function meterOf(options: TelemetryOptions | undefined): OtelMeter | null {
  const p = options?.meterProvider
  if (p === undefined) return null
  return (p === 'global' ? otelApi().metrics.getMeterProvider() : p).getMeter(INSTRUMENTATION_NAME)
}
