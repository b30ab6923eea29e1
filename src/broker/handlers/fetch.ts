// Fetch (key 1), v4-17, after KafkaApis.handleFetchRequest, ReplicaManager.fetchMessages /
// readFromLog and DelayedFetch.
//
// - Partitions are read in request (or session) order. The response byte budget is MaxBytes;
//   each partition gets min(PartitionMaxBytes, what is left), and until some partition returned
//   data the first batch is returned whole even if larger (KIP-74). A read is a byte slice of
//   one segment, so the last batch may be cut at the limit, exactly as Kafka's FileRecords.slice.
// - read_uncommitted reads up to the high watermark; read_committed up to the last stable offset
//   and lists the aborted transactions overlapping the returned range.
// - The response goes out at once when MaxWaitMs <= 0, MinBytes is met, or any partition has an
//   error or a diverging epoch; otherwise the fetch waits (long poll) and is re-evaluated each
//   time one of its partitions changes (append, high watermark, leader), until MaxWaitMs.
// - Fetch sessions (KIP-227): see fetch-sessions.ts. v13+ names topics by id.
// - Fetch from followers and the rack-aware preferred read replica (KIP-392): replica-selector.ts.

import { ZERO_UUID, type Input } from '../../protocol/api.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import {
  Fetch,
  type FetchRequest,
  type FetchResponse,
  type FetchResponsePartitionData,
} from '../../protocol/messages/fetch.js'
import { FetchSession, FINAL_EPOCH, INITIAL_EPOCH, type SessionPartition } from '../fetch-sessions.js'
import type { Partition } from '../topics.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed, clusterAllowed } from './authz.js'
import { preferredReadReplica, replicaView, servesConsumer } from '../replica-selector.js'
import { checkLeaderEpoch, nodeEndpoint } from './common.js'
import { defineHandler, type RequestContext } from './types.js'

const EMPTY = Buffer.alloc(0)

/** One partition to read, resolved from the request or the session. */
interface FetchTarget {
  key: string
  topic: string
  topicId: string
  partition: number
  fetchOffset: number
  maxBytes: number
  currentLeaderEpoch: number
  lastFetchedEpoch: number
  session: SessionPartition | undefined
}

type PartitionData = Input<FetchResponsePartitionData> & { partitionIndex: number; errorCode: number }

interface ReadOutcome {
  target: FetchTarget
  data: PartitionData
  bytes: number
  /** Error or diverging epoch: answer at once. */
  urgent: boolean
}

function errorData(index: number, errorCode: number): PartitionData {
  return {
    partitionIndex: index,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    abortedTransactions: null,
    records: EMPTY,
  }
}

function resolvePartition(
  ctx: RequestContext,
  t: FetchTarget,
): { p: Partition } | { errorCode: number; p?: Partition } {
  const topic = ctx.version >= 13 ? ctx.cluster.topics.getById(t.topicId) : ctx.cluster.topics.get(t.topic)
  if (topic === undefined)
    return { errorCode: ctx.version >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
  const p = topic.partitions[t.partition]
  if (p === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
  // KIP-392: a consumer (v11+) may read from a follower too.
  if (!servesConsumer(p, ctx.broker.id, ctx.version)) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, p }
  return { p }
}

/** Reads every target once (ReplicaManager.readFromLog). */
function readAll(
  ctx: RequestContext,
  req: FetchRequest,
  targets: FetchTarget[],
  endpoints: Set<number>,
): ReadOutcome[] {
  const { version } = ctx
  let budget = req.maxBytes
  let minOneBatch = true
  const out: ReadOutcome[] = []
  // KafkaApis: a follower (replica id >= 0) needs CLUSTER_ACTION on the cluster, a consumer READ per topic.
  const replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId
  const replicaAllowed = replicaId >= 0 && clusterAllowed(ctx, AclOperation.CLUSTER_ACTION)
  const readable = (topic: string): boolean =>
    replicaId >= 0 ? replicaAllowed : allowed(ctx, ResourceType.TOPIC, topic, AclOperation.READ)
  for (const t of targets) {
    if (!readable(t.topic)) {
      out.push({
        target: t,
        data: errorData(t.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED),
        bytes: 0,
        urgent: true,
      })
      continue
    }
    const resolved = resolvePartition(ctx, t)
    if (!('p' in resolved) || 'errorCode' in resolved) {
      const data = errorData(t.partition, resolved.errorCode)
      if (resolved.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER && version >= 12 && resolved.p !== undefined) {
        data.currentLeader = { leaderId: resolved.p.leader, leaderEpoch: resolved.p.leaderEpoch }
        if (resolved.p.leader >= 0) endpoints.add(resolved.p.leader)
      }
      out.push({ target: t, data, bytes: 0, urgent: true })
      continue
    }
    const p = resolved.p
    // faults.failPartition: this partition alone answers the injected error (and at once).
    const injected = ctx.cluster.faults.takePartition(ctx.broker.id, Fetch.apiKey, p.topic.name, t.partition)
    const epochError = injected ?? checkLeaderEpoch(p, t.currentLeaderEpoch)
    if (epochError !== 0) {
      const data = errorData(t.partition, epochError)
      // KIP-951: Kafka names the current leader with FENCED_LEADER_EPOCH too (a replica that was
      // the leader and is now a follower answers an older epoch with it).
      if (
        (epochError === ErrorCode.FENCED_LEADER_EPOCH || epochError === ErrorCode.NOT_LEADER_OR_FOLLOWER) &&
        version >= 12
      ) {
        data.currentLeader = { leaderId: p.leader, leaderEpoch: p.leaderEpoch }
        if (p.leader >= 0) endpoints.add(p.leader)
      }
      out.push({ target: t, data, bytes: 0, urgent: true })
      continue
    }
    const view = replicaView(p, ctx.broker.id)
    const base = {
      partitionIndex: t.partition,
      highWatermark: BigInt(view.highWatermark),
      lastStableOffset: BigInt(view.lastStableOffset),
      logStartOffset: BigInt(p.logStartOffset),
    }
    // KIP-392: the leader points a consumer in another rack at a replica in its own, and reads nothing.
    const preferred =
      version >= 11 ? preferredReadReplica(ctx.cluster, ctx.broker.id, p, req.rackId, t.fetchOffset) : undefined
    if (preferred !== undefined) {
      out.push({
        target: t,
        data: { ...base, errorCode: 0, abortedTransactions: null, records: EMPTY, preferredReadReplica: preferred },
        bytes: 0,
        urgent: true,
      })
      continue
    }
    // KIP-595/KIP-320: a fetcher whose last fetched epoch ends before its fetch offset has diverged.
    if (version >= 12 && t.lastFetchedEpoch >= 0) {
      const end = p.log.endOffsetForEpoch(t.lastFetchedEpoch)
      if (end.epoch < t.lastFetchedEpoch || end.endOffset < t.fetchOffset) {
        out.push({
          target: t,
          data: {
            ...base,
            errorCode: 0,
            abortedTransactions: null,
            records: EMPTY,
            divergingEpoch: { epoch: end.epoch, endOffset: BigInt(end.endOffset) },
          },
          bytes: 0,
          urgent: true,
        })
        continue
      }
    }
    if (t.fetchOffset < p.logStartOffset || t.fetchOffset > view.logEndOffset) {
      // Kafka's createLogReadResult(e): high watermark, LSO and log start offset all -1, as Kafka
      // 4.4.0 answers (test/fixtures/broker-metrics).
      out.push({ target: t, data: errorData(t.partition, ErrorCode.OFFSET_OUT_OF_RANGE), bytes: 0, urgent: true })
      continue
    }
    const committed = req.isolationLevel === 1
    const upperBound = committed ? view.lastStableOffset : view.highWatermark
    const limit = Math.max(0, Math.min(t.maxBytes, budget))
    const read = p.log.read(t.fetchOffset, limit, upperBound, minOneBatch && t.maxBytes > 0)
    const records = read.records ?? EMPTY
    if (records.length > 0) minOneBatch = false
    budget = Math.max(0, budget - records.length)
    const aborted = committed
      ? p.producers
          .abortedBetween(t.fetchOffset, read.endOffset)
          .map((a) => ({ producerId: a.producerId, firstOffset: BigInt(a.firstOffset) }))
      : null
    out.push({
      target: t,
      data: { ...base, errorCode: 0, abortedTransactions: aborted, records },
      bytes: records.length,
      urgent: false,
    })
  }
  return out
}

/** Bytes the targets could return now, capped at `need` (DelayedFetch.tryComplete's accounting). */
function bytesReady(
  ctx: RequestContext,
  req: FetchRequest,
  targets: FetchTarget[],
  need: number,
): { bytes: number; urgent: boolean } {
  let total = 0
  for (const t of targets) {
    const resolved = resolvePartition(ctx, t)
    if (!('p' in resolved) || 'errorCode' in resolved) return { bytes: total, urgent: true }
    const p = resolved.p
    if (checkLeaderEpoch(p, t.currentLeaderEpoch) !== 0) return { bytes: total, urgent: true }
    const view = replicaView(p, ctx.broker.id)
    if (t.fetchOffset < p.logStartOffset || t.fetchOffset > view.logEndOffset) return { bytes: total, urgent: true }
    if (
      ctx.version >= 11 &&
      preferredReadReplica(ctx.cluster, ctx.broker.id, p, req.rackId, t.fetchOffset) !== undefined
    )
      return { bytes: total, urgent: true }
    const upperBound = req.isolationLevel === 1 ? view.lastStableOffset : view.highWatermark
    total += Math.min(t.maxBytes, p.log.bytesAvailable(t.fetchOffset, upperBound, need))
    if (total >= need) return { bytes: total, urgent: false }
  }
  return { bytes: total, urgent: false }
}

/** Waits until MinBytes can be met, something urgent happens, MaxWaitMs passes or the connection closes. */
function longPoll(ctx: RequestContext, req: FetchRequest, targets: FetchTarget[]): Promise<void> {
  const partitions = new Set<Partition>()
  for (const t of targets) {
    const r = resolvePartition(ctx, t)
    if ('p' in r && r.p !== undefined) partitions.add(r.p)
  }
  return new Promise((resolve) => {
    let done = false
    const unsubscribes: (() => void)[] = []
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      for (const u of unsubscribes) u()
      ctx.signal.removeEventListener('abort', finish)
      resolve()
    }
    const timer = setTimeout(finish, req.maxWaitMs)
    ctx.signal.addEventListener('abort', finish, { once: true })
    const check = (): void => {
      const ready = bytesReady(ctx, req, targets, req.minBytes)
      if (ready.urgent || ready.bytes >= req.minBytes) finish()
    }
    for (const p of partitions) unsubscribes.push(p.onChange(check))
    // Topics created later (or deleted) are noticed on the next change or at the timeout.
  })
}

type SessionSetup =
  | { kind: 'error'; errorCode: number }
  | { kind: 'ok'; targets: FetchTarget[]; session: FetchSession | undefined; incremental: boolean }

function targetFromRequest(
  version: number,
  topic: string,
  topicId: string,
  p: FetchRequest['topics'][number]['partitions'][number],
): Omit<FetchTarget, 'session'> {
  return {
    key: FetchSession.key(version >= 13 ? topicId : topic, p.partition),
    topic,
    topicId,
    partition: p.partition,
    fetchOffset: Number(p.fetchOffset),
    maxBytes: p.partitionMaxBytes,
    currentLeaderEpoch: version >= 9 ? p.currentLeaderEpoch : -1,
    lastFetchedEpoch: version >= 12 ? p.lastFetchedEpoch : -1,
  }
}

function toSessionPartition(
  t: Omit<FetchTarget, 'session'>,
  p: FetchRequest['topics'][number]['partitions'][number],
): SessionPartition {
  return {
    topic: t.topic,
    topicId: t.topicId,
    partition: t.partition,
    fetchOffset: p.fetchOffset,
    logStartOffset: p.logStartOffset,
    maxBytes: p.partitionMaxBytes,
    currentLeaderEpoch: t.currentLeaderEpoch,
    lastFetchedEpoch: t.lastFetchedEpoch,
    sentHighWatermark: -1,
    sentLastStableOffset: -1,
    sentLogStartOffset: -1,
  }
}

/** FetchManager.newContext: resolves the session and the partitions to read. */
function setupSession(ctx: RequestContext, req: FetchRequest): SessionSetup {
  const { version, broker } = ctx
  const now = Date.now()
  const sessionId = version >= 7 ? req.sessionId : 0
  const epoch = version >= 7 ? req.sessionEpoch : FINAL_EPOCH
  const full = epoch === INITIAL_EPOCH || epoch === FINAL_EPOCH
  if (full) {
    if (sessionId !== 0) broker.fetchSessions.remove(sessionId)
    const session =
      epoch === INITIAL_EPOCH && version >= 7 ? broker.fetchSessions.create(version >= 13, now) : undefined
    const targets: FetchTarget[] = []
    for (const t of req.topics) {
      const name = version >= 13 ? (ctx.cluster.topics.getById(t.topicId)?.name ?? '') : t.topic
      for (const p of t.partitions) {
        const base = targetFromRequest(version, name, t.topicId, p)
        let sp: SessionPartition | undefined
        if (session !== undefined) {
          sp = toSessionPartition(base, p)
          session.partitions.set(base.key, sp)
        }
        targets.push({ ...base, session: sp })
      }
    }
    return { kind: 'ok', targets, session, incremental: false }
  }
  const session = broker.fetchSessions.get(sessionId)
  if (session === undefined) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND }
  if (session.epoch !== epoch) return { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH }
  if (session.usesTopicIds !== version >= 13)
    return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR }
  // Apply the request's changes: added/updated partitions, then forgotten ones.
  for (const t of req.topics) {
    const name = version >= 13 ? (ctx.cluster.topics.getById(t.topicId)?.name ?? '') : t.topic
    for (const p of t.partitions) {
      const base = targetFromRequest(version, name, t.topicId, p)
      const existing = session.partitions.get(base.key)
      if (existing === undefined) session.partitions.set(base.key, toSessionPartition(base, p))
      else {
        existing.fetchOffset = p.fetchOffset
        existing.logStartOffset = p.logStartOffset
        existing.maxBytes = p.partitionMaxBytes
        existing.currentLeaderEpoch = base.currentLeaderEpoch
        existing.lastFetchedEpoch = base.lastFetchedEpoch
      }
    }
  }
  for (const f of req.forgottenTopicsData) {
    for (const partition of f.partitions)
      session.partitions.delete(FetchSession.key(version >= 13 ? f.topicId : f.topic, partition))
  }
  session.advanceEpoch()
  session.lastUsedMs = now
  const targets: FetchTarget[] = []
  for (const [key, sp] of session.partitions) {
    targets.push({
      key,
      topic: sp.topic,
      topicId: sp.topicId,
      partition: sp.partition,
      fetchOffset: Number(sp.fetchOffset),
      maxBytes: sp.maxBytes,
      currentLeaderEpoch: sp.currentLeaderEpoch,
      lastFetchedEpoch: sp.lastFetchedEpoch,
      session: sp,
    })
  }
  return { kind: 'ok', targets, session, incremental: true }
}

/**
 * Whether an incremental response must carry the partition (FetchSession.CachedPartition
 * .maybeUpdateResponseData): data, an error, a diverging epoch, or a changed high watermark or
 * log start offset. The session remembers what was sent.
 */
function mustInclude(o: ReadOutcome, incremental: boolean): boolean {
  const sp = o.target.session
  const d = o.data
  let include = !incremental || o.bytes > 0 || d.errorCode !== 0 || d.divergingEpoch !== undefined
  if (sp !== undefined) {
    const hw = Number(d.highWatermark ?? -1n)
    const ls = Number(d.logStartOffset ?? -1n)
    if (sp.sentHighWatermark !== hw || sp.sentLogStartOffset !== ls) include = true
    if (include) {
      // After an error the cached high watermark is invalidated so the partition is re-sent when it clears.
      sp.sentHighWatermark = d.errorCode !== 0 ? -1 : hw
      sp.sentLogStartOffset = ls
      sp.sentLastStableOffset = Number(d.lastStableOffset ?? -1n)
    }
  }
  return include
}

function sessionErrorResponse(errorCode: number): Input<FetchResponse> {
  return { throttleTimeMs: 0, errorCode, sessionId: 0, responses: [] }
}

export const fetchHandler = defineHandler({
  api: Fetch,
  async handle(ctx, req) {
    const { version, cluster } = ctx
    const setup = setupSession(ctx, req)
    if (setup.kind === 'error') return sessionErrorResponse(setup.errorCode)
    const { targets, session, incremental } = setup
    const endpoints = new Set<number>()
    let outcomes = readAll(ctx, req, targets, endpoints)
    const urgent = outcomes.some((o) => o.urgent)
    const bytes = outcomes.reduce((n, o) => n + o.bytes, 0)
    if (!(req.maxWaitMs <= 0 || targets.length === 0 || bytes >= req.minBytes || urgent)) {
      await longPoll(ctx, req, targets)
      if (ctx.signal.aborted) return null
      endpoints.clear()
      outcomes = readAll(ctx, req, targets, endpoints)
    }
    // Group partitions by topic, keeping order; in an incremental response only partitions with news.
    const topics: { topic: string; topicId: string; partitions: PartitionData[] }[] = []
    for (const o of outcomes) {
      // BrokerTopicMetrics, per partition read for this response (partitions that exist).
      if (cluster.topics.partition(o.target.topic, o.target.partition) !== undefined)
        ctx.broker.metricsRecorder.fetched(o.target.topic, o.data.errorCode, o.bytes)
      if (!mustInclude(o, incremental)) continue
      if (incremental && session !== undefined && o.bytes > 0) session.rotateToEnd(o.target.key)
      const last = topics[topics.length - 1]
      const sameTopic =
        last !== undefined && (version >= 13 ? last.topicId === o.target.topicId : last.topic === o.target.topic)
      if (sameTopic) last.partitions.push(o.data)
      else
        topics.push({
          topic: o.target.topic,
          topicId: version >= 13 ? o.target.topicId : ZERO_UUID,
          partitions: [o.data],
        })
    }
    const nodeEndpoints =
      version >= 16 ? [...endpoints].map((id) => nodeEndpoint(cluster, id)).filter((e) => e !== undefined) : []
    return { throttleTimeMs: 0, errorCode: 0, sessionId: session?.id ?? 0, responses: topics, nodeEndpoints }
  },
  errorResponse(ctx, req, errorCode) {
    // Kafka's FetchRequest.getErrorResponse: v13+ only the top-level error; older versions also
    // put it on every requested partition.
    if (ctx.version >= 13) return { throttleTimeMs: 0, errorCode, sessionId: req.sessionId, responses: [] }
    return {
      throttleTimeMs: 0,
      errorCode: ctx.version >= 7 ? errorCode : 0,
      sessionId: 0,
      responses: req.topics.map((t) => ({
        topic: t.topic,
        topicId: ctx.version >= 13 ? t.topicId : ZERO_UUID,
        partitions: t.partitions.map((p) => errorData(p.partition, errorCode)),
      })),
    }
  },
})
