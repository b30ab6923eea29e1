// ListOffsets (key 2), v1-10, after Partition.fetchOffsetForTimestamp and
// UnifiedLog.fetchOffsetByTimestamp.
//
//   -2 earliest           → log start offset
//   -1 latest             → high watermark (read_uncommitted) or last stable offset (read_committed)
//   -3 max timestamp      → the first record with the largest timestamp (KIP-734, v7+)
//   -4 earliest local     → log start offset (no tiered storage here; v8+)
//   -5 latest tiered      → -1 (no tiered storage; v9+)
//   t >= 0                → the first record with timestamp >= t below the fetchable bound, else -1
// Only the leader answers (NOT_LEADER_OR_FOLLOWER), and the current leader epoch is checked
// (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH). A partition listed twice is INVALID_REQUEST.
// Just after an election the new leader's high watermark may trail the start offset of its
// epoch; a consumer (replica id -1) asking for the latest offset then gets OFFSET_NOT_AVAILABLE
// (Partition.fetchOffsetForTimestamp, KIP-207), so offsets it sees never go backwards.

import type { Input } from '../../protocol/api.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import {
  ListOffsets,
  type ListOffsetsResponseListOffsetsPartitionResponse,
} from '../../protocol/messages/list-offsets.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed } from './authz.js'
import { checkLeaderEpoch, leaderFor } from './common.js'
import { defineHandler } from './types.js'

type PartitionResponse = Input<ListOffsetsResponseListOffsetsPartitionResponse>

const EARLIEST = -2n
const LATEST = -1n
const MAX_TIMESTAMP = -3n
const EARLIEST_LOCAL = -4n
const LATEST_TIERED = -5n

function failure(partitionIndex: number, errorCode: number): PartitionResponse {
  return { partitionIndex, errorCode, timestamp: -1n, offset: -1n, leaderEpoch: -1 }
}

export const listOffsetsHandler = defineHandler({
  api: ListOffsets,
  async handle(ctx, req) {
    const committed = ctx.version >= 2 && req.isolationLevel === 1
    const topics = []
    for (const t of req.topics) {
      const seen = new Map<number, number>()
      for (const p of t.partitions) seen.set(p.partitionIndex, (seen.get(p.partitionIndex) ?? 0) + 1)
      const partitions: PartitionResponse[] = []
      for (const rp of t.partitions) {
        if (seen.get(rp.partitionIndex)! > 1) {
          partitions.push(failure(rp.partitionIndex, ErrorCode.INVALID_REQUEST))
          continue
        }
        if (!allowed(ctx, ResourceType.TOPIC, t.name, AclOperation.DESCRIBE)) {
          partitions.push(failure(rp.partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED))
          continue
        }
        const lookup = leaderFor(ctx, t.name, rp.partitionIndex)
        if (!lookup.ok) {
          partitions.push(failure(rp.partitionIndex, lookup.errorCode))
          continue
        }
        const p = lookup.partition
        const epochError = ctx.version >= 4 ? checkLeaderEpoch(p, rp.currentLeaderEpoch) : 0
        if (epochError !== 0) {
          partitions.push(failure(rp.partitionIndex, epochError))
          continue
        }
        const fetchable = committed ? p.lastStableOffset : p.highWatermark
        const ok = (offset: number, timestamp: number, epoch: number): PartitionResponse => ({
          partitionIndex: rp.partitionIndex,
          errorCode: 0,
          timestamp: BigInt(timestamp),
          offset: BigInt(offset),
          leaderEpoch: ctx.version >= 4 ? epoch : -1,
        })
        const ts = rp.timestamp
        if (ts === EARLIEST || ts === EARLIEST_LOCAL)
          partitions.push(ok(p.logStartOffset, -1, p.log.epochAt(p.logStartOffset)))
        else if (ts === LATEST && req.replicaId === -1 && p.highWatermarkLagging)
          partitions.push(failure(rp.partitionIndex, ErrorCode.OFFSET_NOT_AVAILABLE))
        else if (ts === LATEST) partitions.push(ok(fetchable, -1, p.leaderEpoch))
        else if (ts === LATEST_TIERED) partitions.push(ok(-1, -1, -1))
        else if (ts === MAX_TIMESTAMP) {
          const found = await p.log.maxTimestampOffset(p.highWatermark)
          partitions.push(
            found === undefined ? ok(-1, -1, -1) : ok(found.offset, found.timestamp, p.log.epochAt(found.offset)),
          )
        } else {
          const found = await p.log.offsetForTimestamp(Number(ts < 0n ? 0n : ts), fetchable)
          partitions.push(
            found === undefined || found.offset >= fetchable
              ? ok(-1, -1, -1)
              : ok(found.offset, found.timestamp, p.log.epochAt(found.offset)),
          )
        }
      }
      topics.push({ name: t.name, partitions })
    }
    return { throttleTimeMs: 0, topics }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => failure(p.partitionIndex, errorCode)),
      })),
    }
  },
})
