// Consumer group membership, classic protocol (Java's ConsumerCoordinator + AbstractCoordinator):
//
//   find coordinator ─► JoinGroup ─► (leader: run the balancer) ─► SyncGroup ─► stable
//        ▲                                                                        │ heartbeats on their
//        └──────────── rejoin: REBALANCE_IN_PROGRESS, partitions added, ──────────┘ own timer
//                      fenced (UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION), a cooperative follow-up
//
// Eager rebalancing (any non-cooperative balancer configured, Java's rule) commits what is
// marked, calls onRevoke and gives up every partition before rejoining. Cooperative rebalancing
// (KIP-429, every balancer cooperative) keeps its partitions through the rebalance, gives up only
// those the new assignment takes away, and then rejoins once more so they can be handed over.
// Heartbeats run on their own timer while the member is stable, so a slow message handler does
// not cost the session. Two bounds tie the membership to the application's progress instead:
// partitions taken away are only given up once the records of them handed out are done with
// (handout.ts), up to rebalanceTimeout, so two members never process one partition at once; and
// a member that holds records longer than maxPollInterval leaves the group (Java's KIP-62) until
// the application reads again.

import type { Logger } from '../logger.js'
import type { KafkaClient } from '../cluster/client.js'
import { backoffDelay, sleep, type RetryPolicy } from '../cluster/retry.js'
import { KafkaError, KafkaTsError, isRetriable } from '../errors.js'
import { AbortError, SaslAuthenticationError, UnsupportedVersionError } from '../net/errors.js'
import { ErrorCode, errorInfo } from '../protocol/error-codes.js'
import { Heartbeat, JoinGroup, LeaveGroup, SyncGroup, type JoinGroupResponse } from '../protocol/messages/index.js'
import {
  CONSUMER_PROTOCOL_TYPE,
  DEFAULT_GENERATION,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  groupMember,
  toTopicPartitions,
  type GroupBalancer,
  type GroupMember,
} from './assignors/index.js'
import type { OffsetCommitter } from './commits.js'
import type { PartitionsCallback, TopicPartition } from './config.js'
import type { Coordinator } from './coordinator.js'
import { partitionKey } from './cursor.js'
import type { StartPosition } from './fetcher.js'
import type { Membership } from './membership.js'
import { giveUp, runCallback, type GiveUpContext } from './give-up.js'
import type { Ownership } from './ownership.js'
import type { ReaderStatsCollector } from './stats.js'
import { matchingTopics } from './topic-pattern.js'
import { Notifier, deadlineSignal, onAnyAbort, type Signals } from './wait.js'

export interface GroupOptions {
  client: KafkaClient
  coordinator: Coordinator
  groupId: string
  groupInstanceId: string | null
  /** The client's rack (KIP-881: sent with the subscription so assignors can prefer same-rack replicas); null for none. */
  rack: string | null
  topics: readonly string[]
  /** Classic regex subscription (topic-pattern.ts): `topics` is then resolved from the cluster's topics. */
  topicPattern: RegExp | null
  balancers: readonly GroupBalancer[]
  protocol: 'eager' | 'cooperative'
  sessionTimeout: number
  rebalanceTimeout: number
  heartbeatInterval: number
  partitionWatchInterval: number
  requestTimeout: number
  startOffset: bigint
  backoff: RetryPolicy
  stats: ReaderStatsCollector
  onAssign: PartitionsCallback | undefined
  onRevoke: PartitionsCallback | undefined
  /** Called for partitions lost (the member was fenced or reset); onRevoke when unset. */
  onLost: PartitionsCallback | undefined
  /** Failed joins (coordinator not found, a balancer that threw), heartbeats, metadata checks. */
  logger?: Logger | undefined
}

/** What the membership drives in the rest of the Reader. */
export interface GroupHooks {
  /** Start fetching newly assigned partitions. */
  assign(starts: StartPosition[]): void
  /** Stop fetching partitions and drop what is queued of them. */
  revoke(partitions: TopicPartition[]): void
  /** Stop fetching partitions and drop what is queued of them, but keep what is handed out. */
  stopFetching(partitions: TopicPartition[]): void
  /**
   * Waits until the application is done with the records of `partitions` it was handed (or
   * `timeoutMs`, or one of `signals`); resolves with the partitions still held.
   */
  awaitDone(partitions: TopicPartition[], timeoutMs: number, signals: Signals): Promise<TopicPartition[]>
  /** Something the Reader cannot recover from (authorization, a fenced static member...). */
  fail(error: Error): void
  /** An error the application should see once (a rebalance callback threw); the Reader goes on. */
  report(error: Error): void
}

/** Thrown inside the loop to start over at once (no backoff): the coordinator asked for it. */
class Rejoin extends Error {}

type State = 'unjoined' | 'joining' | 'stable' | 'closed'

export class GroupMembership implements Membership {
  readonly groupProtocol = 'classic'
  readonly groupId: string
  readonly groupInstanceId: string | null
  memberId = ''
  generationId = DEFAULT_GENERATION
  /** The balancer the coordinator chose for the current generation. */
  protocolName: string | null = null
  isLeader = false

  readonly #o: GroupOptions
  readonly #hooks: GroupHooks
  #committer!: OffsetCommitter
  #state: State = 'unjoined'
  /** Partitions owned in the current generation. */
  readonly #owned = new Map<string, Ownership>()
  /** Ownerships created so far (their ids). */
  #ownerships = 0
  /** Ids of recently lost ownerships, oldest first (bounded), for CommitRejectedError's reason. */
  readonly #lostIds = new Set<number>()
  /** Generation of the last completed assignment (sent with owned partitions, cooperative). */
  #ownedGeneration = DEFAULT_GENERATION
  /** Set by a response that fenced this member; the partitions are lost. */
  #fencedCode: number | null = null
  #rejoinReason: string | null = null
  /** The topics subscribed to: the configured ones, or those matching topicPattern at the last look. */
  #topics: readonly string[] = []
  /**
   * maxPollInterval passed with records held: 'requested' until the loop has left the group,
   * 'left' until the application reads again (resume()).
   */
  #leave: { state: 'requested' | 'left'; error: Error } | null = null
  /** Ends a wait for records handed out: the member was fenced or must leave meanwhile. */
  #interruptWait: AbortController | null = null
  /** Sent in JoinGroup (v8+, KIP-800) so the broker logs why members rejoin. */
  #joinReason = 'joining'
  readonly #rejoin = new Notifier()
  readonly #stableChanged = new Notifier()
  readonly #stop = new AbortController()
  #loop: Promise<void> | null = null
  #heartbeat: { abort: AbortController; done: Promise<void> } | null = null
  /** Partition counts the last assignment was computed from, per topic watched. */
  #snapshot = new Map<string, number>()
  #lastWatch = 0

  constructor(options: GroupOptions, hooks: GroupHooks) {
    this.#o = options
    this.#hooks = hooks
    this.groupId = options.groupId
    this.groupInstanceId = options.groupInstanceId
    this.#topics = options.topics
  }

  /** Starts the membership loop (the committer is created with this view, then handed back). */
  start(committer: OffsetCommitter): void {
    this.#committer = committer
    this.#loop ??= this.#run()
  }

  get state(): State {
    return this.#state
  }

  /** The partitions owned now. */
  assignment(): TopicPartition[] {
    return [...this.#owned.values()].map((o) => ({ topic: o.topic, partition: o.partition }))
  }

  ownership(topic: string, partition: number): Ownership | undefined {
    return this.#fencedCode === null ? this.#owned.get(partitionKey(topic, partition)) : undefined
  }

  wasLost(ownershipId: number): boolean {
    return this.#lostIds.has(ownershipId)
  }

  get isFenced(): boolean {
    return this.#fencedCode !== null
  }

  fenced(errorCode: number, generationId: number, memberId: string): void {
    // Only the generation the error was about is fenced; a newer one is fine.
    if (generationId !== this.generationId || memberId !== this.memberId) return
    this.#fencedCode ??= errorCode
    this.#rejoinReason ??= `fenced: ${errorInfo(errorCode).name}`
    this.#interruptWait?.abort() // lost partitions are not waited for: they are someone else's
    this.#rejoin.notify()
  }

  requestRejoin(reason: string): void {
    // A join under way already takes the member into the next generation.
    if (this.#state === 'joining') return
    this.#rejoinReason ??= reason
    this.#rejoin.notify()
  }

  /**
   * The application held records past maxPollInterval: leave the group (the others take the
   * partitions over) and stay out until resume(). `error` is reported once it has left.
   */
  leaveForPollTimeout(error: Error): void {
    if (this.#state === 'closed' || this.#leave !== null) return
    this.#leave = { state: 'requested', error }
    this.#rejoinReason ??= 'the application exceeded maxPollInterval'
    this.#interruptWait?.abort()
    this.#rejoin.notify()
  }

  /** The application reads again: a member that left for a poll timeout rejoins. */
  resume(): void {
    if (this.#leave?.state !== 'left') return
    this.#leave = null
    this.#rejoin.notify()
  }

  async waitStable(signal: AbortSignal): Promise<void> {
    while (this.#state !== 'stable' || this.#rejoinReason !== null) {
      if (this.#state === 'closed') throw new AbortError('waiting for the group to be stable')
      await this.#stableChanged.wait([signal, this.#stop.signal], this.#o.rebalanceTimeout, 'waiting for the rebalance')
    }
  }

  /**
   * Leaves the group: stops the loop, commits what is marked, calls onRevoke, and sends
   * LeaveGroup (dynamic members only: a static member keeps its place for sessionTimeout, so a
   * restart causes no rebalance, as in Java). Bounded by `signal`.
   */
  async close(signal: AbortSignal): Promise<void> {
    if (this.#state === 'closed') return
    this.#stop.abort()
    this.#rejoin.notify()
    await this.#loop?.catch(() => {})
    await this.#stopHeartbeat()
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
    if (this.memberId !== '' && this.groupInstanceId === null)
      await this.#sendLeave(this.memberId, 'the Reader closed', signal)
    this.memberId = ''
    this.generationId = DEFAULT_GENERATION
  }

  // --- the loop ----------------------------------------------------------------------------------

  async #run(): Promise<void> {
    const signal = this.#stop.signal
    let failures = 0
    while (!signal.aborted) {
      try {
        const started = Date.now()
        await this.#prepareJoin(signal)
        this.#state = 'joining'
        this.#stableChanged.notify()
        const join = await this.#join(signal)
        const assignments = join.leader === this.memberId ? await this.#lead(join, signal) : []
        const assigned = await this.#sync(join, assignments, signal)
        await this.#complete(assigned, signal)
        this.#o.stats.metrics?.rebalanced(Date.now() - started)
        failures = 0
        await this.#stable(signal)
      } catch (err) {
        if (signal.aborted) break
        if (err instanceof Rejoin) continue
        if (isFatal(err)) {
          this.#o.logger?.error({ err, groupId: this.groupId }, 'group membership failed for good; the Reader stops')
          this.#state = 'closed'
          this.#stableChanged.notify()
          this.#hooks.fail(err as Error)
          return
        }
        failures++
        this.#o.stats.errors++
        // One failure is routine (the coordinator moved); repeated ones are trouble.
        this.#o.logger?.[failures > 1 ? 'warn' : 'info']({ err, failures }, 'joining the group failed; retrying')
        await sleep(backoffDelay(this.#o.backoff, failures), signal).catch(() => {})
      }
    }
  }

  /** Before (re)joining: give up partitions as the protocol requires; stop heartbeating. */
  async #prepareJoin(signal: AbortSignal): Promise<void> {
    this.#joinReason = this.#rejoinReason ?? (this.generationId < 0 ? 'joining' : 'rejoining')
    this.#rejoinReason = null
    if (this.#leave !== null) {
      await this.#leaveUntilResumed(signal)
      this.#joinReason = 'rejoining after exceeding maxPollInterval'
      this.#rejoinReason = null
    }
    if (this.#fencedCode === null && this.#o.protocol === 'eager' && this.#owned.size > 0) {
      // From here on a rebalance is under way: a heartbeat's REBALANCE_IN_PROGRESS is this one.
      this.#state = 'joining'
      await this.#awaitDone([...this.#owned.values()], signal)
    }
    if (this.#leave !== null) throw new Rejoin() // maxPollInterval passed while waiting
    if (this.#fencedCode !== null) {
      // The coordinator dropped this member: the partitions are already someone else's (Java's
      // onPartitionsLost). Nothing can be committed for them.
      const code = this.#fencedCode
      const lost = [...this.#owned.values()]
      this.#fencedCode = null
      if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.FENCED_INSTANCE_ID) this.memberId = ''
      this.generationId = DEFAULT_GENERATION
      this.#ownedGeneration = DEFAULT_GENERATION
      await this.#giveUp(lost, signal, true)
    } else if (this.#o.protocol === 'eager' && this.#owned.size > 0) {
      // Eager: commit what is marked, then revoke everything before joining (Java's onJoinPrepare).
      await this.#committer.flush({ signal: deadlineSignal(this.#o.requestTimeout, signal) }).catch(() => {})
      await this.#giveUp([...this.#owned.values()], signal)
    }
    await this.#stopHeartbeat()
  }

  /**
   * Before partitions are revoked: stop fetching them, then wait (up to rebalanceTimeout) until
   * the application is done with what it was handed of them, so that their next owner never
   * starts on records still being processed here (issue 11). Heartbeats go on meanwhile.
   */
  async #awaitDone(owned: Ownership[], signal: AbortSignal): Promise<void> {
    const partitions = owned.map((o) => ({ topic: o.topic, partition: o.partition }))
    this.#hooks.stopFetching(partitions)
    if (this.#fencedCode !== null || this.#leave !== null) return
    const interrupt = (this.#interruptWait = new AbortController())
    try {
      await this.#hooks.awaitDone(partitions, this.#o.rebalanceTimeout, [signal, interrupt.signal])
    } finally {
      this.#interruptWait = null
    }
  }

  /**
   * Leaves the group for a poll timeout (Java's maybeLeaveGroup from the heartbeat thread): the
   * partitions are lost (nothing held can be committed any more), LeaveGroup lets the others
   * take them over at once (a static member is dropped by its session timeout instead), and
   * the member stays out until the application reads again.
   */
  async #leaveUntilResumed(signal: AbortSignal): Promise<void> {
    const leave = this.#leave!
    this.#state = 'unjoined'
    this.#stableChanged.notify()
    await this.#stopHeartbeat()
    const memberId = this.memberId
    this.generationId = DEFAULT_GENERATION
    this.#ownedGeneration = DEFAULT_GENERATION
    this.#fencedCode = null
    await this.#giveUp([...this.#owned.values()], signal, true)
    if (memberId !== '' && this.groupInstanceId === null) {
      this.memberId = ''
      await this.#sendLeave(memberId, 'the application exceeded maxPollInterval', signal)
    }
    leave.state = 'left'
    this.#hooks.report(leave.error)
    while (this.#leave !== null && !signal.aborted) await this.#rejoin.wait(signal).catch(() => {})
  }

  async #sendLeave(memberId: string, reason: string, signal: AbortSignal): Promise<void> {
    await this.#o.coordinator
      .send(
        LeaveGroup,
        (version) =>
          version >= 3
            ? {
                groupId: this.groupId,
                members: [{ memberId, groupInstanceId: null, ...(version >= 5 ? { reason } : {}) }],
              }
            : { groupId: this.groupId, memberId },
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

  async #join(signal: AbortSignal): Promise<JoinGroupResponse> {
    const o = this.#o
    await this.#resolveTopics(signal)
    for (;;) {
      const owned = o.protocol === 'cooperative' ? toTopicPartitions(groupByTopic(this.#owned.values())) : []
      const protocols = o.balancers.map((b) => ({
        name: b.name,
        metadata: encodeSubscription({
          topics: [...this.#topics],
          userData:
            b.userData?.({ topics: this.#topics, generation: this.#ownedGeneration, ownedPartitions: owned }) ?? null,
          ownedPartitions: owned,
          generationId: this.#ownedGeneration,
          rackId: o.rack,
        }),
      }))
      const memberId = this.memberId
      const response = await o.coordinator.send(
        JoinGroup,
        (version) => ({
          groupId: this.groupId,
          sessionTimeoutMs: o.sessionTimeout,
          rebalanceTimeoutMs: o.rebalanceTimeout,
          memberId,
          ...(this.groupInstanceId !== null ? { groupInstanceId: this.groupInstanceId } : {}),
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocols,
          ...(version >= 8 ? { reason: this.#joinReason } : {}),
        }),
        // The coordinator holds JoinGroup until every member rejoined, up to the rebalance timeout.
        { signal, timeoutMs: o.rebalanceTimeout + 5000 },
      )
      const code = response.errorCode
      switch (code) {
        case ErrorCode.NONE:
          this.memberId = response.memberId
          this.generationId = response.generationId
          this.protocolName = response.protocolName
          this.isLeader = response.leader === response.memberId
          return response
        case ErrorCode.MEMBER_ID_REQUIRED:
          // KIP-394 (JoinGroup v4+): the coordinator hands out the id; join again with it.
          this.memberId = response.memberId
          continue
        case ErrorCode.UNKNOWN_MEMBER_ID:
        case ErrorCode.ILLEGAL_GENERATION:
          // The coordinator dropped this member or its generation: another member may own its
          // partitions by now. They are lost (Java's onJoinPrepare: "Giving away all assigned
          // partitions as lost since generation/memberID has been reset"): nothing marked or in
          // flight for them is committed, and the rejoin claims none of them.
          this.memberId = code === ErrorCode.UNKNOWN_MEMBER_ID ? '' : this.memberId
          this.generationId = DEFAULT_GENERATION
          this.#ownedGeneration = DEFAULT_GENERATION
          await this.#giveUp([...this.#owned.values()], signal, true)
          continue
        default:
          if (o.coordinator.checkCoordinatorError(code))
            throw KafkaError.fromCode(code, { apiName: 'JoinGroup', groupId: this.groupId })
          // REBALANCE_IN_PROGRESS, COORDINATOR_LOAD_IN_PROGRESS: retriable, with a backoff. The
          // others (INCONSISTENT_GROUP_PROTOCOL, GROUP_AUTHORIZATION_FAILED, FENCED_INSTANCE_ID,
          // INVALID_SESSION_TIMEOUT, GROUP_MAX_SIZE_REACHED...) end the Reader.
          throw KafkaError.fromCode(code, { apiName: 'JoinGroup', groupId: this.groupId })
      }
    }
  }

  /** The leader's part: run the chosen balancer over every member's subscription. */
  async #lead(join: JoinGroupResponse, signal: AbortSignal): Promise<{ memberId: string; assignment: Buffer }[]> {
    const balancer = this.#o.balancers.find((b) => b.name === join.protocolName)
    if (balancer === undefined) {
      throw KafkaError.fromCode(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, {
        apiName: 'JoinGroup',
        groupId: this.groupId,
        errorMessage: `the coordinator chose the protocol '${join.protocolName}', which this member does not offer`,
      })
    }
    const members: GroupMember[] = join.members.map((m) =>
      groupMember(m.memberId, m.groupInstanceId, decodeSubscription(m.metadata)),
    )
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort()
    // A topic just created may not have reached this broker's metadata yet (Kafka brokers learn
    // of it one by one): look again briefly before assigning without it.
    for (let attempt = 1; ; attempt++) {
      await this.#o.client.metadata.refresh(topics, signal)
      const unready = topics.some((t) => {
        const info = this.#o.client.metadata.topic(t)
        return info === undefined || (info.errorCode !== ErrorCode.NONE && errorInfo(info.errorCode).retriable)
      })
      if (!unready || attempt >= 3) break
      await sleep(backoffDelay(this.#o.backoff, attempt), signal)
    }
    this.#throwIfRefused()
    const partitionsPerTopic = new Map<string, readonly number[]>()
    const snapshot = new Map<string, number>()
    for (const topic of topics) {
      const info = this.#o.client.metadata.topic(topic)
      const ids = info !== undefined && info.errorCode === ErrorCode.NONE ? info.partitionIds : []
      snapshot.set(topic, ids.length)
      // Topics that do not exist (yet) are left out, as in Java; creating one triggers a rebalance.
      if (ids.length > 0) partitionsPerTopic.set(topic, ids)
    }
    this.#snapshot = snapshot
    this.#lastWatch = Date.now()
    const result = balancer.assign(members, partitionsPerTopic, { partitionRacks: this.#partitionRacks(topics) })
    return [...result].map(([memberId, assigned]) => ({ memberId, assignment: encodeAssignment(assigned) }))
  }

  async #sync(
    join: JoinGroupResponse,
    assignments: { memberId: string; assignment: Buffer }[],
    signal: AbortSignal,
  ): Promise<TopicPartition[]> {
    const o = this.#o
    const generationId = this.generationId
    const memberId = this.memberId
    const response = await o.coordinator.send(
      SyncGroup,
      {
        groupId: this.groupId,
        generationId,
        memberId,
        ...(this.groupInstanceId !== null ? { groupInstanceId: this.groupInstanceId } : {}),
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: join.protocolName,
        assignments,
      },
      // Followers wait here for the leader's assignment.
      { signal, timeoutMs: o.rebalanceTimeout + 5000 },
    )
    const code = response.errorCode
    if (code === ErrorCode.NONE) {
      const decoded = decodeAssignment(response.assignment)
      const subscribed = new Set(this.#topics)
      const out: TopicPartition[] = []
      for (const [topic, partitions] of decoded.partitions) {
        if (!subscribed.has(topic)) continue // Java ignores what it did not subscribe to
        for (const partition of new Set(partitions)) out.push({ topic, partition })
      }
      return out
    }
    if (code === ErrorCode.REBALANCE_IN_PROGRESS) throw new Rejoin()
    if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.ILLEGAL_GENERATION) {
      this.#fencedCode ??= code
      throw new Rejoin()
    }
    if (o.coordinator.checkCoordinatorError(code))
      throw KafkaError.fromCode(code, { apiName: 'SyncGroup', groupId: this.groupId })
    throw KafkaError.fromCode(code, { apiName: 'SyncGroup', groupId: this.groupId })
  }

  /** Applies the assignment: revoke what moved away (cooperative), start the new partitions. */
  async #complete(assigned: TopicPartition[], signal: AbortSignal): Promise<void> {
    const o = this.#o
    const next = new Map(assigned.map((tp) => [partitionKey(tp.topic, tp.partition), tp]))
    const revoked = [...this.#owned].filter(([key]) => !next.has(key)).map(([, own]) => own)
    const added = [...next].filter(([key]) => !this.#owned.has(key)).map(([, tp]) => tp)

    this.#state = 'stable'
    this.#ownedGeneration = this.generationId
    o.stats.rebalances++
    this.#startHeartbeat()
    if (!this.isLeader) this.#snapshot = new Map()

    if (revoked.length > 0) {
      await this.#awaitDone(revoked, signal)
      if (this.#fencedCode !== null) {
        // Fenced while waiting: the rejoin gives every partition up as lost.
        this.#stableChanged.notify()
        return
      }
      await this.#committer.flush({ signal: deadlineSignal(o.requestTimeout, signal) }).catch(() => {})
      await this.#giveUp(revoked, signal)
      // KIP-429: the partitions taken away can only be handed over in another rebalance.
      if (o.protocol === 'cooperative') this.requestRejoin('partitions were revoked')
    }
    this.#stableChanged.notify()
    if (added.length === 0) return

    // Starting positions first: a failure here leaves the partitions unowned, so the next join
    // reports them honestly instead of holding partitions nobody fetches.
    const committed = await this.#committer.fetchCommitted(added, signal)
    if (this.#fencedCode !== null || this.#state !== 'stable') return
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
    // After the partitions are placed, so a seek inside onAssign wins (as in Java).
    if (o.onAssign !== undefined) await this.#callback(o.onAssign, added, signal)
  }

  /** Stable: wait for a reason to rejoin, checking the subscribed topics' partitions now and then. */
  async #stable(signal: AbortSignal): Promise<void> {
    const o = this.#o
    while (!signal.aborted && this.#rejoinReason === null) {
      const untilWatch = this.#lastWatch + o.partitionWatchInterval - Date.now()
      if (untilWatch > 0) {
        await this.#rejoin.wait(signal, untilWatch, 'group membership').catch(() => {})
        continue
      }
      this.#lastWatch = Date.now()
      await this.#watchPartitions(signal).catch((err: unknown) => {
        if (err instanceof KafkaError && err.errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED) throw err
        if (!signal.aborted) this.#o.logger?.warn({ err }, 'metadata refresh for the partition watch failed')
      })
    }
  }

  /**
   * Rejoins when a watched topic's partition count changed (kafka-go WatchPartitionChanges; Java's
   * metadata snapshot check). The leader watches every member's topics, the others their own.
   */
  async #watchPartitions(signal: AbortSignal): Promise<void> {
    const before = this.#topics
    if (await this.#resolveTopics(signal)) {
      this.requestRejoin(`topics matching the pattern changed: ${before.join(',')} -> ${this.#topics.join(',')}`)
      return
    }
    const topics = this.#snapshot.size > 0 ? [...this.#snapshot.keys()] : [...this.#topics]
    await this.#o.client.metadata.refresh(topics, signal)
    this.#throwIfRefused()
    for (const topic of topics) {
      const info = this.#o.client.metadata.topic(topic)
      const count = info !== undefined && info.errorCode === ErrorCode.NONE ? info.partitions.length : 0
      const before = this.#snapshot.get(topic)
      if (before === undefined) this.#snapshot.set(topic, count)
      else if (before !== count) {
        this.requestRejoin(`topic '${topic}' has ${count} partitions (was ${before})`)
        return
      }
    }
  }

  /**
   * A subscribed topic the member may not describe fails the Reader (the metadata just refreshed
   * says TOPIC_AUTHORIZATION_FAILED), as Java's consumer throws TopicAuthorizationException,
   * rather than being left out of the assignment like a topic that does not exist.
   */
  #throwIfRefused(): void {
    const metadata = this.#o.client.metadata
    const refused = this.#topics.filter((t) => metadata.topic(t)?.errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    if (refused.length > 0)
      throw KafkaError.fromCode(ErrorCode.TOPIC_AUTHORIZATION_FAILED, {
        apiName: 'Metadata',
        groupId: this.groupId,
        topic: refused[0]!,
        errorMessage: `Not authorized to access topics: [${refused.join(', ')}]`,
      })
  }

  /** KIP-881: per topic and partition, the racks of its replicas (from metadata; brokers without a rack left out). */
  #partitionRacks(topics: readonly string[]): Map<string, Map<number, string[]>> {
    const metadata = this.#o.client.metadata
    const out = new Map<string, Map<number, string[]>>()
    for (const topic of topics) {
      const byPartition = new Map<number, string[]>()
      for (const p of metadata.topic(topic)?.partitions ?? []) {
        const racks = p.replicas.flatMap((id) => metadata.broker(id)?.rack ?? [])
        if (racks.length > 0) byPartition.set(p.partition, racks)
      }
      out.set(topic, byPartition)
    }
    return out
  }

  /** With topicPattern: lists the matching topics again; true when the subscription changed. */
  async #resolveTopics(signal: AbortSignal): Promise<boolean> {
    const pattern = this.#o.topicPattern
    if (pattern === null) return false
    const topics = await matchingTopics(this.#o.client, pattern, signal)
    if (topics.join('\u0000') === this.#topics.join('\u0000')) return false
    this.#topics = topics
    this.#o.client.metadata.addTopics(topics)
    return true
  }

  // --- heartbeats ----------------------------------------------------------------------------------

  #startHeartbeat(): void {
    if (this.#heartbeat !== null) return
    // Stopping the Reader stops the loop; the link is removed when the loop ends (no
    // AbortSignal.any: on Node 20 it would stay on the Reader's signal, one per generation).
    const abort = new AbortController()
    const unlink = onAnyAbort(this.#stop.signal, (stop) => abort.abort(stop.reason))
    const done = this.#heartbeatLoop(this.generationId, this.memberId, abort.signal).finally(unlink)
    this.#heartbeat = { abort, done }
  }

  async #stopHeartbeat(): Promise<void> {
    const hb = this.#heartbeat
    if (hb === null) return
    this.#heartbeat = null
    hb.abort.abort()
    await hb.done
  }

  async #heartbeatLoop(generationId: number, memberId: string, signal: AbortSignal): Promise<void> {
    const o = this.#o
    let failures = 0
    while (!signal.aborted) {
      const started = Date.now()
      let delay = o.heartbeatInterval
      try {
        const response = await o.coordinator.send(
          Heartbeat,
          {
            groupId: this.groupId,
            generationId,
            memberId,
            ...(this.groupInstanceId !== null ? { groupInstanceId: this.groupInstanceId } : {}),
          },
          { signal, timeoutMs: Math.min(o.requestTimeout, o.sessionTimeout) },
        )
        const code = response.errorCode
        if (code === ErrorCode.NONE) {
          failures = 0
        } else if (code === ErrorCode.REBALANCE_IN_PROGRESS) {
          this.requestRejoin('the group is rebalancing')
        } else if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.ILLEGAL_GENERATION) {
          this.fenced(code, generationId, memberId)
          return
        } else if (code === ErrorCode.FENCED_INSTANCE_ID) {
          // Another instance with our group.instance.id took over: fatal, as in Java.
          this.fenced(code, generationId, memberId)
          this.#hooks.fail(KafkaError.fromCode(code, { apiName: 'Heartbeat', groupId: this.groupId }))
          return
        } else {
          o.coordinator.checkCoordinatorError(code)
          o.logger?.[failures > 0 ? 'warn' : 'info'](
            { errorCode: code, failures: failures + 1 },
            'heartbeat failed; retrying',
          )
          failures++
          delay = Math.min(delay, backoffDelay(o.backoff, failures))
        }
      } catch (err) {
        if (signal.aborted) return
        // Connection trouble: the coordinator was forgotten; find it again soon.
        o.logger?.[failures > 0 ? 'warn' : 'info']({ err, failures: failures + 1 }, 'heartbeat failed; retrying')
        failures++
        delay = Math.min(delay, backoffDelay(o.backoff, failures))
      }
      const wait = delay - (Date.now() - started)
      if (wait > 0) await sleep(wait, signal).catch(() => {})
    }
  }
}

function groupByTopic(partitions: Iterable<TopicPartition>): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const tp of partitions) {
    const list = out.get(tp.topic)
    if (list === undefined) out.set(tp.topic, [tp.partition])
    else list.push(tp.partition)
  }
  for (const list of out.values()) list.sort((a, b) => a - b)
  return out
}

/** Errors no rejoin can fix: the Reader reports them and stops. */
function isFatal(err: unknown): boolean {
  if (err instanceof UnsupportedVersionError || err instanceof SaslAuthenticationError) return true
  if (err instanceof KafkaError) {
    const info = errorInfo(err.errorCode)
    return !err.retriable && info.rejoinGroup !== true && info.staleCoordinator !== true
  }
  return !isRetriable(err) && !(err instanceof KafkaTsError && err.code === 'KAFKATS_RETRIES_EXHAUSTED')
}
