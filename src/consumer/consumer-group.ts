// Consumer group membership, KIP-848's consumer protocol (Java's ConsumerMembershipManager):
// one request, ConsumerGroupHeartbeat, on a timer the coordinator sets. The coordinator runs the
// assignor (`groupRemoteAssignor`: 'uniform' or 'range') and hands each member its partitions
// incrementally: a heartbeat answer may take partitions away (the member gives them up and says
// so in its next heartbeat) and a later one brings new ones. Nothing stops the world.
//
//   join (epoch 0, subscription) ─► heartbeats (epoch, owned partitions) ─► leave (epoch -1, or
//   -2 for a static member, which keeps its partitions for its instance id meanwhile)
//
// The rules of the classic membership (group.ts) hold here too: a partition taken away is given
// up only once what was handed out of it is done with (up to rebalanceTimeout; heartbeats go on
// meanwhile), onRevoke runs before and commits inside it count; a fenced member
// (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID) loses its partitions (onLost, commits refused) and
// joins again with epoch 0; every assignment of a partition is a new ownership (ownership.ts).
// The member epoch is sent as OffsetCommit's generation; it moves on while partitions are kept,
// so commits follow the current epoch (commits.ts, `epochMovesWithoutRebalance`).

import { randomUUID } from 'node:crypto'
import type { Logger } from '../logger.js'
import type { KafkaClient } from '../cluster/client.js'
import { backoffDelay, sleep, type RetryPolicy } from '../cluster/retry.js'
import { KafkaError, KafkaTsError, isRetriable } from '../errors.js'
import { AbortError, SaslAuthenticationError, UnsupportedVersionError } from '../net/errors.js'
import { ErrorCode, errorInfo } from '../protocol/error-codes.js'
import { ConsumerGroupHeartbeat, Metadata } from '../protocol/messages/index.js'
import type { OffsetCommitter } from './commits.js'
import type { PartitionsCallback, TopicPartition } from './config.js'
import type { Coordinator } from './coordinator.js'
import { partitionKey } from './cursor.js'
import type { StartPosition } from './fetcher.js'
import type { GroupHooks } from './group.js'
import type { Membership } from './membership.js'
import { giveUp, runCallback, type GiveUpContext } from './give-up.js'
import type { Ownership } from './ownership.js'
import type { ReaderStatsCollector } from './stats.js'
import { Notifier, deadlineSignal } from './wait.js'

export interface ConsumerGroupOptions {
  client: KafkaClient
  coordinator: Coordinator
  groupId: string
  groupInstanceId: string | null
  /** The client's rack (KIP-881: sent with the subscription so assignors can prefer same-rack replicas); null for none. */
  rack: string | null
  /** Topic names subscribed to (empty with `topicPattern`). */
  topics: readonly string[]
  /** A regular expression (RE2/J syntax) the coordinator matches topic names against. */
  topicPattern: string | null
  remoteAssignor: string | null
  rebalanceTimeout: number
  requestTimeout: number
  startOffset: bigint
  backoff: RetryPolicy
  stats: ReaderStatsCollector
  onAssign: PartitionsCallback | undefined
  onRevoke: PartitionsCallback | undefined
  onLost: PartitionsCallback | undefined
  logger?: Logger | undefined
  /** The coordinator does not speak ConsumerGroupHeartbeat: hand over to the classic protocol. */
  fallBack?: (() => void) | undefined
}

const LEAVE = -1
const STATIC_LEAVE = -2

export class ConsumerGroupMembership implements Membership {
  readonly groupProtocol = 'consumer'
  readonly epochMovesWithoutRebalance = true
  readonly groupId: string
  readonly groupInstanceId: string | null
  /** Chosen by the client (ConsumerGroupHeartbeat v1, KIP-1082) and kept for the Reader's life. */
  memberId: string = randomUUID()
  memberEpoch = 0

  readonly #o: ConsumerGroupOptions
  readonly #hooks: GroupHooks
  #committer!: OffsetCommitter
  #state: 'unjoined' | 'joining' | 'stable' | 'closed' = 'unjoined'
  readonly #owned = new Map<string, Ownership>()
  #ownerships = 0
  readonly #lostIds = new Set<number>()
  #fencedCode: number | null = null
  #joinedOnce = false
  /** The latest assignment received (topic ids) and not yet applied: kept until it is. */
  #target: { topicId: string; partitions: number[] }[] | null = null
  #reconciling: Promise<void> | null = null
  #interval = 3000
  /** When the current join began: the rebalance latency of the Reader's metrics. */
  #joinStarted = 0
  #leave: { state: 'requested' | 'left'; error: Error } | null = null
  #interruptWait: AbortController | null = null
  readonly #names = new Map<string, string>()
  readonly #ids = new Map<string, string>()
  readonly #wake = new Notifier()
  readonly #stableChanged = new Notifier()
  readonly #stop = new AbortController()
  #loop: Promise<void> | null = null

  constructor(options: ConsumerGroupOptions, hooks: GroupHooks) {
    this.#o = options
    this.#hooks = hooks
    this.groupId = options.groupId
    this.groupInstanceId = options.groupInstanceId
  }

  /** OffsetCommit's generationIdOrMemberEpoch. */
  get generationId(): number {
    return this.memberEpoch
  }

  get state() {
    return this.#state
  }

  get isFenced(): boolean {
    return this.#fencedCode !== null
  }

  start(committer: OffsetCommitter): void {
    this.#committer = committer
    this.#loop ??= this.#run()
  }

  assignment(): TopicPartition[] {
    return [...this.#owned.values()].map((o) => ({ topic: o.topic, partition: o.partition }))
  }

  ownership(topic: string, partition: number): Ownership | undefined {
    return this.#fencedCode === null ? this.#owned.get(partitionKey(topic, partition)) : undefined
  }

  wasLost(ownershipId: number): boolean {
    return this.#lostIds.has(ownershipId)
  }

  fenced(errorCode: number, _generationId: number, memberId: string): void {
    if (memberId !== this.memberId || this.#state === 'closed') return
    this.#fencedCode ??= errorCode
    this.#interruptWait?.abort()
    this.#wake.notify()
  }

  /** The coordinator decides assignments; a heartbeat now tells it what changed. */
  requestRejoin(_reason: string): void {
    this.#wake.notify()
  }

  leaveForPollTimeout(error: Error): void {
    if (this.#state === 'closed' || this.#leave !== null) return
    this.#leave = { state: 'requested', error }
    this.#interruptWait?.abort()
    this.#wake.notify()
  }

  resume(): void {
    if (this.#leave?.state !== 'left') return
    this.#leave = null
    this.#wake.notify()
  }

  async waitStable(signal: AbortSignal): Promise<void> {
    while (this.#state !== 'stable' || this.#reconciling !== null || this.#target !== null) {
      if (this.#state === 'closed') throw new AbortError('waiting for the group to be stable')
      await this.#stableChanged.wait(
        [signal, this.#stop.signal],
        this.#o.rebalanceTimeout,
        'waiting for the assignment',
      )
    }
  }

  /** Leaves: commits what is marked, onRevoke, then a heartbeat with epoch -1 (-2 for a static member). */
  async close(signal: AbortSignal): Promise<void> {
    if (this.#state === 'closed') return
    this.#stop.abort()
    this.#wake.notify()
    await this.#loop?.catch(() => {})
    await this.#reconciling?.catch(() => {})
    this.#state = 'closed'
    this.#stableChanged.notify()
    try {
      if (this.#owned.size > 0 && this.#fencedCode === null) {
        await this.#committer.flush({ signal }).catch(() => {})
        await this.#giveUp([...this.#owned.values()], signal)
      }
    } finally {
      this.#committer.stop()
    }
    if (this.memberEpoch > 0) await this.#sendLeave(this.groupInstanceId !== null ? STATIC_LEAVE : LEAVE, signal)
    this.memberEpoch = 0
  }

  // --- the loop ----------------------------------------------------------------------------------

  async #run(): Promise<void> {
    const signal = this.#stop.signal
    let failures = 0
    while (!signal.aborted) {
      let delay = this.#interval
      try {
        if (this.#fencedCode !== null) await this.#rejoinAfterFence(signal)
        if (this.#leave !== null) await this.#leaveUntilResumed(signal)
        if (signal.aborted) break
        if (this.memberEpoch === 0) {
          if (this.#state !== 'joining') this.#joinStarted = Date.now()
          this.#state = 'joining'
          this.#stableChanged.notify()
        }
        this.#refreshMissingTopics(signal)
        const ack = await this.#heartbeat(signal)
        failures = 0
        if (ack) delay = 0
      } catch (err) {
        if (signal.aborted) break
        if (err instanceof UnsupportedVersionError && !this.#joinedOnce && this.#o.fallBack !== undefined) {
          this.#o.logger?.info(
            { groupId: this.groupId },
            'the coordinator lacks ConsumerGroupHeartbeat: classic protocol',
          )
          this.#state = 'closed'
          this.#stop.abort()
          this.#o.fallBack()
          return
        }
        if (isFatal(err)) {
          this.#o.logger?.error({ err, groupId: this.groupId }, 'group membership failed for good; the Reader stops')
          this.#state = 'closed'
          this.#stableChanged.notify()
          this.#hooks.fail(err as Error)
          return
        }
        failures++
        this.#o.stats.errors++
        this.#o.logger?.[failures > 1 ? 'warn' : 'info']({ err, failures }, 'group heartbeat failed; retrying')
        delay = Math.min(delay, backoffDelay(this.#o.backoff, failures))
      }
      if (delay > 0) await this.#wake.wait(signal, delay, 'group heartbeat').catch(() => {})
    }
  }

  /** One heartbeat; true when another should follow at once (an assignment was applied). */
  async #heartbeat(signal: AbortSignal): Promise<boolean> {
    const o = this.#o
    const joining = this.memberEpoch === 0
    const owned = this.#ownedByTopicId()
    const response = await o.coordinator.send(
      ConsumerGroupHeartbeat,
      (version) => {
        if (version < 1 && o.topicPattern !== null)
          throw new UnsupportedVersionError('ConsumerGroupHeartbeat', 'topicPattern needs ConsumerGroupHeartbeat v1')
        return {
          groupId: this.groupId,
          memberId: this.memberId,
          memberEpoch: this.memberEpoch,
          instanceId: this.groupInstanceId,
          rackId: o.rack,
          rebalanceTimeoutMs: joining ? o.rebalanceTimeout : -1,
          subscribedTopicNames: joining && o.topicPattern === null ? [...o.topics] : null,
          subscribedTopicRegex: joining && version >= 1 ? o.topicPattern : null,
          serverAssignor: joining ? o.remoteAssignor : null,
          topicPartitions: joining ? [] : owned,
        }
      },
      { signal, timeoutMs: o.requestTimeout },
    )
    const code = response.errorCode
    if (code === ErrorCode.NONE) {
      this.#joinedOnce = true
      if (response.memberId !== null && response.memberId !== '') this.memberId = response.memberId
      this.memberEpoch = response.memberEpoch
      if (response.heartbeatIntervalMs > 0) this.#interval = response.heartbeatIntervalMs
      if (response.assignment !== null) {
        // The coordinator sends an assignment once: it is applied (and retried) in the background.
        this.#target = response.assignment.topicPartitions
        this.#startReconcile(signal)
      } else if (this.#state === 'joining') {
        this.#setStable()
      }
      return false
    }
    if (code === ErrorCode.FENCED_MEMBER_EPOCH || code === ErrorCode.UNKNOWN_MEMBER_ID) {
      this.#fencedCode ??= code
      this.#interruptWait?.abort()
      return true
    }
    // Kafka 3.9 lists ConsumerGroupHeartbeat but answers UNSUPPORTED_VERSION while the consumer
    // protocol is not enabled: the same as a broker without the API (fall back to classic).
    if (code === ErrorCode.UNSUPPORTED_VERSION)
      throw new UnsupportedVersionError('ConsumerGroupHeartbeat', 'the broker has the consumer group protocol disabled')
    if (o.coordinator.checkCoordinatorError(code))
      throw KafkaError.fromCode(code, { apiName: 'ConsumerGroupHeartbeat', groupId: this.groupId })
    // FENCED_INSTANCE_ID, UNRELEASED_INSTANCE_ID, GROUP_ID_NOT_FOUND (a classic group of that
    // name), UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION, authorization: the Reader stops.
    throw KafkaError.fromCode(code, {
      apiName: 'ConsumerGroupHeartbeat',
      groupId: this.groupId,
      ...(response.errorMessage !== null ? { errorMessage: response.errorMessage } : {}),
    })
  }

  #setStable(): void {
    if (this.#reconciling !== null || this.#target !== null) return
    if (this.#state !== 'stable') {
      this.#o.stats.rebalances++
      this.#o.stats.metrics?.rebalanced(Date.now() - this.#joinStarted)
    }
    this.#state = 'stable'
    this.#stableChanged.notify()
  }

  /**
   * The coordinator assigns nothing of a subscribed topic that does not exist, and says nothing
   * about it: ask the metadata, so the Reader's topic watch (topic-watch.ts) warns as it does with
   * the classic protocol, whose partition watch asks anyway. In the background: heartbeats go on.
   */
  #refreshMissingTopics(signal: AbortSignal): void {
    const metadata = this.#o.client.metadata
    if (this.#o.topics.every((t) => metadata.topic(t)?.errorCode === ErrorCode.NONE)) return
    metadata.refresh(this.#o.topics, signal).catch(() => {}) // retried at the next heartbeat
  }

  #ownedByTopicId(): { topicId: string; partitions: number[] }[] {
    const byTopic = new Map<string, number[]>()
    for (const own of this.#owned.values()) {
      const id = this.#ids.get(own.topic)
      if (id === undefined) continue
      const list = byTopic.get(id)
      if (list === undefined) byTopic.set(id, [own.partition])
      else list.push(own.partition)
    }
    return [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions: partitions.sort((a, b) => a - b) }))
  }

  /** Topic ids → names: the metadata cache first, a Metadata request for ids it does not know. */
  async #resolve(tps: { topicId: string; partitions: number[] }[], signal: AbortSignal): Promise<TopicPartition[]> {
    if (tps.some((tp) => !this.#names.has(tp.topicId))) {
      for (const t of this.#o.topics) {
        const info = this.#o.client.metadata.topic(t)
        if (info !== undefined) this.#remember(info.topicId, t)
      }
    }
    const unknown = tps.filter((tp) => !this.#names.has(tp.topicId))
    if (unknown.length > 0) {
      const md = await this.#o.client.requestTo(
        this.#o.client.anyBroker(),
        Metadata,
        (version) => ({
          topics: version >= 10 ? unknown.map((tp) => ({ topicId: tp.topicId, name: null })) : null,
          allowAutoTopicCreation: false,
        }),
        { signal },
      )
      for (const t of md.topics) if (t.name !== null && t.errorCode === 0) this.#remember(t.topicId, t.name)
    }
    const out: TopicPartition[] = []
    for (const tp of tps) {
      const topic = this.#names.get(tp.topicId)
      // Not visible to this broker yet (or deleted: a new assignment will replace this one).
      if (topic === undefined)
        throw new KafkaTsError('KAFKATS_UNKNOWN_TOPIC_ID', `assigned topic id ${tp.topicId} is not in the metadata yet`)
      for (const partition of new Set(tp.partitions)) out.push({ topic, partition })
    }
    this.#o.client.metadata.addTopics(new Set(out.map((tp) => tp.topic)))
    return out
  }

  #remember(id: string, name: string): void {
    this.#names.set(id, name)
    this.#ids.set(name, id)
  }

  #startReconcile(signal: AbortSignal): void {
    if (this.#reconciling !== null) return
    const run = async () => {
      let failures = 0
      while (this.#target !== null && !signal.aborted && this.#fencedCode === null) {
        const target = this.#target
        try {
          await this.#apply(await this.#resolve(target, signal), signal)
          if (this.#target === target) this.#target = null
          failures = 0
        } catch (err) {
          if (signal.aborted) return
          // Applying is idempotent (the difference with what is owned): try again, unless a
          // newer assignment came meanwhile, which replaces this one.
          failures++
          this.#o.logger?.[failures > 1 ? 'warn' : 'info'](
            { err, failures },
            'applying the assignment failed; retrying',
          )
          await sleep(backoffDelay(this.#o.backoff, failures), signal).catch(() => {})
        }
      }
    }
    this.#reconciling = run().finally(() => {
      this.#reconciling = null
      this.#setStable()
      // Tell the coordinator at once what is owned now.
      this.#wake.notify()
    })
  }

  /** Moves from what is owned to `target`: revoked first (once done with), then the new ones. */
  async #apply(target: TopicPartition[], signal: AbortSignal): Promise<void> {
    const o = this.#o
    const next = new Map(target.map((tp) => [partitionKey(tp.topic, tp.partition), tp]))
    const revoked = [...this.#owned].filter(([key]) => !next.has(key)).map(([, own]) => own)
    const added = [...next].filter(([key]) => !this.#owned.has(key)).map(([, tp]) => tp)
    if (revoked.length > 0) {
      await this.#awaitDone(revoked, signal)
      if (this.#fencedCode !== null) return
      await this.#committer.flush({ signal: deadlineSignal(o.requestTimeout, signal) }).catch(() => {})
      await this.#giveUp(revoked, signal)
    }
    if (added.length === 0) return
    const committed = await this.#committer.fetchCommitted(added, signal)
    if (this.#fencedCode !== null || signal.aborted) return
    const starts: StartPosition[] = []
    for (const tp of added) {
      const owner: Ownership = {
        topic: tp.topic,
        partition: tp.partition,
        id: ++this.#ownerships,
        valid: true,
        lost: false,
      }
      this.#owned.set(partitionKey(tp.topic, tp.partition), owner)
      const offset = committed.get(partitionKey(tp.topic, tp.partition)) ?? null
      if (offset !== null) this.#committer.setCommitted(tp.topic, tp.partition, offset)
      starts.push({ topic: tp.topic, partition: tp.partition, offset, resetTo: o.startOffset, owner })
    }
    this.#hooks.assign(starts)
    if (o.onAssign !== undefined) await this.#callback(o.onAssign, added, signal)
  }

  async #awaitDone(owned: Ownership[], signal: AbortSignal): Promise<void> {
    const partitions = owned.map((own) => ({ topic: own.topic, partition: own.partition }))
    this.#hooks.stopFetching(partitions)
    if (this.#fencedCode !== null || this.#leave !== null) return
    const interrupt = (this.#interruptWait = new AbortController())
    // The coordinator removes a member that has not revoked within rebalanceTimeout from when it
    // asked: the wait ends early enough for the commit, onRevoke and the heartbeat to get there.
    const wait = Math.floor(this.#o.rebalanceTimeout * 0.8)
    try {
      await this.#hooks.awaitDone(partitions, wait, [signal, interrupt.signal])
    } finally {
      this.#interruptWait = null
    }
  }

  /** Fenced: the partitions are someone else's already; join again with epoch 0, same member id. */
  async #rejoinAfterFence(signal: AbortSignal): Promise<void> {
    await this.#reconciling?.catch(() => {})
    this.#target = null
    this.memberEpoch = 0
    await this.#giveUp([...this.#owned.values()], signal, true)
    this.#fencedCode = null
  }

  /** maxPollInterval passed with records held: the partitions are lost, leave, wait for resume(). */
  async #leaveUntilResumed(signal: AbortSignal): Promise<void> {
    const leave = this.#leave!
    await this.#reconciling?.catch(() => {})
    this.#target = null
    this.#state = 'unjoined'
    this.#stableChanged.notify()
    await this.#giveUp([...this.#owned.values()], signal, true)
    if (this.memberEpoch > 0) await this.#sendLeave(LEAVE, signal)
    this.memberEpoch = 0
    leave.state = 'left'
    this.#hooks.report(leave.error)
    while (this.#leave !== null && !signal.aborted) await this.#wake.wait(signal).catch(() => {})
  }

  async #sendLeave(epoch: number, signal: AbortSignal): Promise<void> {
    await this.#o.coordinator
      .send(
        ConsumerGroupHeartbeat,
        { groupId: this.groupId, memberId: this.memberId, memberEpoch: epoch, instanceId: this.groupInstanceId },
        { signal, timeoutMs: this.#o.requestTimeout },
      )
      .catch(() => {}) // best effort: the session timeout removes the member anyway
  }

  /** See give-up.ts: the same rules for both group protocols. */
  #giveUp(owned: Ownership[], signal: AbortSignal, lost = false): Promise<void> {
    return giveUp(this.#giveUpContext(), owned, signal, lost)
  }

  #callback(callback: PartitionsCallback, partitions: TopicPartition[], signal: AbortSignal): Promise<void> {
    return runCallback(this.#giveUpContext(), callback, partitions, signal)
  }

  #giveUpContext(): GiveUpContext {
    const o = this.#o
    return {
      onRevoke: o.onRevoke,
      onLost: o.onLost,
      logger: o.logger,
      hooks: this.#hooks,
      committer: this.#committer,
      owned: this.#owned,
      lostIds: this.#lostIds,
      closing: this.#state === 'closed',
    }
  }
}

/** Errors no new heartbeat can fix: the Reader reports them and stops. */
function isFatal(err: unknown): boolean {
  if (err instanceof UnsupportedVersionError || err instanceof SaslAuthenticationError) return true
  if (err instanceof KafkaError) {
    const info = errorInfo(err.errorCode)
    return !err.retriable && info.staleCoordinator !== true
  }
  return !isRetriable(err) && !(err instanceof KafkaTsError && err.code === 'KAFKATS_RETRIES_EXHAUSTED')
}
