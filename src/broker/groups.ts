// The classic group coordinator (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), after Kafka's
// ClassicGroup / GroupMetadataManager (4.0). It extends the offset store (group-store.ts, after
// OffsetMetadataManager); the group's state is in group-state.ts.
//
// States: Empty → PreparingRebalance → CompletingRebalance → Stable (→ PreparingRebalance ...).
// - JoinGroup v4+ from an unknown dynamic member is answered MEMBER_ID_REQUIRED with a member
//   id to rejoin with (KIP-394). Static members (group.instance.id, KIP-345) keep their
//   assignment across restarts: a rejoin with unchanged metadata takes over the old member id
//   without a rebalance.
// - A rebalance completes when every member has rejoined, or after the largest rebalance
//   timeout (members that did not rejoin are removed). The first rebalance of an empty group
//   waits group.initial.rebalance.delay.ms (extended per new member, up to the rebalance timeout).
// - The leader is the previous leader if it rejoined, else the first member to join. The
//   protocol is chosen by votes among the protocols every member supports.
// - Members are expired after session.timeout.ms without a heartbeat (not while their
//   JoinGroup/SyncGroup is pending); a CompletingRebalance that sees no SyncGroup from some
//   members within the rebalance timeout removes them and rebalances again.

import { randomUUID } from 'node:crypto'
import { ErrorCode } from '../protocol/error-codes.js'
import type { Group, JoinRequest, JoinResult, Member, MemberProtocol, SyncResult } from './group-state.js'
import { GroupStore } from './group-store.js'

const EMPTY = Buffer.alloc(0)
/** Kafka's group.new.member.join.timeout: a new member that never rejoins is dropped after 5 min. */
const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000

export class GroupCoordinator extends GroupStore {
  private get options() {
    return this.cluster.options
  }

  /** Coordinators moved (a broker stopped or started); group state is shared, so nothing moves. */
  onCoordinatorsChanged(): void {}

  shutdown(): void {
    for (const g of this.groups.values()) {
      clearTimeout(g.rebalanceTimer)
      clearTimeout(g.syncTimer)
      for (const t of g.pendingMembers.values()) clearTimeout(t)
      for (const m of g.members.values()) clearTimeout(m.sessionTimer)
    }
  }

  // -------------------------------------------------------------------------------------------
  // JoinGroup

  join(req: JoinRequest): Promise<JoinResult> {
    const fail = (errorCode: number, memberId = req.memberId): JoinResult => ({
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      memberId,
      members: [],
    })
    if (
      req.sessionTimeoutMs < this.options.groupMinSessionTimeoutMs ||
      req.sessionTimeoutMs > this.options.groupMaxSessionTimeoutMs
    ) {
      return Promise.resolve(fail(ErrorCode.INVALID_SESSION_TIMEOUT))
    }
    const existing = this.groups.get(req.groupId)
    if (existing?.state === 'Dead') return Promise.resolve(fail(ErrorCode.COORDINATOR_NOT_AVAILABLE))
    if (req.memberId !== '' && existing === undefined) return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID))
    const group = existing ?? this.getOrCreate(req.groupId)
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      if (group.members.size === 0 && existing === undefined) this.groups.delete(req.groupId)
      return Promise.resolve(fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
    }
    if (req.memberId === '') return this.joinUnknownMember(group, req, fail)
    return this.joinKnownMember(group, req, fail)
  }

  private joinUnknownMember(
    group: Group,
    req: JoinRequest,
    fail: (code: number, memberId?: string) => JoinResult,
  ): Promise<JoinResult> {
    const newMemberId = `${req.clientId}-${randomUUID()}`
    if (req.groupInstanceId !== null) {
      const oldMemberId = group.staticMembers.get(req.groupInstanceId)
      if (oldMemberId !== undefined && group.members.has(oldMemberId))
        return this.replaceStaticMember(group, req, oldMemberId, newMemberId)
      if (group.members.size >= this.options.groupMaxSize)
        return Promise.resolve(fail(ErrorCode.GROUP_MAX_SIZE_REACHED))
      return this.addMemberAndRebalance(group, req, newMemberId)
    }
    if (group.members.size + group.pendingMembers.size >= this.options.groupMaxSize)
      return Promise.resolve(fail(ErrorCode.GROUP_MAX_SIZE_REACHED))
    if (req.requireKnownMemberId) {
      // KIP-394: hand out a member id; the member must rejoin with it within the session timeout.
      const timer = setTimeout(() => {
        group.pendingMembers.delete(newMemberId)
        this.maybeCompleteJoin(group)
      }, req.sessionTimeoutMs)
      timer.unref()
      group.pendingMembers.set(newMemberId, timer)
      return Promise.resolve(fail(ErrorCode.MEMBER_ID_REQUIRED, newMemberId))
    }
    return this.addMemberAndRebalance(group, req, newMemberId)
  }

  private joinKnownMember(
    group: Group,
    req: JoinRequest,
    fail: (code: number, memberId?: string) => JoinResult,
  ): Promise<JoinResult> {
    const pending = group.pendingMembers.get(req.memberId)
    if (pending !== undefined) {
      clearTimeout(pending)
      group.pendingMembers.delete(req.memberId)
      return this.addMemberAndRebalance(group, req, req.memberId)
    }
    const staticError = this.checkStatic(group, req.memberId, req.groupInstanceId)
    if (staticError !== 0) return Promise.resolve(fail(staticError))
    const member = group.members.get(req.memberId)
    if (member === undefined) return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID))
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, req)
      case 'CompletingRebalance':
        if (sameProtocols(member.protocols, req.protocols)) {
          // The member lost its join response; send the current generation again.
          return Promise.resolve(this.joinResponse(group, member))
        }
        return this.updateMemberAndRebalance(group, member, req)
      case 'Stable':
        if (group.leaderId === member.memberId || !sameProtocols(member.protocols, req.protocols))
          return this.updateMemberAndRebalance(group, member, req)
        return Promise.resolve(this.joinResponse(group, member))
      default:
        return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID))
    }
  }

  /** KIP-345: a static member restarting takes over its old member id. */
  private replaceStaticMember(
    group: Group,
    req: JoinRequest,
    oldMemberId: string,
    newMemberId: string,
  ): Promise<JoinResult> {
    const old = group.members.get(oldMemberId)!
    // The old instance's pending requests are fenced.
    failPending(old, ErrorCode.FENCED_INSTANCE_ID)
    clearTimeout(old.sessionTimer)
    group.members.delete(oldMemberId)
    const member: Member = {
      ...old,
      memberId: newMemberId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimer: undefined,
    }
    group.members.set(newMemberId, member)
    group.staticMembers.set(req.groupInstanceId!, newMemberId)
    if (group.leaderId === oldMemberId) group.leaderId = newMemberId
    const unchanged = sameProtocols(old.protocols, req.protocols)
    if (group.state === 'Stable' && unchanged) {
      this.scheduleSession(group, member)
      // No rebalance: the member gets the current generation and syncs its stored assignment.
      const r = this.joinResponse(group, member)
      // The leader only needs member metadata to assign; a replaced static leader keeps its assignment.
      return Promise.resolve({ ...r, members: [] })
    }
    member.protocols = req.protocols
    if (group.state === 'PreparingRebalance') {
      return new Promise((resolve) => {
        member.awaitingJoin = resolve
        this.maybeCompleteJoin(group)
      })
    }
    return new Promise((resolve) => {
      member.awaitingJoin = resolve
      this.prepareRebalance(group, `static member ${req.groupInstanceId} rejoined with a new id`)
    })
  }

  private addMemberAndRebalance(group: Group, req: JoinRequest, memberId: string): Promise<JoinResult> {
    const member: Member = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: EMPTY,
      awaitingJoin: undefined,
      awaitingSync: undefined,
      isNew: true,
      sessionTimer: undefined,
    }
    if (group.members.size === 0) group.protocolType = req.protocolType
    if (group.leaderId === null) group.leaderId = memberId
    group.members.set(memberId, member)
    if (req.groupInstanceId !== null) group.staticMembers.set(req.groupInstanceId, memberId)
    const result = new Promise<JoinResult>((resolve) => {
      member.awaitingJoin = resolve
    })
    // A new member that never completes its join is dropped after the new-member timeout.
    this.scheduleTimer(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS)
    if (group.state === 'PreparingRebalance') {
      if (group.initialDelayActive) group.newMemberAdded = true
      this.maybeCompleteJoin(group)
    } else {
      this.prepareRebalance(group, `adding new member ${memberId}`)
    }
    return result
  }

  private updateMemberAndRebalance(group: Group, member: Member, req: JoinRequest): Promise<JoinResult> {
    member.protocols = req.protocols
    member.sessionTimeoutMs = req.sessionTimeoutMs
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs
    member.clientId = req.clientId
    member.clientHost = req.clientHost
    const previous = member.awaitingJoin
    const result = new Promise<JoinResult>((resolve) => {
      member.awaitingJoin = resolve
    })
    // A duplicate pending join is superseded (Kafka answers the older one with the new result too).
    if (previous !== undefined) void result.then(previous)
    if (group.state === 'PreparingRebalance') {
      this.maybeCompleteJoin(group)
    } else {
      this.prepareRebalance(group, `member ${member.memberId} rejoined with new metadata`)
    }
    return result
  }

  private prepareRebalance(group: Group, reason: string): void {
    this.cluster.log.debug(`group ${group.groupId}: preparing rebalance (${reason})`)
    if (group.state === 'CompletingRebalance') {
      for (const m of group.members.values()) {
        m.awaitingSync?.({
          errorCode: ErrorCode.REBALANCE_IN_PROGRESS,
          protocolType: null,
          protocolName: null,
          assignment: EMPTY,
        })
        m.awaitingSync = undefined
      }
    }
    clearTimeout(group.syncTimer)
    const wasEmpty = group.state === 'Empty'
    group.state = 'PreparingRebalance'
    clearTimeout(group.rebalanceTimer)
    const delay = this.options.groupInitialRebalanceDelayMs
    if (wasEmpty && delay > 0) {
      // InitialDelayedJoin: wait for more members, extended per join up to the rebalance timeout.
      group.initialDelayActive = true
      group.newMemberAdded = false
      group.initialDelayRemainingMs = Math.max(0, group.rebalanceTimeoutMs() - delay)
      group.rebalanceTimer = setTimeout(() => this.onInitialDelay(group, delay), delay)
    } else {
      group.rebalanceTimer = setTimeout(() => this.completeJoin(group), group.rebalanceTimeoutMs())
    }
    group.rebalanceTimer.unref()
    this.maybeCompleteJoin(group)
  }

  private onInitialDelay(group: Group, delay: number): void {
    if (group.state !== 'PreparingRebalance') return
    if (group.newMemberAdded && group.initialDelayRemainingMs > 0) {
      group.newMemberAdded = false
      const wait = Math.min(delay, group.initialDelayRemainingMs)
      group.initialDelayRemainingMs = Math.max(0, group.initialDelayRemainingMs - wait)
      group.rebalanceTimer = setTimeout(() => this.onInitialDelay(group, delay), wait)
      group.rebalanceTimer.unref()
      return
    }
    this.completeJoin(group)
  }

  /** Completes the join phase early once every member has rejoined (DelayedJoin.tryComplete). */
  private maybeCompleteJoin(group: Group): void {
    if (group.state === 'PreparingRebalance' && !group.initialDelayActive && group.allJoined()) this.completeJoin(group)
  }

  /** Ends the join phase: drops members that did not rejoin, starts the next generation. */
  private completeJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return
    clearTimeout(group.rebalanceTimer)
    group.initialDelayActive = false
    group.initialDelayRemainingMs = 0
    for (const m of [...group.members.values()]) {
      if (m.awaitingJoin === undefined) this.removeMember(group, m, false)
    }
    for (const t of group.pendingMembers.values()) clearTimeout(t)
    group.pendingMembers.clear()
    group.generationId++
    if (group.members.size === 0) {
      group.state = 'Empty'
      group.protocolName = null
      group.leaderId = null
      return
    }
    group.protocolName = group.selectProtocol()
    if (group.leaderId === null || !group.members.has(group.leaderId))
      group.leaderId = group.members.keys().next().value!
    group.state = 'CompletingRebalance'
    for (const m of group.members.values()) {
      const resolve = m.awaitingJoin!
      m.awaitingJoin = undefined
      m.isNew = false
      this.scheduleSession(group, m)
      resolve(this.joinResponse(group, m))
    }
    // Members that never send SyncGroup are removed after the rebalance timeout (Kafka 4's sync timeout).
    const generation = group.generationId
    group.syncTimer = setTimeout(() => {
      if (group.state !== 'CompletingRebalance' || group.generationId !== generation) return
      for (const m of [...group.members.values()]) if (m.awaitingSync === undefined) this.removeMember(group, m, false)
      if (group.members.size > 0) this.prepareRebalance(group, 'members did not sync in time')
      else this.toEmpty(group)
    }, group.rebalanceTimeoutMs())
    group.syncTimer.unref()
  }

  private joinResponse(group: Group, member: Member): JoinResult {
    const isLeader = group.leaderId === member.memberId
    return {
      errorCode: 0,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
          }))
        : [],
    }
  }

  // -------------------------------------------------------------------------------------------
  // SyncGroup, Heartbeat, LeaveGroup

  /** FENCED_INSTANCE_ID when a static instance id belongs to another member id (or UNKNOWN_MEMBER_ID if unknown). */
  private checkStatic(group: Group, memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId === null) return 0
    const current = group.staticMembers.get(groupInstanceId)
    if (current === undefined) return 0
    return current === memberId ? 0 : ErrorCode.FENCED_INSTANCE_ID
  }

  sync(
    groupId: string,
    generationId: number,
    memberId: string,
    groupInstanceId: string | null,
    protocolType: string | null,
    protocolName: string | null,
    assignments: { memberId: string; assignment: Buffer }[],
  ): Promise<SyncResult> {
    const fail = (errorCode: number): SyncResult => ({
      errorCode,
      protocolType: null,
      protocolName: null,
      assignment: EMPTY,
    })
    const group = this.groups.get(groupId)
    if (group === undefined) return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID))
    if (group.state === 'Dead') return Promise.resolve(fail(ErrorCode.COORDINATOR_NOT_AVAILABLE))
    const staticError = this.checkStatic(group, memberId, groupInstanceId)
    if (staticError !== 0) return Promise.resolve(fail(staticError))
    const member = group.members.get(memberId)
    if (member === undefined) return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID))
    if (generationId !== group.generationId) return Promise.resolve(fail(ErrorCode.ILLEGAL_GENERATION))
    if (
      (protocolType !== null && protocolType !== group.protocolType) ||
      (protocolName !== null && protocolName !== group.protocolName)
    ) {
      return Promise.resolve(fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
    }
    const ok = (assignment: Buffer): SyncResult => ({
      errorCode: 0,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment,
    })
    switch (group.state) {
      case 'Empty':
        return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID))
      case 'PreparingRebalance':
        return Promise.resolve(fail(ErrorCode.REBALANCE_IN_PROGRESS))
      case 'Stable':
        this.scheduleSession(group, member)
        return Promise.resolve(ok(member.assignment))
      case 'CompletingRebalance': {
        const result = new Promise<SyncResult>((resolve) => {
          member.awaitingSync = resolve
        })
        this.scheduleSession(group, member)
        if (memberId === group.leaderId) {
          const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]))
          clearTimeout(group.syncTimer)
          group.state = 'Stable'
          for (const m of group.members.values()) {
            // Members missing from the leader's assignment get an empty one.
            m.assignment = Buffer.from(byMember.get(m.memberId) ?? EMPTY)
            m.awaitingSync?.(ok(m.assignment))
            m.awaitingSync = undefined
          }
        }
        return result
      }
      default:
        return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID))
    }
  }

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    const group = this.groups.get(groupId)
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE
    const staticError = this.checkStatic(group, memberId, groupInstanceId)
    if (staticError !== 0) return staticError
    const member = group.members.get(memberId)
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
    if (group.state === 'Empty') return ErrorCode.UNKNOWN_MEMBER_ID
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION
    this.scheduleSession(group, member)
    return group.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : 0
  }

  /** LeaveGroup for each identity; returns per-member errors, or a top-level error. */
  leave(
    groupId: string,
    leaving: { memberId: string; groupInstanceId: string | null }[],
  ): { errorCode: number; members: number[] } {
    const group = this.groups.get(groupId)
    if (group === undefined) return { errorCode: 0, members: leaving.map(() => ErrorCode.UNKNOWN_MEMBER_ID) }
    if (group.state === 'Dead') return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] }
    const errors = leaving.map((l) => {
      let memberId = l.memberId
      if (l.groupInstanceId !== null) {
        const current = group.staticMembers.get(l.groupInstanceId)
        if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
        if (memberId !== '' && memberId !== current) return ErrorCode.FENCED_INSTANCE_ID
        memberId = current
      }
      const pending = group.pendingMembers.get(memberId)
      if (pending !== undefined) {
        clearTimeout(pending)
        group.pendingMembers.delete(memberId)
        this.maybeCompleteJoin(group)
        return 0
      }
      const member = group.members.get(memberId)
      if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
      this.removeMember(group, member, true)
      return 0
    })
    return { errorCode: 0, members: errors }
  }

  /** Removes a member; unless the join phase is completing, the group rebalances or becomes empty. */
  private removeMember(group: Group, member: Member, rebalance: boolean): void {
    clearTimeout(member.sessionTimer)
    failPending(member, ErrorCode.UNKNOWN_MEMBER_ID)
    group.members.delete(member.memberId)
    if (member.groupInstanceId !== null && group.staticMembers.get(member.groupInstanceId) === member.memberId)
      group.staticMembers.delete(member.groupInstanceId)
    if (group.leaderId === member.memberId) group.leaderId = group.members.keys().next().value ?? null
    if (!rebalance) return
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        if (group.members.size === 0) this.toEmpty(group)
        else this.prepareRebalance(group, `removing member ${member.memberId}`)
        break
      case 'PreparingRebalance':
        this.maybeCompleteJoin(group)
        break
      default:
        break
    }
  }

  private toEmpty(group: Group): void {
    clearTimeout(group.rebalanceTimer)
    clearTimeout(group.syncTimer)
    group.initialDelayActive = false
    // Kafka moves through PreparingRebalance and completes the join with no members: a new (empty) generation.
    group.generationId++
    group.state = 'Empty'
    group.protocolName = null
    group.leaderId = null
  }

  private scheduleSession(group: Group, member: Member): void {
    this.scheduleTimer(group, member, member.sessionTimeoutMs)
  }

  private scheduleTimer(group: Group, member: Member, ms: number): void {
    clearTimeout(member.sessionTimer)
    member.sessionTimer = setTimeout(() => {
      // A member waiting for its JoinGroup/SyncGroup response is kept alive (Kafka's shouldKeepAlive),
      // except a new member that never finished joining.
      if ((member.awaitingJoin !== undefined && !member.isNew) || member.awaitingSync !== undefined) {
        this.scheduleTimer(group, member, member.sessionTimeoutMs)
        return
      }
      if (group.members.get(member.memberId) !== member) return
      this.cluster.log.info(`group ${group.groupId}: member ${member.memberId} expired after ${ms} ms`)
      this.removeMember(group, member, true)
    }, ms)
    member.sessionTimer.unref()
  }

  // -------------------------------------------------------------------------------------------
  // Online upgrade and downgrade (group-migration.ts decides; the group's members move here)

  /**
   * The group was upgraded to a consumer group: its members now live there. Pending JoinGroup
   * and SyncGroup answers get REBALANCE_IN_PROGRESS (the members rejoin the consumer group); the
   * classic group stays, empty, for its committed offsets.
   */
  handOverMembers(group: Group): void {
    clearTimeout(group.rebalanceTimer)
    clearTimeout(group.syncTimer)
    for (const t of group.pendingMembers.values()) clearTimeout(t)
    group.pendingMembers.clear()
    for (const m of group.members.values()) {
      clearTimeout(m.sessionTimer)
      failPending(m, ErrorCode.REBALANCE_IN_PROGRESS)
    }
    group.members.clear()
    group.staticMembers.clear()
    group.initialDelayActive = false
    group.state = 'Empty'
    group.protocolName = null
    group.leaderId = null
  }

  /**
   * A consumer group was downgraded (ClassicGroup.fromConsumerGroup): its classic members, with
   * their current assignments, form a Stable generation `generationId`, and a rebalance starts at
   * once so that they rejoin as a classic group.
   */
  takeOverMembers(group: Group, members: Member[], generationId: number): void {
    group.generationId = generationId
    group.protocolType = 'consumer'
    group.state = 'Stable'
    for (const m of members) {
      group.members.set(m.memberId, m)
      if (m.groupInstanceId !== null) group.staticMembers.set(m.groupInstanceId, m.memberId)
      this.scheduleSession(group, m)
    }
    group.leaderId = members[0]?.memberId ?? null
    group.protocolName = group.selectProtocol()
    this.prepareRebalance(group, 'downgraded from a consumer group')
  }

  // -------------------------------------------------------------------------------------------
  // Offset commits (the offsets themselves: group-store.ts)

  /** Resets the committing member's session (Kafka treats a commit as a sign of life). */
  touch(group: Group, memberId: string): void {
    const m = group.members.get(memberId)
    if (m !== undefined && m.awaitingJoin === undefined && m.awaitingSync === undefined) this.scheduleSession(group, m)
  }
}

function sameProtocols(a: MemberProtocol[], b: MemberProtocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata))
}

/** Answers a member's waiting JoinGroup and SyncGroup with `errorCode` (it must join again). */
function failPending(member: Member, errorCode: number): void {
  member.awaitingJoin?.({
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId: member.memberId,
    members: [],
  })
  member.awaitingSync?.({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY })
  member.awaitingJoin = undefined
  member.awaitingSync = undefined
}
