// A task's input buffer, one FIFO queue per input partition, and Kafka Streams' choice of the
// next record (PartitionGroup): the head with the smallest timestamp, so a join or a merge sees
// its partitions' records in event-time order as far as they have been fetched. A task is ready
// to process when every partition has a record buffered or is known to have none on the broker
// (lag 0) for maxTaskIdle ms; a partition whose lag is unknown or positive makes it wait, as
// its records would otherwise come after later ones of the other partitions. maxTaskIdle -1
// processes whatever is buffered (max.task.idle.ms = -1).

import { TopologyError } from './errors.js'

/** Kafka Streams' max.task.idle.ms value that turns the waiting off. */
export const MAX_TASK_IDLE_DISABLED = -1

interface Queue<T> {
  topic: string
  items: T[]
  head: number
}

export class PartitionGroup<T extends { timestamp: number }> {
  readonly #queues: Queue<T>[]
  readonly #maxTaskIdle: number
  /** Per topic: when a caught-up, empty partition stops holding the task back. */
  readonly #idleDeadline = new Map<string, number>()
  #buffered = 0

  /** `topics`: the task's input topics (one partition each: the task's). */
  constructor(topics: readonly string[], maxTaskIdle: number) {
    this.#queues = topics.map((topic) => ({ topic, items: [], head: 0 }))
    this.#maxTaskIdle = maxTaskIdle
  }

  /** Records buffered in all, or for one topic. */
  buffered(topic?: string): number {
    if (topic === undefined) return this.#buffered
    const q = this.#queue(topic)
    return q.items.length - q.head
  }

  add(topic: string, records: readonly T[]): void {
    const q = this.#queue(topic)
    for (const r of records) q.items.push(r)
    this.#buffered += records.length
  }

  /**
   * Whether the task may process its next record now (PartitionGroup.readyToProcess): `lag`
   * gives a partition's records on the broker not fetched yet, -1n when not known.
   */
  ready(now: number, lag: (topic: string) => bigint): boolean {
    if (this.#buffered === 0) return false
    if (this.#maxTaskIdle === MAX_TASK_IDLE_DISABLED) return true
    for (const q of this.#queues) {
      if (q.items.length > q.head) {
        this.#idleDeadline.delete(q.topic)
        continue
      }
      if (lag(q.topic) !== 0n) {
        // Unknown, or records on the broker not fetched yet: wait for them.
        this.#idleDeadline.delete(q.topic)
        return false
      }
      let deadline = this.#idleDeadline.get(q.topic)
      if (deadline === undefined) this.#idleDeadline.set(q.topic, (deadline = now + this.#maxTaskIdle))
      if (now < deadline) return false
    }
    return true
  }

  /** The buffered record with the smallest timestamp (the first queue's on a tie), taken out. */
  next(): { topic: string; record: T } | undefined {
    let best: Queue<T> | undefined
    for (const q of this.#queues) {
      if (q.items.length === q.head) continue
      if (best === undefined || q.items[q.head]!.timestamp < best.items[best.head]!.timestamp) best = q
    }
    if (best === undefined) return undefined
    const record = best.items[best.head]!
    best.head++
    this.#buffered--
    // Drop the consumed front now and then instead of shifting on every record.
    if (best.head === best.items.length) {
      best.items = []
      best.head = 0
    } else if (best.head >= 1024 && best.head * 2 >= best.items.length) {
      best.items = best.items.slice(best.head)
      best.head = 0
    }
    return { topic: best.topic, record }
  }

  /** Drops everything buffered (the task rewinds to its committed offsets). */
  clear(): void {
    for (const q of this.#queues) {
      q.items = []
      q.head = 0
    }
    this.#buffered = 0
    this.#idleDeadline.clear()
  }

  #queue(topic: string): Queue<T> {
    const q = this.#queues.find((x) => x.topic === topic)
    if (q === undefined) throw new TopologyError(`no input partition of topic '${topic}' in this task`)
    return q
  }
}
