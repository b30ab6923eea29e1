// KIP-320 position validation: OffsetForLeaderEpoch asks a partition's leader where a leader
// epoch ends in its log. A position fetched in epoch E at offset O is still valid if E ends at
// or after O there; otherwise the log was truncated and the position moves back to E's end
// (Java's OffsetsForLeaderEpochUtils + SubscriptionState.maybeCompleteValidation). The Reader
// asks after a leader change, when it starts from a committed offset that carries an epoch, and
// after OFFSET_OUT_OF_RANGE at a position whose epoch it knows.

import type { KafkaClient } from '../cluster/client.js'
import { OffsetForLeaderEpoch } from '../protocol/messages/index.js'
import { partitionKey, type PartitionCursor } from './cursor.js'

export interface EpochEndOffset {
  errorCode: number
  /** The largest epoch at or below the one asked for that the leader knows; -1 when none. */
  leaderEpoch: number
  /** Where that epoch ends in the leader's log; -1n when unknown. */
  endOffset: bigint
}

/** One OffsetForLeaderEpoch for `cursors` (each asks about its lastFetchedEpoch), keyed by partitionKey. */
export async function epochEndOffsets(
  client: KafkaClient,
  nodeId: number,
  cursors: readonly PartitionCursor[],
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Map<string, EpochEndOffset>> {
  const byTopic = new Map<string, PartitionCursor[]>()
  for (const c of cursors) {
    const list = byTopic.get(c.topic)
    if (list === undefined) byTopic.set(c.topic, [c])
    else list.push(c)
  }
  const response = await client.request(
    nodeId,
    OffsetForLeaderEpoch,
    (version) => ({
      // v3+: -1 says "a consumer", which the leader answers from its high watermark's view.
      ...(version >= 3 ? { replicaId: -1 } : {}),
      topics: [...byTopic].map(([topic, list]) => ({
        topic,
        partitions: list.map((c) => ({
          partition: c.partition,
          currentLeaderEpoch: c.leaderEpoch,
          leaderEpoch: c.lastFetchedEpoch,
        })),
      })),
    }),
    // v2 is the first with currentLeaderEpoch (a stale leader answers FENCED_LEADER_EPOCH).
    { signal, workload: 'fetch', timeoutMs, versions: { min: 2 } },
  )
  const out = new Map<string, EpochEndOffset>()
  for (const t of response.topics) for (const p of t.partitions) out.set(partitionKey(t.topic, p.partition), p)
  return out
}
