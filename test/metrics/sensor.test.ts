// The windowed statistics against the Java client's definitions (org.apache.kafka.common.metrics:
// SampledStat advances to a new sample once the current one is a window old and, when read,
// resets samples whose last record is samples × window old; Rate divides by the time since the oldest sample's start,
// but by at least (samples − 1) full windows; Avg, Max and Min are NaN with nothing recorded).
// The expected numbers are worked out by hand from those rules, with Java's defaults (2 × 30 s);
// sensor-vs-java.test.ts runs Java's own classes on a script.

import { describe, expect, it } from 'vitest'
import { MetricsRegistry, metricValue } from '../../src/metrics/registry.js'
import { JAVA_METRICS_WINDOW, Sensor } from '../../src/metrics/sensor.js'

describe('Sensor (Java SampledStat semantics, 2 samples of 30 s)', () => {
  it('starts its window at the first record and divides a young rate by at least one full window', () => {
    const s = new Sensor(JAVA_METRICS_WINDOW)
    s.record(10, 1_000)
    s.record(20, 2_000)
    // 9 s since the first sample began, plus the one window Java adds while fewer than one is full.
    expect(s.rate(10_000)).toBeCloseTo(30 / 39, 12)
    expect(s.countRate(10_000)).toBeCloseTo(2 / 39, 12)
    expect(s.avg(10_000)).toBe(15)
    expect(s.max(10_000)).toBe(20)
    expect(s.min(10_000)).toBe(10)
    expect([s.total, s.count]).toEqual([30, 2])
  })

  it('moves to the next sample after a window and drops samples not recorded in for the whole window', () => {
    const s = new Sensor(JAVA_METRICS_WINDOW)
    s.record(10, 1_000)
    s.record(20, 2_000)
    s.record(5, 31_000) // the first sample is 30 s old: a new one starts
    expect(s.rate(40_000)).toBeCloseTo(35 / 39, 12) // one full window: no padding
    expect(s.max(40_000)).toBe(20)
    // At 61 s the first sample (from 1 s) was last recorded in 59 s ago: still counted.
    expect(s.rate(61_000)).toBeCloseTo(35 / 60, 12)
    expect(s.avg(61_000)).toBeCloseTo(35 / 3, 12)
    // At 62 s its last record is 60 s old: forgotten; the oldest is now the one from 31 s.
    expect(s.rate(62_000)).toBeCloseTo(5 / 31, 12)
    expect(s.max(62_000)).toBe(5)
    expect(s.avg(62_000)).toBe(5)
    // Everything expired: windowed values are empty, totals stay.
    expect(s.avg(100_000)).toBeNaN()
    expect(s.max(100_000)).toBeNaN()
    expect(s.min(100_000)).toBeNaN()
    expect(s.rate(100_000)).toBe(0)
    expect([s.total, s.count]).toEqual([35, 3])
  })

  it('reading changes nothing: two readers see the same values', () => {
    const s = new Sensor(JAVA_METRICS_WINDOW)
    for (let t = 0; t < 50; t++) s.record(t, t * 100)
    const first = [s.rate(6_000), s.avg(6_000), s.max(6_000), s.total]
    const second = [s.rate(6_000), s.avg(6_000), s.max(6_000), s.total]
    expect(second).toEqual(first)
  })
})

describe('MetricsRegistry', () => {
  it('names a meter <base>-rate and <base>-total, tags every metric with client-id, and keeps tags apart', () => {
    let now = 0
    const r = new MetricsRegistry('producer', 'app-1', JAVA_METRICS_WINDOW, () => now)
    const a = r.sensor()
    const b = r.sensor()
    r.meter('producer-topic-metrics', 'record-send', 'records', a, { topic: 'a' })
    r.meter('producer-topic-metrics', 'record-send', 'records', b, { topic: 'b' })
    a.record(4, 0)
    b.record(6, 0)
    now = 10_000
    const snap = r.snapshot()
    expect(metricValue(snap, 'record-send-total', { topic: 'a' })).toBe(4)
    expect(metricValue(snap, 'record-send-total', { topic: 'b' })).toBe(6)
    expect(metricValue(snap, 'record-send-rate', { topic: 'b' })).toBeCloseTo(6 / 40, 12)
    for (const m of snap.metrics) expect(m.tags['client-id']).toBe('app-1')
    expect(snap.metrics.find((m) => m.name === 'record-send-total')?.type).toBe('counter')
    expect(snap.metrics.find((m) => m.name === 'record-send-rate')?.type).toBe('gauge')
    r.remove({ topic: 'a' })
    expect(metricValue(r.snapshot(), 'record-send-total', { topic: 'a' })).toBeUndefined()
  })
})
