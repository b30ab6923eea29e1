// The KIP-848 consumer group coordinator (ConsumerGroupHeartbeat), after Kafka 4.4's
// GroupMetadataManager and CurrentAssignmentBuilder, and checked against its answers
// (test/fixtures/cgh-answers). The classic protocol stays in groups.ts; committed offsets stay in
// the shared offset store (group-store.ts), so a converted group keeps them.
//
// - Every change of membership or of what the members subscribe to (a join, a leave, a new
//   subscription, a topic created or grown that a subscription covers) bumps the group epoch.
// - The target assignment is computed for the group epoch by the server-side assignor, at most
//   once per `consumerGroupAssignmentIntervalMs` (Kafka: group.consumer.assignment.interval.ms, 1 s).
// - Reconciliation is incremental: a member first gives up what its target no longer holds
//   (it stays at its epoch until a heartbeat's owned partitions show them gone), then moves to the
//   assignment epoch and receives the partitions that no other member still holds; the rest
//   come on later heartbeats, once released.
// - A heartbeat's epoch must be the member's, or its previous one with owned partitions that are
//   a subset of its assignment (the answer bumping it may have been lost); else FENCED_MEMBER_EPOCH.
// - Commits and offset fetches carry the member epoch: the current one or the previous one is
//   accepted (Kafka 4.4 answers so), any other is STALE_MEMBER_EPOCH.
// - Static members (instance id) leave with epoch -2 and keep their assignment for a member
//   with the same instance id until their session times out.
// - Group types (group-migration.ts, group.consumer.migration.policy, `bidirectional` by
//   default as in Kafka 4.x): an empty classic group (offsets only) becomes a consumer group; one
//   with members of the `consumer` protocol type is upgraded online (its members keep their
//   partitions and reconcile through JoinGroup/SyncGroup/Heartbeat), else GROUP_ID_NOT_FOUND. A
//   classic JoinGroup into a consumer group with members joins it as a classic member; into an
//   empty one turns it back into a classic group. The last consumer-protocol member leaving (or
//   fenced) downgrades a group of classic members to a classic group, which rebalances.

import { randomUUID } from 'node:crypto'
import { ErrorCode } from '../protocol/error-codes.js'
import type { Cluster } from './cluster.js'
import { GroupMigration } from './group-migration.js'
import {
  ASSIGNORS,
  ConsumerGroup,
  addPartition,
  assignmentSize,
  copyAssignment,
  intersect,
  minus,
  rangeAssign,
  sameAssignment,
  uniformAssign,
  type Assignment,
  type ConsumerMember,
  type SubscribedTopic,
} from './consumer-group-state.js'

export interface ConsumerHeartbeat {
  groupId: string
  memberId: string
  memberEpoch: number
  instanceId: string | null
  rackId: string | null
  rebalanceTimeoutMs: number
  subscribedTopicNames: string[] | null
  subscribedTopicRegex: string | null
  serverAssignor: string | null
  owned: Assignment | null
  clientId: string
  clientHost: string
  version: number
}

export interface ConsumerHeartbeatResult {
  errorCode: number
  errorMessage: string | null
  memberId: string | null
  memberEpoch: number
  heartbeatIntervalMs: number
  assignment: Assignment | null
}

const LEAVE = -1
const STATIC_LEAVE = -2

/** What RE2/J refuses and JS RegExp accepts: backreferences and lookaround. */
const NOT_RE2 = /\\[1-9]|\\k<|\(\?<?[=!]/

/**
 * A subscription regex as a JS RegExp matched against whole names (RE2/J's `matches()`), or
 * undefined when Kafka would refuse it. JS RegExp backtracks where RE2 does not, so a hostile
 * pattern can be slow here; topic names are at most 249 characters.
 */
export function compileTopicRegex(source: string): RegExp | undefined {
  if (NOT_RE2.test(source)) return undefined
  try {
    return new RegExp(`^(?:${source})$`)
  } catch {
    return undefined
  }
}

function fail(errorCode: number, errorMessage: string): ConsumerHeartbeatResult {
  return { errorCode, errorMessage, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null }
}

/** ConsumerGroupHeartbeatRequest validation (GroupMetadataManager.throwIfConsumerGroupHeartbeatRequestIsInvalid). */
function invalid(req: ConsumerHeartbeat): ConsumerHeartbeatResult | undefined {
  const bad = (m: string) => fail(ErrorCode.INVALID_REQUEST, m)
  if (req.groupId === '') return bad("GroupId can't be empty.")
  if (req.instanceId === '') return bad("InstanceId can't be empty.")
  if (req.version >= 1 && req.memberId === '') return bad("MemberId can't be empty.")
  if (req.memberEpoch === 0) {
    if (req.rebalanceTimeoutMs === -1) return bad('RebalanceTimeoutMs must be provided in first request.')
    if (req.owned !== null && assignmentSize(req.owned) > 0)
      return bad('TopicPartitions must be empty when (re-)joining.')
    if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null)
      return bad('Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.')
  } else if (req.memberEpoch === STATIC_LEAVE) {
    if (req.instanceId === null) return bad("InstanceId can't be null.")
  } else if (req.memberEpoch < STATIC_LEAVE) {
    return bad('MemberEpoch is invalid.')
  }
  if (req.serverAssignor !== null && !(ASSIGNORS as readonly string[]).includes(req.serverAssignor))
    return fail(
      ErrorCode.UNSUPPORTED_ASSIGNOR,
      `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${ASSIGNORS.join(', ')}.`,
    )
  if (req.subscribedTopicRegex !== null && compileTopicRegex(req.subscribedTopicRegex) === undefined)
    return fail(
      ErrorCode.INVALID_REGULAR_EXPRESSION,
      `SubscribedTopicRegex \`${req.subscribedTopicRegex}\` is not a valid regular expression.`,
    )
  return undefined
}

function isSubset(a: Assignment, b: Assignment): boolean {
  return assignmentSize(minus(a, b)) === 0
}

export class ConsumerGroupCoordinator {
  readonly groups = new Map<string, ConsumerGroup>()
  /** Upgrades, downgrades, and the classic members of consumer groups (group-migration.ts). */
  readonly migration: GroupMigration

  constructor(private readonly cluster: Cluster) {
    this.migration = new GroupMigration(cluster, this)
  }

  private get options() {
    return this.cluster.options
  }

  get(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId)
  }

  shutdown(): void {
    for (const g of this.groups.values()) {
      clearTimeout(g.assignTimer)
      for (const m of g.members.values()) {
        clearTimeout(m.sessionTimer)
        clearTimeout(m.rebalanceTimer)
      }
    }
  }

  /** A group read back from `dataDir`: empty (members rejoin), at its group epoch. */
  restore(groupId: string, groupEpoch: number): void {
    const g = new ConsumerGroup(groupId)
    g.groupEpoch = groupEpoch
    g.assignmentEpoch = groupEpoch
    this.groups.set(groupId, g)
  }

  /** DeleteGroups, or a classic JoinGroup into an empty consumer group: forgets it (offsets stay in the store). */
  delete(groupId: string): void {
    const g = this.groups.get(groupId)
    if (g === undefined) return
    clearTimeout(g.assignTimer)
    this.groups.delete(groupId)
  }

  heartbeat(req: ConsumerHeartbeat): ConsumerHeartbeatResult {
    const bad = invalid(req)
    if (bad !== undefined) return bad
    if (req.memberEpoch === LEAVE || req.memberEpoch === STATIC_LEAVE) return this.leave(req)
    let group = this.groups.get(req.groupId)
    if (group === undefined) {
      const classic = this.cluster.groups.get(req.groupId)
      if (req.memberEpoch !== 0) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${req.groupId} not found.`)
      if (classic?.hasMembers === true) {
        // A joining member upgrades a classic group with members when the migration policy allows it.
        const upgraded = this.migration.upgrade(classic)
        if (upgraded === undefined)
          return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group`)
        group = upgraded
      } else {
        group = new ConsumerGroup(req.groupId)
      }
      this.groups.set(req.groupId, group)
    }
    const found = this.findMember(group, req)
    if ('errorCode' in found) return found
    const { member, isNew } = found
    const before = copyAssignment(member.assigned)
    let changed = isNew
    if (req.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = req.rebalanceTimeoutMs
    if (req.rackId !== null) member.rackId = req.rackId
    member.clientId = req.clientId
    member.clientHost = req.clientHost
    if (req.serverAssignor !== null && req.serverAssignor !== member.serverAssignor) {
      member.serverAssignor = req.serverAssignor
      changed = true
    }
    if (req.subscribedTopicNames !== null) {
      const names = [...req.subscribedTopicNames].sort()
      if (names.join('\u0000') !== [...member.subscribedTopicNames].sort().join('\u0000')) changed = true
      member.subscribedTopicNames = names
    }
    if (req.subscribedTopicRegex !== null) {
      const rx = req.subscribedTopicRegex === '' ? null : req.subscribedTopicRegex
      if (rx !== member.subscribedTopicRegex) changed = true
      member.subscribedTopicRegex = rx
    }
    const signature = this.signature(group)
    if (changed || signature !== group.subscriptionSignature) {
      group.groupEpoch++
      group.subscriptionSignature = signature
    }
    this.touch(group, member)
    this.maybeAssign(group)
    this.reconcile(group, member, req.owned)
    const sendAssignment = req.memberEpoch === 0 || !sameAssignment(before, member.assigned)
    return {
      errorCode: 0,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.options.consumerGroupHeartbeatIntervalMs,
      assignment: sendAssignment ? copyAssignment(member.assigned) : null,
    }
  }

  private newMember(req: ConsumerHeartbeat, memberId: string): ConsumerMember {
    const m = this.blankMember(memberId, req.instanceId, req.rebalanceTimeoutMs)
    m.rackId = req.rackId
    m.clientId = req.clientId
    m.clientHost = req.clientHost
    return m
  }

  /** A member that has not joined yet: epoch 0, no subscription. */
  blankMember(memberId: string, instanceId: string | null, rebalanceTimeoutMs: number): ConsumerMember {
    return {
      memberId,
      instanceId,
      rackId: null,
      clientId: '',
      clientHost: '',
      rebalanceTimeoutMs,
      subscribedTopicNames: [],
      subscribedTopicRegex: null,
      serverAssignor: null,
      memberEpoch: 0,
      previousMemberEpoch: 0,
      state: 'stable',
      assigned: new Map(),
      pendingRevocation: new Map(),
      sessionTimer: undefined,
      rebalanceTimer: undefined,
      classic: null,
    }
  }

  private findMember(
    group: ConsumerGroup,
    req: ConsumerHeartbeat,
  ): { member: ConsumerMember; isNew: boolean } | ConsumerHeartbeatResult {
    const memberId = req.memberId === '' ? randomUUID() : req.memberId
    if (req.instanceId !== null) {
      const holder = group.staticMembers.get(req.instanceId)
      if (req.memberEpoch === 0) {
        if (holder === undefined || holder === memberId) {
          const existing = holder === undefined ? undefined : group.members.get(holder)
          if (existing !== undefined) {
            if (existing.memberEpoch === STATIC_LEAVE) existing.memberEpoch = existing.previousMemberEpoch
            return { member: existing, isNew: false }
          }
          return { member: this.addMember(group, this.newMember(req, memberId)), isNew: true }
        }
        const old = group.members.get(holder)!
        if (old.memberEpoch !== STATIC_LEAVE)
          return fail(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${req.instanceId} cannot join the group because the instance id is owned by ${holder} member.`,
          )
        // The new member takes the place of the one that left temporarily: no rebalance.
        return { member: this.replaceStatic(group, old, memberId), isNew: false }
      }
      if (holder === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`)
      if (holder !== memberId)
        return fail(
          ErrorCode.FENCED_INSTANCE_ID,
          `Static member ${memberId} with instance id ${req.instanceId} was fenced by member ${holder}.`,
        )
    }
    const existing = group.members.get(memberId)
    if (req.memberEpoch === 0) {
      if (existing !== undefined) return { member: existing, isNew: false }
      return { member: this.addMember(group, this.newMember(req, memberId)), isNew: true }
    }
    if (existing === undefined)
      return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${group.groupId}.`)
    const fenced = this.epochError(existing, req.memberEpoch, req.owned)
    return fenced ?? { member: existing, isNew: false }
  }

  /** GroupMetadataManager.throwIfMemberEpochIsInvalid. */
  private epochError(m: ConsumerMember, epoch: number, owned: Assignment | null): ConsumerHeartbeatResult | undefined {
    if (epoch > m.memberEpoch)
      return fail(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `The consumer group member has a greater member epoch (${epoch}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its partitions and rejoin.`,
      )
    if (epoch < m.memberEpoch && (epoch !== m.previousMemberEpoch || owned === null || !isSubset(owned, m.assigned)))
      return fail(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `The consumer group member has a smaller member epoch (${epoch}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its partitions and rejoin.`,
      )
    return undefined
  }

  /** A static member restarted with a new member id takes over the old one's epoch and assignment. */
  replaceStatic(group: ConsumerGroup, old: ConsumerMember, memberId: string): ConsumerMember {
    const m: ConsumerMember = {
      ...old,
      memberId,
      memberEpoch: old.memberEpoch === STATIC_LEAVE ? old.previousMemberEpoch : old.memberEpoch,
      sessionTimer: undefined,
      rebalanceTimer: undefined,
    }
    this.forget(group, old)
    this.addMember(group, m)
    const target = group.target.get(old.memberId)
    group.target.delete(old.memberId)
    if (target !== undefined) group.target.set(memberId, target)
    return m
  }

  addMember(group: ConsumerGroup, m: ConsumerMember): ConsumerMember {
    group.members.set(m.memberId, m)
    if (m.instanceId !== null) group.staticMembers.set(m.instanceId, m.memberId)
    return m
  }

  private forget(group: ConsumerGroup, m: ConsumerMember): void {
    clearTimeout(m.sessionTimer)
    clearTimeout(m.rebalanceTimer)
    group.members.delete(m.memberId)
    if (m.instanceId !== null && group.staticMembers.get(m.instanceId) === m.memberId)
      group.staticMembers.delete(m.instanceId)
  }

  /**
   * A member leaves for good (or is fenced): its partitions are free at once. The last
   * consumer-protocol member leaving a group of classic members downgrades it instead.
   */
  remove(group: ConsumerGroup, m: ConsumerMember): void {
    if (m.classic === null && this.migration.maybeDowngrade(group, m)) return
    this.forget(group, m)
    group.target.delete(m.memberId)
    group.groupEpoch++
    group.subscriptionSignature = this.signature(group)
    this.maybeAssign(group)
  }

  private leave(req: ConsumerHeartbeat): ConsumerHeartbeatResult {
    const group = this.groups.get(req.groupId)
    if (group === undefined) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} not found.`)
    let member: ConsumerMember | undefined
    if (req.instanceId !== null) {
      const holder = group.staticMembers.get(req.instanceId)
      if (holder === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`)
      if (holder !== req.memberId)
        return fail(
          ErrorCode.FENCED_INSTANCE_ID,
          `Static member ${req.memberId} with instance id ${req.instanceId} was fenced by member ${holder}.`,
        )
      member = group.members.get(holder)
    } else {
      member = group.members.get(req.memberId)
    }
    if (member === undefined)
      return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${group.groupId}.`)
    if (req.memberEpoch === STATIC_LEAVE) {
      // Keeps its assignment for the next member with its instance id, until its session ends.
      if (member.memberEpoch !== STATIC_LEAVE) member.previousMemberEpoch = member.memberEpoch
      member.memberEpoch = STATIC_LEAVE
      clearTimeout(member.rebalanceTimer)
    } else {
      this.remove(group, member)
    }
    return {
      errorCode: 0,
      errorMessage: null,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    }
  }

  /** The session timer: a member not heard from within the session timeout is removed. */
  touch(group: ConsumerGroup, m: ConsumerMember): void {
    clearTimeout(m.sessionTimer)
    m.sessionTimer = setTimeout(
      () => {
        if (this.groups.get(group.groupId) === group && group.members.get(m.memberId) === m) this.remove(group, m)
      },
      // A classic member keeps the session timeout of its JoinGroup.
      m.classic?.sessionTimeoutMs ?? this.options.consumerGroupSessionTimeoutMs,
    )
    m.sessionTimer.unref()
  }

  /** Topics a member subscribes to that exist (names, then what its regex matches; internal topics never). */
  private subscribed(m: ConsumerMember): SubscribedTopic[] {
    const out = new Map<string, SubscribedTopic>()
    const add = (name: string) => {
      const t = this.cluster.topics.get(name)
      if (t !== undefined && !t.internal) out.set(name, { id: t.id, name, partitions: t.partitions.length })
    }
    for (const n of m.subscribedTopicNames) add(n)
    if (m.subscribedTopicRegex !== null) {
      const rx = compileTopicRegex(m.subscribedTopicRegex)
      if (rx !== undefined) for (const t of this.cluster.topics.all()) if (rx.test(t.name)) add(t.name)
    }
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  /** What the members subscribe to, resolved: a change (topic created, deleted, grown) bumps the epoch. */
  signature(group: ConsumerGroup): string {
    const topics = new Map<string, string>()
    for (const m of group.members.values())
      for (const t of this.subscribed(m)) topics.set(t.name, `${t.name}/${t.id}/${t.partitions}`)
    return [...topics.values()].sort().join('\u0000')
  }

  /**
   * Computes the target for the group epoch now when the last one is older than the assignment
   * interval (GroupMetadataManager.canComputeNextTargetAssignment), else once it is.
   */
  maybeAssign(group: ConsumerGroup): void {
    if (group.groupEpoch <= group.assignmentEpoch) return
    const wait = group.lastAssignmentMs + this.options.consumerGroupAssignmentIntervalMs - Date.now()
    if (wait <= 0) {
      this.assign(group)
      return
    }
    if (group.assignTimer !== undefined) return
    group.assignTimer = setTimeout(() => {
      group.assignTimer = undefined
      if (this.groups.get(group.groupId) === group) this.maybeAssign(group)
    }, wait)
    group.assignTimer.unref()
  }

  private assign(group: ConsumerGroup): void {
    const subscriptions = new Map<string, SubscribedTopic[]>()
    for (const m of group.members.values()) subscriptions.set(m.memberId, this.subscribed(m))
    const input = { subscriptions, previous: group.target }
    group.target = group.assignorName() === 'range' ? rangeAssign(input) : uniformAssign(input)
    group.assignmentEpoch = group.groupEpoch
    group.lastAssignmentMs = Date.now()
  }

  /** CurrentAssignmentBuilder: one step of a member toward its target. */
  reconcile(group: ConsumerGroup, m: ConsumerMember, owned: Assignment | null): void {
    if (m.memberEpoch < 0) return
    if (m.state === 'unrevoked') {
      if (owned === null || assignmentSize(intersect(owned, m.pendingRevocation)) > 0) return
      m.pendingRevocation = new Map()
      clearTimeout(m.rebalanceTimer)
    } else if (m.memberEpoch === group.assignmentEpoch && m.state === 'stable') {
      return
    }
    const target = group.target.get(m.memberId) ?? new Map<string, Set<number>>()
    const keep = intersect(m.assigned, target)
    const revoke = minus(m.assigned, target)
    // Revocation waits for the member unless what it says it owns shows them already gone.
    if (assignmentSize(revoke) > 0 && (owned === null || assignmentSize(intersect(owned, revoke)) > 0)) {
      m.assigned = keep
      m.pendingRevocation = revoke
      m.state = 'unrevoked'
      clearTimeout(m.rebalanceTimer)
      // Not revoked within the rebalance timeout: the member is removed, its partitions freed.
      m.rebalanceTimer = setTimeout(() => {
        if (this.groups.get(group.groupId) === group && group.members.get(m.memberId) === m && m.state === 'unrevoked')
          this.remove(group, m)
      }, m.rebalanceTimeoutMs)
      m.rebalanceTimer.unref()
      return
    }
    const next = copyAssignment(keep)
    for (const [t, ps] of minus(target, keep))
      for (const p of ps) if (!group.heldByOther(m.memberId, t, p)) addPartition(next, t, p)
    if (m.memberEpoch !== group.assignmentEpoch) {
      m.previousMemberEpoch = m.memberEpoch
      m.memberEpoch = group.assignmentEpoch
    }
    m.assigned = next
    m.state = assignmentSize(next) < assignmentSize(target) ? 'unreleased' : 'stable'
  }

  /**
   * An OffsetCommit, TxnOffsetCommit (`version` 9 for both) or OffsetFetch (`fetch`) of a member:
   * 0, or the error (ConsumerGroup.validateOffsetCommit / validateOffsetFetch).
   */
  validateOffsets(group: ConsumerGroup, memberId: string, memberEpoch: number, version: number, fetch = false): number {
    if (!fetch && memberId === '' && memberEpoch < 0) return group.members.size === 0 ? 0 : ErrorCode.UNKNOWN_MEMBER_ID
    const m = group.members.get(memberId)
    if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
    // A classic member commits with any version; its wrong generation is ILLEGAL_GENERATION (Kafka 4.4).
    if (!fetch && version < 9 && m.classic === null) return ErrorCode.UNSUPPORTED_VERSION
    const previous = m.memberEpoch === STATIC_LEAVE ? -1 : m.previousMemberEpoch
    if (memberEpoch !== m.memberEpoch && !(memberEpoch === previous && previous > 0))
      return m.classic === null ? ErrorCode.STALE_MEMBER_EPOCH : ErrorCode.ILLEGAL_GENERATION
    return 0
  }
}
