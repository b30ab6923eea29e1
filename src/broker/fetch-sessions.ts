// Incremental fetch sessions (KIP-227), after Kafka's FetchSession.scala.
//
// A session remembers the partitions a client fetches and what the broker last told it about
// each (high watermark, last stable offset, log start offset), so an incremental request only
// lists partitions that changed and an incremental response only carries partitions with news.
//
//   sessionId 0,  epoch -1  → full fetch, no session (sessionless)
//   sessionId 0,  epoch  0  → full fetch, create a session (its id is in the response)
//   sessionId X,  epoch  0  → close X, full fetch, create a new session
//   sessionId X,  epoch -1  → close X, full fetch, no session
//   sessionId X,  epoch  N  → incremental: X must exist (else FETCH_SESSION_ID_NOT_FOUND) and
//                             N must be its next epoch (else INVALID_FETCH_SESSION_EPOCH)
//   sessionId 0,  epoch  N  → FETCH_SESSION_ID_NOT_FOUND

export const INITIAL_EPOCH = 0
export const FINAL_EPOCH = -1

export interface SessionPartition {
  topic: string
  topicId: string
  partition: number
  fetchOffset: bigint
  logStartOffset: bigint
  maxBytes: number
  currentLeaderEpoch: number
  lastFetchedEpoch: number
  /** What the last response said (-1 before the first); an incremental response includes the partition when any changed. */
  sentHighWatermark: number
  sentLastStableOffset: number
  sentLogStartOffset: number
}

export class FetchSession {
  /** Partitions in fetch order; keys are `${topicId or name}:${partition}`. */
  readonly partitions = new Map<string, SessionPartition>()
  /** The epoch the next incremental request must carry. */
  epoch = 1
  lastUsedMs: number

  constructor(
    readonly id: number,
    readonly usesTopicIds: boolean,
    nowMs: number,
  ) {
    this.lastUsedMs = nowMs
  }

  static key(topicOrId: string, partition: number): string {
    return `${topicOrId}:${partition}`
  }

  /** Epochs wrap from Int32.MAX to 1 (0 is reserved for "create"). */
  advanceEpoch(): void {
    this.epoch = this.epoch === 0x7fffffff ? 1 : this.epoch + 1
  }

  /** Moves a partition to the end so partitions that returned data do not starve the others. */
  rotateToEnd(key: string): void {
    const p = this.partitions.get(key)
    if (p === undefined) return
    this.partitions.delete(key)
    this.partitions.set(key, p)
  }
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>()
  private nextId = 1

  /** max.incremental.fetch.session.cache.slots (Kafka's default). */
  constructor(readonly maxSessions = 1000) {}

  get size(): number {
    return this.sessions.size
  }

  /** The live sessions (tests look at what a broker holds). */
  values(): IterableIterator<FetchSession> {
    return this.sessions.values()
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id)
  }

  remove(id: number): void {
    this.sessions.delete(id)
  }

  /** Creates a session, evicting the least recently used one when the cache is full. */
  create(usesTopicIds: boolean, nowMs: number): FetchSession {
    if (this.sessions.size >= this.maxSessions) {
      let oldest: FetchSession | undefined
      for (const s of this.sessions.values()) if (oldest === undefined || s.lastUsedMs < oldest.lastUsedMs) oldest = s
      if (oldest !== undefined) this.sessions.delete(oldest.id)
    }
    let id = this.nextId
    while (id === 0 || this.sessions.has(id)) id = (id % 0x7fffffff) + 1
    this.nextId = (id % 0x7fffffff) + 1
    const session = new FetchSession(id, usesTopicIds, nowMs)
    this.sessions.set(id, session)
    return session
  }

  clear(): void {
    this.sessions.clear()
  }
}
