// One Fetch round trip for a broker loop: the request (the broker's fetch session, KIP-227; topic
// ids from v13; a byte budget the queue has room for) and its answer, applied partition by
// partition to the cursors and the queue. Answers for partitions revoked, paused or sought while
// the request was in flight are dropped (each request remembers the cursor epoch it was built with).

import { KafkaError } from '../errors.js'
import { ZERO_UUID } from '../protocol/api.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { Fetch, type FetchResponse } from '../protocol/messages/index.js'
import { partitionKey, type PartitionCursor } from './cursor.js'
import { recordsToMessages } from './fetch-result.js'
import { clearReadReplica, type Placement } from './fetch-placement.js'
import { groupBy } from './fetch-positions.js'
import type { Recovery } from './fetch-recovery.js'
import {
  FetchSessionState,
  fetchRequest,
  type FetchPlan,
  type FetchSessionCounters,
  type SessionPartition,
} from './fetch-session.js'
import type { FetcherOptions } from './fetcher.js'
import { stampAssignment } from './ownership.js'

/** Top-level Fetch errors that only mean "start a new fetch session" (Java's FetchSessionHandler). */
const SESSION_ERRORS = new Set<number>([
  ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  ErrorCode.INVALID_FETCH_SESSION_EPOCH,
  ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
])

/** Extra time allowed for a long-poll Fetch beyond the broker's maxWait. */
const FETCH_TIMEOUT_SLACK_MS = 5000
/** Bytes a record takes on the wire besides its payload (length, attributes, deltas, lengths). */
const RECORD_WIRE_OVERHEAD = 8

export class FetchExchange {
  readonly #o: FetcherOptions
  readonly #placement: Placement
  readonly #recovery: Recovery
  readonly #kick: () => void
  /** Rotates the partition order of fetch requests so no partition is always cut by maxBytes. */
  #rotation = 0
  /** Queue memory per byte fetched, from the last messages decoded (asks for room / this). */
  #expansion = 1
  /** One fetch session per broker (KIP-227). */
  readonly #sessions = new Map<number, FetchSessionState>()

  constructor(options: FetcherOptions, placement: Placement, recovery: Recovery, kick: () => void) {
    this.#o = options
    this.#placement = placement
    this.#recovery = recovery
    this.#kick = kick
  }

  /** Per broker: full and incremental requests sent, partitions listed vs fetched (tests, stats). */
  sessionCounters(): Map<number, FetchSessionCounters> {
    return new Map([...this.#sessions].map(([id, s]) => [id, { ...s.counters }]))
  }

  #session(nodeId: number): FetchSessionState {
    let session = this.#sessions.get(nodeId)
    if (session === undefined) {
      session = new FetchSessionState(this.#o.fetchSessions)
      this.#sessions.set(nodeId, session)
    }
    return session
  }

  /** Fetches `cursors` from `nodeId` once; throws what the request or a top-level error code throws. */
  async fetch(nodeId: number, cursors: PartitionCursor[], signal: AbortSignal): Promise<void> {
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
          if (this.#placement.followLeaderHint(cursor, p.errorCode, p.currentLeader, response.nodeEndpoints)) continue
          this.#recovery.partitionError(cursor, p.errorCode, 'Fetch', nodeId)
          continue
        }
        if (p.preferredReadReplica >= 0 && p.preferredReadReplica !== nodeId)
          this.#placement.preferReplica(cursor, p.preferredReadReplica)
        if (p.divergingEpoch.epoch >= 0 || p.divergingEpoch.endOffset >= 0n) {
          this.#recovery.truncate(cursor, p.divergingEpoch.epoch, p.divergingEpoch.endOffset)
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
          this.#recovery.fail(cursor, err instanceof Error ? err : new Error(String(err)))
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
