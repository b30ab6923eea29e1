// The ShareReader's fetching and acknowledging: one share session per partition leader
// (share-session.ts), at most one request in flight on each, and a new ShareFetch to a broker
// only once what its last one delivered has been handed out (the records are locked for this
// member while they wait, so fetching ahead only burns their acquisition locks). Pending
// acknowledgements ride on the next ShareFetch to the broker that delivered the records, as
// Java's share consumer does; `commit()` sends them at once with ShareAcknowledge, and `close()`
// with the session-closing ShareAcknowledge (epoch -1), after which the broker releases whatever
// the member still holds.

import type { KafkaClient } from '../cluster/client.js'
import { backoffDelay, type RetryPolicy } from '../cluster/retry.js'
import { KafkaError } from '../errors.js'
import type { Logger } from '../logger.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { ShareAcknowledge, ShareFetch } from '../protocol/messages/index.js'
import { decodeRecordBatchWith, splitBatches, type RecordBatchHeader } from '../protocol/record-batch.js'
import { sleepQuietly, type Notifier } from '../consumer/wait.js'
import { ACK_TYPE_ID, PartitionAcks, offsetsIn, type AckTypeId, type AcknowledgementBatch } from './acknowledgements.js'
import type { AcknowledgementResult, ShareMessage } from './share-message.js'
import type { SharePartition } from './share-membership.js'
import { FINAL_EPOCH, ShareSession, partitionKey } from './share-session.js'

export interface ShareFetcherOptions {
  client: KafkaClient
  groupId: string
  memberId: string
  maxWait: number
  minBytes: number
  maxBytes: number
  maxRecords: number
  requestTimeout: number
  backoff: RetryPolicy
  logger: Logger
  /** Notified when an answer arrives. */
  wake: Notifier
  /** Results of acknowledgements that rode on a ShareFetch (commit() returns its own). */
  onAcknowledged: (results: AcknowledgementResult[]) => void
}

export interface ShareFetcherCounters {
  fetches: number
  fetchErrors: number
  sessionResets: number
  messages: number
  acknowledged: { accept: number; release: number; reject: number; gap: number }
  acknowledgeErrors: number
  acquisitionLockTimeoutMs: number
}

interface Pending {
  part: SharePartition
  acks: PartitionAcks
}

/** A record handed out and not acknowledged yet: which session delivered it. */
interface Held {
  nodeId: number
  part: SharePartition
}

const TYPE_NAMES = ['gap', 'accept', 'release', 'reject'] as const

export class ShareFetcher {
  readonly #o: ShareFetcherOptions
  readonly #sessions = new Map<number, ShareSession>()
  /** Pending acknowledgements per broker, per partition key. */
  readonly #pending = new Map<number, Map<string, Pending>>()
  readonly #held = new Map<string, Held>()
  readonly #wanted = new Map<number, Map<string, SharePartition>>()
  readonly counters: ShareFetcherCounters = {
    fetches: 0,
    fetchErrors: 0,
    sessionResets: 0,
    messages: 0,
    acknowledged: { accept: 0, release: 0, reject: 0, gap: 0 },
    acknowledgeErrors: 0,
    acquisitionLockTimeoutMs: 0,
  }
  #failures = 0
  #closing = false
  readonly #stop = new AbortController()

  constructor(options: ShareFetcherOptions) {
    this.#o = options
  }

  get heldCount(): number {
    return this.#held.size
  }

  get bufferedCount(): number {
    let n = 0
    for (const s of this.#sessions.values()) n += s.buffered.length
    return n
  }

  /** Sets the partitions to fetch (the membership's assignment), grouped by their leaders. */
  assign(assignment: readonly SharePartition[]): void {
    this.#wanted.clear()
    const metadata = this.#o.client.metadata
    let missingLeader = false
    for (const part of assignment) {
      const leader = metadata.partition(part.topic, part.partition)?.leader ?? -1
      if (leader < 0) {
        missingLeader = true
        continue
      }
      let m = this.#wanted.get(leader)
      if (m === undefined) this.#wanted.set(leader, (m = new Map()))
      m.set(partitionKey(part.topic, part.partition), part)
    }
    if (missingLeader) metadata.markStale()
  }

  /** Up to `max` buffered records, now held by the application until acknowledged. */
  take(max: number): ShareMessage[] {
    const out: ShareMessage[] = []
    for (const session of this.#sessions.values()) {
      while (out.length < max && session.buffered.length > 0) {
        const m = session.buffered.shift()!
        this.#held.set(heldKey(m), {
          nodeId: session.nodeId,
          part: { topic: m.topic, partition: m.partition, topicId: this.#topicId(session, m) },
        })
        out.push(m)
      }
    }
    return out
  }

  /** Whether `message` is handed out and not acknowledged. */
  holds(message: ShareMessage): boolean {
    return this.#held.has(heldKey(message))
  }

  /** Records an acknowledgement of a held record; sent with the next request to its broker. */
  acknowledge(message: ShareMessage, type: AckTypeId): void {
    const key = heldKey(message)
    const held = this.#held.get(key)!
    this.#held.delete(key)
    this.#addPending(held.nodeId, held.part, message.offset, type)
  }

  /** Acknowledges every held record with `type` (implicit mode, close). */
  acknowledgeAllHeld(type: AckTypeId): number {
    const n = this.#held.size
    for (const [key, held] of this.#held) {
      const offset = BigInt(key.slice(key.lastIndexOf(':') + 1))
      this.#addPending(held.nodeId, held.part, offset, type)
    }
    this.#held.clear()
    return n
  }

  /** Starts a ShareFetch on each broker that has partitions and nothing buffered or in flight. */
  pump(): void {
    if (this.#closing) return
    const nodes = new Set<number>([...this.#wanted.keys(), ...this.#pending.keys()])
    for (const [nodeId, session] of this.#sessions)
      if (session.epoch !== 0 && session.inSession.size > 0) nodes.add(nodeId)
    for (const nodeId of nodes) {
      const session = this.#session(nodeId)
      if (session.inFlight || session.buffered.length > 0) continue
      const wanted = this.#wanted.get(nodeId) ?? new Map<string, SharePartition>()
      // A session whose partitions all moved away: one more request forgets them (and carries acks).
      if (wanted.size === 0 && session.inSession.size === 0) {
        // Nothing to fetch there any more, but acknowledgements still owed to it: send them alone.
        if (session.epoch !== 0 && (this.#pending.get(nodeId)?.size ?? 0) > 0) {
          session.inFlight = true
          void session
            .serial(() => this.#acknowledge(session, false))
            .then((results) => results.length > 0 && this.#o.onAcknowledged(results))
            .finally(() => {
              session.inFlight = false
              this.#o.wake.notify()
            })
        }
        continue
      }
      session.inFlight = true
      void session
        .serial(() => this.#fetch(session, wanted))
        .finally(() => {
          session.inFlight = false
          this.#o.wake.notify()
        })
    }
  }

  /** Sends every pending acknowledgement now (ShareAcknowledge per broker); their results. */
  async commit(): Promise<AcknowledgementResult[]> {
    const nodes = [...this.#pending.keys()].filter((n) => (this.#pending.get(n)?.size ?? 0) > 0)
    const results = await Promise.all(
      nodes.map((nodeId) => {
        const session = this.#session(nodeId)
        return session.serial(() => this.#acknowledge(session, false))
      }),
    )
    return results.flat()
  }

  /** Closes every session (ShareAcknowledge, epoch -1) with the acknowledgements still pending. */
  async close(): Promise<AcknowledgementResult[]> {
    this.#closing = true
    this.#stop.abort()
    const results = await Promise.all(
      [...this.#sessions.values()].map((session) => session.serial(() => this.#acknowledge(session, true))),
    )
    return results.flat()
  }

  #session(nodeId: number): ShareSession {
    let s = this.#sessions.get(nodeId)
    if (s === undefined) this.#sessions.set(nodeId, (s = new ShareSession(nodeId)))
    return s
  }

  #topicId(session: ShareSession, m: ShareMessage): string {
    return (
      session.inSession.get(partitionKey(m.topic, m.partition))?.topicId ??
      this.#o.client.metadata.topic(m.topic)?.topicId ??
      ''
    )
  }

  #addPending(nodeId: number, part: SharePartition, offset: bigint, type: AckTypeId): void {
    let byPartition = this.#pending.get(nodeId)
    if (byPartition === undefined) this.#pending.set(nodeId, (byPartition = new Map()))
    const key = partitionKey(part.topic, part.partition)
    let p = byPartition.get(key)
    if (p === undefined) byPartition.set(key, (p = { part, acks: new PartitionAcks() }))
    p.acks.add(offset, type)
  }

  /** The pending acknowledgements of a broker, taken out as batches. */
  #drainPending(nodeId: number): Map<string, { part: SharePartition; batches: AcknowledgementBatch[] }> {
    const out = new Map<string, { part: SharePartition; batches: AcknowledgementBatch[] }>()
    const byPartition = this.#pending.get(nodeId)
    if (byPartition === undefined) return out
    for (const [key, p] of byPartition) if (p.acks.size > 0) out.set(key, { part: p.part, batches: p.acks.drain() })
    this.#pending.delete(nodeId)
    return out
  }

  async #fetch(session: ShareSession, wanted: Map<string, SharePartition>): Promise<void> {
    const o = this.#o
    // Kafka refuses acknowledgements on an opening request: if the session is new, they wait
    // for the next one, and the broker says per partition whether they still apply.
    const acks = session.epoch === 0 ? new Map() : this.#drainPending(session.nodeId)
    const { topics, forgotten } = session.plan(wanted, acks)
    const epoch = session.epoch
    this.counters.fetches++
    let response
    try {
      response = await o.client.request(
        session.nodeId,
        ShareFetch,
        {
          groupId: o.groupId,
          memberId: o.memberId,
          shareSessionEpoch: epoch,
          maxWaitMs: o.maxWait,
          minBytes: o.minBytes,
          maxBytes: o.maxBytes,
          maxRecords: o.maxRecords,
          batchSize: o.maxRecords,
          topics,
          forgottenTopicsData: forgotten,
        },
        { workload: 'fetch', timeoutMs: o.requestTimeout + o.maxWait, signal: this.#stop.signal },
      )
    } catch (err) {
      if (this.#stop.signal.aborted) return
      // The request may or may not have reached the broker: the session is in doubt, start over.
      this.#sessionLost(session, acks, err as Error, 'ShareFetch failed')
      await this.#backoff()
      return
    }
    if (response.acquisitionLockTimeoutMs > 0)
      this.counters.acquisitionLockTimeoutMs = response.acquisitionLockTimeoutMs
    if (response.errorCode !== ErrorCode.NONE) {
      const err = KafkaError.fromCode(response.errorCode, {
        apiName: 'ShareFetch',
        broker: session.nodeId,
        groupId: o.groupId,
        errorMessage: response.errorMessage,
      })
      this.#sessionLost(session, acks, err, 'ShareFetch refused')
      await this.#backoff()
      return
    }
    session.applied(wanted)
    this.#failures = 0
    const results: AcknowledgementResult[] = []
    const names = new Map<string, string>()
    for (const part of [...wanted.values(), ...acks.values()].map((x) => ('part' in x ? x.part : x)))
      names.set(part.topicId, part.topic)
    for (const t of response.responses) {
      const topic = names.get(t.topicId)
      if (topic === undefined) continue
      for (const p of t.partitions) {
        const key = partitionKey(topic, p.partitionIndex)
        const sent = acks.get(key)
        if (sent !== undefined) {
          results.push(
            this.#ackResult(
              topic,
              p.partitionIndex,
              sent.batches,
              p.acknowledgeErrorCode,
              p.acknowledgeErrorMessage,
              session.nodeId,
            ),
          )
          acks.delete(key)
        }
        if (p.errorCode !== ErrorCode.NONE) {
          const err = KafkaError.fromCode(p.errorCode, {
            apiName: 'ShareFetch',
            broker: session.nodeId,
            topic,
            partition: p.partitionIndex,
            errorMessage: p.errorMessage,
          })
          this.counters.fetchErrors++
          if (err.staleMetadata) o.client.metadata.markStale()
          o.logger.warn({ err }, 'share fetch partition error')
          continue
        }
        await this.#deliver(session, topic, p.partitionIndex, p.records, p.acquiredRecords)
      }
    }
    // Acknowledged partitions the answer did not mention: applied (Kafka answers only partitions with news).
    for (const [key, sent] of acks) {
      void key
      results.push(this.#ackResult(sent.part.topic, sent.part.partition, sent.batches, 0, null, session.nodeId))
    }
    if (results.length > 0) o.onAcknowledged(results)
  }

  async #acknowledge(session: ShareSession, closing: boolean): Promise<AcknowledgementResult[]> {
    const o = this.#o
    const acks = this.#drainPending(session.nodeId)
    if (session.epoch === 0) {
      // Nothing open to acknowledge on: the records were released when the session was lost.
      return this.#failAcks(acks, ErrorCode.SHARE_SESSION_NOT_FOUND, session.nodeId)
    }
    if (!closing && acks.size === 0) return []
    const { topics } = session.plan(new Map(session.inSession), acks)
    let response
    try {
      response = await o.client.request(
        session.nodeId,
        ShareAcknowledge,
        { groupId: o.groupId, memberId: o.memberId, shareSessionEpoch: closing ? FINAL_EPOCH : session.epoch, topics },
        { workload: 'fetch', timeoutMs: o.requestTimeout },
      )
    } catch (err) {
      session.reset()
      this.counters.sessionResets++
      o.logger.warn(
        { err, broker: session.nodeId },
        'ShareAcknowledge failed; the records come back when their locks run out',
      )
      return this.#failAcks(acks, ErrorCode.UNKNOWN_SERVER_ERROR, session.nodeId, err)
    }
    if (closing) session.reset()
    if (response.errorCode !== ErrorCode.NONE) {
      if (!closing) session.reset()
      return this.#failAcks(acks, response.errorCode, session.nodeId, undefined, response.errorMessage)
    }
    if (!closing) session.advance()
    const results: AcknowledgementResult[] = []
    for (const t of response.responses) {
      for (const p of t.partitions) {
        const entry = [...acks.entries()].find(
          ([, a]) => a.part.topicId === t.topicId && a.part.partition === p.partitionIndex,
        )
        if (entry === undefined) continue
        acks.delete(entry[0])
        results.push(
          this.#ackResult(
            entry[1].part.topic,
            p.partitionIndex,
            entry[1].batches,
            p.errorCode,
            p.errorMessage,
            session.nodeId,
          ),
        )
      }
    }
    for (const sent of acks.values())
      results.push(this.#ackResult(sent.part.topic, sent.part.partition, sent.batches, 0, null, session.nodeId))
    return results
  }

  #ackResult(
    topic: string,
    partition: number,
    batches: AcknowledgementBatch[],
    code: number,
    message: string | null,
    broker: number,
  ): AcknowledgementResult {
    const offsets = offsetsIn(batches)
    if (code !== ErrorCode.NONE) {
      this.counters.acknowledgeErrors += offsets
      const error = KafkaError.fromCode(code, {
        apiName: 'ShareAcknowledge',
        topic,
        partition,
        broker,
        errorMessage: message,
      })
      this.#o.logger.warn(
        { err: error, offsets },
        'acknowledgements refused; the records come back when their locks run out',
      )
      return { topic, partition, offsets, error }
    }
    for (const b of batches) {
      const n = Number(b.lastOffset - b.firstOffset) + 1
      const name = TYPE_NAMES[b.acknowledgeTypes[0] ?? 0] ?? 'gap'
      this.counters.acknowledged[name] += n
    }
    return { topic, partition, offsets, error: null }
  }

  #failAcks(
    acks: Map<string, { part: SharePartition; batches: AcknowledgementBatch[] }>,
    code: number,
    broker: number,
    cause?: unknown,
    message: string | null = null,
  ): AcknowledgementResult[] {
    const results: AcknowledgementResult[] = []
    for (const sent of acks.values()) {
      const offsets = offsetsIn(sent.batches)
      this.counters.acknowledgeErrors += offsets
      const error = KafkaError.fromCode(code, {
        apiName: 'ShareAcknowledge',
        topic: sent.part.topic,
        partition: sent.part.partition,
        broker,
        errorMessage: message,
        cause,
      })
      results.push({ topic: sent.part.topic, partition: sent.part.partition, offsets, error })
    }
    if (results.length > 0)
      this.#o.logger.warn(
        { err: results[0]!.error, partitions: results.length },
        'acknowledgements not applied; the records come back when their locks run out',
      )
    return results
  }

  #sessionLost(
    session: ShareSession,
    acks: Map<string, { part: SharePartition; batches: AcknowledgementBatch[] }>,
    err: Error,
    what: string,
  ): void {
    this.counters.fetchErrors++
    this.counters.sessionResets++
    session.reset()
    this.#o.client.metadata.markStale()
    this.#o.logger.warn({ err, broker: session.nodeId }, `${what}; opening a new share session`)
    const failed = this.#failAcks(
      acks,
      err instanceof KafkaError ? err.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR,
      session.nodeId,
      err,
    )
    if (failed.length > 0) this.#o.onAcknowledged(failed)
  }

  async #backoff(): Promise<void> {
    this.#failures++
    await sleepQuietly(backoffDelay(this.#o.backoff, this.#failures), this.#stop.signal)
  }

  /** The records of one partition's answer that lie in its acquired ranges, buffered for handing out. */
  async #deliver(
    session: ShareSession,
    topic: string,
    partition: number,
    records: Buffer | null,
    acquired: readonly { firstOffset: bigint; lastOffset: bigint; deliveryCount: number }[],
  ): Promise<void> {
    if (acquired.length === 0) return
    const part: SharePartition = {
      topic,
      partition,
      topicId: session.inSession.get(partitionKey(topic, partition))?.topicId ?? '',
    }
    const deliveryCountOf = (offset: bigint): number => {
      for (const r of acquired) if (offset >= r.firstOffset && offset <= r.lastOffset) return r.deliveryCount
      return 0
    }
    const seen = new Set<bigint>()
    const out: ShareMessage[] = []
    for (const batch of records === null ? [] : splitBatches(records)) {
      let decoded
      try {
        decoded = await decodeRecordBatchWith(
          batch,
          undefined,
          (header: RecordBatchHeader, offset, tsDelta, key, value, headers) => ({
            offset,
            control: header.isControl,
            timestamp:
              header.timestampType === 'log-append'
                ? Number(header.maxTimestamp)
                : Number(header.baseTimestamp) + tsDelta,
            key,
            value,
            headers,
          }),
        )
      } catch (err) {
        // Java rejects records it cannot parse; they are never delivered anyway.
        this.#o.logger.error(
          { err, topic, partition },
          'share fetch: a record batch does not decode; rejecting its acquired records',
        )
        const header = batch.length >= 61 ? batch.readBigInt64BE(0) : null
        if (header !== null) {
          const last = header + BigInt(batch.readInt32BE(23))
          for (let o = header; o <= last; o++) {
            if (deliveryCountOf(o) > 0) {
              seen.add(o)
              this.#addPending(session.nodeId, part, o, ACK_TYPE_ID.reject)
            }
          }
        }
        continue
      }
      for (const r of decoded.records) {
        const deliveryCount = deliveryCountOf(r.offset)
        if (deliveryCount === 0 || seen.has(r.offset)) continue
        seen.add(r.offset)
        if (r.control) {
          this.#addPending(session.nodeId, part, r.offset, ACK_TYPE_ID.gap)
          continue
        }
        out.push({
          topic,
          partition,
          offset: r.offset,
          key: r.key,
          value: r.value,
          headers: r.headers,
          timestamp: r.timestamp,
          deliveryCount,
        })
      }
    }
    this.counters.messages += out.length
    for (const m of out) session.buffered.push(m)
  }
}

function heldKey(m: { topic: string; partition: number; offset: bigint }): string {
  return `${m.topic}:${m.partition}:${m.offset}`
}
