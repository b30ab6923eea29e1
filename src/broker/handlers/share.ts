// Share consumption (KIP-932): ShareFetch (78, v1-2) and ShareAcknowledge (79, v1-2), served by
// each partition's leader. Sessions are share-sessions.ts, record states and locks
// share-partitions.ts. What Kafka 4.4.0 answers is in test/fixtures/share-answers:
//
// - A ShareFetch first applies its piggybacked acknowledgements (their outcome is the
//   partition's acknowledgeErrorCode), then acquires records from the session's partitions
//   (maxRecords over the whole request, whole batches), waiting up to maxWaitMs when nothing
//   can be acquired. Epoch -1 only acknowledges, closes the session and releases what the
//   member still holds there.
// - A request-level error (no session, wrong epoch) answers acquisitionLockTimeoutMs 0 and no
//   partitions; a served ShareFetch tells the lock duration; ShareAcknowledge always answers 0.
// - ShareAcknowledge cannot open a session (epoch 0: INVALID_SHARE_SESSION_EPOCH).

import { ErrorCode } from '../../protocol/error-codes.js'
import { ShareAcknowledge, type ShareAcknowledgeRequest } from '../../protocol/messages/share-acknowledge.js'
import {
  ShareFetch,
  type ShareFetchRequest,
  type ShareFetchResponsePartitionData,
} from '../../protocol/messages/share-fetch.js'
import type { Input } from '../../protocol/api.js'
import { AclOperation, ResourceType } from '../acls.js'
import type { AckBatch, SharePartition } from '../share-partitions.js'
import { ShareSession, type SessionPartition } from '../share-sessions.js'
import type { Partition } from '../topics.js'
import { allowed } from './authz.js'
import { nodeEndpoint } from './common.js'
import { defineHandler, type RequestContext } from './types.js'

const EMPTY = Buffer.alloc(0)
const NO_LEADER = { leaderId: -1, leaderEpoch: -1 }

type Resolved = { sp: SharePartition; p: Partition } | { errorCode: number; p: Partition | undefined }

/** The share-partition of `groupId` if this broker leads the partition. */
function resolve(ctx: RequestContext, groupId: string, topicId: string, index: number): Resolved {
  const topic = ctx.cluster.topics.getById(topicId)
  if (topic === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_ID, p: undefined }
  if (!allowed(ctx, ResourceType.TOPIC, topic.name, AclOperation.READ))
    return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, p: undefined }
  const p = topic.partitions[index]
  if (p === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, p: undefined }
  if (p.leader !== ctx.broker.id) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, p }
  return { sp: ctx.cluster.shares.partitions.get(groupId, topicId, p, ctx.broker.id, Date.now()), p }
}

/** Validates the group and member ids and the group's authorization; 0 when fine. */
function requestError(ctx: RequestContext, groupId: string | null, memberId: string | null): number {
  // share.version 0: the APIs are advertised but refused, as Kafka 4.4.0 answers.
  if (!ctx.cluster.options.shareGroups) return ErrorCode.UNSUPPORTED_VERSION
  if (groupId === null || groupId === '' || memberId === null || memberId === '') return ErrorCode.INVALID_REQUEST
  if (!allowed(ctx, ResourceType.GROUP, groupId, AclOperation.READ)) return ErrorCode.GROUP_AUTHORIZATION_FAILED
  return 0
}

interface AckOutcome {
  topicId: string
  partition: number
  errorCode: number
  p: Partition | undefined
}

/** Applies acknowledgements per partition. */
function acknowledgeAll(
  ctx: RequestContext,
  groupId: string,
  memberId: string,
  topics: { topicId: string; partitions: { partitionIndex: number; acknowledgementBatches: AckBatch[] }[] }[],
  renew: boolean,
): AckOutcome[] {
  const out: AckOutcome[] = []
  const settings = ctx.cluster.shares.partitions.limitsOf(groupId)
  for (const t of topics) {
    for (const part of t.partitions) {
      if (part.acknowledgementBatches.length === 0) continue
      const r = resolve(ctx, groupId, t.topicId, part.partitionIndex)
      let errorCode = 'sp' in r ? 0 : r.errorCode
      // Renew (4) is allowed only in a request flagged isRenewAck (v2), and such a request only renews.
      const types = part.acknowledgementBatches.flatMap((b) => b.acknowledgeTypes)
      if (errorCode === 0 && (renew ? types.some((x) => x !== 4) : types.includes(4)))
        errorCode = ErrorCode.INVALID_REQUEST
      if (errorCode === 0 && 'sp' in r)
        errorCode = r.sp.acknowledge(memberId, part.acknowledgementBatches, Date.now(), settings)
      out.push({ topicId: t.topicId, partition: part.partitionIndex, errorCode, p: r.p })
    }
  }
  return out
}

/** The member's acquired records in the session's partitions become available (session closed). */
function releaseSession(ctx: RequestContext, session: ShareSession): void {
  const keys = new Set(session.partitions.keys())
  ctx.cluster.shares.partitions.releaseMember(session.groupId, session.memberId, (sp) =>
    keys.has(ShareSession.key(sp.partition.topic.id, sp.partition.index)),
  )
}

interface FetchOutcome {
  part: SessionPartition
  errorCode: number
  p: Partition | undefined
  acquired: { firstOffset: bigint; lastOffset: bigint; deliveryCount: number }[]
  records: Buffer
}

function acquireAll(ctx: RequestContext, req: ShareFetchRequest, session: ShareSession): FetchOutcome[] {
  const settings = ctx.cluster.shares.partitions.limitsOf(session.groupId)
  let budget = Math.max(1, req.maxRecords)
  const out: FetchOutcome[] = []
  for (const part of session.partitions.values()) {
    const r = resolve(ctx, session.groupId, part.topicId, part.partition)
    if (!('sp' in r)) {
      out.push({ part, errorCode: r.errorCode, p: r.p, acquired: [], records: EMPTY })
      continue
    }
    if (budget <= 0) {
      out.push({ part, errorCode: 0, p: r.p, acquired: [], records: EMPTY })
      continue
    }
    const got = r.sp.acquire(session.memberId, budget, r.p.highWatermark, Date.now(), settings)
    budget -= got.acquired.reduce((n, a) => n + a.lastOffset - a.firstOffset + 1, 0)
    out.push({
      part,
      errorCode: 0,
      p: r.p,
      acquired: got.acquired.map((a) => ({
        firstOffset: BigInt(a.firstOffset),
        lastOffset: BigInt(a.lastOffset),
        deliveryCount: a.deliveryCount,
      })),
      records: got.batches.length === 1 ? got.batches[0]!.data : Buffer.concat(got.batches.map((b) => b.data)),
    })
  }
  return out
}

/** Waits until one of the session's partitions has something to acquire, maxWaitMs passes or the connection closes. */
function waitForRecords(ctx: RequestContext, session: ShareSession, maxWaitMs: number): Promise<void> {
  const partitions: { p: Partition; sp: SharePartition }[] = []
  for (const part of session.partitions.values()) {
    const r = resolve(ctx, session.groupId, part.topicId, part.partition)
    if ('sp' in r) partitions.push({ p: r.p, sp: r.sp })
  }
  if (partitions.length === 0 || maxWaitMs <= 0 || ctx.signal.aborted) return Promise.resolve()
  return new Promise((done) => {
    const unsubscribes: (() => void)[] = []
    const finish = (): void => {
      clearTimeout(timer)
      ctx.signal.removeEventListener('abort', finish)
      for (const u of unsubscribes) u()
      done()
    }
    const timer = setTimeout(finish, maxWaitMs)
    ctx.signal.addEventListener('abort', finish, { once: true })
    for (const { p, sp } of partitions) {
      unsubscribes.push(
        p.onChange(() => {
          if (sp.hasAvailable(p.highWatermark)) finish()
        }),
      )
    }
  })
}

export const shareFetchHandler = defineHandler({
  api: ShareFetch,
  async handle(ctx, req) {
    const failed = (errorCode: number) => ({ errorCode, acquisitionLockTimeoutMs: 0, responses: [], nodeEndpoints: [] })
    const invalid = requestError(ctx, req.groupId, req.memberId)
    if (invalid !== 0) return failed(invalid)
    const groupId = req.groupId!
    const memberId = req.memberId!
    const found = ctx.cluster.shares.sessionsOf(ctx.broker.id).resolve(groupId, memberId, req.shareSessionEpoch, true)
    if (!('session' in found)) return failed(found.errorCode)
    const { session, isNew, closing } = found
    const renew = ctx.version >= 2 && req.isRenewAck
    const acks = acknowledgeAll(ctx, groupId, memberId, req.topics, renew)
    let fetched: FetchOutcome[] = []
    if (closing) releaseSession(ctx, session)
    else {
      for (const t of req.topics)
        for (const p of t.partitions) session.add({ topicId: t.topicId, partition: p.partitionIndex })
      for (const t of req.forgottenTopicsData)
        for (const partition of t.partitions) session.forget({ topicId: t.topicId, partition })
      // A renewing request (v2) only renews its locks; it acquires nothing.
      if (!renew) {
        fetched = acquireAll(ctx, req, session)
        const anything = fetched.some((f) => f.acquired.length > 0 || f.errorCode !== 0)
        if (!anything && acks.length === 0) {
          await waitForRecords(ctx, session, req.maxWaitMs)
          fetched = acquireAll(ctx, req, session)
        }
      }
    }
    // The answer: every partition of a new session; otherwise those with records, an error or acknowledgements.
    const endpoints = new Set<number>()
    const byTopic = new Map<string, Input<ShareFetchResponsePartitionData>[]>()
    const add = (
      topicId: string,
      data: Input<ShareFetchResponsePartitionData>,
      p: Partition | undefined,
      error: number,
    ) => {
      if (error === ErrorCode.NOT_LEADER_OR_FOLLOWER && p !== undefined) {
        data.currentLeader = { leaderId: p.leader, leaderEpoch: p.leaderEpoch }
        if (p.leader >= 0) endpoints.add(p.leader)
      }
      let list = byTopic.get(topicId)
      if (list === undefined) byTopic.set(topicId, (list = []))
      list.push(data)
    }
    const ackOf = new Map(acks.map((a) => [ShareSession.key(a.topicId, a.partition), a]))
    for (const f of fetched) {
      const ack = ackOf.get(ShareSession.key(f.part.topicId, f.part.partition))
      ackOf.delete(ShareSession.key(f.part.topicId, f.part.partition))
      if (!isNew && ack === undefined && f.errorCode === 0 && f.acquired.length === 0) continue
      add(
        f.part.topicId,
        {
          partitionIndex: f.part.partition,
          errorCode: f.errorCode,
          acknowledgeErrorCode: ack?.errorCode ?? 0,
          currentLeader: NO_LEADER,
          records: f.records,
          acquiredRecords: f.acquired,
        },
        f.p,
        f.errorCode !== 0 ? f.errorCode : (ack?.errorCode ?? 0),
      )
    }
    for (const a of ackOf.values()) {
      add(
        a.topicId,
        {
          partitionIndex: a.partition,
          errorCode: 0,
          acknowledgeErrorCode: a.errorCode,
          currentLeader: NO_LEADER,
          records: EMPTY,
          acquiredRecords: [],
        },
        a.p,
        a.errorCode,
      )
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      acquisitionLockTimeoutMs: ctx.cluster.shares.configs.lockDurationMs(groupId),
      responses: [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions })),
      nodeEndpoints: [...endpoints].map((id) => nodeEndpoint(ctx.cluster, id)).filter((e) => e !== undefined),
    }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, acquisitionLockTimeoutMs: 0, responses: [], nodeEndpoints: [] }
  },
})

export const shareAcknowledgeHandler = defineHandler({
  api: ShareAcknowledge,
  handle(ctx, req: ShareAcknowledgeRequest) {
    const failed = (errorCode: number) => ({ errorCode, acquisitionLockTimeoutMs: 0, responses: [], nodeEndpoints: [] })
    const invalid = requestError(ctx, req.groupId, req.memberId)
    if (invalid !== 0) return failed(invalid)
    const groupId = req.groupId!
    const memberId = req.memberId!
    const found = ctx.cluster.shares.sessionsOf(ctx.broker.id).resolve(groupId, memberId, req.shareSessionEpoch, false)
    if (!('session' in found)) return failed(found.errorCode)
    const acks = acknowledgeAll(ctx, groupId, memberId, req.topics, ctx.version >= 2 && req.isRenewAck)
    if (found.closing) releaseSession(ctx, found.session)
    const endpoints = new Set<number>()
    const byTopic = new Map<string, { partitionIndex: number; errorCode: number; currentLeader: typeof NO_LEADER }[]>()
    for (const a of acks) {
      let currentLeader = NO_LEADER
      if (a.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER && a.p !== undefined) {
        currentLeader = { leaderId: a.p.leader, leaderEpoch: a.p.leaderEpoch }
        if (a.p.leader >= 0) endpoints.add(a.p.leader)
      }
      let list = byTopic.get(a.topicId)
      if (list === undefined) byTopic.set(a.topicId, (list = []))
      list.push({ partitionIndex: a.partition, errorCode: a.errorCode, currentLeader })
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      acquisitionLockTimeoutMs: 0,
      responses: [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions })),
      nodeEndpoints: [...endpoints].map((id) => nodeEndpoint(ctx.cluster, id)).filter((e) => e !== undefined),
    }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, acquisitionLockTimeoutMs: 0, responses: [], nodeEndpoints: [] }
  },
})
