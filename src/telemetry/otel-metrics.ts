// The clients' metrics as OpenTelemetry observable instruments: one per metric family
// (`kafka.producer.record_send_rate`, `kafka.consumer.records_lag`, ...; a Prometheus exporter
// turns them into the same names renderPrometheus uses), with the attributes `client_id`, `topic`,
// `partition`. Totals are observable counters, the rest observable gauges; NaN (an average of
// nothing) is not reported. One batch callback per registration reads each client once.

import { prometheusLabels, prometheusName } from '../metrics/prometheus.js'
import type { MetricsSource } from '../metrics/registry.js'
import {
  INSTRUMENTATION_NAME,
  type OtelBatchResult,
  type OtelMeter,
  type OtelMeterProvider,
  type OtelObservable,
} from './otel-types.js'

/** Instruments already made on a meter, shared by every registration on it. */
const instrumentsByMeter = new WeakMap<OtelMeter, Map<string, OtelObservable>>()

/** The OpenTelemetry name of a metric family. */
export function otelName(
  client: Parameters<typeof prometheusName>[0],
  family: { group: string; name: string },
): string {
  return prometheusName(client, family).replace(
    /^kafka_(producer_topic|producer|consumer|admin)_/,
    (_, prefix: string) => `kafka.${prefix.replace('_', '.')}.`,
  )
}

/**
 * Reports the clients' metrics through a MeterProvider (or a Meter) until the returned function
 * is called.
 */
export function registerOpenTelemetryMetrics(
  provider: OtelMeterProvider | OtelMeter,
  ...clients: MetricsSource[]
): () => void {
  const meter = 'getMeter' in provider ? provider.getMeter(INSTRUMENTATION_NAME) : provider
  let instruments = instrumentsByMeter.get(meter)
  if (instruments === undefined) instrumentsByMeter.set(meter, (instruments = new Map()))
  const known = instruments
  const used = new Set<OtelObservable>()
  for (const client of clients) {
    const snap = client.metrics()
    for (const family of snap.families) {
      const name = otelName(snap.client, family)
      let instrument = known.get(name)
      if (instrument === undefined) {
        const options = { description: family.description }
        instrument =
          family.type === 'counter'
            ? meter.createObservableCounter(name, options)
            : meter.createObservableGauge(name, options)
        known.set(name, instrument)
      }
      used.add(instrument)
    }
  }
  const callback = (result: OtelBatchResult): void => {
    for (const client of clients) {
      const snap = client.metrics()
      for (const m of snap.metrics) {
        if (Number.isNaN(m.value)) continue
        const instrument = known.get(otelName(snap.client, m))
        if (instrument !== undefined) result.observe(instrument, m.value, prometheusLabels(m.tags))
      }
    }
  }
  const observables = [...used]
  meter.addBatchObservableCallback(callback, observables)
  return () => meter.removeBatchObservableCallback(callback, observables)
}
