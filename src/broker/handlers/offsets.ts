// Committed offsets: OffsetCommit (8, v2-10), OffsetFetch (9, v1-10), OffsetDelete (47, v0),
// TxnOffsetCommit (28, v0-6; v5 adds the group to a V2 transaction). OffsetCommit/OffsetFetch
// v10 and TxnOffsetCommit v6 name topics by id (topic-ids.ts); an unknown id is UNKNOWN_TOPIC_ID. Validation follows KafkaApis + OffsetMetadataManager (4.0):
// unknown topics/partitions are UNKNOWN_TOPIC_OR_PARTITION per partition; a commit to a group
// that does not exist creates a "simple" group when the generation is -1, else it is
// GROUP_ID_NOT_FOUND (v9+) or ILLEGAL_GENERATION (older); metadata above
// offset.metadata.max.bytes (4096) is OFFSET_METADATA_TOO_LARGE. Fetching a group that does not
// exist gives -1 offsets, not an error; with RequireStable (v7+) a partition with a pending
// transactional commit is UNSTABLE_OFFSET_COMMIT.
// Authorization as KafkaApis: OffsetCommit READ on the group (every partition fails) then READ on
// each topic; TxnOffsetCommit WRITE on the transactional id and READ on the group first; OffsetFetch
// DESCRIBE on the group, then on each topic; OffsetDelete DELETE on the group, READ on each topic.

import { ErrorCode } from '../../protocol/error-codes.js'
import { ConsumerProtocolSubscription } from '../../protocol/messages/consumer-protocol-subscription.js'
import { OffsetCommit } from '../../protocol/messages/offset-commit.js'
import { OffsetDelete } from '../../protocol/messages/offset-delete.js'
import { OffsetFetch } from '../../protocol/messages/offset-fetch.js'
import { TxnOffsetCommit } from '../../protocol/messages/txn-offset-commit.js'
import { Reader } from '../../protocol/reader.js'
import { offsetKey, splitOffsetKey, type Group } from '../group-state.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed } from './authz.js'
import { groupCoordinatorError } from './find-coordinator.js'
import { answerTopic, resolveTopic } from './topic-ids.js'
import { defineHandler, type RequestContext } from './types.js'

const MAX_METADATA_BYTES = 4096

interface CommitPartition {
  partitionIndex: number
  committedOffset: bigint
  committedLeaderEpoch: number
  committedMetadata: string | null
}

/** Per-partition errors that do not depend on the group: unknown topics/partitions, metadata size. */
function partitionError(ctx: RequestContext, topic: string, p: CommitPartition): number {
  if (ctx.cluster.topics.partition(topic, p.partitionIndex) === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
  if (p.committedMetadata !== null && Buffer.byteLength(p.committedMetadata) > MAX_METADATA_BYTES)
    return ErrorCode.OFFSET_METADATA_TOO_LARGE
  return 0
}

/**
 * Runs a commit: a topic the principal may not READ is TOPIC_AUTHORIZATION_FAILED per partition
 * (KafkaApis filters them out before the coordinator); group-level errors apply to every valid
 * partition, and the group is only looked at when some partition is valid (as Kafka's coordinator
 * is only called then). Topics are ids from `idVersion`.
 */
function commitAll(
  ctx: RequestContext,
  idVersion: number,
  topics: { name: string; topicId: string; partitions: CommitPartition[] }[],
  groupLevel: () => { errorCode: number; group?: Group },
  store: (group: Group, topic: string, p: CommitPartition) => void,
) {
  let level: { errorCode: number; group?: Group } | undefined
  return topics.map((t) => {
    const topic = resolveTopic(ctx, idVersion, t)
    const readable = topic.unknownId || allowed(ctx, ResourceType.TOPIC, topic.name, AclOperation.READ)
    return {
      ...topic.answer,
      partitions: t.partitions.map((p) => {
        const pe = topic.unknownId
          ? ErrorCode.UNKNOWN_TOPIC_ID
          : !readable
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : partitionError(ctx, topic.name, p)
        if (pe !== 0) return { partitionIndex: p.partitionIndex, errorCode: pe }
        level ??= groupLevel()
        if (level.errorCode !== 0 || level.group === undefined)
          return { partitionIndex: p.partitionIndex, errorCode: level.errorCode }
        store(level.group, topic.name, p)
        return { partitionIndex: p.partitionIndex, errorCode: 0 }
      }),
    }
  })
}

/** A commit's answer failing every partition with `errorCode` (getErrorResponse). */
function commitFailure(
  ctx: RequestContext,
  idVersion: number,
  topics: { name: string; topicId: string; partitions: { partitionIndex: number }[] }[],
  errorCode: number,
) {
  return topics.map((t) => ({
    ...resolveTopic(ctx, idVersion, t).answer,
    partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
  }))
}

export const offsetCommitHandler = defineHandler({
  api: OffsetCommit,
  handle(ctx, req) {
    const { cluster, version } = ctx
    const now = Date.now()
    // Kafka checks READ on the group before anything else: every partition fails with it.
    if (!allowed(ctx, ResourceType.GROUP, req.groupId, AclOperation.READ))
      return { throttleTimeMs: 0, topics: commitFailure(ctx, 10, req.topics, ErrorCode.GROUP_AUTHORIZATION_FAILED) }
    const topics = commitAll(
      ctx,
      10,
      req.topics,
      () => {
        if (req.groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID }
        const coord = groupCoordinatorError(ctx, req.groupId)
        if (coord !== 0) return { errorCode: coord }
        // KIP-848: a consumer group checks the member epoch (consumer-groups.ts).
        const consumer = cluster.consumerGroups.get(req.groupId)
        if (consumer !== undefined) {
          const e = cluster.consumerGroups.validateOffsets(
            consumer,
            req.memberId,
            req.generationIdOrMemberEpoch,
            version,
          )
          return e !== 0 ? { errorCode: e } : { errorCode: 0, group: cluster.groups.getOrCreate(req.groupId) }
        }
        let group = cluster.groups.get(req.groupId)
        if (group === undefined) {
          if (req.generationIdOrMemberEpoch >= 0)
            return { errorCode: version >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION }
          group = cluster.groups.getOrCreate(req.groupId)
        }
        const instanceId = version >= 7 ? req.groupInstanceId : null
        const error = cluster.groups.validateCommit(
          group,
          req.generationIdOrMemberEpoch,
          req.memberId,
          instanceId,
          false,
        )
        if (error !== 0) return { errorCode: error }
        cluster.groups.touch(group, req.memberId)
        return { errorCode: 0, group }
      },
      (group, topic, p) =>
        cluster.groups.commit(group, topic, p.partitionIndex, {
          offset: p.committedOffset,
          leaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1,
          metadata: p.committedMetadata ?? '',
          commitTimestamp: now,
        }),
    )
    return { throttleTimeMs: 0, topics }
  },
  errorResponse(ctx, req, errorCode) {
    return { topics: commitFailure(ctx, 10, req.topics, errorCode) }
  },
})

export const txnOffsetCommitHandler = defineHandler({
  api: TxnOffsetCommit,
  handle(ctx, req) {
    const { cluster, version } = ctx
    const now = Date.now()
    // Kafka: WRITE on the transactional id, then READ on the group, each failing every partition.
    const denied = !allowed(ctx, ResourceType.TRANSACTIONAL_ID, req.transactionalId, AclOperation.WRITE)
      ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : !allowed(ctx, ResourceType.GROUP, req.groupId, AclOperation.READ)
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : 0
    if (denied !== 0) return { throttleTimeMs: 0, topics: commitFailure(ctx, 6, req.topics, denied) }
    const topics = commitAll(
      ctx,
      6,
      req.topics,
      () => {
        if (req.groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID }
        const coord = groupCoordinatorError(ctx, req.groupId)
        if (coord !== 0) return { errorCode: coord }
        // Transactions V2 (v5+): the group joins the transaction here, without AddOffsetsToTxn.
        if (version >= 5) {
          const added = cluster.transactions.addOffsets(
            req.transactionalId,
            req.producerId,
            req.producerEpoch,
            req.groupId,
            true,
          )
          if (added !== 0) return { errorCode: added }
        }
        // The producer must be the transactional id's current one, in a transaction holding the group.
        const txn = cluster.transactions.txns.get(req.transactionalId)
        if (txn === undefined || txn.producerId !== req.producerId)
          return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING }
        if (txn.producerEpoch !== req.producerEpoch)
          return { errorCode: version < 3 ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.PRODUCER_FENCED }
        // Not in the transaction: TRANSACTION_ABORTABLE from v4 on (Kafka 4.4's answer), else INVALID_TXN_STATE.
        if (txn.state !== 'Ongoing' || !txn.groups.has(req.groupId))
          return { errorCode: version >= 4 ? ErrorCode.TRANSACTION_ABORTABLE : ErrorCode.INVALID_TXN_STATE }
        const group = cluster.groups.getOrCreate(req.groupId)
        // KIP-447 (v3+): a commit carrying a member id and generation is fenced like a normal commit.
        const generation = version >= 3 ? req.generationIdOrMemberEpoch : -1
        const memberId = version >= 3 ? req.memberId : ''
        const consumer = cluster.consumerGroups.get(req.groupId)
        if (consumer !== undefined) {
          // The generation is the member epoch; an empty member id commits as a plain producer.
          if (memberId === '' && generation < 0) return { errorCode: 0, group }
          const e = cluster.consumerGroups.validateOffsets(consumer, memberId, generation, 9)
          return e !== 0 ? { errorCode: e } : { errorCode: 0, group }
        }
        const instanceId = version >= 3 ? req.groupInstanceId : null
        const error = cluster.groups.validateCommit(group, generation, memberId, instanceId, true)
        if (error !== 0) return { errorCode: error }
        return { errorCode: 0, group }
      },
      (group, topic, p) =>
        cluster.groups.commitTransactional(group, req.producerId, topic, p.partitionIndex, {
          offset: p.committedOffset,
          leaderEpoch: version >= 2 ? p.committedLeaderEpoch : -1,
          metadata: p.committedMetadata ?? '',
          commitTimestamp: now,
        }),
    )
    return { throttleTimeMs: 0, topics }
  },
  errorResponse(ctx, req, errorCode) {
    return { topics: commitFailure(ctx, 6, req.topics, errorCode) }
  },
})

interface FetchedPartition {
  partitionIndex: number
  committedOffset: bigint
  committedLeaderEpoch: number
  metadata: string | null
  errorCode: number
}

/** The offsets of one group (OffsetMetadataManager.fetchOffsets / fetchAllOffsets). */
function fetchGroup(
  ctx: RequestContext,
  groupId: string,
  topics: { name: string; topicId?: string; partitionIndexes: number[] }[] | null,
  requireStable: boolean,
  member?: { memberId: string | null; memberEpoch: number },
): { errorCode: number; topics: { name: string; topicId: string; partitions: FetchedPartition[] }[] } {
  const error =
    groupId === '' && ctx.version >= 8
      ? ErrorCode.INVALID_GROUP_ID
      : groupCoordinatorError(ctx, groupId, AclOperation.DESCRIBE)
  if (error !== 0) return { errorCode: error, topics: [] }
  // v9 (KIP-848): a member of a consumer group fetches with its epoch.
  const consumer = ctx.cluster.consumerGroups.get(groupId)
  if (consumer !== undefined && member !== undefined && member.memberId !== null) {
    const e = ctx.cluster.consumerGroups.validateOffsets(consumer, member.memberId, member.memberEpoch, 9, true)
    if (e !== 0) return { errorCode: e, topics: [] }
  }
  const group = ctx.cluster.groups.get(groupId)
  const entry = (topic: string, partitionIndex: number): FetchedPartition => {
    if (group !== undefined && requireStable && ctx.cluster.groups.hasPendingTxnOffset(group, topic, partitionIndex)) {
      return {
        partitionIndex,
        committedOffset: -1n,
        committedLeaderEpoch: -1,
        metadata: '',
        errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
      }
    }
    const o = group?.offsets.get(offsetKey(topic, partitionIndex))
    if (o === undefined)
      return { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }
    return {
      partitionIndex,
      committedOffset: o.offset,
      committedLeaderEpoch: ctx.version >= 5 ? o.leaderEpoch : -1,
      metadata: o.metadata,
      errorCode: 0,
    }
  }
  // Offsets of topics the principal may not DESCRIBE are left out of an all-topics fetch, and
  // TOPIC_AUTHORIZATION_FAILED (listed after the others) when asked for by name, as KafkaApis does.
  const describable = (name: string): boolean => allowed(ctx, ResourceType.TOPIC, name, AclOperation.DESCRIBE)
  if (topics === null) {
    const byTopic = new Map<string, FetchedPartition[]>()
    for (const key of group?.offsets.keys() ?? []) {
      const { topic, partition } = splitOffsetKey(key)
      if (!describable(topic)) continue
      let list = byTopic.get(topic)
      if (list === undefined) byTopic.set(topic, (list = []))
      list.push(entry(topic, partition))
    }
    return {
      errorCode: 0,
      topics: [...byTopic].map(([name, partitions]) => ({
        ...answerTopic(ctx, 10, name),
        partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex),
      })),
    }
  }
  const resolved = topics.map((t) => ({ t, topic: resolveTopic(ctx, 10, { name: t.name, topicId: t.topicId ?? '' }) }))
  const denied = ({ topic }: (typeof resolved)[number]): boolean => !topic.unknownId && !describable(topic.name)
  return {
    errorCode: 0,
    topics: [...resolved.filter((r) => !denied(r)), ...resolved.filter(denied)].map((r) => {
      const failed =
        (errorCode: number) =>
        (partitionIndex: number): FetchedPartition => ({
          partitionIndex,
          committedOffset: -1n,
          committedLeaderEpoch: -1,
          metadata: '',
          errorCode,
        })
      const partitions = r.topic.unknownId
        ? r.t.partitionIndexes.map(failed(ErrorCode.UNKNOWN_TOPIC_ID))
        : denied(r)
          ? r.t.partitionIndexes.map(failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED))
          : r.t.partitionIndexes.map((p) => entry(r.topic.name, p))
      return { ...r.topic.answer, partitions }
    }),
  }
}

export const offsetFetchHandler = defineHandler({
  api: OffsetFetch,
  handle(ctx, req) {
    const requireStable = ctx.version >= 7 && req.requireStable
    if (ctx.version >= 8) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((g) => {
          const member = ctx.version >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : undefined
          const r = fetchGroup(ctx, g.groupId, g.topics, requireStable, member)
          return { groupId: g.groupId, errorCode: r.errorCode, topics: r.topics }
        }),
      }
    }
    const r = fetchGroup(ctx, req.groupId, ctx.version >= 2 ? req.topics : (req.topics ?? []), requireStable)
    if (r.errorCode !== 0 && ctx.version < 2) {
      // v1 has no top-level error code: every requested partition carries it.
      return {
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({
            partitionIndex: p,
            committedOffset: -1n,
            metadata: '',
            errorCode: r.errorCode,
          })),
        })),
      }
    }
    return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode }
  },
  errorResponse(ctx, req, errorCode) {
    if (ctx.version >= 8) return { groups: req.groups.map((g) => ({ groupId: g.groupId, errorCode, topics: [] })) }
    if (ctx.version < 2) {
      return {
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({
            partitionIndex: p,
            committedOffset: -1n,
            metadata: '',
            errorCode,
          })),
        })),
      }
    }
    return { errorCode, topics: [] }
  },
})

/** Topics the members of a consumer-protocol group subscribe to. */
function subscribedTopics(group: Group): Set<string> {
  const out = new Set<string>()
  for (const m of group.members.values()) {
    const metadata = m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? m.protocols[0]?.metadata
    if (metadata === undefined || metadata.length < 2) continue
    const r = new Reader(metadata)
    const version = r.int16()
    if (version < 0) continue
    const sub = ConsumerProtocolSubscription.decode(r, Math.min(version, ConsumerProtocolSubscription.maxVersion))
    if (r.ok) for (const t of sub.topics) out.add(t)
  }
  return out
}

export const offsetDeleteHandler = defineHandler({
  api: OffsetDelete,
  handle(ctx, req) {
    const error =
      req.groupId === '' ? ErrorCode.INVALID_GROUP_ID : groupCoordinatorError(ctx, req.groupId, AclOperation.DELETE)
    if (error !== 0) return { errorCode: error, topics: [] }
    const group = ctx.cluster.groups.get(req.groupId)
    if (group === undefined || group.state === 'Dead') return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] }
    const consumer = group.protocolType === 'consumer'
    if (group.hasMembers && !consumer) return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] }
    const subscribed = group.hasMembers ? subscribedTopics(group) : new Set<string>()
    return {
      errorCode: 0,
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          // KafkaApis: READ on each topic, checked before the topic exists or the group uses it.
          if (!allowed(ctx, ResourceType.TOPIC, t.name, AclOperation.READ))
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }
          if (subscribed.has(t.name))
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }
          if (ctx.cluster.topics.partition(t.name, p.partitionIndex) === undefined)
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
          ctx.cluster.groups.deleteOffset(group, t.name, p.partitionIndex)
          return { partitionIndex: p.partitionIndex, errorCode: 0 }
        }),
      })),
    }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, topics: [] }
  },
})
