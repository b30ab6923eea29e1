// A client's metrics under the Java client's names, groups and tags (client-id, topic,
// partition): each metric reads a Sensor or a gauge function when a snapshot is taken. Nothing
// here is on the hot path: clients record into Sensors, and reading computes the values.

import { JAVA_METRICS_WINDOW, Sensor, type MetricsWindow } from './sensor.js'

export type ClientKind = 'producer' | 'consumer' | 'admin' | 'streams'

/** A counter only grows (a `-total`); a gauge is a value at the time it is read (rates, averages, levels). */
export type MetricType = 'counter' | 'gauge'

export interface MetricValue {
  /** Java's metric name, e.g. `record-send-rate`. */
  name: string
  /** Java's metric group, e.g. `producer-metrics`, `consumer-fetch-manager-metrics`. */
  group: string
  description: string
  type: MetricType
  /** Java's tags: always `client-id`, plus `topic` and `partition` where Java has them. */
  tags: Readonly<Record<string, string>>
  /** NaN for an average, maximum or minimum with nothing recorded in the window (as Java). */
  value: number
}

/** One metric name of one group, whatever its tags: what an exporter declares up front. */
export interface MetricFamily {
  name: string
  group: string
  description: string
  type: MetricType
}

export interface MetricsSnapshot {
  client: ClientKind
  clientId: string
  /** When the snapshot was taken (ms since the epoch). */
  time: number
  metrics: MetricValue[]
  /** Every metric this client can report, including per-topic and per-partition ones not seen yet. */
  families: readonly MetricFamily[]
}

/** What a client exposes to renderPrometheus, registerPrometheus and the OpenTelemetry bridge. */
export interface MetricsSource {
  metrics(): MetricsSnapshot
}

interface Entry {
  name: string
  group: string
  description: string
  type: MetricType
  tags: Record<string, string>
  read: (now: number) => number
}

export class MetricsRegistry {
  readonly client: ClientKind
  readonly clientId: string
  readonly window: MetricsWindow
  readonly clock: () => number
  readonly #entries = new Map<string, Entry>()
  readonly #families = new Map<string, MetricFamily>()
  #familyList: readonly MetricFamily[] = []
  /** Metrics whose set changes (one per partition read): produced afresh by every snapshot. */
  readonly #collectors: ((now: number, out: MetricValue[]) => void)[] = []

  constructor(client: ClientKind, clientId: string, window = JAVA_METRICS_WINDOW, clock: () => number = Date.now) {
    this.client = client
    this.clientId = clientId
    this.window = window
    this.clock = clock
  }

  sensor(): Sensor {
    return new Sensor(this.window)
  }

  /** Adds one metric; the same name and tags again replace the earlier one. */
  add(
    group: string,
    name: string,
    description: string,
    type: MetricType,
    read: (now: number) => number,
    tags: Record<string, string> = {},
  ): void {
    this.declare(group, name, description, type)
    const all = { 'client-id': this.clientId, ...tags }
    this.#entries.set(keyOf(group, name, all), { name, group, description, type, tags: all, read })
  }

  /** Declares a metric that will be added (or listed by a family collector) later, e.g. per topic. */
  declare(group: string, name: string, description: string, type: MetricType): void {
    const key = `${group}\0${name}`
    if (this.#families.has(key)) return
    this.#families.set(key, { name, group, description, type })
    this.#familyList = Object.freeze([...this.#families.values()])
  }

  /** Declares `<base>-rate` and `<base>-total` (see meter). */
  declareMeter(group: string, base: string, what: string): void {
    this.declare(group, `${base}-rate`, `The average number of ${what} per second`, 'gauge')
    this.declare(group, `${base}-total`, `The total number of ${what}`, 'counter')
  }

  /** `<base>-rate` and `<base>-total` of a sensor's values (Java's Meter). */
  meter(group: string, base: string, what: string, sensor: Sensor, tags?: Record<string, string>): void {
    this.add(group, `${base}-rate`, `The average number of ${what} per second`, 'gauge', (n) => sensor.rate(n), tags)
    this.add(group, `${base}-total`, `The total number of ${what}`, 'counter', () => sensor.total, tags)
  }

  /** `<base>-rate` and `<base>-total` of how many values a sensor recorded (Java's Meter over a count). */
  countMeter(group: string, base: string, what: string, sensor: Sensor, tags?: Record<string, string>): void {
    this.add(
      group,
      `${base}-rate`,
      `The average number of ${what} per second`,
      'gauge',
      (n) => sensor.countRate(n),
      tags,
    )
    this.add(group, `${base}-total`, `The total number of ${what}`, 'counter', () => sensor.count, tags)
  }

  /** `<base>-avg` and `<base>-max` over the window. */
  avgMax(group: string, base: string, what: string, sensor: Sensor, tags?: Record<string, string>): void {
    this.add(group, `${base}-avg`, `The average ${what}`, 'gauge', (n) => sensor.avg(n), tags)
    this.add(group, `${base}-max`, `The maximum ${what}`, 'gauge', (n) => sensor.max(n), tags)
  }

  /** Adds metrics listed when read (their tags must include client-id). */
  addFamily(collect: (now: number, out: MetricValue[]) => void): void {
    this.#collectors.push(collect)
  }

  /** Drops the metrics whose tags include all of `tags` (e.g. a partition no longer assigned). */
  remove(tags: Record<string, string>): void {
    for (const [key, e] of this.#entries)
      if (Object.entries(tags).every(([k, v]) => e.tags[k] === v)) this.#entries.delete(key)
  }

  snapshot(): MetricsSnapshot {
    const now = this.clock()
    const metrics: MetricValue[] = []
    for (const e of this.#entries.values())
      metrics.push({
        name: e.name,
        group: e.group,
        description: e.description,
        type: e.type,
        tags: e.tags,
        value: e.read(now),
      })
    for (const collect of this.#collectors) collect(now, metrics)
    return { client: this.client, clientId: this.clientId, time: now, metrics, families: this.#familyList }
  }
}

function keyOf(group: string, name: string, tags: Record<string, string>): string {
  return JSON.stringify([group, name, tags])
}

/** Finds one metric in a snapshot (tests, dashboards): by name and, optionally, tags it must have. */
export function metricValue(
  snapshot: MetricsSnapshot,
  name: string,
  tags: Record<string, string> = {},
): number | undefined {
  const found = snapshot.metrics.find((m) => m.name === name && Object.entries(tags).every(([k, v]) => m.tags[k] === v))
  return found?.value
}
