// Restoring a task's stores: each changelog partition is read from its start (or from where a
// store kept across a rebalance is up to) to the end offset it had when restoring began,
// straight into the byte store (nothing is logged again), before the task processes anything.

import type { ClientConfig } from '../cluster/client.js'
import { Reader } from '../consumer/reader.js'
import { FirstOffset } from '../consumer/offsets.js'
import type { Logger } from '../logger.js'
import { AbortError } from '../net/errors.js'
import type { BytesStore } from './stores.js'

/** How long one restore fetch waits before checking whether only markers are left. */
const POLL_MS = 100
/** A restore still short of its end offset after this long says where it stands (and again as often). */
const SLOW_MS = 10_000

export interface RestoreResult {
  records: number
  /** The changelog offset the store is now up to (the next to read). */
  endOffset: bigint
  /**
   * `from` was outside the changelog (past its end: the topic was recreated; before its start:
   * records the store never saw were deleted): nothing was read, the store must be rebuilt.
   */
  outOfRange?: true
}

export async function restoreStore(
  client: ClientConfig,
  logger: Logger | undefined,
  topic: string,
  partition: number,
  store: BytesStore,
  signal: AbortSignal,
  /** Where the store is up to already (kept across a rebalance, or its checkpoint); default the log start. */
  from?: bigint,
): Promise<RestoreResult> {
  const reader = new Reader({
    ...client,
    topic,
    partition,
    startOffset: FirstOffset,
    ...(logger === undefined ? {} : { logger }),
  })
  try {
    const [end] = await reader.endOffsets([partition], { signal })
    const endOffset = end?.offset ?? 0n
    let records = 0
    let next = (await reader.beginningOffsets([partition], { signal }))[0]?.offset ?? 0n
    if (from !== undefined && (from > endOffset || from < next)) return { records: 0, endOffset, outOfRange: true }
    if (from !== undefined && from > next) {
      next = from
      if (next < endOffset) reader.setOffset(from)
    }
    const started = Date.now()
    let reported = started
    while (next < endOffset) {
      if (Date.now() - reported >= SLOW_MS) {
        reported = Date.now()
        logger?.warn(
          { topic, partition, next, endOffset, records, ms: reported - started },
          'kafkats/streams: restoring a store is taking long',
        )
      }
      let batch
      // Its own controller and timer, not AbortSignal.any([signal, AbortSignal.timeout()]): on
      // Node 20 GC collects a timeout signal held only by AbortSignal.any, which then never fires
      // (test/streams/restore.test.ts), and each any() call would stay listed on `signal`.
      const poll = new AbortController()
      const timer = setTimeout(() => poll.abort(), POLL_MS)
      const stop = (): void => poll.abort()
      signal.addEventListener('abort', stop, { once: true })
      try {
        batch = await reader.fetchBatch({ signal: poll.signal })
      } catch (err) {
        if (signal.aborted || !(err instanceof AbortError)) throw err
        // Nothing to hand out: what is left before endOffset holds no records (a transaction
        // marker ends every exactly-once changelog), and the Reader's position moves past it.
        next = await reader.position(topic, partition, { signal })
        continue
      } finally {
        clearTimeout(timer)
        signal.removeEventListener('abort', stop)
      }
      for (const m of batch.messages) {
        if (m.offset >= endOffset) break
        if (m.key !== null) store.put(m.key, m.value)
        records++
      }
      const last = batch.messages.at(-1)
      next = last === undefined ? next : last.offset + 1n
      // Control records (transactions) and compaction leave offsets without messages.
      if (next < endOffset) next = await reader.position(topic, partition, { signal })
    }
    return { records, endOffset }
  } finally {
    await reader.close()
  }
}
