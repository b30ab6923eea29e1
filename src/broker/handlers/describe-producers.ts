// DescribeProducers (61), v0: the active producers of partitions this broker leads
// (ProducerStateManager's entries: epoch, last sequence, ongoing transaction start).
// A topic the principal may not READ is TOPIC_AUTHORIZATION_FAILED per partition, with Kafka's
// default message (KafkaApis.handleDescribeProducersRequest).

import { DescribeProducers } from '../../protocol/messages/describe-producers.js'
import { ErrorCode, errorInfo } from '../../protocol/error-codes.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed } from './authz.js'
import { leaderFor } from './common.js'
import { defineHandler } from './types.js'

export const describeProducersHandler = defineHandler({
  api: DescribeProducers,
  handle(ctx, req) {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((index) => {
          if (!allowed(ctx, ResourceType.TOPIC, t.name, AclOperation.READ)) {
            const errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            return { partitionIndex: index, errorCode, errorMessage: errorInfo(errorCode).message, activeProducers: [] }
          }
          const lookup = leaderFor(ctx, t.name, index)
          if (!lookup.ok)
            return { partitionIndex: index, errorCode: lookup.errorCode, errorMessage: null, activeProducers: [] }
          return {
            partitionIndex: index,
            errorCode: 0,
            errorMessage: null,
            activeProducers: [...lookup.partition.producers.entries.values()].map((e) => ({
              producerId: e.producerId,
              producerEpoch: e.epoch,
              lastSequence: e.batches[e.batches.length - 1]?.lastSeq ?? -1,
              lastTimestamp: BigInt(e.lastTimestamp),
              coordinatorEpoch: e.coordinatorEpoch,
              currentTxnStartOffset: BigInt(e.currentTxnFirstOffset),
            })),
          }
        }),
      })),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => ({
          partitionIndex: p,
          errorCode,
          errorMessage: null,
          activeProducers: [],
        })),
      })),
    }
  },
})
