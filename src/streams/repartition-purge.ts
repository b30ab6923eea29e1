// Purging repartition topics, as Kafka Streams does (TaskManager.maybePurgeCommittedRecords,
// repartition.purge.interval.ms): a repartition topic is this application's own, and a record
// below the committed offset of the task that reads it is never read again, so after a
// successful commit, at most every `interval` ms, DeleteRecords moves each such partition's log
// start to the committed offset instead of letting the topic grow until retention. Best effort:
// one request at a time, not awaited by the commit; a failure is logged and the offsets go with
// the next purge (Java also just tries again with newer offsets).

import type { AdminContext } from '../admin/context.js'
import { deleteRecords } from '../admin/records.js'
import type { TopicPartition } from '../consumer/config.js'
import type { Logger } from '../logger.js'

/** An input offset committed: the next offset the task reads. */
export interface CommittedOffset extends TopicPartition {
  offset: bigint
}

export interface RepartitionPurgeOptions {
  /** The admin calls' client; DeleteRecords goes to each partition's leader. */
  admin: AdminContext
  /** Kafka Streams' repartition.purge.interval.ms. */
  interval: number
  /** Whether a (full) topic name is one of the topology's repartition topics. */
  isRepartition: (topic: string) => boolean
  signal: AbortSignal
  logger?: Logger | undefined
  /** For tests: the DeleteRecords call and the clock. */
  deleteRecords?: typeof deleteRecords
  now?: () => number
}

export class RepartitionPurge {
  readonly #options: RepartitionPurgeOptions
  readonly #now: () => number
  readonly #delete: typeof deleteRecords
  /** Committed offsets not purged yet, by `topic\u0000partition`. */
  readonly #due = new Map<string, CommittedOffset>()
  #last: number
  #inFlight: Promise<void> | null = null

  constructor(options: RepartitionPurgeOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#delete = options.deleteRecords ?? deleteRecords
    // As Kafka Streams' thread: the first purge one interval after the start.
    this.#last = this.#now()
  }

  /** Offsets the group now holds (after a successful commit); only repartition topics are kept. */
  committed(offsets: Iterable<CommittedOffset>): void {
    for (const o of offsets) {
      if (!this.#options.isRepartition(o.topic)) continue
      this.#raise(o)
    }
  }

  /** Partitions this instance no longer processes: their next owner purges them. */
  forget(partitions: Iterable<TopicPartition>): void {
    for (const p of partitions) this.#due.delete(`${p.topic}\u0000${p.partition}`)
  }

  /** After a commit: sends DeleteRecords if `interval` has passed since the last purge and none is in flight. */
  maybePurge(): void {
    const now = this.#now()
    if (now - this.#last < this.#options.interval) return
    this.#last = now
    if (this.#inFlight !== null || this.#due.size === 0 || this.#options.signal.aborted) return
    const batch = [...this.#due.values()]
    this.#due.clear()
    const { admin, signal, logger } = this.#options
    this.#inFlight = this.#delete(admin, batch, { signal })
      .then(
        (done) => logger?.debug({ partitions: done.length }, 'kafkats/streams: repartition records purged'),
        (err: unknown) => {
          logger?.debug(
            { err },
            'kafkats/streams: purging repartition records failed; trying again with the next purge',
          )
          for (const o of batch) this.#raise(o)
        },
      )
      .finally(() => {
        this.#inFlight = null
      })
  }

  /** The purge in flight, if any (settles, never rejects). */
  async settled(): Promise<void> {
    await this.#inFlight
  }

  #raise(o: CommittedOffset): void {
    const key = `${o.topic}\u0000${o.partition}`
    const current = this.#due.get(key)
    if (current === undefined || o.offset > current.offset)
      this.#due.set(key, { topic: o.topic, partition: o.partition, offset: o.offset })
  }
}
