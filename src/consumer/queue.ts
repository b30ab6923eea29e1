// The prefetch queue: fetch responses waiting for the application, one chunk per partition per
// response, handed out in arrival order (as kafka-go's single message channel does). It is
// bounded in bytes of memory: payload plus a measured per-message overhead (FetchResult.memory),
// so small messages cannot take ten times the capacity. The fetch loops stop fetching while it is
// full, which is the backpressure that reaches the brokers. Chunks of a partition that is revoked,
// paused or sought elsewhere are dropped at once, so nothing of it is handed out afterwards.

import type { PartitionCursor } from './cursor.js'
import type { FetchedMessage } from './fetch-result.js'
import { Notifier } from './wait.js'

interface Chunk {
  cursor: PartitionCursor
  /** cursor.epoch when fetched: a seek since then makes the chunk stale. */
  epoch: number
  messages: FetchedMessage[]
  index: number
  bytes: number
  /** Where the partition's position goes once every message of the chunk is handed out. */
  nextOffset: bigint
  /** The leader epoch of the chunk's last batch (the position's epoch once it is handed out); -1 if unknown. */
  lastEpoch: number
  /** Delivered instead of messages: a failure of this partition the application must see. */
  error: Error | null
  /** The error stays at the front, raised by every read, until the partition's chunks are dropped. */
  sticky: boolean
}

/** Messages of one partition from one fetch response. */
export interface MessageBatch {
  topic: string
  partition: number
  messages: FetchedMessage[]
  /** The partition's high watermark when the batch was fetched. */
  highWatermark: bigint
}

export class MessageQueue {
  readonly capacityBytes: number
  /** Notified when messages (or an error) arrive. */
  readonly readable = new Notifier()
  /** Notified when bytes are released. */
  readonly space = new Notifier()
  #chunks: Chunk[] = []
  #head = 0
  #bytes = 0
  #length = 0

  /** Called after skip() moved a partition's position past records never handed out. */
  onSkip: ((cursor: PartitionCursor) => void) | null = null

  constructor(capacityBytes: number) {
    this.capacityBytes = capacityBytes
  }

  /**
   * Moves the position from `from` to `to` past records the application never gets (a fetch of
   * only control records or aborted data), recording the stretch on the cursor (consecutive ones
   * join) when the position was at `from`.
   */
  skip(cursor: PartitionCursor, from: bigint, to: bigint, epoch: number): void {
    if (to <= cursor.position) return
    if (from !== cursor.position || from < 0n) {
      cursor.skippedFrom = cursor.skippedTo = -1n
    } else {
      if (cursor.skippedTo !== from) cursor.skippedFrom = from
      cursor.skippedTo = to
    }
    cursor.position = to
    if (epoch >= 0) cursor.positionEpoch = epoch
    if (cursor.skippedTo === to) this.onSkip?.(cursor)
  }

  /** Memory taken by the messages waiting (what capacityBytes bounds). */
  get bytes(): number {
    return this.#bytes
  }

  /** Messages waiting. */
  get length(): number {
    return this.#length
  }

  get full(): boolean {
    return this.#bytes >= this.capacityBytes
  }

  /** Room left before the queue is full (0 when full). */
  get room(): number {
    return Math.max(0, this.capacityBytes - this.#bytes)
  }

  push(cursor: PartitionCursor, messages: FetchedMessage[], bytes: number, nextOffset: bigint, lastEpoch = -1): void {
    this.#append({
      cursor,
      epoch: cursor.epoch,
      messages,
      index: 0,
      bytes,
      nextOffset,
      lastEpoch,
      error: null,
      sticky: false,
    })
    this.#bytes += bytes
    this.#length += messages.length
  }

  /**
   * Queues an error for the application, in order after the partition's messages. A sticky one
   * is raised by every read from then on (Java rethrows from every poll() until the position
   * moves), which blocks the other partitions too, until a seek, pause or revocation drops the
   * partition's chunks; otherwise it is raised once and reading goes on.
   */
  pushError(cursor: PartitionCursor, error: Error, sticky: boolean): void {
    this.#append({
      cursor,
      epoch: cursor.epoch,
      messages: [],
      index: 0,
      bytes: 0,
      nextOffset: -1n,
      lastEpoch: -1,
      error,
      sticky,
    })
  }

  #append(chunk: Chunk): void {
    chunk.cursor.queuedChunks++
    this.#chunks.push(chunk)
    this.readable.notify()
  }

  /**
   * The next message, advancing its partition's position; undefined when none is waiting.
   * Throws a queued partition error (see pushError).
   */
  shift(): FetchedMessage | undefined {
    for (;;) {
      const chunk = this.#front()
      if (chunk === undefined) return undefined
      if (chunk.error !== null) {
        if (!chunk.sticky) this.#finish(chunk)
        throw chunk.error
      }
      const message = chunk.messages[chunk.index++]
      if (message !== undefined) {
        this.#length--
        chunk.cursor.position = message.offset + 1n
        chunk.cursor.positionEpoch = message.leaderEpoch
      }
      if (chunk.index >= chunk.messages.length) this.#finish(chunk)
      if (message !== undefined) return message
    }
  }

  /** Every remaining message of the next chunk (one partition); undefined when none is waiting. */
  shiftBatch(): MessageBatch | undefined {
    for (;;) {
      const chunk = this.#front()
      if (chunk === undefined) return undefined
      if (chunk.error !== null) {
        if (!chunk.sticky) this.#finish(chunk)
        throw chunk.error
      }
      const messages = chunk.index === 0 ? chunk.messages : chunk.messages.slice(chunk.index)
      this.#length -= messages.length
      chunk.index = chunk.messages.length
      this.#finish(chunk)
      if (messages.length > 0) {
        const cursor = chunk.cursor
        return { topic: cursor.topic, partition: cursor.partition, messages, highWatermark: cursor.highWatermark }
      }
    }
  }

  /**
   * True when the next message handed out starts a chunk (or none is waiting): the last one
   * handed out ended its fetched batch. The for-await loop commits at such boundaries.
   */
  get atChunkStart(): boolean {
    const chunk = this.#front()
    return chunk === undefined || chunk.index === 0
  }

  /** Drops every waiting chunk of a partition (revoked, paused, sought). */
  drop(cursor: PartitionCursor): void {
    if (cursor.queuedChunks === 0) return
    const kept: Chunk[] = []
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i]!
      if (chunk.cursor === cursor) this.#release(chunk)
      else kept.push(chunk)
    }
    this.#chunks = kept
    this.#head = 0
    cursor.queuedChunks = 0
    this.space.notify()
  }

  /** Drops everything (close). */
  clear(): void {
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i]!
      this.#release(chunk)
      chunk.cursor.queuedChunks = 0
    }
    this.#chunks = []
    this.#head = 0
    this.space.notify()
  }

  /** The first chunk that is still current, dropping stale ones on the way. */
  #front(): Chunk | undefined {
    while (this.#head < this.#chunks.length) {
      const chunk = this.#chunks[this.#head]!
      const cursor = chunk.cursor
      if (!cursor.removed && chunk.epoch === cursor.epoch) return chunk
      this.#release(chunk)
      cursor.queuedChunks--
      this.#advance()
      this.space.notify()
    }
    return undefined
  }

  #finish(chunk: Chunk): void {
    const cursor = chunk.cursor
    // Control records and aborted transactions after the last message move the position too
    // (the last message's nextOffset covers them); a chunk of only those is a skip.
    if (chunk.error === null && chunk.messages.length === 0) {
      this.skip(cursor, cursor.position, chunk.nextOffset, chunk.lastEpoch)
    } else if (chunk.error === null) {
      if (chunk.nextOffset > cursor.position) cursor.position = chunk.nextOffset
      if (chunk.lastEpoch >= 0) cursor.positionEpoch = chunk.lastEpoch
    }
    this.#bytes -= chunk.bytes
    cursor.queuedChunks--
    this.#advance()
    this.space.notify()
  }

  #release(chunk: Chunk): void {
    this.#bytes -= chunk.bytes
    this.#length -= chunk.messages.length - chunk.index
  }

  #advance(): void {
    this.#chunks[this.#head] = undefined as unknown as Chunk
    this.#head++
    if (this.#head === this.#chunks.length) {
      this.#chunks = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
  }
}
