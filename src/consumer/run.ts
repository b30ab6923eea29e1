// reader.run(): handlers called for several partitions at once, each partition strictly in order
// (KafkaJS's partitionsConsumedConcurrently).
//
// One loop takes per-partition batches from the Reader and chains each onto its partition's
// promise, so a partition's batches run one after the other while up to `concurrency` partitions
// run side by side. Reading ahead is bounded: the loop waits while `concurrency` partitions are
// busy, and after queueing a batch behind a busy partition it waits for that partition, so at most
// one batch per partition waits in memory beyond the Reader's queue.
//
// A batch stays handed out (a rebalance that revokes its partition waits for it, as for
// fetchBatch) until its handler finished and it was marked for commit (or only released, with
// autoCommit: false); commits keep their ownership stamps, so a batch whose partition was revoked
// meanwhile is skipped, never processed under an ownership that ended. A handler that throws
// stops the run: nothing of that batch is committed, the other partitions' handlers in progress
// finish, and run() rejects with the error.

import { ConfigError } from '../errors.js'
import type { FetchedMessage } from './fetch-result.js'
import type { MessageBatch } from './queue.js'

export interface RunOptions {
  /** Partitions processed at the same time (KafkaJS partitionsConsumedConcurrently). Default 1. */
  partitionsConsumedConcurrently?: number
  /** Called for each message, in offset order within its partition. Either this or eachBatch. */
  eachMessage?: (message: FetchedMessage) => Promise<void> | void
  /** Called for each per-partition batch (one fetch response's worth). */
  eachBatch?: (batch: MessageBatch) => Promise<void> | void
  /** Group mode: mark each batch for commit once its handler finished (default true). */
  autoCommit?: boolean
  /** Stops the run: no new batch starts; the ones in progress finish and are committed. */
  signal?: AbortSignal
}

/** What run() needs from the Reader. */
export interface RunSource {
  /** The next batch, handed out without ending earlier hand-outs; rejects once the Reader closes or `signal` fires. */
  next(signal: AbortSignal): Promise<MessageBatch>
  /** The batch's partition is still owned under the ownership its messages were fetched in. */
  owned(batch: MessageBatch): boolean
  /** Processed: marked for commit (and committed with commitInterval 0), or only released. */
  done(batch: MessageBatch, autoCommit: boolean): Promise<void>
  /** The error `next` rejects with when the run should end quietly (the Reader closed or the signal fired). */
  isEnd(err: unknown, signal: AbortSignal): boolean
}

export async function runConcurrently(source: RunSource, options: RunOptions): Promise<void> {
  const concurrency = options.partitionsConsumedConcurrently ?? 1
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000)
    throw new ConfigError(
      'partitionsConsumedConcurrently',
      `must be an integer in [1, 10000], got ${String(concurrency)}`,
    )
  const autoCommit = options.autoCommit !== false
  const handle = handlerOf(options)
  const stop = new AbortController()
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([stop.signal, options.signal])
  /** Per partition, the promise of its last batch (removed once it settles and nothing follows). */
  const chains = new Map<string, Promise<void>>()
  let failure: { error: unknown } | null = null
  const whenAborted = aborted(signal)

  const process = async (batch: MessageBatch): Promise<void> => {
    if (failure !== null || !source.owned(batch)) return
    try {
      await handle(batch)
    } catch (error) {
      failure ??= { error }
      stop.abort()
      return
    }
    await source.done(batch, autoCommit)
  }

  while (!signal.aborted) {
    while (chains.size >= concurrency && !signal.aborted) await Promise.race([...chains.values(), whenAborted])
    if (signal.aborted) break
    let batch: MessageBatch
    try {
      batch = await source.next(signal)
    } catch (err) {
      if (source.isEnd(err, signal)) break
      failure ??= { error: err }
      break
    }
    const key = `${batch.topic}\u0000${batch.partition}`
    const before = chains.get(key)
    const chained: Promise<void> = (before ?? Promise.resolve()).then(() => process(batch))
    chains.set(key, chained)
    void chained.finally(() => {
      if (chains.get(key) === chained) chains.delete(key)
    })
    // Behind a busy partition: read no further until it caught up (bounded read-ahead).
    if (before !== undefined) await Promise.race([chained, whenAborted])
  }
  await Promise.all(chains.values())
  if (failure !== null) throw failure.error
}

function handlerOf(options: RunOptions): (batch: MessageBatch) => Promise<void> {
  const { eachMessage, eachBatch } = options
  if (eachBatch !== undefined && eachMessage === undefined) return async (batch) => eachBatch(batch)
  if (eachBatch !== undefined && eachMessage !== undefined)
    throw new ConfigError('eachBatch', 'set either eachMessage or eachBatch, not both')
  if (eachMessage === undefined) throw new ConfigError('eachMessage', 'run() needs eachMessage or eachBatch')
  return async (batch) => {
    for (const m of batch.messages) await eachMessage(m)
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}
