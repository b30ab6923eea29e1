// TopologyTestDriver: runs a topology in process without a broker (as Kafka Streams' driver of
// the same name does): every topic has one partition, records piped in are processed at once,
// records written to repartition topics are read back before pipe() returns, and outputs are
// kept per topic to be read. For unit tests of an application's topology.

import { ConfigError } from '../errors.js'
import { deserializeOrNull, serializeOrNull, type Serde } from './serdes.js'
import type { ReadOnlyKeyValueStore } from './stores.js'
import { Task, type TaskOutput } from './task.js'
import type { Topology } from './topology.js'

export interface TestRecord<K, V> {
  key: K | null
  value: V | null
  timestamp: number
}

export class TopologyTestDriver {
  readonly #tasks: Task[] = []
  readonly #byTopic = new Map<string, Task>()
  readonly #outputs = new Map<string, TaskOutput[]>()
  readonly #offsets = new Map<string, bigint>()
  readonly #queue: TaskOutput[] = []
  readonly #dropped = new Map<string, number>()
  readonly applicationId: string
  #wallClock = 0
  /** The mock system time wall-clock punctuators see (advanceWallClockTime). */
  #systemTime: number

  constructor(topology: Topology, options: { applicationId?: string; initialWallClockTime?: number } = {}) {
    this.applicationId = options.applicationId ?? 'test-driver'
    this.#systemTime = options.initialWallClockTime ?? 0
    for (const sub of topology.subtopologies) {
      const stores = new Map(sub.stores.map((s) => [s, topology.stores.get(s)!.supplier(s, `${sub.id}_0`)]))
      const task = new Task({
        topology,
        subtopology: sub,
        partition: 0,
        topicName: (name, internal) => (internal ? `${this.applicationId}-${name}` : name),
        stores,
        emit: (out) => this.#queue.push(out),
        dropped: (reason) => this.#dropped.set(reason, (this.#dropped.get(reason) ?? 0) + 1),
        wallClock: () => this.#systemTime,
      })
      this.#tasks.push(task)
      for (const t of task.topics) this.#byTopic.set(t, task)
    }
  }

  /** Pipes one record into a topic; timestamp default: 0 then +1 per record without one. */
  pipe<K, V>(
    topic: string,
    serdes: { key: Serde<K>; value: Serde<V> },
    key: K | null,
    value: V | null,
    timestamp?: number,
  ): void {
    const ts = timestamp ?? this.#wallClock++
    this.#deliver({
      topic,
      partition: 0,
      key: serializeOrNull(serdes.key, key, 'key'),
      value: serializeOrNull(serdes.value, value, 'value'),
      timestamp: ts,
    })
    // Repartition topics are read back in the order written, before pipe() returns.
    while (this.#queue.length > 0) this.#deliver(this.#queue.shift()!)
  }

  /** Moves the mock system time on and runs the wall-clock punctuators that are due. */
  advanceWallClockTime(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw new ConfigError('ms', `advanceWallClockTime: ${ms} is not an integer >= 0`)
    this.#systemTime += ms
    for (const task of this.#tasks) task.punctuateWallClock()
    while (this.#queue.length > 0) this.#deliver(this.#queue.shift()!)
  }

  #deliver(record: TaskOutput): void {
    const list = this.#outputs.get(record.topic) ?? []
    list.push(record)
    this.#outputs.set(record.topic, list)
    const offset = this.#offsets.get(record.topic) ?? 0n
    this.#offsets.set(record.topic, offset + 1n)
    const task = this.#byTopic.get(record.topic)
    if (task !== undefined) {
      task.process(record.topic, offset, record.key, record.value, record.timestamp)
    }
  }

  /** Every record written to a topic so far (outputs, repartition and changelog topics), decoded. */
  records<K, V>(topic: string, serdes: { key: Serde<K>; value: Serde<V> }): TestRecord<K, V>[] {
    return (this.#outputs.get(topic) ?? []).map((r) => ({
      key: deserializeOrNull(serdes.key, r.key, 'key'),
      value: deserializeOrNull(serdes.value, r.value, 'value'),
      timestamp: r.timestamp,
    }))
  }

  /** The last value per key written to a topic (what a compacted read would see; null deletes). */
  finalValues<K, V>(topic: string, serdes: { key: Serde<K>; value: Serde<V> }): Map<K | null, V> {
    const out = new Map<K | null, V>()
    for (const r of this.records(topic, serdes)) {
      if (r.value === null) out.delete(r.key)
      else out.set(r.key, r.value)
    }
    return out
  }

  store<K, V>(name: string): ReadOnlyKeyValueStore<K, V> | undefined {
    for (const t of this.#tasks) {
      const s = t.store<K, V>(name)
      if (s !== undefined) return s
    }
    return undefined
  }

  /** Records dropped, by reason (null key or value, late, invalid timestamp). */
  dropped(reason: string): number {
    return this.#dropped.get(reason) ?? 0
  }
}
