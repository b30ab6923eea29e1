// Fetching: one loop per broker, each sending one Fetch for every readable partition that broker
// leads (franz-go's `source`). The loops are independent, so a slow or dead broker never stalls
// the others (kafkajs's single fetch barrier is the anti-pattern this avoids). Each loop also
// resolves the starting offsets of its partitions with ListOffsets (FirstOffset, LastOffset, a
// time, or a reset after OFFSET_OUT_OF_RANGE).
//
// Fetched messages go to the byte-bounded MessageQueue; a loop stops fetching while the queue is
// full and asks for no more than the room left (a response may overshoot by one record batch,
// KIP-74). Leader changes (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, a broken connection...)
// send the partition back to the metadata: it is refreshed and the partition moves to its new
// leader's loop. Answers for partitions revoked, paused or sought while the request was in flight
// are dropped (each request remembers the cursor epoch it was built with).
//
// Fetch sessions (KIP-227), on by default as in Java: each broker loop keeps a session
// (fetch-session.ts), so after a full fetch a request lists only the partitions whose position
// changed and forgets the ones no longer fetched there. Any session trouble starts a new one.
//
// Fetch from the closest replica (KIP-392): with a `rack`, the leader may name a follower in that
// rack (preferredReadReplica); the partition is then fetched by that broker's loop, while the
// leader's loop still does its ListOffsets and validations. Any error there goes back to the leader.

import type { Logger } from '../logger.js'
import type { KafkaClient } from '../cluster/client.js'
import { backoffDelay, type RetryPolicy } from '../cluster/retry.js'
import { KafkaError, isRetriable } from '../errors.js'
import { AbortError, RequestTimeoutError } from '../net/errors.js'
import { ZERO_UUID } from '../protocol/api.js'
import { ErrorCode, errorInfo } from '../protocol/error-codes.js'
import { Fetch, ListOffsets, type FetchResponse } from '../protocol/messages/index.js'
import { PartitionCursor, partitionKey } from './cursor.js'
import {
  FetchSessionState,
  fetchRequest,
  type FetchPlan,
  type FetchSessionCounters,
  type SessionPartition,
} from './fetch-session.js'
import { recordsToMessages, type IsolationLevel } from './fetch-result.js'
import { LogTruncatedError } from './errors.js'
import { LastOffset } from './offsets.js'
import { epochEndOffsets } from './validation.js'
import { stampAssignment, type Ownership } from './ownership.js'
import type { MessageQueue } from './queue.js'
import type { ReaderStatsCollector } from './stats.js'
import { Notifier, type Signals } from './wait.js'

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

/** Errors in a partition that mean "ask the metadata who leads it now". */
const RELOCATE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
])

/** Top-level Fetch errors that only mean "start a new fetch session" (Java's FetchSessionHandler). */
const SESSION_ERRORS = new Set<number>([
  ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  ErrorCode.INVALID_FETCH_SESSION_EPOCH,
  ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
])

/**
 * How long a preferred read replica is used before asking the leader again: Java's
 * metadata.max.age.ms (5 min), after which its consumer clears the replica too.
 */
const READ_REPLICA_TTL_MS = 300_000

/** Extra time allowed for a long-poll Fetch beyond the broker's maxWait. */
const FETCH_TIMEOUT_SLACK_MS = 5000
/** Bytes a record takes on the wire besides its payload (length, attributes, deltas, lengths). */
const RECORD_WIRE_OVERHEAD = 8

export class Fetcher {
  readonly #o: FetcherOptions
  readonly #cursors = new Map<string, PartitionCursor>()
  readonly #loops = new Map<number, Promise<void>>()
  readonly #wake = new Notifier()
  readonly #stop = new AbortController()
  #relocating: Promise<void> | null = null
  /** Rotates the partition order of fetch requests so no partition is always cut by maxBytes. */
  #rotation = 0
  /** Queue memory per byte fetched, from the last messages decoded (asks for room / this). */
  #expansion = 1
  /** One fetch session per broker (KIP-227). */
  readonly #sessions = new Map<number, FetchSessionState>()

  constructor(options: FetcherOptions) {
    this.#o = options
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
      this.#locate(cursor)
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
    return new Map([...this.#sessions].map(([id, s]) => [id, { ...s.counters }]))
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
    await Promise.allSettled([...this.#loops.values(), this.#relocating ?? Promise.resolve()])
  }

  // --- placement: which broker loop fetches a partition ----------------------------------------

  /** Sets the cursor's leader from cached metadata, or schedules a refresh. */
  #locate(cursor: PartitionCursor): void {
    const info = this.#o.client.metadata.partition(cursor.topic, cursor.partition)
    if (info !== undefined && info.leader >= 0 && this.#o.client.metadata.broker(info.leader) !== undefined) {
      cursor.leader = info.leader
      this.#setLeaderEpoch(cursor, info.leaderEpoch)
      this.#ensureLoop(info.leader)
    } else {
      cursor.leader = -1
      this.#relocate()
    }
  }

  /** A newer leader epoch: the position is validated against the new leader's log first (KIP-320). */
  #setLeaderEpoch(cursor: PartitionCursor, epoch: number): void {
    if (epoch > cursor.leaderEpoch && cursor.leaderEpoch >= 0) cursor.awaitingValidation = true
    cursor.leaderEpoch = epoch
  }

  /** The partition's leader is no longer known: look it up again. */
  #lostLeader(cursor: PartitionCursor): void {
    clearReadReplica(cursor)
    cursor.leader = -1
    this.#o.client.metadata.markStale()
    this.#relocate()
  }

  /** One task at a time refreshes metadata until every partition has a leader (with backoff). */
  #relocate(): void {
    if (this.#relocating !== null || this.stopped) return
    this.#relocating = (async () => {
      const signal = this.#stop.signal
      let attempt = 0
      try {
        while (!signal.aborted) {
          const homeless = [...this.#cursors.values()].filter((c) => c.leader < 0)
          if (homeless.length === 0) return
          attempt++
          try {
            await this.#o.client.metadata.refresh([...new Set(homeless.map((c) => c.topic))], signal)
          } catch (err) {
            if (signal.aborted) return
            this.#o.stats.errors++
            this.#o.logger?.warn({ err, attempt }, 'metadata refresh failed; retrying')
          }
          let missing = 0
          for (const c of homeless) {
            if (c.removed) continue
            const info = this.#o.client.metadata.partition(c.topic, c.partition)
            if (info !== undefined && info.leader >= 0 && this.#o.client.metadata.broker(info.leader) !== undefined) {
              c.leader = info.leader
              this.#setLeaderEpoch(c, info.leaderEpoch)
              this.#ensureLoop(info.leader)
            } else {
              missing++
            }
          }
          this.#kick()
          if (missing > 0) {
            const parts = homeless.filter((c) => !c.removed && c.leader < 0).map((c) => `${c.topic}-${c.partition}`)
            // An election takes a moment: a warning after a few rounds, then now and then (a
            // missing topic has its own warning, topic-watch.ts).
            const level = attempt === 3 || attempt % 60 === 0 ? 'warn' : 'debug'
            this.#o.logger?.[level](
              { partitions: parts.slice(0, 10), count: missing },
              'partitions without a known leader',
            )
            this.#o.client.metadata.markStale()
            // Its own timer: the shared wake-up fires on every assignment or seek.
            await sleepQuietly(backoffDelay(this.#o.backoff, attempt), signal)
          }
        }
      } finally {
        this.#relocating = null
        // A partition may have lost its leader while this pass was finishing.
        if (!signal.aborted && [...this.#cursors.values()].some((c) => c.leader < 0)) this.#relocate()
      }
    })()
  }

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

  /** Where a partition is fetched from now: its preferred read replica while valid and known, else its leader. */
  #fetchNode(c: PartitionCursor, now: number): number {
    if (c.readReplica < 0) return c.leader
    if (now >= c.readReplicaUntil || this.#o.client.metadata.broker(c.readReplica) === undefined) {
      clearReadReplica(c)
      return c.leader
    }
    return c.readReplica
  }

  /** KIP-392: the leader named a replica to read from (itself or -1: the leader again). */
  #preferReplica(c: PartitionCursor, replica: number): void {
    if (replica < 0 || replica === c.leader || this.#o.client.metadata.broker(replica) === undefined) {
      clearReadReplica(c)
      return
    }
    c.readReplica = replica
    c.readReplicaUntil = Date.now() + READ_REPLICA_TTL_MS
    this.#ensureLoop(replica)
    this.#kick()
  }

  #session(nodeId: number): FetchSessionState {
    let session = this.#sessions.get(nodeId)
    if (session === undefined) {
      session = new FetchSessionState(this.#o.fetchSessions)
      this.#sessions.set(nodeId, session)
    }
    return session
  }

  // --- one broker's loop -----------------------------------------------------------------------

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
        const fetchFrom = this.#fetchNode(c, now)
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
          await this.#validate(nodeId, validations, signal)
          failures = 0
          continue
        }
        if (resets.length > 0) {
          await this.#listOffsets(nodeId, resets, signal)
          failures = 0
          continue
        }
        if (fetchable.length === 0 || this.#o.queue.full) {
          const waitFor = fetchable.length === 0 ? this.#wake : this.#o.queue.space
          const timeout = Number.isFinite(nextWake) ? nextWake - now : 1000
          await waitFor.wait(signal, timeout, 'fetch')
          continue
        }
        await this.#fetch(nodeId, fetchable, signal)
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
          else if (!c.removed && c.leader === nodeId) this.#lostLeader(c)
        }
        if (!isRetriable(err)) {
          // Not something a retry fixes (an unsupported version, authorization): every read raises
          // it until the application seeks or pauses the partition.
          for (const c of [...validations, ...resets, ...fetchable]) this.#fail(c, err as Error)
        }
        await sleepQuietly(delay, signal)
      }
    }
  }

  /**
   * KIP-951: a leader change answered with the new leader (and its address) moves the partition
   * to that broker's loop at once, without a metadata refresh, as Java's consumer does.
   */
  #followLeaderHint(
    cursor: PartitionCursor,
    code: number,
    hint: { leaderId: number; leaderEpoch: number },
    endpoints: FetchResponse['nodeEndpoints'],
  ): boolean {
    if (code !== ErrorCode.NOT_LEADER_OR_FOLLOWER && code !== ErrorCode.FENCED_LEADER_EPOCH) return false
    if (!this.#o.client.metadata.applyLeaderHint(cursor.topic, cursor.partition, hint, endpoints)) return false
    this.#o.stats.errors++ // still an error answer, even if it needs no metadata refresh
    cursor.leader = hint.leaderId
    this.#setLeaderEpoch(cursor, hint.leaderEpoch)
    this.#ensureLoop(hint.leaderId)
    this.#kick()
    return true
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

  #fail(cursor: PartitionCursor, error: Error): void {
    if (cursor.removed || cursor.failed !== null) return
    cursor.failed = error
    this.#o.stats.errors++
    this.#o.queue.pushError(cursor, error, true)
  }

  /**
   * KIP-320: the leader says our log diverged from its log at `endOffset` (the end of our last
   * fetched epoch in its log). What is queued of the partition is dropped and fetching resumes
   * at the divergence point, or at the application's position if that is before it (Java's
   * SubscriptionState.maybeCompleteValidation). Messages the application had read at or past the
   * divergence are reported (LogTruncatedError, once); nothing is replayed from the start. An
   * undefined answer (the leader knows nothing of the epoch) falls back to the reset policy,
   * reported the same way.
   */
  #truncate(cursor: PartitionCursor, epoch: number, endOffset: bigint): void {
    const position = cursor.position >= 0n ? cursor.position : cursor.fetchOffset
    cursor.epoch++
    this.#o.queue.drop(cursor)
    cursor.failures = 0
    this.#o.stats.errors++
    if (epoch < 0 || endOffset < 0n) {
      cursor.resetToTimestamp(this.#o.resetTo)
      this.#o.queue.pushError(cursor, new LogTruncatedError(cursor.topic, cursor.partition, -1n, position), false)
    } else if (endOffset < position) {
      cursor.setPosition(endOffset, epoch)
      this.#o.queue.pushError(cursor, new LogTruncatedError(cursor.topic, cursor.partition, endOffset, position), false)
    } else {
      // Only what was fetched ahead (not handed out) diverged: fetch again from the position.
      cursor.setPosition(position, cursor.positionEpoch)
    }
    this.#kick()
  }

  /**
   * OFFSET_OUT_OF_RANGE at a position that was not truncated (retention removed it, or no epoch
   * is known): the startOffset policy applies (Java's auto.offset.reset). Records between the
   * position and where reading resumes are never seen by this Reader, so it is logged (Java
   * logs it too), never silent.
   */
  #resetOutOfRange(cursor: PartitionCursor): void {
    const position = cursor.position >= 0n ? cursor.position : cursor.fetchOffset
    this.#o.logger?.warn(
      {
        topic: cursor.topic,
        partition: cursor.partition,
        offset: String(position),
        resetTo: describeReset(this.#o.resetTo),
      },
      'fetch position out of range (not truncated: retention or a deleted log start); resetting by startOffset',
    )
    cursor.resetToTimestamp(this.#o.resetTo)
  }

  /** A per-partition error: relocate, reset, back off, or give up on the partition. */
  #partitionError(cursor: PartitionCursor, code: number, apiName: string, nodeId: number): void {
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      // A position whose epoch we know may be past the end of a truncated log: ask where the
      // epoch ends first and resume there. Otherwise (it fell off the log by retention, or no
      // epoch is known) Java's auto.offset.reset: the startOffset policy.
      if (cursor.lastFetchedEpoch >= 0 && !cursor.resetIfValid) {
        cursor.awaitingValidation = true
        cursor.resetIfValid = true
      } else {
        cursor.resetIfValid = false
        this.#resetOutOfRange(cursor)
      }
      return
    }
    this.#o.stats.errors++
    cursor.failures++
    cursor.backoffUntil = Date.now() + backoffDelay(this.#o.backoff, cursor.failures)
    if (RELOCATE.has(code) || errorInfo(code).staleMetadata === true) {
      this.#lostLeader(cursor)
      return
    }
    if (errorInfo(code).retriable) return // OFFSET_NOT_AVAILABLE, UNKNOWN_LEADER_EPOCH, ...: try again later
    this.#fail(
      cursor,
      KafkaError.fromCode(code, { topic: cursor.topic, partition: cursor.partition, apiName, broker: nodeId }),
    )
  }

  // --- OffsetForLeaderEpoch (KIP-320 validation) ---------------------------------------------------

  async #validate(nodeId: number, cursors: PartitionCursor[], signal: AbortSignal): Promise<void> {
    const sent = cursors.map((c) => ({ cursor: c, epoch: c.epoch, offset: c.fetchOffset, asked: c.lastFetchedEpoch }))
    for (const c of cursors) c.inFlight = true
    let answers
    try {
      answers = await epochEndOffsets(this.#o.client, nodeId, cursors, signal, this.#o.requestTimeout)
    } finally {
      for (const c of cursors) c.inFlight = false
    }
    for (const { cursor, epoch, offset, asked } of sent) {
      // Sought, paused or revoked meanwhile: the position asked about is gone.
      if (cursor.removed || cursor.epoch !== epoch || cursor.fetchOffset !== offset) continue
      if (cursor.lastFetchedEpoch !== asked) continue
      const answer = answers.get(cursor.key)
      if (answer === undefined || answer.errorCode !== ErrorCode.NONE) {
        // Stays awaiting validation: relocated, backed off or failed like a fetch error.
        this.#partitionError(
          cursor,
          answer?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          'OffsetForLeaderEpoch',
          nodeId,
        )
        continue
      }
      cursor.awaitingValidation = false
      cursor.failures = 0
      if (answer.leaderEpoch < 0 || answer.endOffset < 0n || answer.endOffset < offset) {
        cursor.resetIfValid = false
        this.#truncate(cursor, answer.leaderEpoch, answer.endOffset)
      } else if (cursor.resetIfValid) {
        // Out of range, yet not truncated: the position fell off the log (retention).
        cursor.resetIfValid = false
        this.#resetOutOfRange(cursor)
      }
    }
    this.#wake.notify()
  }

  // --- ListOffsets -------------------------------------------------------------------------------

  async #listOffsets(nodeId: number, cursors: PartitionCursor[], signal: AbortSignal): Promise<void> {
    const sent = cursors.map((c) => ({ cursor: c, epoch: c.epoch, timestamp: c.resetTo! }))
    const byTopic = groupBy(sent, (s) => s.cursor.topic)
    for (const c of cursors) c.inFlight = true
    let response
    try {
      response = await this.#o.client.request(
        nodeId,
        ListOffsets,
        (version) => ({
          replicaId: -1,
          // The field exists from v2; v1 always reads up to the high watermark.
          ...(version >= 2 ? { isolationLevel: this.#o.isolationLevel === 'read_committed' ? 1 : 0 } : {}),
          topics: [...byTopic].map(([name, list]) => ({
            name,
            partitions: list.map((s) => ({
              partitionIndex: s.cursor.partition,
              currentLeaderEpoch: s.cursor.leaderEpoch,
              timestamp: s.timestamp,
            })),
          })),
          timeoutMs: this.#o.requestTimeout,
        }),
        { signal, workload: 'fetch' },
      )
    } finally {
      for (const c of cursors) c.inFlight = false
    }
    const answers = new Map<string, { errorCode: number; offset: bigint }>()
    for (const t of response.topics)
      for (const p of t.partitions) answers.set(partitionKey(t.name, p.partitionIndex), p)
    for (const { cursor, epoch, timestamp } of sent) {
      if (cursor.removed || cursor.epoch !== epoch || cursor.resetTo !== timestamp) continue
      const answer = answers.get(cursor.key)
      if (answer === undefined) {
        this.#partitionError(cursor, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'ListOffsets', nodeId)
        continue
      }
      if (answer.errorCode !== ErrorCode.NONE) {
        // OFFSET_OUT_OF_RANGE cannot happen here; anything else is handled like a fetch error.
        this.#partitionError(cursor, answer.errorCode, 'ListOffsets', nodeId)
        continue
      }
      if (answer.offset < 0n) {
        // No record at or after that time: start at the end, as kafka-go's SetOffsetAt does.
        cursor.resetTo = LastOffset
        continue
      }
      cursor.failures = 0
      cursor.fetchOffset = answer.offset
      cursor.resetTo = null
      cursor.lastFetchedEpoch = -1
      // Queued messages (before a reset) still move the position forward as they are read.
      if (cursor.queuedChunks === 0) {
        cursor.position = answer.offset
        cursor.positionEpoch = -1
      }
    }
    this.#wake.notify()
  }

  // --- Fetch -------------------------------------------------------------------------------------

  async #fetch(nodeId: number, cursors: PartitionCursor[], signal: AbortSignal): Promise<void> {
    const o = this.#o
    // Rotate so the partition cut short by maxBytes is not always the same one.
    const start = this.#rotation++ % cursors.length
    const ordered = cursors.slice(start).concat(cursors.slice(0, start))
    const sent = ordered.map((c) => ({
      cursor: c,
      epoch: c.epoch,
      offset: c.fetchOffset,
      lastFetchedEpoch: c.lastFetchedEpoch,
    }))
    const byTopic = groupBy(sent, (s) => s.cursor.topic)

    // Fetch v13+ names topics by id; use it only when the metadata has ids for all of them.
    const ids = new Map<string, string>()
    let useIds = true
    for (const topic of byTopic.keys()) {
      const id = o.client.metadata.topic(topic)?.topicId
      if (id === undefined || id === ZERO_UUID) useIds = false
      else ids.set(topic, id)
    }
    const names = new Map([...ids].map(([name, id]) => [id, name]))
    // Ask for no more than the queue has room for once decoded (small messages take ~15 times
    // their wire size), so little is fetched only to be dropped; at least something, or nothing moves.
    const maxBytes = Math.max(1, Math.min(o.maxBytes, Math.floor(o.queue.room / this.#expansion)))
    const session = this.#session(nodeId)
    let plan: FetchPlan | undefined
    const body = (version: number) => {
      const usesIds = version >= 13
      const wanted = ordered.map((c, i): SessionPartition => ({
        topic: c.topic,
        topicId: usesIds ? ids.get(c.topic)! : ZERO_UUID,
        partition: c.partition,
        fetchOffset: sent[i]!.offset,
        currentLeaderEpoch: c.leaderEpoch,
        lastFetchedEpoch: version >= 12 ? sent[i]!.lastFetchedEpoch : -1,
        maxBytes: o.partitionMaxBytes,
      }))
      plan = session.plan(wanted, version, usesIds)
      return fetchRequest(plan, version, {
        maxWaitMs: o.maxWait,
        minBytes: o.minBytes,
        maxBytes,
        isolationLevel: o.isolationLevel === 'read_committed' ? 1 : 0,
        rack: o.rack,
      })
    }

    for (const c of cursors) c.inFlight = true
    const started = Date.now()
    let response: FetchResponse
    try {
      response = await o.client.request(nodeId, Fetch, body, {
        signal,
        workload: 'fetch',
        timeoutMs: o.requestTimeout + o.maxWait + FETCH_TIMEOUT_SLACK_MS,
        versions: useIds ? undefined : { max: 12 },
      })
    } catch (err) {
      session.failed()
      throw err
    } finally {
      for (const c of cursors) c.inFlight = false
    }
    if (plan !== undefined) session.answered(plan, response.errorCode, response.sessionId)
    const latency = Date.now() - started
    o.stats.readTime.observe(latency)
    o.stats.fetches++
    if (SESSION_ERRORS.has(response.errorCode)) {
      // The broker evicted or lost track of the session: the next request is a full fetch, at once.
      o.logger?.debug({ broker: nodeId, errorCode: response.errorCode }, 'fetch session reset')
      return
    }
    if (response.errorCode !== ErrorCode.NONE) {
      // Any other request-level error: back off.
      throw KafkaError.fromCode(response.errorCode, { apiName: 'Fetch', broker: nodeId })
    }

    const bySent = new Map(sent.map((s) => [s.cursor.key, s]))
    let messages = 0
    let bytes = 0
    for (const t of response.responses) {
      const topic = t.topic !== '' ? t.topic : names.get(t.topicId)
      if (topic === undefined) continue
      for (const p of t.partitions) {
        const s = bySent.get(partitionKey(topic, p.partitionIndex))
        if (s === undefined) continue
        bySent.delete(s.cursor.key)
        const cursor = s.cursor
        // Revoked, paused or sought while in flight: this answer is for a position no longer wanted.
        if (cursor.removed || cursor.epoch !== s.epoch || cursor.fetchOffset !== s.offset || cursor.paused) continue
        if (p.errorCode !== ErrorCode.NONE) {
          if (nodeId !== cursor.leader) {
            // An error from a follower: back to the leader (Java). Out of range there means the
            // follower lags, not that the position is gone: no reset, fetch from the leader.
            clearReadReplica(cursor)
            if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
              this.#kick()
              continue
            }
          }
          if (this.#followLeaderHint(cursor, p.errorCode, p.currentLeader, response.nodeEndpoints)) continue
          this.#partitionError(cursor, p.errorCode, 'Fetch', nodeId)
          continue
        }
        if (p.preferredReadReplica >= 0 && p.preferredReadReplica !== nodeId)
          this.#preferReplica(cursor, p.preferredReadReplica)
        if (p.divergingEpoch.epoch >= 0 || p.divergingEpoch.endOffset >= 0n) {
          this.#truncate(cursor, p.divergingEpoch.epoch, p.divergingEpoch.endOffset)
          continue
        }
        cursor.highWatermark = p.highWatermark
        if (p.lastStableOffset >= 0n) cursor.lastStableOffset = p.lastStableOffset
        if (p.logStartOffset >= 0n) cursor.logStartOffset = p.logStartOffset
        let result
        try {
          // Copies, so a queued message holds its own bytes rather than the whole response; and
          // no more than the queue has room for (the rest is fetched again later).
          result = await recordsToMessages(topic, p.partitionIndex, p, s.offset, o.isolationLevel, {
            copy: true,
            maxMemory: o.queue.room,
            verifyCrc: o.checkCrcs,
          })
        } catch (err) {
          // Corrupt or undecodable data at the position: the application must decide (seek past it).
          this.#fail(cursor, err instanceof Error ? err : new Error(String(err)))
          continue
        }
        // A seek or revocation may have happened while decompressing.
        if (cursor.removed || cursor.epoch !== s.epoch || cursor.fetchOffset !== s.offset) continue
        cursor.failures = 0
        cursor.fetchOffset = result.nextOffset
        const lastEpoch = result.lastEpoch ?? -1
        if (lastEpoch >= 0) cursor.lastFetchedEpoch = lastEpoch
        if (result.messages.length > 0) {
          if (cursor.owner !== null) stampAssignment(result.messages, cursor.owner)
          const wire = result.bytes + RECORD_WIRE_OVERHEAD * result.messages.length
          this.#expansion = Math.max(1, result.memory / wire)
          o.queue.push(cursor, result.messages, result.memory, result.nextOffset, lastEpoch)
          messages += result.messages.length
          bytes += result.bytes
        } else if (cursor.queuedChunks === 0 && result.nextOffset > cursor.position) {
          // Only control records or aborted data: nothing to hand out, but the position moves.
          o.queue.skip(cursor, s.offset, result.nextOffset, lastEpoch)
        } else if (result.nextOffset > s.offset) {
          o.queue.push(cursor, [], 0, result.nextOffset, lastEpoch)
        }
      }
    }
    o.stats.fetchSize.observe(messages)
    o.stats.fetchBytes.observe(bytes)
    o.stats.metrics?.fetched(latency, bytes, messages, nodeId)
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const list = out.get(k)
    if (list === undefined) out.set(k, [item])
    else list.push(item)
  }
  return out
}

function clearReadReplica(c: PartitionCursor): void {
  c.readReplica = -1
  c.readReplicaUntil = 0
}

function sleepQuietly(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** The startOffset policy as a log field: ListOffsets' -2 / -1, or a timestamp. */
function describeReset(timestamp: bigint): string {
  if (timestamp === -2n) return 'earliest'
  if (timestamp === -1n) return 'latest'
  return `the first offset at or after ${new Date(Number(timestamp)).toISOString()}`
}
