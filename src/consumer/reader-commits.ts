// What the Reader marks and commits for the application: commitMessages, readMessage's mark,
// run()'s marks after a handler, and the iterators' auto-commit (with the message messages()
// holds back). The ordered commit pipeline itself is commits.ts; this is the Reader's side of it.

import type { Logger } from '../logger.js'
import type { Message } from '../message.js'
import { ClosedError } from '../net/errors.js'
import { highestPerPartition, pastSkipped, withMetadata } from './commit-offsets.js'
import type { CommitMetadata, CommitOffset, OffsetCommitter } from './commits.js'
import { CommitRejectedError, ReaderStateError } from './errors.js'
import type { FetchedMessage } from './fetch-result.js'
import type { Fetcher } from './fetcher.js'
import type { HandOuts } from './handout.js'
import type { MessageQueue } from './queue.js'
import type { ReaderState } from './reader-reads.js'

export interface ReaderCommitsParts {
  /** null for a direct Reader (no group, nothing to commit). */
  committer: OffsetCommitter | null
  handOuts: HandOuts | null
  fetcher: Fetcher
  queue: MessageQueue
  commitInterval: number
  log: Logger
  state: () => ReaderState
}

export class ReaderCommits {
  readonly #p: ReaderCommitsParts
  /** messages(): the last message the loop processed, not marked yet (see iteratedOne). */
  #unmarked: FetchedMessage | null = null

  constructor(parts: ReaderCommitsParts) {
    this.#p = parts
  }

  /** commitMessages (see its comment in reader.ts). */
  async commit(
    messages: readonly Message[],
    options: { signal?: AbortSignal; allowRewind?: boolean; metadata?: CommitMetadata },
  ): Promise<void> {
    const committer = this.#p.committer
    if (committer === null)
      throw new ReaderStateError('commitMessages needs a consumer group (groupId); a direct Reader does not commit')
    // Allowed while closing: onRevoke runs then and may commit (as Java's commitSync in onPartitionsRevoked).
    if (this.#p.state() === 'closed') throw new ClosedError('Reader')
    this.markUnmarked()
    const offsets = withMetadata(this.#commitOffsets(messages), options.metadata)
    if (offsets.length === 0) return
    this.#p.handOuts?.committed(offsets)
    const allowRewind = options.allowRewind === true
    if (this.#p.commitInterval > 0) committer.mark(offsets, { allowRewind })
    else await committer.commit(offsets, { signal: options.signal, allowRewind })
  }

  /** readMessage: the message is marked as read before it is returned. */
  async markRead(messages: FetchedMessage[], signal: AbortSignal | undefined): Promise<void> {
    this.markUnmarked()
    const offsets = this.#commitOffsets(messages)
    if (offsets.length === 0 || this.#p.committer === null) return
    this.#p.handOuts?.committed(offsets)
    if (this.#p.commitInterval > 0) this.#p.committer.mark(offsets)
    else await this.#p.committer.commit(offsets, { signal })
  }

  /** Commits what is marked now (periodic mode) and waits for it. */
  async flush(options: { signal?: AbortSignal }): Promise<void> {
    await this.#p.committer?.flush(options)
  }

  /** run(): a batch's handler finished: mark it for commit (autoCommit), or only end its hand-out. */
  async processed(messages: FetchedMessage[], autoCommit: boolean): Promise<void> {
    const offsets = this.#commitOffsets(messages)
    this.#p.handOuts?.committed(offsets)
    const committer = this.#p.committer
    if (!autoCommit || committer === null) return
    try {
      committer.mark(offsets)
    } catch (err) {
      if (!(err instanceof CommitRejectedError)) throw err
      this.#p.log.info({ err }, 'a processed batch was not marked for commit')
      return
    }
    if (this.#p.commitInterval === 0) await committer.flush({}).catch(() => {})
  }

  /**
   * The loop asked for the next item, so these were processed: mark them. With commitInterval 0
   * the marks are committed when a fetched batch is used up or the loop would wait (and by
   * return() and close()), not once per message: one OffsetCommit per batch (review W3).
   */
  iterated(messages: FetchedMessage[], signal: AbortSignal | undefined): Promise<void> | null {
    const committer = this.#p.committer
    if (committer === null) return null
    if (!this.#markProcessed(committer, messages)) return null
    if (this.#p.commitInterval > 0 || !this.#p.queue.atChunkStart) return null
    // Failures stay marked and go with the next commit; close() commits what is left.
    return committer.flush({ signal }).catch(() => {})
  }

  /**
   * messages() moved past `message`: it was processed. Marking each message on its own would
   * cost a commit entry per message, so the last one processed is held back (#unmarked) and
   * marked when the loop moves to another partition or ownership, at a fetched batch's end with
   * commitInterval 0 (then committed, as iterated does), and before anything else touches the
   * commits: every flush (periodic, rebalance, close: the committer's beforeFlush), and
   * commitMessages, readMessage and seek, so they see the marks in the order they were made.
   */
  iteratedOne(message: FetchedMessage, signal: AbortSignal | undefined): Promise<void> | null {
    const committer = this.#p.committer
    if (committer === null) return null
    const held = this.#unmarked
    if (
      held !== null &&
      (held.partition !== message.partition || held.topic !== message.topic || held.assignment !== message.assignment)
    )
      this.markUnmarked()
    this.#unmarked = message
    if (this.#p.commitInterval > 0 || !this.#p.queue.atChunkStart) return null
    this.markUnmarked()
    // Failures stay marked and go with the next commit; close() commits what is left.
    return committer.flush({ signal }).catch(() => {})
  }

  /** Marks the message messages() held back (see iteratedOne). */
  markUnmarked(): void {
    const message = this.#unmarked
    if (message === null) return
    this.#unmarked = null
    const committer = this.#p.committer
    if (committer === null) return
    this.#markProcessed(committer, [message])
  }

  /**
   * Marks what the loop processed; false when the committer refused it: revoked, fenced or
   * sought back meanwhile, the partition's owner reads it again and the loop goes on (Java's
   * auto-commit logs such failures the same way).
   */
  #markProcessed(committer: OffsetCommitter, messages: readonly FetchedMessage[]): boolean {
    const offsets = this.#commitOffsets(messages)
    this.#p.handOuts?.committed(offsets)
    try {
      committer.mark(offsets)
      return true
    } catch (err) {
      if (!(err instanceof CommitRejectedError)) throw err
      this.#p.log.info({ err }, 'a processed message was not marked for commit')
      return false
    }
  }

  /** What committing these messages records: past what follows them and is never handed out. */
  #commitOffsets(messages: readonly Message[]): CommitOffset[] {
    return pastSkipped(highestPerPartition(messages), (topic, partition) => this.#p.fetcher.cursor(topic, partition))
  }
}
