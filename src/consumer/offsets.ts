// Where a Reader starts when it has no committed offset (kafka-go's Reader StartOffset), and the
// ListOffsets timestamp that finds it.

import { ConfigError } from '../errors.js'

/** The oldest offset still in the log (kafka-go FirstOffset; Java auto.offset.reset=earliest). */
export const FirstOffset = -2n
/** The offset after the newest record: only new records (kafka-go LastOffset; Java 'latest'). */
export const LastOffset = -1n

/**
 * FirstOffset, LastOffset, or the first record at or after a time: a Date, or milliseconds since
 * the epoch. (-2 and -1 given as numbers mean FirstOffset and LastOffset, as in kafka-go.)
 */
export type StartOffset = typeof FirstOffset | typeof LastOffset | Date | number

/** The special timestamps of a ListOffsets request (Kafka's ListOffsetsRequest constants). */
export const ListOffsetsTimestamp = {
  /** The log end offset (under read_committed: the last stable offset). */
  LATEST: -1n,
  /** The log start offset. */
  EARLIEST: -2n,
  /** The offset of the record with the largest timestamp (KIP-734, ListOffsets v7+). */
  MAX_TIMESTAMP: -3n,
  /** The local log start offset with tiered storage (KIP-405, v8+). */
  EARLIEST_LOCAL: -4n,
  /** The highest offset in remote storage (KIP-1005, v9+). */
  LATEST_TIERED: -5n,
} as const

/**
 * The ListOffsets `timestamp` for a start offset: -2n for FirstOffset, -1n for LastOffset, else
 * the time in milliseconds. For a time, the broker answers with the first offset whose timestamp
 * is at or after it, or offset -1 when no record is that new (then start at LastOffset).
 * Throws ConfigError (option `startOffset`) for anything else.
 */
export function startOffsetTimestamp(start: StartOffset | bigint): bigint {
  if (typeof start === 'bigint') {
    if (start === FirstOffset || start === LastOffset) return start
    throw new ConfigError(
      'startOffset',
      `must be FirstOffset (-2n), LastOffset (-1n), a Date or a timestamp in milliseconds, got ${start}n`,
    )
  }
  if (typeof start === 'number') {
    if (start === -2) return FirstOffset
    if (start === -1) return LastOffset
    if (Number.isSafeInteger(start) && start >= 0) return BigInt(start)
    throw new ConfigError(
      'startOffset',
      `a timestamp must be a non-negative integer number of milliseconds, got ${start}`,
    )
  }
  if (start instanceof Date) {
    const ms = start.getTime()
    if (Number.isSafeInteger(ms) && ms >= 0) return BigInt(ms)
    throw new ConfigError('startOffset', `the Date must be valid and not before 1970, got ${String(start)}`)
  }
  throw new ConfigError(
    'startOffset',
    `must be FirstOffset, LastOffset, a Date or a timestamp in milliseconds, got ${typeof start}`,
  )
}
