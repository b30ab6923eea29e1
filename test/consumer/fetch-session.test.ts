// The client's fetch-session state machine (src/consumer/fetch-session.ts) against the rules of
// KIP-227 and Java's FetchSessionHandler: epoch 0 asks for a session, the broker's id and epochs
// 1, 2, ... follow, only changed partitions are listed, and every error starts over with a full fetch.

import { describe, expect, it } from 'vitest'
import { FetchSessionState, type SessionPartition } from '../../src/consumer/fetch-session.js'
import { ZERO_UUID } from '../../src/protocol/api.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'

function part(partition: number, fetchOffset = 0n): SessionPartition {
  return {
    topic: 't',
    topicId: ZERO_UUID,
    partition,
    fetchOffset,
    currentLeaderEpoch: 0,
    lastFetchedEpoch: -1,
    maxBytes: 1024,
  }
}

function established(): FetchSessionState {
  const s = new FetchSessionState(true)
  const first = s.plan([part(0), part(1), part(2)], 17, false)
  s.answered(first, ErrorCode.NONE, 77)
  return s
}

describe('FetchSessionState', () => {
  it('asks for a session with a full fetch, then sends incremental ones listing only changes', () => {
    const s = new FetchSessionState(true)
    const first = s.plan([part(0), part(1)], 17, false)
    expect(first).toMatchObject({ sessionId: 0, sessionEpoch: 0, incremental: false })
    expect(first.send).toHaveLength(2)
    s.answered(first, ErrorCode.NONE, 77)
    const second = s.plan([part(0, 5n), part(1), part(2)], 17, false)
    expect(second).toMatchObject({ sessionId: 77, sessionEpoch: 1, incremental: true })
    expect(second.send.map((p) => p.partition)).toEqual([0, 2])
    s.answered(second, ErrorCode.NONE, 77)
    const third = s.plan([part(0, 5n), part(2)], 17, false)
    expect(third).toMatchObject({ sessionId: 77, sessionEpoch: 2 })
    expect(third.send).toEqual([])
    expect(third.forget.map((p) => p.partition)).toEqual([1])
  })

  it('does not move until an answer arrives: an unanswered plan is planned again', () => {
    const s = established()
    const a = s.plan([part(0, 1n)], 17, false)
    const b = s.plan([part(0, 1n)], 17, false)
    expect(b).toMatchObject({ sessionEpoch: a.sessionEpoch, send: a.send, forget: a.forget })
  })

  it('FETCH_SESSION_ID_NOT_FOUND asks for a new session; other errors close the old one', () => {
    const s = established()
    s.answered(s.plan([part(0)], 17, false), ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 0)
    expect(s.plan([part(0)], 17, false)).toMatchObject({ sessionId: 0, sessionEpoch: 0, incremental: false })

    const t = established()
    t.answered(t.plan([part(0)], 17, false), ErrorCode.INVALID_FETCH_SESSION_EPOCH, 0)
    const next = t.plan([part(0), part(1)], 17, false)
    expect(next).toMatchObject({ sessionId: 77, sessionEpoch: 0, incremental: false })
    expect(next.send).toHaveLength(2)

    const u = established()
    u.failed()
    expect(u.plan([part(0)], 17, false)).toMatchObject({ sessionId: 77, sessionEpoch: 0 })
  })

  it('an incremental answer naming another session, or a switch to topic ids, starts over', () => {
    const s = established()
    s.answered(s.plan([part(0)], 17, false), ErrorCode.NONE, 78)
    expect(s.plan([part(0)], 17, false)).toMatchObject({ sessionEpoch: 0, incremental: false })
    const t = established()
    expect(t.plan([part(0)], 17, true)).toMatchObject({ sessionId: 77, sessionEpoch: 0, incremental: false })
  })

  it('a broker that declines a session (id 0) keeps getting full fetches asking for one', () => {
    const s = new FetchSessionState(true)
    s.answered(s.plan([part(0)], 17, false), ErrorCode.NONE, 0)
    expect(s.plan([part(0)], 17, false)).toMatchObject({ sessionId: 0, sessionEpoch: 0, incremental: false })
  })

  it('disabled, or below Fetch v7, every request is sessionless and full', () => {
    const off = new FetchSessionState(false)
    off.answered(off.plan([part(0)], 17, false), ErrorCode.NONE, 0)
    expect(off.plan([part(0)], 17, false)).toMatchObject({ sessionId: 0, sessionEpoch: -1, incremental: false })
    const old = established()
    expect(old.plan([part(0)], 6, false)).toMatchObject({ sessionId: 0, sessionEpoch: -1, incremental: false })
  })
})
