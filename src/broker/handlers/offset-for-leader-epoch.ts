// OffsetForLeaderEpoch (key 23), v2-4: the end offset of a leader epoch, which consumers use
// to detect log truncation after a leader change (KIP-320). Answered by the leader from its
// leader-epoch cache (see PartitionLog.endOffsetForEpoch).
// Authorization (KIP-320, KafkaApis): CLUSTER_ACTION on the cluster (replicas), else DESCRIBE on
// each topic; a refused topic is TOPIC_AUTHORIZATION_FAILED per partition.

import { OffsetForLeaderEpoch } from '../../protocol/messages/offset-for-leader-epoch.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed, clusterAllowed } from './authz.js'
import { checkLeaderEpoch, leaderFor } from './common.js'
import { defineHandler } from './types.js'

export const offsetForLeaderEpochHandler = defineHandler({
  api: OffsetForLeaderEpoch,
  handle(ctx, req) {
    const replica = clusterAllowed(ctx, AclOperation.CLUSTER_ACTION)
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((rp) => {
          const failure = (errorCode: number) => ({
            errorCode,
            partition: rp.partition,
            leaderEpoch: -1,
            endOffset: -1n,
          })
          if (!replica && !allowed(ctx, ResourceType.TOPIC, t.topic, AclOperation.DESCRIBE))
            return failure(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
          const lookup = leaderFor(ctx, t.topic, rp.partition)
          if (!lookup.ok) return failure(lookup.errorCode)
          const epochError = checkLeaderEpoch(lookup.partition, rp.currentLeaderEpoch)
          if (epochError !== 0) return failure(epochError)
          const end = lookup.partition.log.endOffsetForEpoch(rp.leaderEpoch)
          return { errorCode: 0, partition: rp.partition, leaderEpoch: end.epoch, endOffset: BigInt(end.endOffset) }
        }),
      })),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({ errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1n })),
      })),
    }
  },
})
