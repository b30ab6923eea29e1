// Transactional APIs on the transaction coordinator: AddPartitionsToTxn (24, v0-5),
// AddOffsetsToTxn (25, v0-4), EndTxn (26, v0-5; v5 is Transactions V2). The logic is in
// ../transactions.ts.
// PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH for versions below 2, as in KafkaApis.
// TxnOffsetCommit is a group-coordinator request and lives in offsets.ts.
// Authorization as KafkaApis, before the coordinator is asked: WRITE on the transactional id for
// all three (every partition fails with TRANSACTIONAL_ID_AUTHORIZATION_FAILED); AddPartitionsToTxn
// up to v3 then WRITE on each topic (internal topic names never pass, Topic.isInternal): a refused topic is
// TOPIC_AUTHORIZATION_FAILED, an unknown partition UNKNOWN_TOPIC_OR_PARTITION, the rest
// OPERATION_NOT_ATTEMPTED; v4+ is broker-to-broker and needs CLUSTER_ACTION on the cluster
// (the whole request fails); AddOffsetsToTxn then READ on the group.

import { ErrorCode } from '../../protocol/error-codes.js'
import { AddOffsetsToTxn } from '../../protocol/messages/add-offsets-to-txn.js'
import { AddPartitionsToTxn } from '../../protocol/messages/add-partitions-to-txn.js'
import { EndTxn } from '../../protocol/messages/end-txn.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed, clusterAllowed } from './authz.js'
import { coordinatorError } from './find-coordinator.js'
import { INTERNAL_TOPICS } from './metadata.js'
import { defineHandler, type RequestContext } from './types.js'

function legacyFenced(ctx: RequestContext, errorCode: number): number {
  return ctx.version < 2 && errorCode === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode
}

function topicResults(result: Map<string, Map<number, number>>, ctx: RequestContext) {
  return [...result].map(([name, partitions]) => ({
    name,
    resultsByPartition: [...partitions].map(([partitionIndex, code]) => ({
      partitionIndex,
      partitionErrorCode: legacyFenced(ctx, code),
    })),
  }))
}

const writesTxn = (ctx: RequestContext, transactionalId: string): boolean =>
  allowed(ctx, ResourceType.TRANSACTIONAL_ID, transactionalId, AclOperation.WRITE)

/**
 * A client's AddPartitionsToTxn (v0-3) refused before the coordinator: undefined when every
 * topic may be written, else the per-partition errors Kafka sends.
 */
function refusedTopics(
  ctx: RequestContext,
  transactionalId: string,
  topics: { name: string; partitions: number[] }[],
): Map<string, Map<number, number>> | undefined {
  if (!writesTxn(ctx, transactionalId)) return uniform(topics, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  const writable = (name: string): boolean =>
    !INTERNAL_TOPICS.has(name) && allowed(ctx, ResourceType.TOPIC, name, AclOperation.WRITE)
  if (topics.every((t) => writable(t.name))) return undefined
  return new Map(
    topics.map((t) => [
      t.name,
      new Map(
        t.partitions.map((p) => [
          p,
          !writable(t.name)
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : ctx.cluster.topics.partition(t.name, p) === undefined
              ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
              : ErrorCode.OPERATION_NOT_ATTEMPTED,
        ]),
      ),
    ]),
  )
}

function uniform(topics: { name: string; partitions: number[] }[], code: number): Map<string, Map<number, number>> {
  return new Map(topics.map((t) => [t.name, new Map(t.partitions.map((p) => [p, code]))]))
}

export const addPartitionsToTxnHandler = defineHandler({
  api: AddPartitionsToTxn,
  handle(ctx, req) {
    const { cluster } = ctx
    if (ctx.version <= 3) {
      const refused = refusedTopics(ctx, req.v3AndBelowTransactionalId, req.v3AndBelowTopics)
      const coord = coordinatorError(ctx, req.v3AndBelowTransactionalId)
      const result =
        refused !== undefined
          ? refused
          : coord !== 0
            ? uniform(req.v3AndBelowTopics, coord)
            : cluster.transactions.addPartitions(
                req.v3AndBelowTransactionalId,
                req.v3AndBelowProducerId,
                req.v3AndBelowProducerEpoch,
                req.v3AndBelowTopics,
                false,
              )
      return { throttleTimeMs: 0, resultsByTopicV3AndBelow: topicResults(result, ctx) }
    }
    // v4+: brokers batching transactions (verifyOnly checks membership, KIP-890).
    if (!clusterAllowed(ctx, AclOperation.CLUSTER_ACTION))
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: [] }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      resultsByTransaction: req.transactions.map((t) => {
        const coord = coordinatorError(ctx, t.transactionalId)
        const result =
          coord !== 0
            ? uniform(t.topics, coord)
            : cluster.transactions.addPartitions(
                t.transactionalId,
                t.producerId,
                t.producerEpoch,
                t.topics,
                t.verifyOnly,
                // A broker adding a V2 producer's partition (Produce v12+) sends v5 without verifyOnly.
                ctx.version >= 5 && !t.verifyOnly,
              )
        return { transactionalId: t.transactionalId, topicResults: topicResults(result, ctx) }
      }),
    }
  },
  errorResponse(ctx, req, errorCode) {
    if (ctx.version <= 3)
      return { resultsByTopicV3AndBelow: topicResults(uniform(req.v3AndBelowTopics, errorCode), ctx) }
    return { errorCode }
  },
})

export const addOffsetsToTxnHandler = defineHandler({
  api: AddOffsetsToTxn,
  handle(ctx, req) {
    const denied = !writesTxn(ctx, req.transactionalId)
      ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : !allowed(ctx, ResourceType.GROUP, req.groupId, AclOperation.READ)
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : 0
    if (denied !== 0) return { throttleTimeMs: 0, errorCode: denied }
    const coord = coordinatorError(ctx, req.transactionalId)
    if (coord !== 0) return { throttleTimeMs: 0, errorCode: coord }
    return {
      throttleTimeMs: 0,
      errorCode: legacyFenced(
        ctx,
        ctx.cluster.transactions.addOffsets(req.transactionalId, req.producerId, req.producerEpoch, req.groupId),
      ),
    }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode }
  },
})

export const endTxnHandler = defineHandler({
  api: EndTxn,
  handle(ctx, req) {
    if (!writesTxn(ctx, req.transactionalId))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1n,
        producerEpoch: -1,
      }
    const coord = coordinatorError(ctx, req.transactionalId)
    if (coord !== 0) return { throttleTimeMs: 0, errorCode: coord, producerId: -1n, producerEpoch: -1 }
    // EndTxn v5+ is a Transactions V2 client (KIP-890): the epoch is bumped and returned.
    const r = ctx.cluster.transactions.endTxn(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.committed,
      ctx.version >= 5,
    )
    return {
      throttleTimeMs: 0,
      errorCode: legacyFenced(ctx, r.errorCode),
      producerId: ctx.version >= 5 ? r.producerId : -1n,
      producerEpoch: ctx.version >= 5 ? r.producerEpoch : -1,
    }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, producerId: -1n, producerEpoch: -1 }
  },
})
