// Share group membership (KIP-932, Java's ShareMembershipManager): ShareGroupHeartbeat to the
// group coordinator on the interval it sets. The coordinator assigns partitions; unlike a
// consumer group a share group's partitions are not owned exclusively (many members may read one
// partition, the broker hands each record to one of them), so an assignment is simply adopted:
// there is nothing to give up or acknowledge before the next heartbeat.
//
//   join (epoch 0, subscription) ─► heartbeats (epoch) ─► leave (epoch -1)
//
// FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID: the member lost its place; it forgets its assignment
// and joins again with epoch 0 (same member id, as Java). Coordinator errors move the coordinator;
// retriable errors back off; anything else is fatal and reported through `onFatal`.

import { randomUUID } from 'node:crypto'
import type { KafkaClient } from '../cluster/client.js'
import { backoffDelay, type RetryPolicy } from '../cluster/retry.js'
import { KafkaError, isRetriable } from '../errors.js'
import type { Logger } from '../logger.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { ShareGroupHeartbeat } from '../protocol/messages/index.js'
import type { Coordinator } from '../consumer/coordinator.js'
import { sleepQuietly, type Notifier } from '../consumer/wait.js'

export interface ShareMembershipOptions {
  client: KafkaClient
  coordinator: Coordinator
  groupId: string
  topics: readonly string[]
  rack: string | null
  backoff: RetryPolicy
  requestTimeout: number
  logger: Logger
  /** Notified when the assignment changes. */
  wake: Notifier
  /** A heartbeat error no retry can fix (authorization, group id in use by another group type, ...). */
  onFatal: (err: Error) => void
}

/** A partition by topic name. */
export interface SharePartition {
  topic: string
  topicId: string
  partition: number
}

const LEAVE = -1

export class ShareMembership {
  /** Chosen by the client (ShareGroupHeartbeat v1) and kept for the reader's life. */
  readonly memberId = randomUUID()
  memberEpoch = 0
  /** Partitions assigned now (by `topic:partition`). */
  assignment: SharePartition[] = []
  /** Bumped each time the assignment changes. */
  assignmentVersion = 0
  joins = 0

  readonly #o: ShareMembershipOptions
  readonly #stop = new AbortController()
  #loop: Promise<void> | null = null
  #interval = 5000
  #failures = 0
  #sendSubscription = true

  constructor(options: ShareMembershipOptions) {
    this.#o = options
  }

  start(): void {
    this.#loop ??= this.#run()
  }

  /** Stops heartbeating and leaves the group (epoch -1), within the request timeout. */
  async leave(): Promise<void> {
    this.#stop.abort()
    await this.#loop?.catch(() => {})
    if (this.memberEpoch <= 0 && this.joins === 0) return
    try {
      const response = await this.#o.coordinator.send(
        ShareGroupHeartbeat,
        { groupId: this.#o.groupId, memberId: this.memberId, memberEpoch: LEAVE },
        { timeoutMs: this.#o.requestTimeout },
      )
      if (response.errorCode !== ErrorCode.NONE && response.errorCode !== ErrorCode.UNKNOWN_MEMBER_ID) {
        this.#o.logger.warn(
          { err: KafkaError.fromCode(response.errorCode, this.#context(response.errorMessage)) },
          'share group leave failed; the coordinator removes the member after its session timeout',
        )
      }
    } catch (err) {
      this.#o.logger.warn(
        { err },
        'share group leave failed; the coordinator removes the member after its session timeout',
      )
    }
    this.assignment = []
    this.assignmentVersion++
    this.#o.wake.notify()
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal
    while (!stop.aborted) {
      let delay = this.#interval
      try {
        await this.#heartbeat()
        this.#failures = 0
      } catch (err) {
        if (stop.aborted) return
        if (!isRetriable(err) && !(err instanceof KafkaError && err.errorCode === ErrorCode.FENCED_MEMBER_EPOCH)) {
          this.#o.logger.error({ err }, 'share group heartbeat failed for good')
          this.#o.onFatal(err as Error)
          return
        }
        this.#failures++
        delay = backoffDelay(this.#o.backoff, this.#failures)
        // A first retriable failure (a coordinator loading or moving) is routine, as for the Reader.
        const level = this.#failures > 1 ? 'warn' : 'info'
        this.#o.logger[level]({ err, attempt: this.#failures }, 'share group heartbeat failed; retrying')
      }
      await sleepQuietly(delay, stop)
    }
  }

  async #heartbeat(): Promise<void> {
    const joining = this.memberEpoch === 0
    const response = await this.#o.coordinator.send(
      ShareGroupHeartbeat,
      {
        groupId: this.#o.groupId,
        memberId: this.memberId,
        memberEpoch: this.memberEpoch,
        rackId: this.#o.rack,
        // Sent on a join and after a failed heartbeat; null means "unchanged".
        subscribedTopicNames: joining || this.#sendSubscription ? [...this.#o.topics] : null,
      },
      { signal: this.#stop.signal, timeoutMs: this.#o.requestTimeout },
    )
    const code = response.errorCode
    if (code !== ErrorCode.NONE) {
      this.#sendSubscription = true
      if (this.#o.coordinator.checkCoordinatorError(code)) {
        throw KafkaError.fromCode(code, this.#context(response.errorMessage))
      }
      if (code === ErrorCode.FENCED_MEMBER_EPOCH || code === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.#o.logger.warn({ code, memberEpoch: this.memberEpoch }, 'share group member fenced; joining again')
        this.memberEpoch = 0
        this.#setAssignment([])
        throw KafkaError.fromCode(ErrorCode.FENCED_MEMBER_EPOCH, this.#context(response.errorMessage))
      }
      throw KafkaError.fromCode(code, this.#context(response.errorMessage))
    }
    this.#sendSubscription = false
    if (joining) this.joins++
    this.memberEpoch = response.memberEpoch
    if (response.heartbeatIntervalMs > 0) this.#interval = response.heartbeatIntervalMs
    if (response.assignment !== null) await this.#adopt(response.assignment.topicPartitions)
  }

  async #adopt(topicPartitions: readonly { topicId: string; partitions: number[] }[]): Promise<void> {
    const names = await this.#topicNames(topicPartitions.map((t) => t.topicId))
    const next: SharePartition[] = []
    for (const t of topicPartitions) {
      const topic = names.get(t.topicId)
      if (topic === undefined) {
        this.#o.logger.warn({ topicId: t.topicId }, 'share group assigned a topic the metadata does not know yet')
        continue
      }
      for (const partition of [...t.partitions].sort((a, b) => a - b))
        next.push({ topic, topicId: t.topicId, partition })
    }
    this.#setAssignment(next)
  }

  #setAssignment(next: SharePartition[]): void {
    this.assignment = next
    this.assignmentVersion++
    this.#o.logger.debug({ assignment: next.map((p) => `${p.topic}:${p.partition}`) }, 'share group assignment')
    this.#o.wake.notify()
  }

  /** Topic names of assigned topic ids (the subscribed topics' metadata, refreshed when an id is new). */
  async #topicNames(ids: readonly string[]): Promise<Map<string, string>> {
    const lookup = (): Map<string, string> => {
      const out = new Map<string, string>()
      for (const name of this.#o.topics) {
        const info = this.#o.client.metadata.topic(name)
        if (info !== undefined) out.set(info.topicId, name)
      }
      return out
    }
    let names = lookup()
    if (ids.some((id) => !names.has(id))) {
      await this.#o.client.metadata.refresh([...this.#o.topics], this.#stop.signal)
      names = lookup()
    }
    return names
  }

  #context(errorMessage: string | null) {
    return { apiName: 'ShareGroupHeartbeat', groupId: this.#o.groupId, errorMessage }
  }
}
