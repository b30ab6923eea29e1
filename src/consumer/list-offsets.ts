// ListOffsets lookups for the Reader's introspection (beginningOffsets, endOffsets,
// offsetsForTimes), independent of the fetch positions: one request per partition leader,
// partitions whose leader moved or is not known yet retried after a metadata refresh.

import type { KafkaClient } from '../cluster/client.js'
import { backoffDelay, sleep, type RetryPolicy } from '../cluster/retry.js'
import { KafkaError, isRetriable } from '../errors.js'
import { ErrorCode, errorInfo } from '../protocol/error-codes.js'
import { ListOffsets } from '../protocol/messages/index.js'
import type { TopicPartition } from './config.js'
import { partitionKey } from './cursor.js'
import type { IsolationLevel } from './fetch-result.js'

export interface OffsetQuery extends TopicPartition {
  /** A time in ms, or ListOffsets' -1n (latest) / -2n (earliest). */
  timestamp: bigint
}

export interface ListedOffset extends TopicPartition {
  /** null: no record at or after the time asked for. */
  offset: bigint | null
  /** The found record's timestamp (time queries), else null. */
  timestamp: bigint | null
}

export interface ListOffsetsContext {
  client: KafkaClient
  isolationLevel: IsolationLevel
  requestTimeout: number
  policy: RetryPolicy
}

/** The offsets for each query, in the order asked. Retriable errors are retried per `policy`. */
export async function listOffsets(
  ctx: ListOffsetsContext,
  queries: readonly OffsetQuery[],
  signal: AbortSignal,
): Promise<ListedOffset[]> {
  const results = new Map<string, ListedOffset>()
  let remaining = [...new Map(queries.map((q) => [partitionKey(q.topic, q.partition), q])).values()]
  const metadata = ctx.client.metadata
  for (let attempt = 1; remaining.length > 0; attempt++) {
    let lastError: unknown = null
    if (remaining.some((q) => metadata.leaderFor(q.topic, q.partition) === undefined)) {
      await metadata.refresh([...new Set(remaining.map((q) => q.topic))], signal).catch((err: unknown) => {
        lastError = err
      })
    }
    const byLeader = new Map<number, OffsetQuery[]>()
    const retry: OffsetQuery[] = []
    for (const q of remaining) {
      const leader = metadata.leaderFor(q.topic, q.partition)
      if (leader === undefined) {
        const code = metadata.noLeaderCode(q.topic)
        const error = KafkaError.fromCode(code, { apiName: 'ListOffsets', topic: q.topic, partition: q.partition })
        // Refused by the authorizer: no leader will show up, so this is the answer, not a retry.
        if (code === ErrorCode.TOPIC_AUTHORIZATION_FAILED) throw error
        retry.push(q)
        lastError ??= error
        continue
      }
      const list = byLeader.get(leader.nodeId)
      if (list === undefined) byLeader.set(leader.nodeId, [q])
      else list.push(q)
    }
    await Promise.all(
      [...byLeader].map(async ([nodeId, list]) => {
        try {
          await askLeader(ctx, nodeId, list, results, retry, signal)
        } catch (err) {
          if (signal.aborted || !isRetriable(err)) throw err
          lastError = err
          retry.push(...list)
        }
      }),
    )
    remaining = retry
    if (remaining.length === 0) break
    if (attempt >= ctx.policy.maxAttempts) throw lastError ?? new Error('ListOffsets: retries exhausted')
    metadata.markStale()
    await sleep(backoffDelay(ctx.policy, attempt), signal, 'ListOffsets')
  }
  return queries.map((q) => results.get(partitionKey(q.topic, q.partition))!)
}

async function askLeader(
  ctx: ListOffsetsContext,
  nodeId: number,
  list: OffsetQuery[],
  results: Map<string, ListedOffset>,
  retry: OffsetQuery[],
  signal: AbortSignal,
): Promise<void> {
  const byTopic = new Map<string, OffsetQuery[]>()
  for (const q of list) {
    const l = byTopic.get(q.topic)
    if (l === undefined) byTopic.set(q.topic, [q])
    else l.push(q)
  }
  const response = await ctx.client.request(
    nodeId,
    ListOffsets,
    (version) => ({
      replicaId: -1,
      ...(version >= 2 ? { isolationLevel: ctx.isolationLevel === 'read_committed' ? 1 : 0 } : {}),
      topics: [...byTopic].map(([name, qs]) => ({
        name,
        partitions: qs.map((q) => ({ partitionIndex: q.partition, currentLeaderEpoch: -1, timestamp: q.timestamp })),
      })),
      timeoutMs: ctx.requestTimeout,
    }),
    { signal, workload: 'admin', timeoutMs: ctx.requestTimeout },
  )
  const answers = new Map<string, { errorCode: number; offset: bigint; timestamp: bigint }>()
  for (const t of response.topics) for (const p of t.partitions) answers.set(partitionKey(t.name, p.partitionIndex), p)
  for (const q of list) {
    const a = answers.get(partitionKey(q.topic, q.partition))
    const code = a?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    if (a === undefined || code !== ErrorCode.NONE) {
      if (errorInfo(code).retriable) {
        retry.push(q)
        continue
      }
      throw KafkaError.fromCode(code, { apiName: 'ListOffsets', topic: q.topic, partition: q.partition })
    }
    const found = a.offset >= 0n
    results.set(partitionKey(q.topic, q.partition), {
      topic: q.topic,
      partition: q.partition,
      offset: found ? a.offset : null,
      // Time queries and max-timestamp (-3, KIP-734) answer with the record's timestamp.
      timestamp: (q.timestamp >= 0n || q.timestamp === -3n) && found && a.timestamp >= 0n ? a.timestamp : null,
    })
  }
}
