// The two requests a broker loop sends before fetching a partition: OffsetForLeaderEpoch to
// validate a position against the leader's log (KIP-320), and ListOffsets to resolve a start or
// reset (FirstOffset, LastOffset, a time). Answers for partitions sought, paused or revoked while
// the request was in flight are dropped.

import { ErrorCode } from '../protocol/error-codes.js'
import { ListOffsets } from '../protocol/messages/index.js'
import { partitionKey, type PartitionCursor } from './cursor.js'
import type { Recovery } from './fetch-recovery.js'
import type { FetcherOptions } from './fetcher.js'
import { LastOffset } from './offsets.js'
import { epochEndOffsets } from './validation.js'

/** Validates the cursors' positions with the leader `nodeId` (OffsetForLeaderEpoch). */
export async function validatePositions(
  o: FetcherOptions,
  recovery: Recovery,
  nodeId: number,
  cursors: PartitionCursor[],
  signal: AbortSignal,
): Promise<void> {
  const sent = cursors.map((c) => ({ cursor: c, epoch: c.epoch, offset: c.fetchOffset, asked: c.lastFetchedEpoch }))
  for (const c of cursors) c.inFlight = true
  let answers
  try {
    answers = await epochEndOffsets(o.client, nodeId, cursors, signal, o.requestTimeout)
  } finally {
    for (const c of cursors) c.inFlight = false
  }
  for (const { cursor, epoch, offset, asked } of sent) {
    // Sought, paused or revoked meanwhile: the position asked about is gone.
    if (cursor.removed || cursor.epoch !== epoch || cursor.fetchOffset !== offset) continue
    if (cursor.lastFetchedEpoch !== asked) continue
    const answer = answers.get(cursor.key)
    if (answer === undefined || answer.errorCode !== ErrorCode.NONE) {
      // Stays awaiting validation: relocated, backed off or failed like a fetch error.
      recovery.partitionError(
        cursor,
        answer?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        'OffsetForLeaderEpoch',
        nodeId,
      )
      continue
    }
    cursor.awaitingValidation = false
    cursor.failures = 0
    if (answer.leaderEpoch < 0 || answer.endOffset < 0n || answer.endOffset < offset) {
      cursor.resetIfValid = false
      recovery.truncate(cursor, answer.leaderEpoch, answer.endOffset)
    } else if (cursor.resetIfValid) {
      // Out of range, yet not truncated: the position fell off the log (retention).
      cursor.resetIfValid = false
      recovery.resetOutOfRange(cursor)
    }
  }
}

/** Resolves the cursors' `resetTo` timestamps to offsets with the leader `nodeId` (ListOffsets). */
export async function resolveOffsets(
  o: FetcherOptions,
  recovery: Recovery,
  nodeId: number,
  cursors: PartitionCursor[],
  signal: AbortSignal,
): Promise<void> {
  const sent = cursors.map((c) => ({ cursor: c, epoch: c.epoch, timestamp: c.resetTo! }))
  const byTopic = groupBy(sent, (s) => s.cursor.topic)
  for (const c of cursors) c.inFlight = true
  let response
  try {
    response = await o.client.request(
      nodeId,
      ListOffsets,
      (version) => ({
        replicaId: -1,
        // The field exists from v2; v1 always reads up to the high watermark.
        ...(version >= 2 ? { isolationLevel: o.isolationLevel === 'read_committed' ? 1 : 0 } : {}),
        topics: [...byTopic].map(([name, list]) => ({
          name,
          partitions: list.map((s) => ({
            partitionIndex: s.cursor.partition,
            currentLeaderEpoch: s.cursor.leaderEpoch,
            timestamp: s.timestamp,
          })),
        })),
        timeoutMs: o.requestTimeout,
      }),
      { signal, workload: 'fetch' },
    )
  } finally {
    for (const c of cursors) c.inFlight = false
  }
  const answers = new Map<string, { errorCode: number; offset: bigint }>()
  for (const t of response.topics) for (const p of t.partitions) answers.set(partitionKey(t.name, p.partitionIndex), p)
  for (const { cursor, epoch, timestamp } of sent) {
    if (cursor.removed || cursor.epoch !== epoch || cursor.resetTo !== timestamp) continue
    const answer = answers.get(cursor.key)
    if (answer === undefined) {
      recovery.partitionError(cursor, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'ListOffsets', nodeId)
      continue
    }
    if (answer.errorCode !== ErrorCode.NONE) {
      // OFFSET_OUT_OF_RANGE cannot happen here; anything else is handled like a fetch error.
      recovery.partitionError(cursor, answer.errorCode, 'ListOffsets', nodeId)
      continue
    }
    if (answer.offset < 0n) {
      // No record at or after that time: start at the end, as kafka-go's SetOffsetAt does.
      cursor.resetTo = LastOffset
      continue
    }
    cursor.failures = 0
    cursor.fetchOffset = answer.offset
    cursor.resetTo = null
    cursor.lastFetchedEpoch = -1
    // Queued messages (before a reset) still move the position forward as they are read.
    if (cursor.queuedChunks === 0) {
      cursor.position = answer.offset
      cursor.positionEpoch = -1
    }
  }
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const list = out.get(k)
    if (list === undefined) out.set(k, [item])
    else list.push(item)
  }
  return out
}
