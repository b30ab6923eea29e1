// Share sessions (KIP-932): the partitions a share consumer fetches from one broker, after Kafka
// 4.4's ShareSessionCache, checked against its answers (test/fixtures/share-answers).
//
// - A session is keyed by (group, member) on each broker. ShareFetch epoch 0 opens one (replacing
//   an open one: the records the member holds stay acquired); its answer names every requested
//   partition. Later requests carry the next epoch (1, 2, ...): they add partitions and forget
//   others, and their answers name only partitions with records, an error or acknowledgements.
// - Epoch -1 closes the session after its acknowledgements are applied; nothing is fetched.
// - No session for a non-zero epoch: SHARE_SESSION_NOT_FOUND; another epoch than the next one:
//   INVALID_SHARE_SESSION_EPOCH (the session's epoch does not move).
// - ShareFetch does not check that the member belongs to the group (Kafka 4.4 does not either).

import { ErrorCode } from '../protocol/error-codes.js'

export const FINAL_EPOCH = -1

export interface SessionPartition {
  topicId: string
  partition: number
}

export class ShareSession {
  /** The epoch the next request must carry. */
  epoch = 1
  /** Partitions in the order they were added (the answer's order). */
  readonly partitions = new Map<string, SessionPartition>()

  constructor(
    readonly groupId: string,
    readonly memberId: string,
  ) {}

  static key(topicId: string, partition: number): string {
    return `${topicId}:${partition}`
  }

  add(p: SessionPartition): void {
    const k = ShareSession.key(p.topicId, p.partition)
    if (!this.partitions.has(k)) this.partitions.set(k, p)
  }

  forget(p: SessionPartition): void {
    this.partitions.delete(ShareSession.key(p.topicId, p.partition))
  }
}

export type SessionLookup =
  { errorCode: number } | { errorCode: 0; session: ShareSession; isNew: boolean; closing: boolean }

/** The share sessions of one broker. */
export class ShareSessionCache {
  private readonly sessions = new Map<string, ShareSession>()

  private static key(groupId: string, memberId: string): string {
    return `${groupId}\u0000${memberId}`
  }

  /**
   * The session a request with `epoch` uses: a new one for 0 (ShareFetch only), the open one for
   * the next epoch or -1. A session found with the right epoch moves to the following one.
   */
  resolve(groupId: string, memberId: string, epoch: number, canOpen: boolean): SessionLookup {
    const key = ShareSessionCache.key(groupId, memberId)
    if (epoch === 0) {
      if (!canOpen) return { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH }
      const session = new ShareSession(groupId, memberId)
      this.sessions.set(key, session)
      return { errorCode: 0, session, isNew: true, closing: false }
    }
    const session = this.sessions.get(key)
    if (session === undefined) return { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND }
    if (epoch === FINAL_EPOCH) {
      this.sessions.delete(key)
      return { errorCode: 0, session, isNew: false, closing: true }
    }
    if (epoch !== session.epoch) return { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH }
    session.epoch = session.epoch === 0x7fffffff ? 1 : session.epoch + 1
    return { errorCode: 0, session, isNew: false, closing: false }
  }

  /** Drops every session of a member (it left its group). */
  dropMember(groupId: string, memberId: string): void {
    this.sessions.delete(ShareSessionCache.key(groupId, memberId))
  }

  get size(): number {
    return this.sessions.size
  }
}
