// Partition-leader calls: delete records before an offset (DeleteRecords) and describe the
// producers writing to a partition (DescribeProducers, KIP-664). Each partition goes to its
// leader; a partition whose leader moved is retried after a metadata refresh.

import { KafkaError } from '../errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { DeleteRecords, DescribeProducers } from '../protocol/messages/index.js'
import { batch, tpKey, type AdminCallOptions, type AdminContext, type Outcome } from './context.js'
import type { TopicPartitionRef } from './offsets.js'

/**
 * Groups `keys` by partition leader, calls `send` once per leader with its partitions, and
 * answers LEADER_NOT_AVAILABLE (retriable) for partitions without a known leader (the topic's
 * own error when Metadata refused it: unknown, or not authorized).
 */
async function perLeader<P extends TopicPartitionRef, R>(
  ctx: AdminContext,
  keys: string[],
  byKey: ReadonlyMap<string, P>,
  signal: AbortSignal | undefined,
  apiName: string,
  send: (nodeId: number, partitions: P[]) => Promise<Map<string, Outcome<R>>>,
): Promise<Map<string, Outcome<R>>> {
  const parts = keys.map((k) => byKey.get(k)!)
  await ctx.client.metadata.ensure([...new Set(parts.map((p) => p.topic))], signal)
  const answers = new Map<string, Outcome<R>>()
  const leaders = new Map<number, P[]>()
  for (const p of parts) {
    const leader = ctx.client.metadata.leaderFor(p.topic, p.partition)
    if (leader === undefined) {
      // A topic that does not exist, or that the principal may not describe, is final.
      const code = ctx.client.metadata.noLeaderCode(p.topic)
      answers.set(tpKey(p.topic, p.partition), {
        error: KafkaError.fromCode(code, { apiName, topic: p.topic, partition: p.partition }),
      })
      continue
    }
    leaders.set(leader.nodeId, [...(leaders.get(leader.nodeId) ?? []), p])
  }
  for (const result of await Promise.all([...leaders].map(([nodeId, list]) => send(nodeId, list)))) {
    for (const [k, v] of result) answers.set(k, v)
  }
  return answers
}

function byTopic<P extends TopicPartitionRef>(parts: readonly P[]): Map<string, P[]> {
  const map = new Map<string, P[]>()
  for (const p of parts) map.set(p.topic, [...(map.get(p.topic) ?? []), p])
  return map
}

export interface DeletedRecords extends TopicPartitionRef {
  /** The partition's new log start offset. */
  lowWatermark: bigint
}

/**
 * Deletes each partition's records before `offset` (-1: up to the high watermark, i.e. all).
 * Resolves with the new log start offsets, in the order asked.
 */
export async function deleteRecords(
  ctx: AdminContext,
  partitions: readonly (TopicPartitionRef & { offset: bigint | number })[],
  options: AdminCallOptions = {},
): Promise<DeletedRecords[]> {
  const byKey = new Map(partitions.map((p) => [tpKey(p.topic, p.partition), p]))
  const timeoutMs = options.timeout ?? ctx.timeoutMs
  const results = await batch<DeletedRecords>(ctx, 'DeleteRecords', [...byKey.keys()], options.signal, (keys) =>
    perLeader(ctx, keys, byKey, options.signal, 'DeleteRecords', async (nodeId, list) => {
      const r = await ctx.client.request(
        nodeId,
        DeleteRecords,
        {
          topics: [...byTopic(list)].map(([name, ps]) => ({
            name,
            partitions: ps.map((p) => ({ partitionIndex: p.partition, offset: BigInt(p.offset) })),
          })),
          timeoutMs,
        },
        { signal: options.signal, timeoutMs: timeoutMs + 5_000 },
      )
      const answers = new Map<string, Outcome<DeletedRecords>>()
      for (const t of r.topics) {
        for (const p of t.partitions) {
          answers.set(
            tpKey(t.name, p.partitionIndex),
            p.errorCode === ErrorCode.NONE
              ? { value: { topic: t.name, partition: p.partitionIndex, lowWatermark: p.lowWatermark } }
              : {
                  error: KafkaError.fromCode(p.errorCode, {
                    apiName: 'DeleteRecords',
                    topic: t.name,
                    partition: p.partitionIndex,
                    broker: nodeId,
                  }),
                },
          )
        }
      }
      return answers
    }),
  )
  return [...byKey.keys()].map((k) => results.get(k)!)
}

export interface ProducerState {
  producerId: bigint
  producerEpoch: number
  lastSequence: number
  /** ms since the epoch of the producer's last write. */
  lastTimestamp: bigint
  coordinatorEpoch: number
  /** The first offset of its open transaction, null when none is open. */
  currentTransactionStartOffset: bigint | null
}

export interface PartitionProducers extends TopicPartitionRef {
  producers: ProducerState[]
}

/** The active producers (idempotent and transactional) of each partition, from its leader. */
export async function describeProducers(
  ctx: AdminContext,
  partitions: readonly TopicPartitionRef[],
  options: AdminCallOptions = {},
): Promise<PartitionProducers[]> {
  const byKey = new Map(partitions.map((p) => [tpKey(p.topic, p.partition), p]))
  const results = await batch<PartitionProducers>(ctx, 'DescribeProducers', [...byKey.keys()], options.signal, (keys) =>
    perLeader(ctx, keys, byKey, options.signal, 'DescribeProducers', async (nodeId, list) => {
      const r = await ctx.client.request(
        nodeId,
        DescribeProducers,
        { topics: [...byTopic(list)].map(([name, ps]) => ({ name, partitionIndexes: ps.map((p) => p.partition) })) },
        { signal: options.signal, timeoutMs: options.timeout },
      )
      const answers = new Map<string, Outcome<PartitionProducers>>()
      for (const t of r.topics) {
        for (const p of t.partitions) {
          answers.set(
            tpKey(t.name, p.partitionIndex),
            p.errorCode !== ErrorCode.NONE
              ? {
                  error: KafkaError.fromCode(p.errorCode, {
                    apiName: 'DescribeProducers',
                    topic: t.name,
                    partition: p.partitionIndex,
                    broker: nodeId,
                    errorMessage: p.errorMessage,
                  }),
                }
              : {
                  value: {
                    topic: t.name,
                    partition: p.partitionIndex,
                    producers: p.activeProducers.map((s) => ({
                      producerId: s.producerId,
                      producerEpoch: s.producerEpoch,
                      lastSequence: s.lastSequence,
                      lastTimestamp: s.lastTimestamp,
                      coordinatorEpoch: s.coordinatorEpoch,
                      currentTransactionStartOffset: s.currentTxnStartOffset >= 0n ? s.currentTxnStartOffset : null,
                    })),
                  },
                },
          )
        }
      }
      return answers
    }),
  )
  return [...byKey.keys()].map((k) => results.get(k)!)
}
