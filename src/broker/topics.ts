// Topics, partitions and the in-process replication model.
//
// Each partition has one log (the leader's; "the leader's log is the source") plus, for every
// follower replica, the offset up to which it has copied it (its log end offset) and the high
// watermark it last heard from the leader. Replication is asynchronous, as on Kafka, but
// bounded and deterministic: an append schedules a fetch round on the next event-loop turn
// (setImmediate, no timer), in which every live in-sync follower copies the leader's log and
// learns the leader's high watermark as it was before the round; the leader's high watermark —
// the smallest log end offset in the ISR — then advances, and the followers learn it in the
// following round. So acks=-1 waits a turn, the high watermark trails the log end briefly, and
// a follower's high watermark trails the leader's by one more round.
//
// A follower elected leader starts from its OWN high watermark (Kafka's Partition.makeLeader),
// which may be below the old leader's: consumers can see the high watermark move backwards until
// the followers' next round, and ListOffsets for the latest offset answers OFFSET_NOT_AVAILABLE
// while the high watermark is below the new epoch's start offset. Faults make followers lag
// (they stop fetching but stay in the ISR, holding the high watermark back), shrink the ISR, or
// stop brokers (which leave the ISR; a stopped leader hands leadership to the next live ISR
// member and the log is truncated to that member's end, as Kafka's followers truncate to a new
// leader's log: acks=1 data not yet copied is lost).

import { randomBytes } from 'node:crypto'
import { ErrorCode } from '../protocol/error-codes.js'
import { TOPIC_CONFIG_BY_NAME, validateTopicConfig } from './config.js'
import type { Journal } from './journal.js'
import { PartitionLog } from './log.js'
import { PartitionProducers } from './producers.js'

/** What a partition needs to know about the rest of the cluster. */
export interface ReplicaEnv {
  isAlive(brokerId: number): boolean
  now(): number
  /** Broker-level defaults for topic configs (dynamic or from the options). */
  topicDefault(name: string): string | undefined
  /** The data dir's files, when the cluster has one. */
  readonly journal?: Journal
  /** Told of every ISR change after creation (the leader's IsrShrinksPerSec/IsrExpandsPerSec). */
  onIsrChange?(partition: Partition, before: readonly number[], after: readonly number[]): void
  /** Told when a topic is deleted (its per-topic metrics go with it). */
  onTopicDeleted?(name: string): void
}

export class Topic {
  readonly partitions: Partition[] = []
  readonly configs = new Map<string, string>()

  constructor(
    readonly name: string,
    readonly id: string,
    private readonly env: ReplicaEnv,
    readonly internal = false,
  ) {}

  /** The effective value: topic override, then broker default, then Kafka's default. */
  config(name: string): string {
    return this.configs.get(name) ?? this.env.topicDefault(name) ?? TOPIC_CONFIG_BY_NAME.get(name)?.default ?? ''
  }

  configNumber(name: string): number {
    const n = Number(this.config(name))
    return Number.isFinite(n) ? n : 0
  }

  get compacted(): boolean {
    return this.config('cleanup.policy')
      .split(',')
      .some((p) => p.trim() === 'compact')
  }

  get deleteRetention(): boolean {
    return this.config('cleanup.policy')
      .split(',')
      .some((p) => p.trim() === 'delete')
  }
}

type Listener = () => void

export class Partition {
  readonly log: PartitionLog
  readonly producers = new PartitionProducers()
  isr: number[]
  leader: number
  leaderEpoch = 0
  partitionEpoch = 0
  highWatermark = 0
  /** Log end offset of each follower replica. */
  readonly followerEnd = new Map<number, number>()
  /** The high watermark each follower last heard from the leader (what it starts from if elected). */
  readonly followerHw = new Map<number, number>()
  /** The log end offset when the current leader's epoch began (Partition.leaderEpochStartOffsetOpt). */
  epochStartOffset = 0
  /**
   * Followers that fetched from the current leader: a new leader does not know the others' log
   * end offsets (Kafka resets them in makeLeader), so until they fetch the high watermark stays.
   */
  private readonly fetchedFromLeader = new Set<number>()
  private roundScheduled = false
  /** Followers that stopped copying (fault injection) but are still in the ISR. */
  readonly lagging = new Set<number>()
  private readonly listeners = new Set<Listener>()

  constructor(
    readonly topic: Topic,
    readonly index: number,
    public replicas: number[],
    private readonly env: ReplicaEnv,
  ) {
    this.log = new PartitionLog(() => ({
      segmentBytes: topic.configNumber('segment.bytes'),
      segmentMs: topic.configNumber('segment.ms'),
    }))
    this.isr = replicas.filter((r) => env.isAlive(r))
    if (this.isr.length === 0) this.isr = [...replicas]
    this.leader = this.isr.find((r) => env.isAlive(r)) ?? -1
    for (const r of replicas) {
      if (r === this.leader) continue
      this.followerEnd.set(r, 0)
      this.followerHw.set(r, 0)
    }
    if (this.leader >= 0) this.log.assignEpoch(0, 0)
    const journal = env.journal
    if (journal !== undefined) {
      this.log.observer = {
        appending: (batch) => journal.appendBatch(topic.id, index, batch),
        rewritten: () => journal.rewriteLog(topic.id, index, this.log.batches()),
      }
    }
  }

  /** The last stable offset: below the first ongoing transaction, never above the high watermark. */
  get lastStableOffset(): number {
    const unstable = this.producers.firstUnstableOffset(this.highWatermark)
    return unstable === undefined ? this.highWatermark : Math.min(unstable, this.highWatermark)
  }

  get logStartOffset(): number {
    return this.log.logStartOffset
  }

  /** Replicas that are not running (Metadata offline_replicas). */
  offlineReplicas(): number[] {
    return this.replicas.filter((r) => !this.env.isAlive(r))
  }

  /** After an append: the followers fetch it on the next event-loop turn. */
  scheduleReplication(): void {
    if (this.roundScheduled || this.leader < 0) return
    this.roundScheduled = true
    setImmediate(() => {
      this.roundScheduled = false
      this.replicate()
    })
  }

  /**
   * One fetch round, now: every live, non-lagging ISR follower copies the leader's log and learns
   * the high watermark the leader had before the round; then the leader's high watermark moves.
   * While anything changed another round is scheduled, so followers learn the new high watermark
   * on the next turn and rounds stop once nothing moves (at most two turns after an append).
   */
  replicate(): void {
    if (this.leader < 0 || !this.env.isAlive(this.leader)) return
    const end = this.log.endOffset
    const leaderHw = this.highWatermark
    let changed = false
    for (const r of this.isr) {
      if (r === this.leader || !this.env.isAlive(r) || this.lagging.has(r)) continue
      if (this.followerEnd.get(r) !== end) {
        this.followerEnd.set(r, end)
        changed = true
      }
      if (this.followerHw.get(r) !== leaderHw) {
        this.followerHw.set(r, leaderHw)
        changed = true
      }
      this.fetchedFromLeader.add(r)
    }
    this.updateHighWatermark()
    if (changed) this.scheduleReplication()
  }

  /** A replica's log end offset as the leader knows it (-1 before a follower's first fetch). */
  private replicaEnd(r: number): number {
    if (r === this.leader) return this.log.endOffset
    return this.fetchedFromLeader.has(r) ? (this.followerEnd.get(r) ?? 0) : -1
  }

  updateHighWatermark(): void {
    if (this.leader < 0) return
    let hw = this.log.endOffset
    for (const r of this.isr) hw = Math.min(hw, this.replicaEnd(r))
    // The high watermark never goes backwards on a leader; it is at least the log start.
    hw = Math.max(hw, this.highWatermark, this.log.logStartOffset)
    hw = Math.min(hw, this.log.endOffset)
    if (hw !== this.highWatermark) {
      this.highWatermark = hw
      this.notify()
    }
  }

  /** Runs `listener` whenever the high watermark, LSO, log start or leadership changes. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  notify(): void {
    for (const l of [...this.listeners]) l()
  }

  /** Elects a new leader from the live ISR (clean election only; unclean when allowed). */
  electLeader(preferred?: number): void {
    const previous = this.leader
    const live = this.isr.filter((r) => this.env.isAlive(r))
    let next =
      preferred !== undefined && live.includes(preferred) ? preferred : (live.find((r) => r === previous) ?? live[0])
    if (next === undefined && this.topic.config('unclean.leader.election.enable') === 'true') {
      next = this.replicas.find((r) => this.env.isAlive(r))
      if (next !== undefined) this.changeIsr([next])
    }
    this.setLeader(next ?? -1)
  }

  /** Makes `leader` the leader (bumping the epoch), truncating the log to what it holds. */
  setLeader(leader: number): void {
    if (leader === this.leader) return
    const previous = this.leader
    // What the new leader knew as a follower (a leader elected from nothing keeps the current view).
    const ownHw = this.followerHw.get(leader) ?? this.highWatermark
    if (leader >= 0) {
      const end = this.followerEnd.get(leader) ?? this.log.endOffset
      if (end < this.log.endOffset) {
        this.log.truncateTo(end)
        this.producers.truncateTo(this.log.endOffset)
      }
    }
    const end = this.log.endOffset
    if (previous >= 0) {
      this.followerEnd.set(previous, end)
      this.followerHw.set(previous, Math.min(this.highWatermark, end))
    }
    // Followers truncate to the new leader's log (KIP-101/KIP-279) before fetching on.
    for (const [r, e] of this.followerEnd) if (e > end) this.followerEnd.set(r, end)
    for (const [r, hw] of this.followerHw) if (hw > end) this.followerHw.set(r, end)
    this.followerEnd.delete(leader)
    this.followerHw.delete(leader)
    this.fetchedFromLeader.clear()
    this.leader = leader
    this.leaderEpoch++
    this.partitionEpoch++
    this.lagging.delete(leader)
    if (leader >= 0) {
      this.log.assignEpoch(this.leaderEpoch, end)
      this.epochStartOffset = end
      // Kafka's makeLeader: the high watermark is the new leader's own, which may be behind the
      // old leader's; it moves once the followers have fetched from the new leader.
      this.highWatermark = Math.max(this.log.logStartOffset, Math.min(ownHw, end))
      this.scheduleReplication()
    }
    this.notify()
  }

  /** The leader's high watermark is below the start of its epoch (ListOffsets: OFFSET_NOT_AVAILABLE). */
  get highWatermarkLagging(): boolean {
    return this.epochStartOffset > this.highWatermark
  }

  /** A broker stopped: it leaves the ISR (keeping at least one member, as KRaft does) and leadership moves. */
  onBrokerStopped(brokerId: number): void {
    if (!this.replicas.includes(brokerId)) return
    if (this.isr.includes(brokerId) && this.isr.length > 1) {
      this.changeIsr(this.isr.filter((r) => r !== brokerId))
      this.partitionEpoch++
    }
    if (this.leader === brokerId) this.electLeader()
    else this.updateHighWatermark()
    this.notify()
  }

  /**
   * A broker started: an offline partition may get a leader again, and every live follower
   * catches up from the leader and rejoins the ISR (as its replica fetcher would).
   */
  onBrokerStarted(brokerId: number): void {
    if (!this.replicas.includes(brokerId)) return
    if (this.leader < 0) {
      this.electLeader()
      if (this.leader < 0) return
    }
    let changed = false
    for (const r of this.replicas) {
      if (r === this.leader || !this.env.isAlive(r) || this.isr.includes(r) || this.lagging.has(r)) continue
      this.followerEnd.set(r, this.log.endOffset)
      this.followerHw.set(r, this.highWatermark)
      this.fetchedFromLeader.add(r)
      this.changeIsr(this.replicas.filter((x) => x === r || this.isr.includes(x)))
      changed = true
    }
    if (changed) this.partitionEpoch++
    this.replicate()
    this.notify()
  }

  private changeIsr(next: number[]): void {
    const before = this.isr
    this.isr = next
    this.env.onIsrChange?.(this, before, next)
  }

  /** Sets the ISR (fault injection); the leader always stays in it. */
  setIsr(isr: number[]): void {
    const next = this.replicas.filter((r) => isr.includes(r) || r === this.leader)
    for (const r of next) {
      if (this.isr.includes(r) || r === this.leader) continue
      this.followerEnd.set(r, this.log.endOffset)
      this.followerHw.set(r, this.highWatermark)
      this.fetchedFromLeader.add(r)
    }
    this.changeIsr(next)
    this.partitionEpoch++
    this.replicate()
    this.notify()
  }
}

export interface CreateTopicSpec {
  name: string
  numPartitions: number
  replicationFactor: number
  /** Explicit replica lists, by partition index (then numPartitions/replicationFactor are -1). */
  assignments?: { partitionIndex: number; brokerIds: number[] }[]
  configs?: { name: string; value: string | null }[]
}

/** The KRaft controller refuses operations producing more records than this (QuorumController). */
const MAX_RECORDS_PER_USER_OP = 10000

function excessive(): TopicError {
  return new TopicError(ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.')
}

export class TopicError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message)
  }
}

/** Kafka's Topic.validate: legal characters, length and the reserved names. */
export function validateTopicName(name: string): string | undefined {
  if (name.length === 0) return "Topic name is illegal, it can't be empty"
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."'
  if (name.length > 249) return `Topic name is illegal, it can't be longer than 249 characters, topic name: ${name}`
  if (!/^[a-zA-Z0-9._-]+$/.test(name))
    return `Topic name ${name} is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`
  return undefined
}

export function randomUuid(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    // Kafka reserves the zero UUID and ids whose base64 starts with '-' are avoided by Uuid.randomUuid.
    if (id !== 'AAAAAAAAAAAAAAAAAAAAAA' && !id.startsWith('-')) return id
  }
}

export class TopicRegistry {
  private readonly byName = new Map<string, Topic>()
  private readonly byId = new Map<string, Topic>()
  /** Rotates the first replica of new partitions over the brokers (deterministic placement). */
  private placementCursor = 0

  constructor(
    private readonly env: ReplicaEnv,
    private readonly brokerIds: () => number[],
  ) {}

  get(name: string): Topic | undefined {
    return this.byName.get(name)
  }

  getById(id: string): Topic | undefined {
    return this.byId.get(id)
  }

  all(): Topic[] {
    return [...this.byName.values()]
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.byName.get(topic)?.partitions[index]
  }

  /**
   * Validates (and unless `validateOnly` creates) a topic the way Kafka's controller does
   * (ReplicationControlManager.createTopic): TopicError carries Kafka's error code and message.
   */
  create(
    spec: CreateTopicSpec,
    defaults: { partitions: number; replicationFactor: number },
    validateOnly = false,
    id?: string,
  ): Topic {
    const nameError = validateTopicName(spec.name)
    if (nameError !== undefined) throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError)
    if (this.byName.has(spec.name))
      throw new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${spec.name}' already exists.`)
    const collisionKey = spec.name.replace(/\./g, '_')
    for (const other of this.byName.keys()) {
      if (other.replace(/\./g, '_') === collisionKey) {
        throw new TopicError(
          ErrorCode.INVALID_TOPIC_EXCEPTION,
          `Topic '${spec.name}' collides with existing topic: ${other}`,
        )
      }
    }
    const live = this.brokerIds().filter((b) => this.env.isAlive(b))
    let replicaLists: number[][]
    const assignments = spec.assignments ?? []
    if (assignments.length > 0) {
      if (spec.numPartitions !== -1 || spec.replicationFactor !== -1) {
        throw new TopicError(
          ErrorCode.INVALID_REQUEST,
          'A manual partition assignment was specified, but numPartitions or replicationFactor was not set to -1.',
        )
      }
      if (assignments.length + (spec.configs?.length ?? 0) + 1 > MAX_RECORDS_PER_USER_OP) throw excessive()
      replicaLists = this.checkAssignments(assignments, 0)
    } else {
      const partitions = spec.numPartitions === -1 ? defaults.partitions : spec.numPartitions
      const rf = spec.replicationFactor === -1 ? defaults.replicationFactor : spec.replicationFactor
      if (partitions <= 0)
        throw new TopicError(
          ErrorCode.INVALID_PARTITIONS,
          'Number of partitions was set to an invalid non-positive value.',
        )
      if (partitions + (spec.configs?.length ?? 0) + 1 > MAX_RECORDS_PER_USER_OP) throw excessive()
      if (rf <= 0)
        throw new TopicError(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          'Replication factor must be larger than 0, or -1 to use the default value.',
        )
      if (rf > live.length) {
        throw new TopicError(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${live.length} broker(s) are registered.`,
        )
      }
      replicaLists = this.place(partitions, rf, live, validateOnly)
    }
    const configs = new Map<string, string>()
    for (const c of spec.configs ?? []) {
      const error = validateTopicConfig(c.name, c.value)
      if (error !== undefined) throw new TopicError(ErrorCode.INVALID_CONFIG, error)
      configs.set(c.name, c.value!)
    }
    const topic = new Topic(spec.name, id ?? randomUuid(), this.env)
    for (const [k, v] of configs) topic.configs.set(k, v)
    if (validateOnly) return topic
    replicaLists.forEach((replicas, i) => topic.partitions.push(new Partition(topic, i, replicas, this.env)))
    this.byName.set(topic.name, topic)
    this.byId.set(topic.id, topic)
    // On disk before anything is appended to its logs (a Produce response alone does not save state.json).
    this.env.journal?.markDirty()
    return topic
  }

  /** Validates explicit assignments for partitions starting at `firstIndex`. */
  checkAssignments(assignments: { partitionIndex: number; brokerIds: number[] }[], firstIndex: number): number[][] {
    const known = new Set(this.brokerIds())
    const sorted = [...assignments].sort((a, b) => a.partitionIndex - b.partitionIndex)
    const lists: number[][] = []
    sorted.forEach((a, i) => {
      if (a.partitionIndex !== firstIndex + i) {
        throw new TopicError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          'Partitions should be numbered consecutively starting from 0.',
        )
      }
      if (a.brokerIds.length === 0)
        throw new TopicError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `The manual partition assignment includes an empty replica list.`,
        )
      if (new Set(a.brokerIds).size !== a.brokerIds.length) {
        throw new TopicError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `The manual partition assignment includes the broker ${a.brokerIds.find((b, j) => a.brokerIds.indexOf(b) !== j)} more than once.`,
        )
      }
      for (const b of a.brokerIds) {
        if (!known.has(b))
          throw new TopicError(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `The manual partition assignment includes broker ${b}, but no such broker is registered.`,
          )
      }
      if (lists.length > 0 && a.brokerIds.length !== lists[0]!.length) {
        throw new TopicError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `The manual partition assignment includes a partition with ${a.brokerIds.length} replica(s), but this is not consistent with previous partitions, which have ${lists[0]!.length} replica(s).`,
        )
      }
      lists.push([...a.brokerIds])
    })
    return lists
  }

  /** Round-robin placement: partition p leads on the next broker, followers on the ones after it. */
  place(partitions: number, rf: number, live: number[], dryRun: boolean): number[][] {
    const sorted = [...live].sort((a, b) => a - b)
    const lists: number[][] = []
    let cursor = this.placementCursor
    for (let p = 0; p < partitions; p++) {
      const start = cursor++ % sorted.length
      lists.push(Array.from({ length: rf }, (_, j) => sorted[(start + j) % sorted.length]!))
    }
    if (!dryRun) this.placementCursor = cursor
    return lists
  }

  /** Adds partitions (CreatePartitions). */
  addPartitions(topic: Topic, count: number, assignments: number[][] | undefined, validateOnly: boolean): void {
    const current = topic.partitions.length
    if (count - current > MAX_RECORDS_PER_USER_OP) throw excessive()
    if (count < current)
      throw new TopicError(
        ErrorCode.INVALID_PARTITIONS,
        `The topic ${topic.name} currently has ${current} partition(s); ${count} would not be an increase.`,
      )
    if (count === current)
      throw new TopicError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`)
    const rf = topic.partitions[0]?.replicas.length ?? 1
    let lists: number[][]
    if (assignments !== undefined) {
      if (assignments.length !== count - current) {
        throw new TopicError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Attempted to add ${count - current} additional partition(s), but only ${assignments.length} assignment(s) were specified.`,
        )
      }
      lists = this.checkAssignments(
        assignments.map((brokerIds, i) => ({ partitionIndex: current + i, brokerIds })),
        current,
      )
    } else {
      const live = this.brokerIds().filter((b) => this.env.isAlive(b))
      if (rf > live.length) {
        throw new TopicError(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${live.length} broker(s) are registered.`,
        )
      }
      lists = this.place(count - current, rf, live, validateOnly)
    }
    if (validateOnly) return
    for (const replicas of lists)
      topic.partitions.push(new Partition(topic, topic.partitions.length, replicas, this.env))
    this.env.journal?.markDirty()
  }

  delete(topic: Topic): void {
    this.byName.delete(topic.name)
    this.byId.delete(topic.id)
    for (const p of topic.partitions) {
      p.leader = -1
      p.log.observer = undefined
      this.env.journal?.removeLog(topic.id, p.index)
      p.notify()
    }
    this.env.onTopicDeleted?.(topic.name)
  }

  /** Restores a topic (from a data dir) with its id, configs and replica lists. */
  restore(name: string, id: string, configs: Record<string, string>, replicaLists: number[][]): Topic {
    const topic = new Topic(name, id, this.env)
    for (const [k, v] of Object.entries(configs)) topic.configs.set(k, v)
    replicaLists.forEach((replicas, i) => topic.partitions.push(new Partition(topic, i, replicas, this.env)))
    this.byName.set(name, topic)
    this.byId.set(id, topic)
    return topic
  }
}
