// A task: one sub-topology's processors for one partition, with its stores and stream time. It
// is synchronous: a record goes through every processor before process() returns, and what the
// sinks and store writes produce is handed to `emit` (the runtime batches it for the Writer; the
// test driver routes it). The runtime owns offsets and commits; a task owns no I/O.

import { SerdeError, TopologyError } from './errors.js'
import type { DropReason, Processor, ProcessorContext, StreamRecord } from './processor.js'
import { PunctuationQueue } from './punctuation.js'
import { deserializeOrNull, serializeOrNull } from './serdes.js'
import { TypedKeyValueStore, type BytesStore, type KeyValueStore, type TimestampedKeyValueStore } from './stores.js'
import type { GraphNode, SourceNode, Subtopology, Topology } from './topology.js'

/** A record for the Writer: output, repartition or changelog. */
export interface TaskOutput {
  topic: string
  /** Set for changelogs (the task's partition); otherwise chosen from the key (murmur2). */
  partition: number | undefined
  key: Buffer | null
  value: Buffer | null
  timestamp: number
}

/** A consumed record, deserialized, with its extracted timestamp. */
export interface StampedRecord {
  topic: string
  offset: bigint
  key: unknown
  value: unknown
  timestamp: number
}

export interface TaskInit {
  topology: Topology
  subtopology: Subtopology
  partition: number
  /** The full topic name for a topology topic (internal ones get `<applicationId>-`). */
  topicName: (name: string, internal: boolean) => string
  /** The byte stores of this task, by store name (already restored). */
  stores: ReadonlyMap<string, BytesStore>
  emit: (out: TaskOutput) => void
  dropped: (reason: DropReason | 'invalid-timestamp') => void
  /** System time for wall-clock punctuation; without it, scheduling one is refused. */
  wallClock?: () => number
}

export class Task {
  readonly id: string
  readonly partition: number
  readonly subtopology: Subtopology
  #streamTime = -1
  readonly #init: TaskInit
  readonly #sources = new Map<string, SourceNode>()
  readonly #nodes = new Map<string, GraphNode>()
  readonly #processors = new Map<string, Processor>()
  readonly #contexts = new Map<string, ProcessorContext>()
  readonly #stores = new Map<string, TypedKeyValueStore<unknown, unknown>>()
  #record = { topic: '', offset: -1n }
  readonly #streamTimePunctuation = new PunctuationQueue()
  readonly #wallClockPunctuation = new PunctuationQueue()

  constructor(init: TaskInit) {
    this.#init = init
    this.subtopology = init.subtopology
    this.partition = init.partition
    this.id = `${init.subtopology.id}_${init.partition}`
    for (const name of init.subtopology.stores) {
      const spec = init.topology.stores.get(name)!
      const bytes = init.stores.get(name)
      if (bytes === undefined) throw new TopologyError(`task ${this.id}: store '${name}' was not opened`)
      const changelog = spec.logged ? init.topicName(`${name}-changelog`, true) : undefined
      this.#stores.set(
        name,
        new TypedKeyValueStore(
          name,
          bytes,
          spec.keySerde,
          spec.valueSerde,
          changelog === undefined
            ? undefined
            : (key, value) =>
                init.emit({ topic: changelog, partition: init.partition, key, value, timestamp: this.#currentTime }),
          spec.timestamped,
        ),
      )
    }
    for (const node of init.subtopology.nodes) {
      this.#nodes.set(node.name, node)
      if (node.kind === 'source') {
        for (const t of node.topics) this.#sources.set(init.topicName(t, node.internal), node)
      }
      this.#contexts.set(node.name, this.#context(node))
    }
    for (const node of init.subtopology.nodes) {
      if (node.kind !== 'processor') continue
      const processor = node.supplier()
      this.#processors.set(node.name, processor)
      processor.init?.(this.#contexts.get(node.name)!)
    }
  }

  #currentTime = -1
  /** Per input topic: the largest timestamp processed from the task's partition of it. */
  readonly #partitionTime = new Map<string, number>()

  get streamTime(): number {
    return this.#streamTime
  }

  /** The partition time of the task's partition of `topic` (-1: none yet), committed with its offset. */
  partitionTime(topic: string): number {
    return this.#partitionTime.get(topic) ?? -1
  }

  /**
   * Starts from a committed partition time (Kafka Streams' setPartitionTime): the stream time
   * goes on from the largest of them, as before the restart.
   */
  restorePartitionTime(topic: string, time: number): void {
    if (!this.#sources.has(topic)) throw new TopologyError(`task ${this.id} does not read topic '${topic}'`)
    if (time > this.partitionTime(topic)) this.#partitionTime.set(topic, time)
    if (time > this.#streamTime) this.#streamTime = time
  }

  /** The full names of the topics this task reads. */
  get topics(): string[] {
    return [...this.#sources.keys()]
  }

  /** Runs one consumed record through the sub-topology. */
  process(topic: string, offset: bigint, key: Buffer | null, value: Buffer | null, timestamp: number): void {
    const record = this.stamp(topic, offset, key, value, timestamp)
    if (record !== undefined) this.run(record)
  }

  /**
   * Reads a consumed record: its key and value deserialized and its timestamp extracted (what
   * the choice of the next record across partitions goes by). undefined: an invalid timestamp,
   * dropped and counted (Kafka Streams' RecordQueue does the same as records reach its head).
   */
  stamp(
    topic: string,
    offset: bigint,
    key: Buffer | null,
    value: Buffer | null,
    timestamp: number,
  ): StampedRecord | undefined {
    const source = this.#sources.get(topic)
    if (source === undefined) throw new TopologyError(`task ${this.id} does not read topic '${topic}'`)
    const where = `topic ${topic} partition ${this.partition} offset ${offset}`
    let k: unknown
    let v: unknown
    try {
      k = deserializeOrNull(source.keySerde!, key, `${where} key`)
      v = deserializeOrNull(source.valueSerde!, value, `${where} value`)
    } catch (err) {
      // Kafka Streams' default (LogAndFailExceptionHandler): a record we cannot read stops the task.
      if (err instanceof SerdeError) throw err
      throw new SerdeError(`${where}: cannot deserialize`, { cause: err })
    }
    const ts =
      source.timestampExtractor === undefined
        ? timestamp
        : source.timestampExtractor({ topic, partition: this.partition, offset, key: k, value: v, timestamp })
    if (!Number.isFinite(ts) || ts < 0) {
      this.#init.dropped('invalid-timestamp')
      return undefined
    }
    return { topic, offset, key: k, value: v, timestamp: ts }
  }

  /** Runs a stamped record through the sub-topology. */
  run(record: StampedRecord): void {
    const source = this.#sources.get(record.topic)
    if (source === undefined) throw new TopologyError(`task ${this.id} does not read topic '${record.topic}'`)
    const ts = record.timestamp
    if (ts > this.#streamTime) this.#streamTime = ts
    if (ts > this.partitionTime(record.topic)) this.#partitionTime.set(record.topic, ts)
    this.#record = { topic: record.topic, offset: record.offset }
    this.#currentTime = ts
    this.#forward(source, { key: record.key, value: record.value, timestamp: ts })
    this.#streamTimePunctuation.due(this.#streamTime)
  }

  /** Whether wall-clock punctuators are scheduled (the runtime then looks at the clock often). */
  get wallClockScheduled(): boolean {
    return this.#wallClockPunctuation.size > 0
  }

  /** Runs the wall-clock punctuators that are due (the caller supplies the time: see TaskInit). */
  punctuateWallClock(): boolean {
    const clock = this.#init.wallClock
    return clock === undefined ? false : this.#wallClockPunctuation.due(clock())
  }

  /** A punctuator runs with no input record: its time is the punctuation's (as in Kafka Streams). */
  #punctuator(run: (timestamp: number) => void): (timestamp: number) => void {
    return (timestamp) => {
      this.#record = { topic: '', offset: -1n }
      this.#currentTime = timestamp
      run(timestamp)
    }
  }

  /** One of the task's byte stores, as opened. */
  byteStore(name: string): BytesStore | undefined {
    return this.#init.stores.get(name)
  }

  /** Closes one of the task's byte stores (the task is being dropped). */
  closeStore(name: string): void {
    this.#init.stores.get(name)?.close?.()
  }

  /** The typed view of one of this task's stores. */
  store<K, V>(name: string): KeyValueStore<K, V> | undefined {
    return this.#stores.get(name) as KeyValueStore<K, V> | undefined
  }

  #forward(from: GraphNode, record: StreamRecord<unknown, unknown>): void {
    for (const child of from.children) this.#run(child, record)
  }

  #run(name: string, record: StreamRecord<unknown, unknown>): void {
    const node = this.#nodes.get(name)!
    if (node.kind === 'processor') {
      this.#processors.get(name)!.process(record, this.#contexts.get(name)!)
    } else if (node.kind === 'sink') {
      const topic = this.#init.topicName(node.topic, node.internal)
      this.#init.emit({
        topic,
        partition: undefined,
        key: serializeOrNull(node.keySerde!, record.key, `sink ${node.name} (topic ${topic}) key`),
        value: serializeOrNull(node.valueSerde!, record.value, `sink ${node.name} (topic ${topic}) value`),
        timestamp: record.timestamp,
      })
    }
  }

  #context(node: GraphNode): ProcessorContext {
    const current = (): { topic: string; offset: bigint } => this.#record
    const allowed = new Set(node.kind === 'processor' ? node.stores : [])
    return {
      taskId: this.id,
      partition: this.partition,
      get recordTopic() {
        return current().topic
      },
      get recordOffset() {
        return current().offset
      },
      streamTime: () => this.#streamTime,
      forward: (record) => this.#forward(node, record),
      forwardTo: (child, record) => {
        if (!node.children.includes(child)) throw new TopologyError(`${node.name} has no child '${child}'`)
        this.#run(child, record)
      },
      keyValueStore: <K, V>(name: string) => {
        if (!allowed.has(name)) throw new TopologyError(`processor ${node.name} is not connected to store '${name}'`)
        return this.#stores.get(name) as unknown as TimestampedKeyValueStore<K, V>
      },
      recordDropped: (reason) => this.#init.dropped(reason),
      schedule: (intervalMs, type, punctuator) => {
        if (type === 'stream-time') {
          // Aligned to 0: due as soon as the stream time is known.
          return this.#streamTimePunctuation.add(0, intervalMs, this.#punctuator(punctuator))
        }
        if (type !== 'wall-clock-time')
          throw new TopologyError(`${node.name}: unknown punctuation type '${String(type)}'`)
        const clock = this.#init.wallClock
        if (clock === undefined) {
          throw new TopologyError(`${node.name}: wall-clock punctuation needs a clock (TaskInit.wallClock)`)
        }
        return this.#wallClockPunctuation.add(clock() + intervalMs, intervalMs, this.#punctuator(punctuator))
      },
    }
  }
}
