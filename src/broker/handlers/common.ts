// Helpers shared by the partition-level handlers (Produce, Fetch, ListOffsets...).

import { ErrorCode } from '../../protocol/error-codes.js'
import type { Cluster } from '../cluster.js'
import type { Partition } from '../topics.js'
import type { RequestContext } from './types.js'

export type LeaderLookup =
  { ok: true; partition: Partition; errorCode: 0 } | { ok: false; partition: Partition | undefined; errorCode: number }

/**
 * The partition if this broker leads it. Kafka answers UNKNOWN_TOPIC_OR_PARTITION for a topic or
 * partition the cluster does not have, and NOT_LEADER_OR_FOLLOWER when another broker leads it
 * (also when this broker is not a replica at all: ReplicaManager.getPartitionOrException).
 */
export function leaderFor(ctx: RequestContext, topic: string, index: number): LeaderLookup {
  const p = ctx.cluster.topics.partition(topic, index)
  if (p === undefined) return { ok: false, partition: undefined, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
  if (p.leader !== ctx.broker.id) return { ok: false, partition: p, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }
  return { ok: true, partition: p, errorCode: 0 }
}

/**
 * Checks a client's current leader epoch against the partition's (KIP-320): older → FENCED_LEADER_EPOCH,
 * newer → UNKNOWN_LEADER_EPOCH, -1 → not checked.
 */
export function checkLeaderEpoch(p: Partition, currentLeaderEpoch: number): number {
  if (currentLeaderEpoch < 0 || currentLeaderEpoch === p.leaderEpoch) return 0
  return currentLeaderEpoch < p.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH
}

export function nodeEndpoint(
  cluster: Cluster,
  id: number,
): { nodeId: number; host: string; port: number; rack: string | null } | undefined {
  const b = cluster.brokers[id]
  if (b === undefined || !cluster.isRegistered(id)) return undefined
  return { nodeId: b.id, host: b.host, port: b.port, rack: b.rack }
}

/** Resolves with the high watermark condition, a leadership loss, or a timeout. */
export function waitForPartition(
  p: Partition,
  ready: () => boolean,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<'ready' | 'timeout' | 'aborted'> {
  if (ready()) return Promise.resolve('ready')
  return new Promise((resolve) => {
    let done = false
    const finish = (r: 'ready' | 'timeout' | 'aborted'): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      unsubscribe()
      signal.removeEventListener('abort', onAbort)
      resolve(r)
    }
    const onAbort = (): void => finish('aborted')
    const timer = setTimeout(() => finish('timeout'), Math.max(0, timeoutMs))
    const unsubscribe = p.onChange(() => {
      if (ready()) finish('ready')
    })
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
