// Classic and consumer (KIP-848) groups side by side, after Kafka 4.4's GroupMetadataManager
// (validateOnlineUpgrade, convertToConsumerGroup, classicGroup{Join,Sync,Heartbeat,Leave}ToConsumerGroup,
// validateOnlineDowngradeWithFencedMember, convertToClassicGroup). What a rolling upgrade does:
//
// - Upgrade: the first ConsumerGroupHeartbeat into a classic group with members converts it when
//   the policy allows it (group.consumer.migration.policy: bidirectional, the default, or
//   upgrade), the group uses the `consumer` protocol type and fits the consumer group size. Each
//   classic member becomes a member at epoch = the generation, subscribed to the topics of its
//   JoinGroup metadata and owning its last SyncGroup assignment; pending joins and syncs are
//   answered REBALANCE_IN_PROGRESS. Else GROUP_ID_NOT_FOUND, as before.
// - Classic members inside a consumer group: JoinGroup updates the subscription (bumping the
//   group epoch when it changed) and answers at once with generation = the member's epoch, no
//   leader work (empty leader, no member list); SyncGroup returns the member's assigned
//   partitions as a ConsumerProtocolAssignment. Revocation is a rejoin: Heartbeat answers
//   REBALANCE_IN_PROGRESS while the member's epoch is behind the group's, it has partitions to
//   give up, or partitions it waits for were released. Its commits carry its epoch (or the
//   previous one, as Kafka 4.4 accepts), with any OffsetCommit version; else ILLEGAL_GENERATION.
// - Downgrade: when the last consumer-protocol member leaves or is fenced and classic members
//   remain (policy bidirectional or downgrade, at most group.max.size of them), the group turns
//   back into a classic group at generation = the group epoch, each member keeping its target
//   assignment, and a rebalance starts.

import { randomUUID } from 'node:crypto'
import { decodeAssignment, decodeSubscription, encodeAssignment } from '../consumer/assignors/consumer-protocol.js'
import { ErrorCode } from '../protocol/error-codes.js'
import type { Cluster } from './cluster.js'
import {
  ConsumerGroup,
  addPartition,
  assignmentSize,
  copyAssignment,
  minus,
  type Assignment,
  type ConsumerMember,
} from './consumer-group-state.js'
import type { ConsumerGroupCoordinator } from './consumer-groups.js'
import type { Group, JoinRequest, JoinResult, Member, SyncResult } from './group-state.js'

export type MigrationPolicy = 'bidirectional' | 'upgrade' | 'downgrade' | 'disabled'

export const MIGRATION_POLICIES: readonly MigrationPolicy[] = ['bidirectional', 'upgrade', 'downgrade', 'disabled']

const PROTOCOL_TYPE = 'consumer'
const EMPTY = Buffer.alloc(0)

function joinFailure(errorCode: number, memberId: string): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] }
}

function syncFailure(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY }
}

export class GroupMigration {
  constructor(
    private readonly cluster: Cluster,
    private readonly coordinator: ConsumerGroupCoordinator,
  ) {}

  private get policy(): MigrationPolicy {
    return this.cluster.options.consumerGroupMigrationPolicy
  }

  // -------------------------------------------------------------------------------------------
  // Upgrade

  /** The consumer group a classic group with members becomes, or undefined when it may not be converted. */
  upgrade(classic: Group): ConsumerGroup | undefined {
    if (this.policy !== 'bidirectional' && this.policy !== 'upgrade') return undefined
    if (classic.protocolType !== PROTOCOL_TYPE || classic.protocolName === null) return undefined
    const group = new ConsumerGroup(classic.groupId)
    group.groupEpoch = classic.generationId
    group.assignmentEpoch = classic.generationId
    const members: ConsumerMember[] = []
    try {
      for (const m of classic.members.values()) {
        const metadata = m.protocols.find((p) => p.name === classic.protocolName)?.metadata ?? EMPTY
        const subscription = decodeSubscription(metadata)
        const assigned = this.toIds(decodeAssignment(m.assignment).partitions)
        members.push({
          memberId: m.memberId,
          instanceId: m.groupInstanceId,
          rackId: subscription.rackId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          subscribedTopicNames: [...subscription.topics].sort(),
          subscribedTopicRegex: null,
          serverAssignor: null,
          memberEpoch: classic.generationId,
          previousMemberEpoch: classic.generationId,
          state: 'stable',
          assigned,
          pendingRevocation: new Map(),
          sessionTimer: undefined,
          rebalanceTimer: undefined,
          classic: { sessionTimeoutMs: m.sessionTimeoutMs, protocols: m.protocols },
        })
      }
    } catch {
      // Kafka: "the embedded consumer protocol is malformed": the group stays classic.
      return undefined
    }
    this.cluster.groups.handOverMembers(classic)
    for (const m of members) {
      this.coordinator.addMember(group, m)
      group.target.set(m.memberId, copyAssignment(m.assigned))
      this.coordinator.touch(group, m)
    }
    group.subscriptionSignature = this.coordinator.signature(group)
    this.cluster.log.info(`group ${group.groupId}: upgraded from a classic group at generation ${classic.generationId}`)
    return group
  }

  // -------------------------------------------------------------------------------------------
  // Downgrade

  /**
   * Called before `leaving` (a consumer-protocol member) is removed: true when the group was
   * turned back into a classic group of its other members instead.
   */
  maybeDowngrade(group: ConsumerGroup, leaving: ConsumerMember): boolean {
    if (this.policy !== 'bidirectional' && this.policy !== 'downgrade') return false
    const rest = [...group.members.values()].filter((m) => m !== leaving)
    if (rest.length === 0 || rest.some((m) => m.classic === null)) return false
    if (rest.length > this.cluster.options.groupMaxSize) return false
    const members: Member[] = rest.map((m) => {
      const classic = m.classic!
      return {
        memberId: m.memberId,
        groupInstanceId: m.instanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: classic.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        protocolType: PROTOCOL_TYPE,
        protocols: classic.protocols,
        assignment: this.assignmentFor(m, group.target.get(m.memberId) ?? new Map()),
        awaitingJoin: undefined,
        awaitingSync: undefined,
        isNew: false,
        sessionTimer: undefined,
      }
    })
    for (const m of group.members.values()) {
      clearTimeout(m.sessionTimer)
      clearTimeout(m.rebalanceTimer)
    }
    this.coordinator.delete(group.groupId)
    const classic = this.cluster.groups.getOrCreate(group.groupId)
    this.cluster.log.info(`group ${group.groupId}: downgraded to a classic group at generation ${group.groupEpoch}`)
    this.cluster.groups.takeOverMembers(classic, members, group.groupEpoch)
    return true
  }

  // -------------------------------------------------------------------------------------------
  // Classic members inside a consumer group

  /** GroupMetadataManager.classicGroupJoinToConsumerGroup. */
  join(group: ConsumerGroup, req: JoinRequest): JoinResult {
    const classicMembers = [...group.members.values()].filter((m) => m.classic !== null)
    const supported =
      req.protocolType === PROTOCOL_TYPE &&
      req.protocols.length > 0 &&
      (classicMembers.length === 0 ||
        req.protocols.some((p) => classicMembers.every((m) => m.classic!.protocols.some((q) => q.name === p.name))))
    const { groupMinSessionTimeoutMs: min, groupMaxSessionTimeoutMs: max } = this.cluster.options
    if (req.sessionTimeoutMs < min || req.sessionTimeoutMs > max)
      return joinFailure(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId)
    if (!supported) return joinFailure(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId)
    if (req.memberId === '' && req.groupInstanceId === null && req.requireKnownMemberId)
      return joinFailure(ErrorCode.MEMBER_ID_REQUIRED, randomUUID())
    let subscription: ReturnType<typeof decodeSubscription>
    try {
      subscription = decodeSubscription(req.protocols[0]!.metadata)
    } catch {
      return joinFailure(ErrorCode.UNKNOWN_SERVER_ERROR, req.memberId)
    }
    const found = this.findForJoin(group, req)
    if (typeof found === 'number') return joinFailure(found, req.memberId)
    const { member, isNew } = found
    const topics = [...subscription.topics].sort()
    const changed = isNew || topics.join('\u0000') !== member.subscribedTopicNames.join('\u0000')
    member.subscribedTopicNames = topics
    if (subscription.rackId !== null) member.rackId = subscription.rackId
    if (req.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = req.rebalanceTimeoutMs
    member.clientId = req.clientId
    member.clientHost = req.clientHost
    member.classic = { sessionTimeoutMs: req.sessionTimeoutMs, protocols: req.protocols }
    if (isNew) this.coordinator.addMember(group, member)
    const signature = this.coordinator.signature(group)
    if (changed || signature !== group.subscriptionSignature) {
      group.groupEpoch++
      group.subscriptionSignature = signature
    }
    this.coordinator.touch(group, member)
    this.coordinator.maybeAssign(group)
    const owned: Assignment = this.toIds(new Map(subscription.ownedPartitions.map((tp) => [tp.topic, tp.partitions])))
    this.coordinator.reconcile(group, member, owned)
    return {
      errorCode: 0,
      generationId: member.memberEpoch,
      protocolType: PROTOCOL_TYPE,
      protocolName: req.protocols[0]!.name,
      leader: '',
      memberId: member.memberId,
      members: [],
    }
  }

  private findForJoin(group: ConsumerGroup, req: JoinRequest): { member: ConsumerMember; isNew: boolean } | number {
    const fresh = (memberId: string): { member: ConsumerMember; isNew: boolean } => ({
      member: this.coordinator.blankMember(memberId, req.groupInstanceId, req.rebalanceTimeoutMs),
      isNew: true,
    })
    if (req.groupInstanceId !== null) {
      const holder = group.staticMembers.get(req.groupInstanceId)
      if (holder === undefined) return fresh(req.memberId === '' ? randomUUID() : req.memberId)
      if (req.memberId !== '' && req.memberId !== holder) return ErrorCode.FENCED_INSTANCE_ID
      const existing = group.members.get(holder)!
      if (req.memberId === holder)
        return existing.classic === null ? ErrorCode.UNKNOWN_MEMBER_ID : { member: existing, isNew: false }
      // A restarted static member takes the place (and assignment) of the one with its instance id.
      return { member: this.coordinator.replaceStatic(group, existing, randomUUID()), isNew: false }
    }
    const memberId = req.memberId === '' ? randomUUID() : req.memberId
    const existing = group.members.get(memberId)
    if (existing === undefined) return fresh(memberId)
    return existing.classic === null ? ErrorCode.UNKNOWN_MEMBER_ID : { member: existing, isNew: false }
  }

  /** The classic member a SyncGroup, Heartbeat or commit names (validateConsumerGroupMember), or its error. */
  private classicMember(group: ConsumerGroup, memberId: string, instanceId: string | null): ConsumerMember | number {
    let member: ConsumerMember | undefined
    if (instanceId !== null) {
      const holder = group.staticMembers.get(instanceId)
      if (holder === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
      if (holder !== memberId) return ErrorCode.FENCED_INSTANCE_ID
      member = group.members.get(holder)
    } else {
      member = group.members.get(memberId)
    }
    if (member?.classic == null) return ErrorCode.UNKNOWN_MEMBER_ID
    return member
  }

  /** GroupMetadataManager.classicGroupSyncToConsumerGroup. */
  sync(
    group: ConsumerGroup,
    generationId: number,
    memberId: string,
    instanceId: string | null,
    protocolType: string | null,
    protocolName: string | null,
  ): SyncResult {
    const member = this.classicMember(group, memberId, instanceId)
    if (typeof member === 'number') return syncFailure(member)
    if (generationId !== member.memberEpoch) return syncFailure(ErrorCode.ILLEGAL_GENERATION)
    const first = member.classic!.protocols[0]!
    if (
      (protocolType !== null && protocolType !== PROTOCOL_TYPE) ||
      (protocolName !== null && protocolName !== first.name)
    )
      return syncFailure(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    // A member that has not revoked yet syncs what it keeps; any other behind the group rejoins first.
    if (group.groupEpoch > member.memberEpoch && member.state !== 'unrevoked')
      return syncFailure(ErrorCode.REBALANCE_IN_PROGRESS)
    this.coordinator.touch(group, member)
    return {
      errorCode: 0,
      protocolType: PROTOCOL_TYPE,
      protocolName: first.name,
      assignment: this.assignmentFor(member, member.assigned),
    }
  }

  /** GroupMetadataManager.classicGroupHeartbeatToConsumerGroup. */
  heartbeat(group: ConsumerGroup, generationId: number, memberId: string, instanceId: string | null): number {
    const member = this.classicMember(group, memberId, instanceId)
    if (typeof member === 'number') return member
    if (generationId !== member.memberEpoch) return ErrorCode.ILLEGAL_GENERATION
    this.coordinator.touch(group, member)
    if (
      member.memberEpoch < group.groupEpoch ||
      member.state === 'unrevoked' ||
      (member.state === 'unreleased' && !this.waitingOnUnreleased(group, member))
    )
      return ErrorCode.REBALANCE_IN_PROGRESS
    return 0
  }

  /** Whether a partition of the member's target is still held by another member. */
  private waitingOnUnreleased(group: ConsumerGroup, member: ConsumerMember): boolean {
    const missing = minus(group.target.get(member.memberId) ?? new Map(), member.assigned)
    for (const [t, ps] of missing) for (const p of ps) if (group.heldByOther(member.memberId, t, p)) return true
    return false
  }

  /** GroupMetadataManager.classicGroupLeaveToConsumerGroup: per-member errors. */
  leave(group: ConsumerGroup, leaving: { memberId: string; groupInstanceId: string | null }[]): number[] {
    return leaving.map((l) => {
      let member: ConsumerMember | undefined
      if (l.groupInstanceId !== null) {
        const holder = group.staticMembers.get(l.groupInstanceId)
        if (holder === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
        if (l.memberId !== '' && l.memberId !== holder) return ErrorCode.FENCED_INSTANCE_ID
        member = group.members.get(holder)
      } else {
        member = group.members.get(l.memberId)
      }
      if (member?.classic == null) return ErrorCode.UNKNOWN_MEMBER_ID
      this.coordinator.remove(group, member)
      return 0
    })
  }

  // -------------------------------------------------------------------------------------------

  /** A classic member's SyncGroup assignment, in the consumer protocol version of its first protocol. */
  private assignmentFor(m: ConsumerMember, a: Assignment): Buffer {
    const metadata = m.classic?.protocols[0]?.metadata ?? EMPTY
    const version = metadata.length >= 2 ? Math.max(0, metadata.readInt16BE(0)) : 0
    return encodeAssignment(this.toNames(a), null, version)
  }

  private toIds(byName: ReadonlyMap<string, readonly number[]>): Assignment {
    const out: Assignment = new Map()
    for (const [name, ps] of byName) {
      const t = this.cluster.topics.get(name)
      if (t !== undefined) for (const p of ps) addPartition(out, t.id, p)
    }
    return out
  }

  private toNames(a: Assignment): Map<string, number[]> {
    const out = new Map<string, number[]>()
    if (assignmentSize(a) === 0) return out
    for (const [id, ps] of a) {
      const t = this.cluster.topics.getById(id)
      if (t !== undefined && ps.size > 0)
        out.set(
          t.name,
          [...ps].sort((x, y) => x - y),
        )
    }
    return out
  }
}
