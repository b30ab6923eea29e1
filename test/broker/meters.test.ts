// Meter and Histogram against the known answers of the metrics library Kafka's broker reports
// through (Yammer/Dropwizard metrics): EWMATest's one-minute rate after a mark of 3, and the
// Snapshot quantiles of UniformSnapshotTest (values 1..5).

import { describe, expect, it } from 'vitest'
import { Histogram, Meter, RESERVOIR_SIZE, TICK_MS } from '../../src/broker/meters.js'

describe('Meter (Yammer semantics)', () => {
  it('has the one-minute rates of EWMATest.aOneMinuteEWMAWithAValueOfThree', () => {
    let now = 0
    const meter = new Meter(() => now)
    meter.mark(3)
    now = TICK_MS + 1 // one tick
    expect(meter.snapshot().oneMinuteRate).toBeCloseTo(0.6, 6)
    // Dropwizard's elapseMinute: 12 more ticks each.
    const expected = [0.22072766, 0.08120117, 0.02987224, 0.01098938, 0.00404277]
    for (const rate of expected) {
      now += 60_000
      expect(meter.snapshot().oneMinuteRate).toBeCloseTo(rate, 6)
    }
    expect(meter.snapshot().count).toBe(3)
  })

  it('does not tick before a whole interval has passed, and keeps the mean rate since start', () => {
    let now = 0
    const meter = new Meter(() => now)
    meter.mark(10)
    now = TICK_MS // Yammer ticks only when more than the interval has passed
    expect(meter.snapshot().oneMinuteRate).toBe(0)
    now = 20_000
    const s = meter.snapshot()
    expect(s.meanRate).toBeCloseTo(10 / 20, 9)
    expect(s.count).toBe(10)
  })
})

describe('Histogram', () => {
  it('has the quantiles of a Yammer snapshot of 1..5', () => {
    const h = new Histogram()
    for (const v of [5, 1, 2, 3, 4]) h.update(v)
    const s = h.snapshot()
    expect(s.quantiles['0.5']).toBe(3)
    expect(s.quantiles['0.75']).toBe(4.5)
    expect(s.quantiles['0.95']).toBe(5)
    expect(s.quantiles['0.999']).toBe(5)
    expect(s.mean).toBe(3)
    expect(s.max).toBe(5)
    expect(s.count).toBe(5)
    expect(s.sum).toBe(15)
  })

  it('keeps the last samples only for mean and max (bounded memory), count and sum since start', () => {
    const h = new Histogram()
    h.update(1000)
    for (let i = 0; i < RESERVOIR_SIZE; i++) h.update(1)
    const s = h.snapshot()
    expect(s.max).toBe(1)
    expect(s.mean).toBe(1)
    expect(s.count).toBe(RESERVOIR_SIZE + 1)
    expect(s.sum).toBe(1000 + RESERVOIR_SIZE)
  })

  it('reports zeros with no samples', () => {
    const s = new Histogram().snapshot()
    expect([s.count, s.mean, s.max, s.quantiles['0.99']]).toEqual([0, 0, 0, 0])
  })
})
