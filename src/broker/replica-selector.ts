// Fetch from the closest replica (KIP-392), the broker side.
//
// A consumer (Fetch v11+) may read from any replica of a partition, not only its leader. A
// follower serves what it has copied up to the high watermark it last heard from the leader
// (read_committed: no further than the leader's last stable offset either), and answers
// OFFSET_OUT_OF_RANGE past its own log end, as Kafka's follower does; the client then goes back
// to the leader. The leader, when `replicaSelector: 'rack-aware'` and the request names a rack,
// points the consumer at a replica in that rack (Kafka's RackAwareReplicaSelector): the leader
// itself when it is in the client's rack, else the most caught-up replica there (largest log end
// offset) among live replicas that have the fetch offset; the answer then carries
// preferredReadReplica and no records.

import type { Cluster } from './cluster.js'
import type { Partition } from './topics.js'

/** The bounds a replica serves a consumer fetch within. */
export interface ReplicaView {
  logEndOffset: number
  highWatermark: number
  lastStableOffset: number
}

export function replicaView(p: Partition, brokerId: number): ReplicaView {
  if (p.leader === brokerId)
    return { logEndOffset: p.log.endOffset, highWatermark: p.highWatermark, lastStableOffset: p.lastStableOffset }
  const end = p.followerEnd.get(brokerId) ?? 0
  const hw = Math.min(p.followerHw.get(brokerId) ?? 0, end)
  return { logEndOffset: end, highWatermark: hw, lastStableOffset: Math.min(p.lastStableOffset, hw) }
}

/** May `brokerId` serve a consumer's fetch of `p` (the leader, or a follower for Fetch v11+)? */
export function servesConsumer(p: Partition, brokerId: number, version: number): boolean {
  return p.leader === brokerId || (version >= 11 && p.replicas.includes(brokerId))
}

/**
 * RackAwareReplicaSelector.select, run on the leader: the replica the consumer should read
 * from, or undefined for "this leader" (no selector, no rack, or none better).
 */
export function preferredReadReplica(
  cluster: Cluster,
  brokerId: number,
  p: Partition,
  clientRack: string,
  fetchOffset: number,
): number | undefined {
  // Only the leader selects (a follower serves what it is asked for).
  if (cluster.options.replicaSelector !== 'rack-aware' || clientRack === '' || p.leader !== brokerId) return undefined
  const rackOf = (id: number): string | null => cluster.brokers[id]?.rack ?? null
  if (rackOf(p.leader) === clientRack) return undefined
  let best: number | undefined
  let bestEnd = -1
  for (const r of p.replicas) {
    if (r === p.leader || rackOf(r) !== clientRack || !cluster.isAlive(r)) continue
    const end = p.followerEnd.get(r) ?? -1
    // Only a replica that has the offset can serve it (ReplicaManager.findPreferredReadReplica).
    if (end < fetchOffset || p.logStartOffset > fetchOffset) continue
    if (end > bestEnd) {
      best = r
      bestEnd = end
    }
  }
  return best
}
