// Offset commits and committed-offset lookups for a group member.
//
// Commits go through one pipeline: at most one OffsetCommit is in flight, and offsets that arrive
// meanwhile are merged (highest per partition) into the next one. That keeps commits in order
// even across retries: a retried commit of offset 10 can never land after a commit of 12 and
// rewind the group. On top of that, an offset below the last one this member committed (or
// marked) for a partition is refused ('rewind') unless the caller allows it, one equal to it is
// not sent again, and an offset is only sent under the ownership its message was
// fetched in (ownership.ts): one revoked or lost since (even if the partition was assigned back),
// or a partition never assigned, is rejected with CommitRejectedError without touching the
// group's offset. Every commit carries the generation and member id, so the coordinator also
// rejects a member that was removed (ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID); an offset once sent
// is never sent again under another generation (Java raises CommitFailedException there too).

import { backoffDelay, sleep, type RetryPolicy } from '../cluster/retry.js'
import { KafkaError, isRetriable } from '../errors.js'
import type { Logger } from '../logger.js'
import { abortErrorFor } from '../net/errors.js'
import { raceAbort } from '../net/pool.js'
import { ErrorCode, errorInfo } from '../protocol/error-codes.js'
import { OffsetCommit, OffsetFetch, type OffsetCommitResponse } from '../protocol/messages/index.js'
import type { TopicPartition } from './config.js'
import type { Coordinator } from './coordinator.js'
import { partitionKey, type PartitionCursor } from './cursor.js'
import type { Ownership } from './ownership.js'
import { CommitRejectedError, type TopicPartitionOffset } from './errors.js'
import type { ReaderStatsCollector } from './stats.js'

/** What the committer needs to know about the membership. */
export interface MembershipView {
  readonly groupId: string
  /** Generation and member id of the current (or last) join. */
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId: string | null
  /** This member's current ownership of the partition; undefined when not owned (or fenced). */
  ownership(topic: string, partition: number): Ownership | undefined
  /** The ownership with this id was lost (rather than revoked); false when not known. */
  wasLost(ownershipId: number): boolean
  /** The coordinator fenced this member; it has not rejoined yet. */
  readonly isFenced: boolean
  /** The coordinator does not know this generation/member: rejoin, and the partitions are lost. */
  fenced(errorCode: number, generationId: number, memberId: string): void
  /** The group is rebalancing: rejoin. */
  requestRejoin(reason: string): void
  /** Resolves once the member is stable in a generation (after a rebalance). */
  waitStable(signal: AbortSignal): Promise<void>
  /**
   * KIP-848: `generationId` is the member epoch, which moves on while partitions are kept; a
   * commit goes out with the current epoch (STALE_MEMBER_EPOCH: again with the next one), and
   * only the message's ownership decides whether it may be committed.
   */
  readonly epochMovesWithoutRebalance?: boolean
}

type Outcome = { ok: true } | { ok: false; error: Error; rejected?: CommitRejectedError['reason'] }

/** An offset to commit, with the ownership its message was fetched under (0 or unset: not known). */
export interface CommitOffset extends TopicPartitionOffset {
  assignment?: number | undefined
  /** The leader epoch of the message committed (KIP-320), sent as committedLeaderEpoch; -1 or absent if unknown. */
  leaderEpoch?: number | undefined
  /** Committed with the offset (OffsetCommit's committedMetadata); absent: the empty string, as Java's. */
  metadata?: string | undefined
}

/** Per partition, the metadata to commit with its offset (undefined: none). */
export type CommitMetadata = (topic: string, partition: number) => string | undefined

/** An offset to commit, under the ownership it was made in. */
interface Entry extends TopicPartitionOffset {
  ownership: Ownership
  /** Asked for with allowRewind: sent even below the committed offset, which it then replaces. */
  rewind?: boolean
  leaderEpoch: number
  metadata: string | undefined
  /** The generation it was first sent in: it is never sent under another one. */
  sentGeneration?: number
}

interface Waiter {
  offsets: TopicPartitionOffset[]
  resolve: () => void
  reject: (error: Error) => void
}

interface CommitOptions {
  signal?: AbortSignal | undefined
}

export interface MarkOptions {
  /** Accept an offset below the one committed (or marked) before: it moves the group's offset back. */
  allowRewind?: boolean | undefined
}

export class OffsetCommitter {
  readonly #coordinator: Coordinator
  readonly #view: MembershipView
  readonly #policy: RetryPolicy
  readonly #stats: ReaderStatsCollector
  readonly #requestTimeout: number
  readonly #commitTimeout: number
  readonly #logger: Logger | undefined
  /** committedLeaderEpoch of the offsets fetchCommitted found (-1 or absent: none). */
  readonly #committedEpochs = new Map<string, number>()
  /**
   * The metadata that goes with the offset in #requested (or found committed): a commit of a
   * skipped stretch's end (skipped()) carries it on, so it does not wipe, say, a partition time.
   */
  readonly #metadata = new Map<string, string>()
  /** Offsets waiting for the next OffsetCommit, highest per partition. */
  #pending = new Map<string, Entry>()
  /** Marked offsets whose commit failed for a reason a retry may fix: sent with the next flush. */
  #deferred = new Map<string, Entry>()
  #waiters: Waiter[] = []
  #running: Promise<void> | null = null
  /** Highest offset this member committed (or found committed) per owned partition. */
  readonly #committed = new Map<string, bigint>()
  /**
   * Highest offset asked for per owned partition: committed, found committed, marked or in
   * flight (a failed one falls back to the committed offset until it is retried).
   */
  readonly #requested = new Map<string, bigint>()
  /** Aborts commits in flight when the Reader closes for good. */
  readonly #stop = new AbortController()
  /** Lets the Reader mark what it holds back (messages(): the last message processed) before a flush. */
  readonly #beforeFlush: (() => void) | undefined

  constructor(
    coordinator: Coordinator,
    view: MembershipView,
    policy: RetryPolicy,
    stats: ReaderStatsCollector,
    timing: { requestTimeout: number; commitTimeout: number; logger?: Logger; beforeFlush?: () => void },
  ) {
    this.#logger = timing.logger
    this.#beforeFlush = timing.beforeFlush
    this.#coordinator = coordinator
    this.#view = view
    this.#policy = policy
    this.#stats = stats
    this.#requestTimeout = timing.requestTimeout
    this.#commitTimeout = timing.commitTimeout
  }

  /** Whether another attempt, after its backoff, still starts before the commit timeout. */
  #mayRetry(deadline: number, attempt: number): { delay: number } | null {
    const delay = backoffDelay(this.#policy, attempt)
    return Date.now() + delay < deadline ? { delay } : null
  }

  /** Offsets marked but not yet committed. */
  get pendingCount(): number {
    return this.#pending.size + this.#deferred.size
  }

  /** The last offset committed for a partition by this member (or found committed when assigned). */
  committed(topic: string, partition: number): bigint | undefined {
    return this.#committed.get(partitionKey(topic, partition))
  }

  /** Remembers the committed offsets found for newly assigned partitions. */
  setCommitted(topic: string, partition: number, offset: bigint): void {
    const key = partitionKey(topic, partition)
    const current = this.#committed.get(key)
    if (current === undefined || offset > current) this.#committed.set(key, offset)
    this.#request(key, offset, false)
  }

  /** The highest offset committed, marked or being committed for a partition (see #requested). */
  requested(topic: string, partition: number): bigint | undefined {
    return this.#requested.get(partitionKey(topic, partition))
  }

  /**
   * The cursor's position just moved past records never handed out (a transaction's final marker
   * or aborted data, fetched after the last message: librdkafka issue 3400). If what was asked
   * for reaches where that stretch starts, everything handed out of the partition is done with
   * and nothing the application could get lies between: commit the stretch's end too (marked, or
   * at once when `now`), so the group's offset reaches the log end, as Java's position commit
   * does. Under the partition's current ownership only; never past a record not handed out.
   */
  skipped(cursor: PartitionCursor, now: boolean): void {
    const owner = cursor.owner
    if (owner === null || !owner.valid || cursor.skippedFrom < 0n) return
    if (this.#requested.get(cursor.key) !== cursor.skippedFrom) return
    const offset: CommitOffset = {
      topic: cursor.topic,
      partition: cursor.partition,
      offset: cursor.skippedTo,
      assignment: owner.id,
      leaderEpoch: cursor.positionEpoch,
      metadata: this.#metadata.get(cursor.key),
    }
    try {
      if (now) this.commit([offset]).catch(() => {})
      else this.mark([offset])
    } catch {
      // Refused (revoked meanwhile): the application's own commit stands; nothing to report.
    }
  }

  #request(key: string, offset: bigint, rewind: boolean): void {
    const current = this.#requested.get(key)
    if (rewind || current === undefined || offset > current) this.#requested.set(key, offset)
  }

  /** Forgets revoked partitions: their pending offsets and their committed floor. */
  forget(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      const key = partitionKey(tp.topic, tp.partition)
      this.#committed.delete(key)
      this.#requested.delete(key)
      this.#pending.delete(key)
      this.#deferred.delete(key)
      this.#metadata.delete(key)
    }
  }

  /**
   * Commits the offsets and resolves once the coordinator accepted them. Partitions not owned
   * are rejected (CommitRejectedError 'not-owned') after the owned ones are committed.
   */
  async commit(offsets: readonly CommitOffset[], options: CommitOptions & MarkOptions = {}): Promise<void> {
    const { owned, rejected } = this.#split(offsets)
    this.#checkRewind(owned, options, false)
    if (owned.length > 0) {
      const done = new Promise<void>((resolve, reject) => this.#waiters.push({ offsets: owned, resolve, reject }))
      this.#undefer()
      this.#merge(owned)
      this.#pump()
      await raceAbort(done, options.signal, 'commitMessages')
    }
    if (rejected.length > 0) throw this.#notOwned(rejected)
  }

  /** Marks offsets to be committed by the next flush (periodic commits); rejects unowned ones at once. */
  mark(offsets: readonly CommitOffset[], options: MarkOptions = {}): void {
    const { owned, rejected } = this.#split(offsets)
    this.#checkRewind(owned, options, true)
    this.#merge(owned)
    if (rejected.length > 0) throw this.#notOwned(rejected)
  }

  /** Commits everything marked; resolves when done (errors of marked offsets are counted, not thrown). */
  async flush(options: CommitOptions = {}): Promise<void> {
    this.#beforeFlush?.()
    this.#undefer()
    if (this.#pending.size === 0) {
      if (this.#running !== null) await raceAbort(this.#running, options.signal, 'commit flush')
      return
    }
    const offsets = [...this.#pending.values()]
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ offsets, resolve, reject }))
    this.#pump()
    await raceAbort(
      done.catch(() => {}),
      options.signal,
      'commit flush',
    )
  }

  /** Fails pending commits and stops; used when the Reader closes. */
  stop(): void {
    this.#stop.abort()
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters)
      w.reject(new CommitRejectedError('closed', w.offsets, 'the Reader closed before the commit was sent'))
    this.#pending.clear()
    this.#deferred.clear()
  }

  /**
   * A commit below what this member committed (or, for a mark, marked) would silently do nothing
   * or move the group back: refuse it, unless allowed, before anything is sent or marked.
   * Concurrent commit() calls are not compared with each other: they merge (highest wins).
   */
  #checkRewind(owned: Entry[], options: MarkOptions, againstMarks: boolean): void {
    const below: TopicPartitionOffset[] = []
    for (const e of owned) {
      const key = partitionKey(e.topic, e.partition)
      if (options.allowRewind === true) {
        e.rewind = true
        continue
      }
      const pending = againstMarks ? this.#pending.get(key) : undefined
      const floor = this.#committed.get(key)
      if (
        (floor !== undefined && e.offset < floor) ||
        (pending !== undefined && pending.ownership === e.ownership && e.offset < pending.offset)
      )
        below.push({ topic: e.topic, partition: e.partition, offset: e.offset })
    }
    if (below.length > 0) throw new CommitRejectedError('rewind', below, describe('rewind'))
  }

  /** Puts deferred offsets back in line (those still owned, in the generation they were sent in). */
  #undefer(): void {
    if (this.#deferred.size === 0) return
    const generation = this.#view.generationId
    const deferred = [...this.#deferred.values()].filter(
      (e) => e.ownership.valid && (e.sentGeneration === undefined || e.sentGeneration === generation),
    )
    this.#deferred.clear()
    this.#merge(deferred)
  }

  /** 'fenced' when any of them was lost (or the member is fenced now), else 'not-owned'. */
  #notOwned(partitions: { offset: TopicPartitionOffset; lost: boolean }[]): CommitRejectedError {
    const reason = this.#view.isFenced || partitions.some((p) => p.lost) ? 'fenced' : 'not-owned'
    return new CommitRejectedError(
      reason,
      partitions.map((p) => p.offset),
      describe(reason),
    )
  }

  /**
   * Owned: the partition's current ownership is valid and is the one the offset's message was
   * fetched under (an offset without one, from a message built by hand, takes the current one).
   * Everything else is rejected.
   */
  #split(offsets: readonly CommitOffset[]): {
    owned: Entry[]
    rejected: { offset: TopicPartitionOffset; lost: boolean }[]
  } {
    const owned: Entry[] = []
    const rejected: { offset: TopicPartitionOffset; lost: boolean }[] = []
    for (const o of offsets) {
      const current = this.#view.ownership(o.topic, o.partition)
      const stamped = o.assignment !== undefined && o.assignment > 0
      const plain = { topic: o.topic, partition: o.partition, offset: o.offset }
      if (current === undefined || !current.valid || (stamped && o.assignment !== current.id))
        rejected.push({ offset: plain, lost: stamped ? this.#view.wasLost(o.assignment!) : current?.lost === true })
      else owned.push({ ...plain, ownership: current, leaderEpoch: o.leaderEpoch ?? -1, metadata: o.metadata })
    }
    return { owned, rejected }
  }

  #merge(entries: readonly Entry[]): void {
    for (const e of entries) {
      const key = partitionKey(e.topic, e.partition)
      const current = this.#pending.get(key)
      // An entry of an older ownership is superseded by any entry of the current one.
      if (current === undefined || current.ownership !== e.ownership || e.offset > current.offset || e.rewind === true)
        this.#pending.set(key, e)
      if (!e.ownership.valid) continue
      this.#request(key, e.offset, e.rewind === true)
      if (this.#requested.get(key) !== e.offset) continue
      if (e.metadata === undefined) this.#metadata.delete(key)
      else this.#metadata.set(key, e.metadata)
    }
  }

  #pump(): void {
    if (this.#running !== null) return
    const run = (async () => {
      // Waiters without pending offsets still need settling (their partitions were revoked).
      while ((this.#pending.size > 0 || this.#waiters.length > 0) && !this.#stop.signal.aborted) {
        const batch = this.#pending
        const waiters = this.#waiters
        this.#pending = new Map()
        this.#waiters = []
        const outcomes = await this.#send(batch)
        this.#settle(batch, waiters, outcomes)
      }
    })()
    this.#running = run
    void run.finally(() => {
      if (this.#running === run) this.#running = null
      if ((this.#pending.size > 0 || this.#waiters.length > 0) && !this.#stop.signal.aborted) this.#pump()
    })
  }

  #settle(batch: Map<string, Entry>, waiters: Waiter[], outcomes: Map<string, Outcome>): void {
    for (const [key, outcome] of outcomes) {
      if (outcome.ok) continue
      this.#stats.errors++
      // A marked offset whose commit failed for a reason a retry may fix waits for the next
      // flush (not this drain loop: a coordinator that keeps failing must not spin it).
      const entry = batch.get(key)!
      // Not asked for any more (a retry, from #deferred, asks again); the committed offset still is.
      if (this.#requested.get(key) === entry.offset) {
        const committed = this.#committed.get(key)
        if (committed === undefined) this.#requested.delete(key)
        else this.#requested.set(key, committed)
      }
      // Refusals are the caller's answer (and routine in a rebalance); failures are trouble.
      const fields = { err: outcome.error, topic: entry.topic, partition: entry.partition, offset: entry.offset }
      if (outcome.rejected === undefined) this.#logger?.warn(fields, 'offset commit failed')
      else if (outcome.rejected !== 'closed') this.#logger?.info(fields, 'offset commit refused')
      if (outcome.rejected === undefined && isRetriable(outcome.error) && entry.ownership.valid) {
        const current = this.#deferred.get(key)
        if (current === undefined || current.offset < entry.offset) this.#deferred.set(key, entry)
      }
    }
    for (const waiter of waiters) {
      const rejected = new Map<CommitRejectedError['reason'], TopicPartitionOffset[]>()
      let error: Error | null = null
      for (const o of waiter.offsets) {
        // No outcome: the partition was revoked (forget) before its offset was sent.
        const outcome = outcomes.get(partitionKey(o.topic, o.partition)) ?? rejectedOutcome('not-owned', o)
        if (outcome.ok) continue
        if (outcome.rejected !== undefined) {
          const list = rejected.get(outcome.rejected)
          if (list === undefined) rejected.set(outcome.rejected, [o])
          else list.push(o)
        } else {
          error ??= outcome.error
        }
      }
      const first = [...rejected][0]
      if (first !== undefined) {
        const [reason, list] = first
        const cause = outcomes.get(partitionKey(list[0]!.topic, list[0]!.partition))
        waiter.reject(
          new CommitRejectedError(
            reason,
            list,
            describe(reason),
            cause !== undefined && !cause.ok ? { cause: cause.error } : undefined,
          ),
        )
      } else if (error !== null) {
        waiter.reject(error)
      } else {
        waiter.resolve()
      }
    }
  }

  /** Sends one batch, retrying what a retry may fix; returns the outcome per partition. */
  async #send(batch: Map<string, Entry>): Promise<Map<string, Outcome>> {
    const outcomes = new Map<string, Outcome>()
    let remaining = new Map(batch)
    const signal = this.#stop.signal
    const view = this.#view
    // Every attempt goes out under the generation of the first: one that answered, or may have
    // answered, for an old generation is never repeated under a newer one.
    let generationId = view.generationId
    const memberId = view.memberId
    // KIP-848: the member epoch moves on while partitions are kept; each attempt takes the current one.
    const followEpoch = view.epochMovesWithoutRebalance === true
    const deadline = Date.now() + this.#commitTimeout
    for (let attempt = 1; remaining.size > 0; attempt++) {
      if (followEpoch) generationId = view.generationId
      for (const [key, o] of remaining) {
        if (view.isFenced || !o.ownership.valid) {
          outcomes.set(key, rejectedOutcome(view.isFenced || o.ownership.lost ? 'fenced' : 'not-owned', o))
          remaining.delete(key)
          continue
        }
        if ((!followEpoch && view.generationId !== generationId) || view.memberId !== memberId) {
          outcomes.set(key, rejectedOutcome('rebalanced', o))
          remaining.delete(key)
          continue
        }
        const floor = this.#committed.get(key)
        // Never move the group's offset backwards from what this member committed, unless asked
        // to (a lower offset that raced with a higher one was superseded by it: nothing to send).
        if (floor !== undefined && (o.rewind === true ? o.offset === floor : o.offset <= floor)) {
          outcomes.set(key, { ok: true })
          remaining.delete(key)
        }
      }
      if (remaining.size === 0) break

      const instanceId = view.groupInstanceId
      if (!followEpoch) for (const o of remaining.values()) o.sentGeneration ??= generationId
      const byTopic = new Map<string, Entry[]>()
      for (const o of remaining.values()) {
        const list = byTopic.get(o.topic)
        if (list === undefined) byTopic.set(o.topic, [o])
        else list.push(o)
      }
      const started = Date.now()
      let response: OffsetCommitResponse
      try {
        response = await this.#coordinator.send(
          OffsetCommit,
          (version) => ({
            groupId: view.groupId,
            generationIdOrMemberEpoch: generationId,
            memberId,
            ...(version >= 7 && instanceId !== null ? { groupInstanceId: instanceId } : {}),
            topics: [...byTopic].map(([name, list]) => ({
              name,
              partitions: list.map((o) => ({
                partitionIndex: o.partition,
                committedOffset: o.offset,
                // From v6; a reader starting from this offset checks the log was not truncated below it.
                ...(version >= 6 ? { committedLeaderEpoch: o.leaderEpoch } : {}),
                committedMetadata: o.metadata ?? '',
              })),
            })),
          }),
          { signal, timeoutMs: Math.max(1, Math.min(this.#requestTimeout, deadline - Date.now())) },
        )
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err))
        const next = signal.aborted || !isRetriable(err) ? null : this.#mayRetry(deadline, attempt)
        if (next === null) {
          for (const [key, o] of remaining)
            outcomes.set(key, signal.aborted ? rejectedOutcome('closed', o) : { ok: false, error })
          break
        }
        this.#logger?.debug({ err: error, attempt }, 'offset commit failed; retrying')
        await sleep(next.delay, signal).catch(() => {})
        continue
      }
      this.#stats.commits++
      this.#stats.commitTime.observe(Date.now() - started)
      this.#stats.metrics?.committed(Date.now() - started)

      const retry = new Map<string, Entry>()
      let waitForRebalance = false
      let lastError: KafkaError | null = null
      for (const t of response.topics) {
        for (const p of t.partitions) {
          const key = partitionKey(t.name, p.partitionIndex)
          const o = remaining.get(key)
          if (o === undefined) continue
          remaining.delete(key)
          const code = p.errorCode
          if (code === ErrorCode.NONE) {
            if (o.rewind === true) this.#committed.set(key, o.offset)
            else this.setCommitted(o.topic, o.partition, o.offset)
            outcomes.set(key, { ok: true })
            continue
          }
          const error = KafkaError.fromCode(code, {
            apiName: 'OffsetCommit',
            groupId: view.groupId,
            topic: o.topic,
            partition: o.partition,
          })
          if (
            code === ErrorCode.UNKNOWN_MEMBER_ID ||
            code === ErrorCode.ILLEGAL_GENERATION ||
            code === ErrorCode.FENCED_INSTANCE_ID
          ) {
            if (view.generationId === generationId && view.memberId === memberId) {
              view.fenced(code, generationId, memberId)
              outcomes.set(key, { ok: false, error, rejected: 'fenced' })
            } else {
              // The member rejoined while this was in flight. It is not sent again in the new
              // generation, even for a partition kept throughout (cooperative): an old
              // generation's commit never crosses into a newer one.
              const rejected =
                o.ownership.lost || view.isFenced ? 'fenced' : o.ownership.valid ? 'rebalanced' : 'not-owned'
              outcomes.set(key, { ok: false, error, rejected })
            }
          } else if (code === ErrorCode.STALE_MEMBER_EPOCH && followEpoch) {
            // The epoch moved on since the heartbeat we know of: again with the next one (Java's
            // new consumer does the same), as long as the partition stays ours.
            retry.set(key, o)
            lastError = error
          } else if (code === ErrorCode.REBALANCE_IN_PROGRESS) {
            // Java's RebalanceInProgressException: the commit carried the generation being
            // completed; commit again once it is stable, if the partition is still ours then
            // (cooperative rebalancing keeps it) and the generation did not move on again.
            view.requestRejoin('a commit found the group rebalancing')
            retry.set(key, o)
            waitForRebalance = true
          } else if (this.#coordinator.checkCoordinatorError(code) || errorInfo(code).retriable) {
            retry.set(key, o)
            lastError = error
          } else {
            outcomes.set(key, { ok: false, error })
          }
        }
      }
      // Partitions the response left out: retry them.
      for (const [key, o] of remaining) retry.set(key, o)
      remaining = retry
      if (remaining.size === 0) break
      const next = this.#mayRetry(deadline, attempt)
      if (next === null) {
        const error =
          lastError ??
          KafkaError.fromCode(ErrorCode.REBALANCE_IN_PROGRESS, { apiName: 'OffsetCommit', groupId: view.groupId })
        for (const [key] of remaining) outcomes.set(key, { ok: false, error })
        break
      }
      if (waitForRebalance) {
        try {
          await view.waitStable(signal)
        } catch {
          for (const [key, o] of remaining) outcomes.set(key, rejectedOutcome('closed', o))
          break
        }
      } else {
        await sleep(next.delay, signal).catch(() => {})
      }
    }
    return outcomes
  }

  /**
   * The leader epoch committed with the partition's offset, as the last fetchCommitted found it
   * (-1 when none): a Reader starting from that offset validates it (KIP-320).
   */
  committedLeaderEpoch(topic: string, partition: number): number {
    return this.#committedEpochs.get(partitionKey(topic, partition)) ?? -1
  }

  /**
   * The committed offsets of `partitions` (null where none is committed), with
   * requireStable so offsets of a pending transaction are waited for (KIP-447). Retries
   * retriable errors, finding the coordinator again when it moved.
   */
  async fetchCommitted(
    partitions: readonly TopicPartition[],
    signal: AbortSignal,
  ): Promise<Map<string, bigint | null>> {
    const groupId = this.#view.groupId
    const byTopic = new Map<string, number[]>()
    for (const tp of partitions) {
      const list = byTopic.get(tp.topic)
      if (list === undefined) byTopic.set(tp.topic, [tp.partition])
      else list.push(tp.partition)
    }
    const topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }))
    const deadline = Date.now() + this.#commitTimeout
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw abortErrorFor(signal, 'OffsetFetch')
      let failure: unknown
      try {
        const response = await this.#coordinator.send(
          OffsetFetch,
          (version) =>
            version >= 8
              ? { groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable: true }
              : { groupId, topics, ...(version >= 7 ? { requireStable: true } : {}) },
          { signal, timeoutMs: Math.max(1, Math.min(this.#requestTimeout, deadline - Date.now())) },
        )
        const group = response.groups[0]
        const groupError = group !== undefined ? group.errorCode : response.errorCode
        const answers = group !== undefined ? group.topics : response.topics
        if (groupError !== ErrorCode.NONE) {
          this.#coordinator.checkCoordinatorError(groupError)
          throw KafkaError.fromCode(groupError, { apiName: 'OffsetFetch', groupId })
        }
        const out = new Map<string, bigint | null>()
        for (const t of answers) {
          for (const p of t.partitions) {
            if (p.errorCode !== ErrorCode.NONE) {
              throw KafkaError.fromCode(p.errorCode, {
                apiName: 'OffsetFetch',
                groupId,
                topic: t.name,
                partition: p.partitionIndex,
              })
            }
            const key = partitionKey(t.name, p.partitionIndex)
            out.set(key, p.committedOffset >= 0n ? p.committedOffset : null)
            this.#committedEpochs.set(key, p.committedOffset >= 0n ? p.committedLeaderEpoch : -1)
            // What a skipped stretch's commit carries on, unless this member asked for more since.
            const requested = this.#requested.get(key)
            if (p.committedOffset >= 0n && (requested === undefined || requested === p.committedOffset)) {
              if (p.metadata === null || p.metadata === '') this.#metadata.delete(key)
              else this.#metadata.set(key, p.metadata)
            }
          }
        }
        return out
      } catch (err) {
        failure = err
      }
      if (signal.aborted) throw abortErrorFor(signal, 'OffsetFetch')
      this.#stats.errors++
      const next = isRetriable(failure) ? this.#mayRetry(deadline, attempt) : null
      if (next === null) throw failure
      await sleep(next.delay, signal)
    }
  }
}

function rejectedOutcome(reason: CommitRejectedError['reason'], o: TopicPartitionOffset): Outcome {
  return { ok: false, error: new CommitRejectedError(reason, [o], describe(reason)), rejected: reason }
}

function describe(reason: CommitRejectedError['reason']): string {
  switch (reason) {
    case 'not-owned':
      return 'this member has not owned the partition continuously since the message was fetched (it was revoked in a rebalance, perhaps assigned back since, or never assigned); its messages will be read again by the owner'
    case 'fenced':
      return 'the group coordinator no longer accepts this member (session expired or the group moved on without it); it rejoins and its partitions are lost'
    case 'rebalanced':
      return 'the group rebalanced while the commit was in flight and the coordinator refused it under the old generation; it is not sent again under the new one, so these messages may be read again'
    case 'closed':
      return 'the Reader closed first'
    case 'rewind':
      return 'the offset is below the one this member committed or marked for the partition; pass { allowRewind: true } to move the group back'
  }
}
