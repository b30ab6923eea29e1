// Fetching: one loop per broker, each sending one Fetch for every readable partition that broker
// leads (franz-go's `source`). The loops are independent, so a slow or dead broker never stalls
// the others (kafkajs's single fetch barrier is the anti-pattern this avoids). Each loop also
// resolves the starting offsets of its partitions with ListOffsets (FirstOffset, LastOffset, a
// time, or a reset after OFFSET_OUT_OF_RANGE) and validates positions (KIP-320) first.
//
// Fetched messages go to the byte-bounded MessageQueue; a loop stops fetching while the queue is
// full and asks for no more than the room left (a response may overshoot by one record batch,
// KIP-74). This file holds the Fetcher's surface (assign, seek, pause...) and the per-broker
// loop; the rest is split by responsibility:
//   fetch-placement.ts  which broker fetches a partition: leaders, relocation, read replicas (KIP-392), hints (KIP-951)
//   fetch-exchange.ts   one Fetch: the request (sessions, KIP-227; byte budget) and its answer applied to the cursors
//   fetch-positions.ts  OffsetForLeaderEpoch validation and ListOffsets lookups
//   fetch-recovery.ts   what a partition error or a diverged log does to a cursor

import type { KafkaClient } from '../cluster/client.js'
import { backoffDelay, type RetryPolicy } from '../cluster/retry.js'
import { isRetriable } from '../errors.js'
import type { Logger } from '../logger.js'
import { AbortError, RequestTimeoutError } from '../net/errors.js'
import { ZERO_UUID } from '../protocol/api.js'
import { PartitionCursor, partitionKey } from './cursor.js'
import { FetchExchange } from './fetch-exchange.js'
import { clearReadReplica, Placement } from './fetch-placement.js'
import { resolveOffsets, validatePositions } from './fetch-positions.js'
import { Recovery } from './fetch-recovery.js'
import type { IsolationLevel } from './fetch-result.js'
import type { FetchSessionCounters } from './fetch-session.js'
import type { Ownership } from './ownership.js'
import type { MessageQueue } from './queue.js'
import type { ReaderStatsCollector } from './stats.js'
import { Notifier, sleepQuietly, type Signals } from './wait.js'

export interface FetcherOptions {
  client: KafkaClient
  queue: MessageQueue
  stats: ReaderStatsCollector
  isolationLevel: IsolationLevel
  /** Verify each batch's CRC-32C (ReaderConfig.checkCrcs). */
  checkCrcs: boolean
  minBytes: number
  maxBytes: number
  partitionMaxBytes: number
  maxWait: number
  requestTimeout: number
  /** The offset reset policy after OFFSET_OUT_OF_RANGE (a ListOffsets timestamp). */
  resetTo: bigint
  backoff: RetryPolicy
  /** Incremental fetch sessions (KIP-227); false sends every request as a full, sessionless fetch. */
  fetchSessions: boolean
  /** The client's rack (Java client.rack), sent in Fetch v11+ so the leader can name a closer replica (KIP-392); '' for none. */
  rack: string
  /** Failed fetches and metadata refreshes, partitions without a leader. */
  logger?: Logger | undefined
}

/** Where to start a newly assigned partition. */
export interface StartPosition {
  topic: string
  partition: number
  /** A known offset (a committed one), or null to look it up with `resetTo`. */
  offset: bigint | null
  /** The ListOffsets timestamp when `offset` is null. */
  resetTo: bigint
  /** Group mode: the ownership the partition is read under (stamped on its messages). */
  owner?: Ownership
  /** The leader epoch committed with `offset` (committedLeaderEpoch): the start is validated against it. */
  leaderEpoch?: number
}

export interface PartitionLag {
  topic: string
  partition: number
  /** Next offset the application gets (-1 when not known yet). */
  position: bigint
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
  /** Messages not read yet; -1 when not known yet (no fetch answered). */
  lag: bigint
}

export class Fetcher {
  readonly #o: FetcherOptions
  readonly #cursors = new Map<string, PartitionCursor>()
  readonly #loops = new Map<number, Promise<void>>()
  readonly #wake = new Notifier()
  readonly #stop = new AbortController()
  readonly #placement: Placement
  readonly #recovery: Recovery
  readonly #exchange: FetchExchange

  constructor(options: FetcherOptions) {
    this.#o = options
    const kick = (): void => this.#kick()
    this.#placement = new Placement({
      options,
      cursors: this.#cursors,
      signal: this.#stop.signal,
      ensureLoop: (nodeId) => this.#ensureLoop(nodeId),
      kick,
    })
    this.#recovery = new Recovery(options, this.#placement, kick)
    this.#exchange = new FetchExchange(options, this.#placement, this.#recovery, kick)
  }

  get stopped(): boolean {
    return this.#stop.signal.aborted
  }

  cursor(topic: string, partition: number): PartitionCursor | undefined {
    return this.#cursors.get(partitionKey(topic, partition))
  }

  cursors(): IterableIterator<PartitionCursor> {
    return this.#cursors.values()
  }

  /** Starts reading partitions (a new assignment). Already assigned ones are left as they are. */
  assign(starts: readonly StartPosition[]): void {
    if (this.stopped) return
    for (const start of starts) {
      const key = partitionKey(start.topic, start.partition)
      if (this.#cursors.has(key)) continue
      const cursor = new PartitionCursor(start.topic, start.partition)
      cursor.owner = start.owner ?? null
      if (start.offset !== null && start.offset >= 0n) {
        const epoch = start.leaderEpoch ?? -1
        cursor.setPosition(start.offset, epoch)
        // KIP-320: the log may have been truncated below the committed offset since.
        cursor.awaitingValidation = epoch >= 0
      } else {
        cursor.resetToTimestamp(start.resetTo)
      }
      this.#cursors.set(key, cursor)
      this.#placement.locate(cursor)
    }
    this.#kick()
  }

  /** Stops reading partitions and drops what is queued of them. */
  revoke(partitions: readonly { topic: string; partition: number }[]): void {
    for (const tp of partitions) {
      const key = partitionKey(tp.topic, tp.partition)
      const cursor = this.#cursors.get(key)
      if (cursor === undefined) continue
      cursor.removed = true
      this.#cursors.delete(key)
      this.#o.queue.drop(cursor)
    }
  }

  revokeAll(): void {
    this.revoke([...this.#cursors.values()])
  }

  /**
   * Moves a partition's position: an offset, FirstOffset/LastOffset, or (`timestamp`) the first
   * record at or after a time. What is queued of it is dropped; answers in flight are ignored.
   */
  seek(cursor: PartitionCursor, offset: bigint, byTimestamp = false): void {
    cursor.epoch++
    this.#o.queue.drop(cursor)
    cursor.failed = null
    cursor.failures = 0
    cursor.backoffUntil = 0
    if (byTimestamp || offset < 0n) cursor.resetToTimestamp(offset)
    else cursor.setPosition(offset)
    this.#kick()
  }

  /** Waits until a partition's position is known (after a seek by time, or at the start). */
  async resolved(cursor: PartitionCursor, signals: Signals): Promise<void> {
    while (cursor.resetTo !== null && !cursor.removed && cursor.failed === null) {
      await this.#wake.wait(signals, 200, 'waiting for the partition offset')
    }
    if (cursor.failed !== null) throw cursor.failed
  }

  pause(cursor: PartitionCursor): void {
    if (cursor.paused) return
    cursor.paused = true
    // Java keeps what it fetched of a paused partition; we drop it and fetch again from the
    // position on resume, so a long pause holds no memory and cannot fill the queue.
    cursor.epoch++
    this.#o.queue.drop(cursor)
    // A failure is dropped with the queue: after resume the partition is fetched again, and
    // raises the error again if it persists.
    cursor.failed = null
    cursor.failures = 0
    if (cursor.resetTo === null && cursor.position >= 0n) {
      cursor.fetchOffset = cursor.position
      cursor.lastFetchedEpoch = cursor.positionEpoch
    }
  }

  resume(cursor: PartitionCursor): void {
    if (!cursor.paused) return
    cursor.paused = false
    this.#kick()
  }

  /** Per broker: full and incremental requests sent, partitions listed vs fetched (tests, stats). */
  sessionCounters(): Map<number, FetchSessionCounters> {
    return this.#exchange.sessionCounters()
  }

  lag(): PartitionLag[] {
    const out: PartitionLag[] = []
    for (const c of this.#cursors.values()) {
      out.push({
        topic: c.topic,
        partition: c.partition,
        position: c.position,
        highWatermark: c.highWatermark,
        lastStableOffset: c.lastStableOffset,
        logStartOffset: c.logStartOffset,
        lag: c.lag(this.#o.isolationLevel) ?? -1n,
      })
    }
    return out
  }

  /** Stops every loop; resolves once they have ended (in-flight requests are aborted). */
  async stop(): Promise<void> {
    this.#stop.abort()
    this.#wake.notify()
    await Promise.allSettled([...this.#loops.values(), this.#placement.relocating ?? Promise.resolve()])
  }

  // --- the broker loops ------------------------------------------------------------------------

  #ensureLoop(nodeId: number): void {
    if (this.#loops.has(nodeId) || this.stopped) return
    const loop: Promise<void> = this.#runBroker(nodeId).finally(() => {
      if (this.#loops.get(nodeId) === loop) this.#loops.delete(nodeId)
    })
    this.#loops.set(nodeId, loop)
  }

  #kick(): void {
    this.#wake.notify()
  }

  async #runBroker(nodeId: number): Promise<void> {
    const signal = this.#stop.signal
    let failures = 0
    let idleSince = Date.now()
    while (!signal.aborted) {
      const now = Date.now()
      let led = 0
      let nextWake = Infinity
      const validations: PartitionCursor[] = []
      const resets: PartitionCursor[] = []
      const fetchable: PartitionCursor[] = []
      for (const c of this.#cursors.values()) {
        // The leader's loop validates and resets; fetching goes to the read replica when one is set.
        const fetchFrom = this.#placement.fetchNode(c, now)
        if (c.leader !== nodeId && fetchFrom !== nodeId) continue
        led++
        if (c.inFlight || c.paused || c.failed !== null) continue
        this.#followRecreation(c)
        if (c.backoffUntil > now) {
          nextWake = Math.min(nextWake, c.backoffUntil)
          continue
        }
        if (c.awaitingValidation && (c.resetTo !== null || c.lastFetchedEpoch < 0)) {
          c.awaitingValidation = false // nothing to validate: no position, or no epoch known for it
          c.resetIfValid = false
        }
        if (c.awaitingValidation) {
          if (c.leader === nodeId) validations.push(c)
        } else if (c.resetTo !== null) {
          if (c.leader === nodeId) resets.push(c)
        } else if (c.fetchOffset >= 0n && fetchFrom === nodeId) fetchable.push(c)
      }
      if (led === 0) {
        // Nothing led by this broker for a while: end the loop (it restarts when needed). The
        // entry goes now, not in a later tick, so an assignment arriving meanwhile starts a new loop.
        if (now - idleSince > 30_000) {
          this.#loops.delete(nodeId)
          return
        }
      } else {
        idleSince = now
      }
      try {
        if (validations.length > 0) {
          await validatePositions(this.#o, this.#recovery, nodeId, validations, signal)
          this.#kick()
          failures = 0
          continue
        }
        if (resets.length > 0) {
          await resolveOffsets(this.#o, this.#recovery, nodeId, resets, signal)
          this.#kick()
          failures = 0
          continue
        }
        if (fetchable.length === 0 || this.#o.queue.full) {
          const waitFor = fetchable.length === 0 ? this.#wake : this.#o.queue.space
          const timeout = Number.isFinite(nextWake) ? nextWake - now : 1000
          await waitFor.wait(signal, timeout, 'fetch')
          continue
        }
        await this.#exchange.fetch(nodeId, fetchable, signal)
        failures = 0
      } catch (err) {
        if (signal.aborted || err instanceof AbortError) return
        // One failure is routine (a leader moved); a second in a row is trouble worth a warning.
        const log = this.#o.logger
        log?.[failures === 0 ? 'info' : 'warn'](
          { err, broker: nodeId, failures: failures + 1 },
          'fetch failed; retrying',
        )
        failures++
        this.#o.stats.errors++
        if (err instanceof RequestTimeoutError) this.#o.stats.timeouts++
        const delay = backoffDelay(this.#o.backoff, failures)
        // A broken connection or an unknown broker: the partitions may have moved.
        for (const c of [...validations, ...resets, ...fetchable]) {
          c.backoffUntil = Date.now() + delay
          if (c.readReplica === nodeId)
            clearReadReplica(c) // back to the leader (Java: node unavailable)
          else if (!c.removed && c.leader === nodeId) this.#placement.lostLeader(c)
        }
        if (!isRetriable(err)) {
          // Not something a retry fixes (an unsupported version, authorization): every read raises
          // it until the application seeks or pauses the partition.
          for (const c of [...validations, ...resets, ...fetchable]) this.#recovery.fail(c, err as Error)
        }
        await sleepQuietly(delay, signal)
      }
    }
  }

  /**
   * A topic deleted and recreated under the same name has a new id and a new log: a position in
   * the old one means nothing there (offset 5 of the old log is not "after" offset 0..4 of the
   * new), so the partition starts again from the reset policy, as after OFFSET_OUT_OF_RANGE.
   */
  #followRecreation(cursor: PartitionCursor): void {
    const id = this.#o.client.metadata.topic(cursor.topic)?.topicId
    if (id === undefined || id === ZERO_UUID || id === cursor.topicId) return
    const recreated = cursor.topicId !== null
    cursor.topicId = id
    if (recreated) cursor.resetToTimestamp(this.#o.resetTo)
  }
}
