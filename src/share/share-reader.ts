// ShareReader: a member of a share group (KIP-932, "queues for Kafka"), Java's KafkaShareConsumer
// in the Reader's style. The members of a share group read the same partitions; the broker hands
// each record to one member at a time, locked for the acquisition lock duration, and the member
// acknowledges it: accept (done), release (deliver again, to anyone), reject (never again). A
// record not acknowledged before its lock runs out is delivered again with deliveryCount + 1;
// past the group's delivery count limit it is archived.
//
//   const reader = new ShareReader({ brokers, groupId: 'jobs', topics: ['jobs'] })
//   for await (const m of reader) await handle(m)       // implicit mode: accepted when the next comes
//
//   const reader = new ShareReader({ ..., acknowledgementMode: 'explicit' })
//   for (const m of await reader.fetchMessages()) reader.acknowledge(m, ok ? 'accept' : 'release')
//   await reader.commit()                                // now, instead of with the next fetch
//
// Parts: share-membership.ts (ShareGroupHeartbeat), share-fetcher.ts (sessions, ShareFetch,
// ShareAcknowledge), acknowledgements.ts (the batches).

import { KafkaClient, type ClientConfig } from '../cluster/client.js'
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../cluster/retry.js'
import { ConfigError, KafkaTsError } from '../errors.js'
import { createDefaultLogger, safeLogger, type Logger } from '../logger.js'
import { Coordinator } from '../consumer/coordinator.js'
import { ackTypeId, ShareAcknowledgeError, type AcknowledgeType } from './acknowledgements.js'
import { ShareFetcher } from './share-fetcher.js'
import { ShareMembership } from './share-membership.js'
import type { AcknowledgementResult, ShareMessage } from './share-message.js'
import { raceAbort } from '../net/pool.js'
import { Notifier } from '../consumer/wait.js'

export type { AcknowledgeType } from './acknowledgements.js'
export type { AcknowledgementResult, ShareMessage } from './share-message.js'
export { ShareAcknowledgeError } from './acknowledgements.js'

/**
 * 'implicit' (Java's default): every record handed out is accepted when the next fetchMessages()
 * (or the next iteration) asks for more, unless acknowledged otherwise before. 'explicit': the
 * application acknowledges each record; fetchMessages() refuses to go on while records of the
 * previous call are unacknowledged (Java's IllegalStateException).
 */
export type AcknowledgementMode = 'implicit' | 'explicit'

export interface ShareReaderConfig extends Omit<ClientConfig, 'allowAutoTopicCreation'> {
  /** The share group (the same id must not be used by a consumer group). */
  groupId: string
  /** Topics to read. */
  topics: readonly string[]
  /** Default 'implicit'. */
  acknowledgementMode?: AcknowledgementMode
  /** Most records one fetchMessages() returns, and one ShareFetch asks for (Java's max.poll.records); default 500. */
  maxRecords?: number
  /** How long a ShareFetch waits for records (ms); default 500 (Java's fetch.max.wait.ms). */
  maxWait?: number
  /** Bytes a ShareFetch waits for; default 1. */
  minBytes?: number
  /** Most bytes one ShareFetch answer may hold; default 52 428 800 (Java's fetch.max.bytes). */
  maxBytes?: number
  /** The client's rack, sent with the heartbeats; default none. */
  rack?: string
  /** A pino-compatible logger (default: warnings and errors to stderr, each cause once a minute). */
  logger?: Logger
  /** Results of acknowledgements sent with a ShareFetch or at close (commit() returns its own). */
  onAcknowledged?: (results: AcknowledgementResult[]) => void
}

export interface ShareReaderStats {
  groupId: string
  memberId: string
  memberEpoch: number
  /** Times the member joined (1 + rejoins after being fenced). */
  joins: number
  /** Partitions assigned now. */
  assignment: { topic: string; partition: number }[]
  fetches: number
  fetchErrors: number
  sessionResets: number
  /** Records delivered by the brokers to this reader. */
  messages: number
  /** Records handed out and not acknowledged. */
  held: number
  /** Records fetched and not handed out yet. */
  buffered: number
  /** Offsets acknowledged and applied by the brokers, by type. */
  acknowledged: { accept: number; release: number; reject: number; gap: number }
  /** Offsets whose acknowledgement a broker refused or that could not be sent. */
  acknowledgeErrors: number
  /** The acquisition lock duration the brokers last reported (ms); 0 before the first answer. */
  acquisitionLockTimeoutMs: number
}

/** The ShareReader was closed, or failed for good, or is used against its mode. */
export class ShareReaderStateError extends KafkaTsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KAFKATS_SHARE_READER_STATE', message, options)
  }
}

export class ShareReader implements AsyncIterable<ShareMessage> {
  readonly groupId: string
  readonly acknowledgementMode: AcknowledgementMode
  readonly #client: KafkaClient
  readonly #membership: ShareMembership
  readonly #fetcher: ShareFetcher
  readonly #maxRecords: number
  readonly #logger: Logger
  readonly #topics: readonly string[]
  #started: Promise<void> | null = null
  #assignmentSeen = -1
  #closed: Promise<void> | null = null
  #failed: Error | null = null
  readonly #closing = new AbortController()
  /** Notified by an answer, an assignment change, a failure or close. */
  readonly #wake = new Notifier()

  constructor(config: ShareReaderConfig) {
    if (typeof config.groupId !== 'string' || config.groupId === '')
      throw new ConfigError('groupId', 'must be a non-empty string')
    if (
      !Array.isArray(config.topics) ||
      config.topics.length === 0 ||
      config.topics.some((t) => typeof t !== 'string' || t === '')
    )
      throw new ConfigError('topics', 'must be a non-empty array of topic names')
    const mode = config.acknowledgementMode ?? 'implicit'
    if (mode !== 'implicit' && mode !== 'explicit')
      throw new ConfigError('acknowledgementMode', `must be 'implicit' or 'explicit', got ${String(mode)}`)
    this.groupId = config.groupId
    this.acknowledgementMode = mode
    this.#topics = [...new Set(config.topics)]
    this.#maxRecords = positiveInt(config.maxRecords, 'maxRecords', 500)
    const maxWait = nonNegativeInt(config.maxWait, 'maxWait', 500)
    const minBytes = nonNegativeInt(config.minBytes, 'minBytes', 1)
    const maxBytes = positiveInt(config.maxBytes, 'maxBytes', 52_428_800)
    this.#logger = safeLogger(config.logger ?? createDefaultLogger()).child({
      client: 'share-reader',
      groupId: config.groupId,
    })
    this.#client = new KafkaClient(config)
    const backoff: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...config.retry }
    const coordinator = new Coordinator(this.#client, config.groupId, backoff, this.#logger)
    this.#membership = new ShareMembership({
      client: this.#client,
      coordinator,
      groupId: config.groupId,
      topics: this.#topics,
      rack: config.rack ?? null,
      backoff,
      requestTimeout: this.#client.requestTimeoutMs,
      logger: this.#logger,
      wake: this.#wake,
      onFatal: (err) => {
        this.#failed = err
        this.#wake.notify()
      },
    })
    const onAcknowledged = config.onAcknowledged
    this.#fetcher = new ShareFetcher({
      client: this.#client,
      groupId: config.groupId,
      memberId: this.#membership.memberId,
      maxWait,
      minBytes,
      maxBytes,
      maxRecords: this.#maxRecords,
      requestTimeout: this.#client.requestTimeoutMs,
      backoff,
      logger: this.#logger,
      wake: this.#wake,
      onAcknowledged: (results) => {
        try {
          onAcknowledged?.(results)
        } catch (err) {
          this.#logger.error({ err }, 'onAcknowledged threw')
        }
      },
    })
  }

  /** The member id this reader heartbeats with (client-chosen, kept for its life). */
  get memberId(): string {
    return this.#membership.memberId
  }

  /**
   * The next records for this member: waits until some arrive (or `timeout` ms pass: then []),
   * joining the group on the first call. In implicit mode, records handed out before and not
   * acknowledged are accepted first; in explicit mode, such records make it throw.
   */
  async fetchMessages(options: { signal?: AbortSignal; timeout?: number } = {}): Promise<ShareMessage[]> {
    this.#check()
    if (this.#fetcher.heldCount > 0) {
      if (this.acknowledgementMode === 'explicit')
        throw new ShareReaderStateError(
          `${this.#fetcher.heldCount} records handed out are not acknowledged (acknowledgementMode 'explicit')`,
        )
      this.#fetcher.acknowledgeAllHeld(1)
    }
    await this.#start(options.signal)
    const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout
    const signals = [options.signal, this.#closing.signal]
    for (;;) {
      this.#check()
      if (this.#assignmentSeen !== this.#membership.assignmentVersion) {
        this.#assignmentSeen = this.#membership.assignmentVersion
        await this.#client.metadata.ensure(this.#topics, options.signal).catch((err: unknown) => {
          // The partitions are placed with the metadata at hand; a stale leader is found again later.
          this.#logger.warn({ err }, 'metadata refresh failed')
        })
        this.#fetcher.assign(this.#membership.assignment)
      }
      const taken = this.#fetcher.take(this.#maxRecords)
      if (taken.length > 0) return taken
      this.#fetcher.pump()
      const left = deadline - Date.now()
      if (left <= 0) return []
      // Woken by an answer, an assignment change, or (to re-place partitions after a leader move) a second.
      try {
        await this.#wake.wait(signals, Math.min(left, 1000), 'fetchMessages')
      } catch (err) {
        if (this.#closing.signal.aborted && !(options.signal?.aborted ?? false)) throw this.#closedError()
        throw err
      }
      if (this.#client.metadata.isStale) this.#assignmentSeen = -1
    }
  }

  /**
   * Records what was done with a record this reader handed out; sent with the next fetch to its
   * broker, or by commit()/close(). A record can be acknowledged once.
   */
  acknowledge(message: ShareMessage, type: AcknowledgeType = 'accept'): void {
    const id = ackTypeId(type)
    if (this.#closed !== null) throw this.#closedError()
    if (!this.#fetcher.holds(message))
      throw new ShareAcknowledgeError(
        `${message.topic}:${message.partition} offset ${message.offset} is not a record this reader holds (acknowledged already, or not delivered to it)`,
      )
    this.#fetcher.acknowledge(message, id)
  }

  /**
   * Sends the pending acknowledgements now (one ShareAcknowledge per broker) and returns, per
   * partition, whether the broker applied them. In implicit mode the records handed out are
   * accepted first.
   */
  async commit(): Promise<AcknowledgementResult[]> {
    this.#check()
    if (this.acknowledgementMode === 'implicit') this.#fetcher.acknowledgeAllHeld(1)
    return this.#fetcher.commit()
  }

  /**
   * Leaves the group: pending acknowledgements are sent (implicit mode: the records handed out
   * are accepted; explicit mode: the unacknowledged ones are released), each share session is
   * closed, and the member leaves with epoch -1. Records fetched and not handed out go back to
   * the group at once.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  async #close(): Promise<void> {
    this.#closing.abort()
    this.#wake.notify()
    this.#fetcher.acknowledgeAllHeld(this.acknowledgementMode === 'implicit' ? 1 : 2)
    try {
      const results = await this.#fetcher.close()
      const failed = results.filter((r) => r.error !== null)
      if (failed.length > 0)
        this.#logger.warn({ err: failed[0]!.error, partitions: failed.length }, 'acknowledgements at close not applied')
      await this.#membership.leave()
    } finally {
      await this.#client.close()
    }
  }

  stats(): ShareReaderStats {
    const c = this.#fetcher.counters
    return {
      groupId: this.groupId,
      memberId: this.#membership.memberId,
      memberEpoch: this.#membership.memberEpoch,
      joins: this.#membership.joins,
      assignment: this.#membership.assignment.map((p) => ({ topic: p.topic, partition: p.partition })),
      fetches: c.fetches,
      fetchErrors: c.fetchErrors,
      sessionResets: c.sessionResets,
      messages: c.messages,
      held: this.#fetcher.heldCount,
      buffered: this.#fetcher.bufferedCount,
      acknowledged: { ...c.acknowledged },
      acknowledgeErrors: c.acknowledgeErrors,
      acquisitionLockTimeoutMs: c.acquisitionLockTimeoutMs,
    }
  }

  /** Every record, one at a time; ends quietly when the reader closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<ShareMessage> {
    for (;;) {
      let batch: ShareMessage[]
      try {
        batch = await this.fetchMessages()
      } catch (err) {
        if (this.#closed !== null && err instanceof ShareReaderStateError) return
        throw err
      }
      yield* batch
    }
  }

  #start(signal: AbortSignal | undefined): Promise<void> {
    this.#started ??= (async () => {
      await this.#client.waitForTopics(this.#topics, this.#closing.signal)
      this.#membership.start()
    })()
    return raceAbort(this.#started, signal, 'fetchMessages')
  }

  #check(): void {
    if (this.#closed !== null) throw this.#closedError()
    if (this.#failed !== null)
      throw new ShareReaderStateError(`share group membership failed: ${this.#failed.message}`, { cause: this.#failed })
  }

  #closedError(): ShareReaderStateError {
    return new ShareReaderStateError('the ShareReader is closed')
  }
}

function positiveInt(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new ConfigError(name, `must be a positive integer, got ${value}`)
  return value
}

function nonNegativeInt(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 0)
    throw new ConfigError(name, `must be a non-negative integer, got ${value}`)
  return value
}
