// OffsetForLeaderEpoch (key 23), v2-4: the end offset of a leader epoch, which consumers use
// to detect log truncation after a leader change (KIP-320). Answered by the leader from its
// leader-epoch cache (see PartitionLog.endOffsetForEpoch).

import { OffsetForLeaderEpoch } from '../../protocol/messages/offset-for-leader-epoch.js'
import { checkLeaderEpoch, leaderFor } from './common.js'
import { defineHandler } from './types.js'

export const offsetForLeaderEpochHandler = defineHandler({
  api: OffsetForLeaderEpoch,
  handle(ctx, req) {
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
