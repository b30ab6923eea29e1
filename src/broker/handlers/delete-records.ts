// DeleteRecords (key 21), v0-2: moves a partition's log start offset forward.
// -1 means "up to the high watermark"; beyond the high watermark (or below -1) is
// OFFSET_OUT_OF_RANGE; a topic without cleanup.policy=delete is POLICY_VIOLATION
// (UnifiedLog.deleteRecords). An offset below the current start changes nothing.
// A topic the principal may not DELETE is TOPIC_AUTHORIZATION_FAILED per partition (KafkaApis).

import { ErrorCode } from '../../protocol/error-codes.js'
import { DeleteRecords } from '../../protocol/messages/delete-records.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed } from './authz.js'
import { leaderFor } from './common.js'
import { defineHandler } from './types.js'

export const deleteRecordsHandler = defineHandler({
  api: DeleteRecords,
  handle(ctx, req) {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((rp) => {
          if (!allowed(ctx, ResourceType.TOPIC, t.name, AclOperation.DELETE))
            return {
              partitionIndex: rp.partitionIndex,
              lowWatermark: -1n,
              errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            }
          const lookup = leaderFor(ctx, t.name, rp.partitionIndex)
          if (!lookup.ok) return { partitionIndex: rp.partitionIndex, lowWatermark: -1n, errorCode: lookup.errorCode }
          const p = lookup.partition
          if (!p.topic.deleteRetention)
            return { partitionIndex: rp.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.POLICY_VIOLATION }
          const offset = rp.offset === -1n ? p.highWatermark : Number(rp.offset)
          if (offset < 0 || offset > p.highWatermark)
            return { partitionIndex: rp.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE }
          if (offset > p.logStartOffset) {
            p.log.advanceStartOffset(offset)
            p.producers.removeBefore(p.log.logStartOffset)
            p.notify()
          }
          return { partitionIndex: rp.partitionIndex, lowWatermark: BigInt(p.logStartOffset), errorCode: 0 }
        }),
      })),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode })),
      })),
    }
  },
})
