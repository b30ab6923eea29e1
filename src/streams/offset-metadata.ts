// The metadata Kafka Streams commits with each input offset (TopicPartitionMetadata): base64 of
// a version byte, the partition time (int64, big-endian: the largest timestamp the task took
// from that partition) and, from version 2, processor metadata if any (int32 count, then per entry an
// int32-length UTF-8 key and an int64 value). A restarted task starts from the committed
// partition times, so its stream time goes on where it stood. Anything unreadable counts as
// unknown (-1), as Java logs it and goes on.

import { committedOffsets } from '../admin/offsets.js'
import type { KafkaClient } from '../cluster/client.js'

/** No partition time known (Kafka Streams' RecordQueue.UNKNOWN). */
export const UNKNOWN_TIME = -1

const LATEST_VERSION = 2

/**
 * The metadata for a partition time, byte for byte as Kafka Streams 4.4 writes it when it has no
 * processor metadata: version 2 and the time, nothing after (not even a zero count).
 */
export function encodePartitionTime(partitionTime: number): string {
  const b = Buffer.alloc(1 + 8)
  b.writeUInt8(LATEST_VERSION, 0)
  b.writeBigInt64BE(BigInt(partitionTime), 1)
  return b.toString('base64')
}

/** The partition time in committed metadata (versions 1 and 2); UNKNOWN_TIME when absent or unreadable. */
export function decodePartitionTime(metadata: string | null | undefined): number {
  if (metadata === null || metadata === undefined || metadata === '') return UNKNOWN_TIME
  const b = Buffer.from(metadata, 'base64')
  // Not base64 of a version 1 or 2 record: someone else's metadata.
  if (b.length < 9 || b.toString('base64') !== metadata) return UNKNOWN_TIME
  const version = b.readUInt8(0)
  if (version !== 1 && version !== LATEST_VERSION) return UNKNOWN_TIME
  const time = b.readBigInt64BE(1)
  if (time < BigInt(UNKNOWN_TIME) || time > BigInt(Number.MAX_SAFE_INTEGER)) return UNKNOWN_TIME
  return Number(time)
}

/** The group's committed partition times of `topics`, by `topic\u0000partition` (OffsetFetch, stable offsets). */
export async function committedPartitionTimes(
  client: KafkaClient,
  groupId: string,
  topics: readonly string[],
  signal: AbortSignal,
): Promise<Map<string, number>> {
  const committed = await committedOffsets(
    { client, policy: client.retryPolicy, timeoutMs: client.requestTimeoutMs },
    groupId,
    { topics, signal },
  )
  return new Map(committed.map((c) => [`${c.topic}\u0000${c.partition}`, decodePartitionTime(c.metadata)]))
}
