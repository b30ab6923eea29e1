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

export type WaitOutcome = 'ready' | 'timeout' | 'aborted'

export interface PartitionWait {
  readonly partition: Partition
  /** Checked now and at each change of the partition. */
  readonly ready: () => boolean
}

/**
 * Resolves, per wait, with its condition, the shared timeout or the request's abort. One abort
 * listener and one timer serve the whole request: a listener per partition on the connection's
 * signal passed Node's limit of 10 (MaxListenersExceededWarning) for a Produce to 11 partitions.
 */
export function waitForPartitions(
  waits: readonly PartitionWait[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<WaitOutcome[]> {
  const outcomes: (WaitOutcome | undefined)[] = waits.map((w) => (w.ready() ? 'ready' : undefined))
  let pending = outcomes.filter((o) => o === undefined).length
  if (pending === 0) return Promise.resolve(outcomes as WaitOutcome[])
  if (signal.aborted) return Promise.resolve(outcomes.map((o) => o ?? 'aborted'))
  return new Promise((resolve) => {
    const unsubscribes: (() => void)[] = []
    const finish = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      for (const unsubscribe of unsubscribes) unsubscribe()
      resolve(outcomes as WaitOutcome[])
    }
    const settle = (i: number, r: WaitOutcome): void => {
      if (pending === 0 || outcomes[i] !== undefined) return
      outcomes[i] = r
      if (--pending === 0) finish()
    }
    const settleRest = (r: WaitOutcome): void => {
      for (let i = 0; i < outcomes.length; i++) settle(i, r)
    }
    const onAbort = (): void => settleRest('aborted')
    const timer = setTimeout(() => settleRest('timeout'), Math.max(0, timeoutMs))
    waits.forEach((w, i) => {
      if (outcomes[i] !== undefined) return
      unsubscribes.push(
        w.partition.onChange(() => {
          if (w.ready()) settle(i, 'ready')
        }),
      )
    })
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
