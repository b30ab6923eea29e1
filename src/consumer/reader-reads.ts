// The Reader's read side: hands out what the fetcher queued (fetchMessage, fetchBatch) and holds
// what makes reads reject instead (closed, a fatal failure, an error reported once, a missing
// topic). Split from reader.ts, which forwards to it.

import type { ConsumerTracing } from '../telemetry/consumer-tracing.js'
import { AbortError, ClosedError, abortErrorFor } from '../net/errors.js'
import type { UnknownTopicError } from './errors.js'
import type { FetchedMessage } from './fetch-result.js'
import type { HandOuts } from './handout.js'
import type { ConsumerMetrics } from './metrics.js'
import type { MessageBatch, MessageQueue } from './queue.js'
import type { ReaderStatsCollector } from './stats.js'

export type ReaderState = 'open' | 'closing' | 'closed'

export interface ReaderReadsParts {
  queue: MessageQueue
  stats: ReaderStatsCollector
  metrics: ConsumerMetrics
  tracing: ConsumerTracing | null
  /** Group mode: records handed out and not done with. */
  handOuts: HandOuts | null
  /** Group mode: rejoin after a maxPollInterval leave (reading again means the application is back). */
  resumeGroup: () => void
}

export class ReaderReads {
  readonly #p: ReaderReadsParts
  /** Aborted when the Reader closes: wakes every waiting read. */
  readonly #closed = new AbortController()
  #state: ReaderState = 'open'
  /** A failure that ended the Reader (thrown by every read). */
  #fatal: Error | null = null
  /** Errors to throw once from the next read (a rebalance callback failed). */
  #reported: Error[] = []
  /** Direct mode: the topic or partition is missing past metadataTimeout; reads reject with it. */
  #unknownTopic: UnknownTopicError | null = null

  constructor(parts: ReaderReadsParts) {
    this.#p = parts
  }

  get state(): ReaderState {
    return this.#state
  }

  /** Aborted once the Reader starts closing. */
  get closedSignal(): AbortSignal {
    return this.#closed.signal
  }

  /** close() started: waiting reads reject with ClosedError, new ones too. */
  startClosing(): void {
    this.#state = 'closing'
    this.#closed.abort()
  }

  closed(): void {
    this.#state = 'closed'
  }

  /** The next message, waiting for one (fetchMessage). */
  async fetchMessage(signal: AbortSignal | undefined): Promise<FetchedMessage> {
    const started = Date.now()
    this.#p.metrics.polled(started)
    this.#p.handOuts?.releaseAll() // asking for more: what was handed out before is done with
    let now = started
    for (;;) {
      const message = this.takeMessage(started, now)
      if (message !== undefined) return message
      await this.#waitReadable(signal, 'fetchMessage')
      now = Date.now()
    }
  }

  /**
   * The next message if one is waiting, handed out (fetchMessage without the wait). `now` is
   * `started` when nothing was waited for: one clock read per message on the iterator's fast path.
   */
  takeMessage(started: number, now: number = started): FetchedMessage | undefined {
    this.throwIfUnusable()
    const message = this.#p.queue.shift()
    if (message === undefined) return undefined
    this.#p.stats.waitTime.observe(now - started)
    this.#countOne(message)
    this.#p.handOuts?.handedOut([message], now)
    this.#p.tracing?.received([message], started, false)
    return message
  }

  /** fetchBatch without ending earlier hand-outs (run() holds several partitions' batches at once). */
  async takeBatch(signal: AbortSignal | undefined): Promise<MessageBatch> {
    const started = Date.now()
    this.#p.metrics.polled(started)
    let now = started
    for (;;) {
      this.throwIfUnusable()
      const batch = this.#p.queue.shiftBatch()
      if (batch !== undefined) {
        this.#p.stats.waitTime.observe(now - started)
        for (const m of batch.messages) this.#countOne(m)
        this.#p.handOuts?.handedOut(batch.messages, now)
        this.#p.tracing?.received(batch.messages, started, true)
        return batch
      }
      await this.#waitReadable(signal, 'fetchBatch')
      now = Date.now()
    }
  }

  /** The group membership failed for good: every read throws it from now on. */
  fail(error: Error): void {
    if (this.#fatal !== null) return
    this.#fatal = error
    this.#p.queue.readable.notify()
  }

  /** A rebalance callback failed: the next read throws it once. */
  report(error: Error): void {
    if (this.#reported.length < 16) this.#reported.push(error)
    this.#p.queue.readable.notify()
  }

  setUnknownTopic(error: UnknownTopicError | null): void {
    this.#unknownTopic = error
    if (error !== null) this.#p.queue.readable.notify()
  }

  throwIfClosed(): void {
    if (this.#state !== 'open') throw new ClosedError('Reader')
  }

  throwIfUnusable(): void {
    this.throwIfClosed()
    // Reading again after a maxPollInterval leave: rejoin (the error is among #reported).
    this.#p.resumeGroup()
    if (this.#fatal !== null) throw this.#fatal
    if (this.#unknownTopic !== null) throw this.#unknownTopic
    const reported = this.#reported.shift()
    if (reported !== undefined) throw reported
  }

  async #waitReadable(userSignal: AbortSignal | undefined, what: string): Promise<void> {
    try {
      await this.#p.queue.readable.wait([userSignal, this.#closed.signal], undefined, what)
    } catch (err) {
      if (err instanceof AbortError && userSignal?.aborted !== true) throw new ClosedError('Reader')
      if (userSignal?.aborted === true) throw abortErrorFor(userSignal, what)
      throw err
    }
  }

  #countOne(m: FetchedMessage): void {
    let bytes = (m.key?.length ?? 0) + (m.value?.length ?? 0)
    for (const h of m.headers) bytes += h.key.length + (h.value?.length ?? 0)
    this.#p.stats.messages++
    this.#p.stats.bytes += bytes
    this.#p.metrics.consumed(1, bytes)
  }
}
