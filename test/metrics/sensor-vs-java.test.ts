// Sensor against the Java client's own metrics classes: test/fixtures/java-metrics/SensorProbe.java
// runs kafka-clients 4.4.0's Sensor with Rate, Rate(WindowedCount), Avg, Max, Min, CumulativeSum
// and CumulativeCount (default config: 2 samples of 30 s) over the same script of records and
// reads, and every value read must match.

import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { JAVA_METRICS_WINDOW, Sensor } from '../../src/metrics/sensor.js'
import { javaClientClasspath, peer } from '../helpers/peers.js'

const PROBE = fileURLToPath(new URL('../fixtures/java-metrics/SensorProbe.java', import.meta.url))

type Step = { record: number; value: number } | { read: number }

function javaValues(script: Step[]): number[][] {
  const input = script.map((s) => ('record' in s ? `record ${s.record} ${s.value}` : `read ${s.read}`)).join('\n')
  const out = execFileSync(peer('java'), ['-cp', javaClientClasspath(), PROBE], {
    input: `${input}\n`,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'ignore'],
    timeout: 120_000,
  })
  return out
    .trim()
    .split('\n')
    .map((line) => line.split(' ').map(Number))
}

function ourValues(script: Step[]): number[][] {
  const s = new Sensor(JAVA_METRICS_WINDOW)
  const rows: number[][] = []
  for (const step of script) {
    if ('record' in step) s.record(step.value, step.record)
    else {
      const t = step.read
      rows.push([s.rate(t), s.countRate(t), s.avg(t), s.max(t), s.min(t), s.total, s.count])
    }
  }
  return rows
}

/** A seeded script: records with gaps from 0 to 70 s (some longer than the whole window), reads between. */
function randomScript(seed: number, steps: number): Step[] {
  let x = seed
  const random = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    return x / 2 ** 32
  }
  const script: Step[] = []
  let t = 1_000 + Math.floor(random() * 5_000)
  for (let i = 0; i < steps; i++) {
    const r = random()
    t +=
      r < 0.6 ? Math.floor(random() * 2_000) : r < 0.9 ? Math.floor(random() * 31_000) : Math.floor(random() * 70_000)
    if (random() < 0.7) script.push({ record: t, value: Math.floor(random() * 1000) - 100 })
    else script.push({ read: t })
  }
  script.push({ read: t + 45_000 }, { read: t + 61_000 })
  return script
}

function expectSame(ours: number[][], java: number[][]): void {
  expect(ours.length).toBe(java.length)
  ours.forEach((row, i) =>
    row.forEach((v, j) => {
      const expected = java[i]![j]!
      if (Number.isNaN(expected)) expect(v, `read ${i}, column ${j}`).toBeNaN()
      else expect(v, `read ${i}, column ${j}`).toBeCloseTo(expected, 9)
    }),
  )
}

describe('Sensor vs kafka-clients 4.4.0 metrics', () => {
  it('matches Java on a script with a read before the first record, a second sample and expiry', () => {
    const script: Step[] = [
      { read: 500 },
      { record: 1_000, value: 10 },
      { record: 2_000, value: 20 },
      { read: 10_000 },
      { record: 31_000, value: 5 },
      { read: 40_000 },
      { read: 61_000 },
      { read: 62_000 },
      { read: 100_000 },
      { record: 100_500, value: 7 },
      { read: 101_000 },
    ]
    expectSame(ourValues(script), javaValues(script))
  })
  it('matches Java on seeded random scripts (gaps shorter and longer than the window)', { timeout: 120_000 }, () => {
    for (const seed of [1, 2, 3, 4]) {
      const script = randomScript(seed, 200)
      expectSame(ourValues(script), javaValues(script))
    }
  })
})
