// The client side of incremental fetch sessions (KIP-227), after Java's FetchSessionHandler.
//
// One FetchSessionState per broker loop. The first request of a session is a full fetch
// (sessionId 0 or the old id, epoch 0: "create a session"); the broker answers with a session id.
// Each later request carries that id and the next epoch and lists only the partitions added or
// changed since the broker last heard of them (fetch offset, leader epoch, last fetched epoch,
// max bytes), plus the partitions to forget (revoked, paused, backing off, moved to another
// leader). The broker reads every partition of its session, so the partitions wanted must be
// exactly the ones the fetcher can take answers for now.
//
// The state moves only when an answer arrives (`answered`), so a request that failed, timed out
// or was never sent changes nothing but the next one: any trouble starts a new session with a
// full fetch, as Java does (FETCH_SESSION_ID_NOT_FOUND after an eviction, INVALID_FETCH_SESSION_EPOCH,
// a broken connection, an unexpected session id).

import type { Input } from '../protocol/api.js'
import { ErrorCode } from '../protocol/error-codes.js'
import type { FetchRequest } from '../protocol/messages/index.js'

/** Fetch v7 introduced sessions. */
export const MIN_SESSION_VERSION = 7
const INITIAL_EPOCH = 0
const FINAL_EPOCH = -1

/** One partition as a fetch request states it. */
export interface SessionPartition {
  topic: string
  /** The topic id when the request names topics by id (v13+), else ZERO_UUID. */
  topicId: string
  partition: number
  fetchOffset: bigint
  currentLeaderEpoch: number
  lastFetchedEpoch: number
  maxBytes: number
}

/** What one Fetch request says about the session and which partitions it lists. */
export interface FetchPlan {
  sessionId: number
  sessionEpoch: number
  /** False for a full fetch (every wanted partition listed). */
  incremental: boolean
  /** The partitions to list in the request. */
  send: SessionPartition[]
  /** Partitions the broker's session holds that are no longer wanted. */
  forget: SessionPartition[]
  /** @internal what the broker's session holds once it accepts this request. */
  readonly wanted: ReadonlyMap<string, SessionPartition>
  /** @internal the request named topics by id. */
  readonly usesTopicIds: boolean
}

/** Counters for tests and metrics: how much a session saved. */
export interface FetchSessionCounters {
  fullRequests: number
  incrementalRequests: number
  /** Partitions listed in requests, and partitions fetched (listed or carried by the session). */
  partitionsSent: number
  partitionsFetched: number
  /** Sessions dropped for an error answer or a failed request. */
  resets: number
}

function keyOf(p: SessionPartition): string {
  // The id is part of the key: a recreated topic is a different partition to the broker.
  return `${p.topic}\u0000${p.topicId}\u0000${p.partition}`
}

function same(a: SessionPartition, b: SessionPartition): boolean {
  return (
    a.fetchOffset === b.fetchOffset &&
    a.currentLeaderEpoch === b.currentLeaderEpoch &&
    a.lastFetchedEpoch === b.lastFetchedEpoch &&
    a.maxBytes === b.maxBytes
  )
}

export class FetchSessionState {
  /** The broker's session id, 0 when there is none. */
  #id = 0
  /** The epoch the next request carries: 0 (create) until a session is established. */
  #epoch = INITIAL_EPOCH
  /** What the broker's session holds after the last accepted request. */
  #known = new Map<string, SessionPartition>()
  #usesTopicIds = false

  readonly counters: FetchSessionCounters = {
    fullRequests: 0,
    incrementalRequests: 0,
    partitionsSent: 0,
    partitionsFetched: 0,
    resets: 0,
  }

  /** `enabled: false` sends every request sessionless (id 0, epoch -1), as before KIP-227. */
  constructor(readonly enabled: boolean) {}

  get sessionId(): number {
    return this.#id
  }

  /** The request to send for `partitions` at Fetch `version`; pure until `answered`. */
  plan(partitions: readonly SessionPartition[], version: number, usesTopicIds: boolean): FetchPlan {
    const wanted = new Map<string, SessionPartition>()
    for (const p of partitions) wanted.set(keyOf(p), p)
    if (!this.enabled || version < MIN_SESSION_VERSION) {
      return {
        sessionId: 0,
        sessionEpoch: FINAL_EPOCH,
        incremental: false,
        send: [...partitions],
        forget: [],
        wanted,
        usesTopicIds,
      }
    }
    if (this.#id === 0 || this.#epoch === INITIAL_EPOCH || this.#usesTopicIds !== usesTopicIds) {
      // A full fetch that closes the old session (if any) and opens a new one.
      return {
        sessionId: this.#id,
        sessionEpoch: INITIAL_EPOCH,
        incremental: false,
        send: [...partitions],
        forget: [],
        wanted,
        usesTopicIds,
      }
    }
    const send: SessionPartition[] = []
    for (const [key, p] of wanted) {
      const known = this.#known.get(key)
      if (known === undefined || !same(known, p)) send.push(p)
    }
    const forget: SessionPartition[] = []
    for (const [key, p] of this.#known) if (!wanted.has(key)) forget.push(p)
    return { sessionId: this.#id, sessionEpoch: this.#epoch, incremental: true, send, forget, wanted, usesTopicIds }
  }

  /** The broker answered `plan`'s request with `errorCode` (top level) and `sessionId`. */
  answered(plan: FetchPlan, errorCode: number, sessionId: number): void {
    if (plan.incremental) this.counters.incrementalRequests++
    else this.counters.fullRequests++
    this.counters.partitionsSent += plan.send.length
    if (errorCode === ErrorCode.NONE) this.counters.partitionsFetched += plan.wanted.size
    if (plan.sessionEpoch === FINAL_EPOCH) return // sessionless
    if (errorCode !== ErrorCode.NONE) {
      this.#reset(errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND)
      return
    }
    if (!plan.incremental) {
      // A broker may decline to create a session (id 0, e.g. its cache is full): full fetches
      // that ask for one again, as Java does.
      this.#id = sessionId
      this.#epoch = sessionId === 0 ? INITIAL_EPOCH : 1
    } else if (sessionId !== this.#id) {
      this.#reset(false)
      return
    } else {
      this.#epoch = this.#epoch === 0x7fffffff ? 1 : this.#epoch + 1
    }
    this.#known = new Map(plan.wanted)
    this.#usesTopicIds = plan.usesTopicIds
  }

  /** The request failed without an answer (broken connection, timeout): start over. */
  failed(): void {
    if (this.enabled && (this.#id !== 0 || this.#known.size > 0)) this.#reset(false)
  }

  /** The next request is a full one; `forgetId` when the broker no longer knows the id. */
  #reset(forgetId: boolean): void {
    this.counters.resets++
    if (forgetId) this.#id = 0
    this.#epoch = INITIAL_EPOCH
    this.#known.clear()
  }
}

/** The request-level settings of a Fetch. */
export interface FetchSettings {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel: number
  /** The client's rack (KIP-392), sent from v11; '' for none. */
  rack: string
}

/** The Fetch request body at `version` for `plan`. */
export function fetchRequest(plan: FetchPlan, version: number, settings: FetchSettings): Input<FetchRequest> {
  const named = (p: SessionPartition) => (plan.usesTopicIds ? { topicId: p.topicId } : { topic: p.topic })
  return {
    replicaId: -1,
    maxWaitMs: settings.maxWaitMs,
    minBytes: settings.minBytes,
    maxBytes: settings.maxBytes,
    isolationLevel: settings.isolationLevel,
    ...(version >= 11 ? { rackId: settings.rack } : {}),
    sessionId: plan.sessionId,
    sessionEpoch: plan.sessionEpoch,
    topics: [...byTopic(plan.send)].map((list) => ({
      ...named(list[0]!),
      partitions: list.map((p) => ({
        partition: p.partition,
        currentLeaderEpoch: p.currentLeaderEpoch,
        fetchOffset: p.fetchOffset,
        // KIP-320: the leader answers divergingEpoch when our last batch's epoch ends before fetchOffset in its log.
        ...(version >= 12 ? { lastFetchedEpoch: p.lastFetchedEpoch } : {}),
        partitionMaxBytes: p.maxBytes,
      })),
    })),
    forgottenTopicsData: [...byTopic(plan.forget)].map((list) => ({
      ...named(list[0]!),
      partitions: list.map((p) => p.partition),
    })),
  }
}

/** Partitions grouped by topic in first-seen order; a recreated topic (same name, new id) is another topic. */
function byTopic(partitions: readonly SessionPartition[]): IterableIterator<SessionPartition[]> {
  const out = new Map<string, SessionPartition[]>()
  for (const p of partitions) {
    const key = `${p.topic}\u0000${p.topicId}`
    const list = out.get(key)
    if (list === undefined) out.set(key, [p])
    else list.push(p)
  }
  return out.values()
}
