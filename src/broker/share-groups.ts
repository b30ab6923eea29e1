// The share group coordinator (KIP-932): ShareGroupHeartbeat membership and the simple assignor,
// after Kafka 4.4's GroupMetadataManager share-group paths, checked against its answers
// (test/fixtures/share-answers).
//
// - Members choose their ids (v1). Epoch 0 joins (a subscription is required), -1 leaves; any
//   other epoch must be the member's current one or its previous one (an answer may have been
//   lost), else FENCED_MEMBER_EPOCH. An unknown member is UNKNOWN_MEMBER_ID, an unknown group
//   with a non-zero epoch GROUP_ID_NOT_FOUND.
// - Every join, leave or subscription change bumps the group epoch. Partitions are assigned only
//   once their share-partitions are initialized: the first time a subscription reaches a
//   partition the group epoch bumps once more (the initialization is asked for), and when the
//   initialization completes, right after that heartbeat's answer, it bumps again. So a first
//   member joins at epoch 2 with an empty assignment and gets the partitions at epoch 3.
// - There is no revocation handshake: a member moves to the assignment epoch on its next
//   heartbeat and receives its new assignment then. Answers carry an assignment only when the
//   member's assignment or epoch changed.
// - The simple assignor: each topic's partitions go to the members subscribed to it. With at
//   least as many partitions as members each member gets an even share, keeping what it had;
//   with more members than partitions members share partitions, round-robin by member id.
//   (Kafka hashes topic ids to order its choice, so which of two members gets which partition
//   differs from run to run; only the shares are compared with Kafka.)
// - Members that do not heartbeat within the session timeout (group.share.session.timeout.ms)
//   are removed.

import { ErrorCode } from '../protocol/error-codes.js'
import type { Cluster } from './cluster.js'
import type { ShareGroupConfigs } from './share-group-configs.js'

export type ShareAssignment = Map<string, Set<number>>

export interface ShareMember {
  memberId: string
  memberEpoch: number
  previousEpoch: number
  rackId: string | null
  clientId: string
  clientHost: string
  subscribedTopicNames: string[]
  assignment: ShareAssignment
  lastSeen: number
}

export class ShareGroup {
  groupEpoch = 0
  assignmentEpoch = 0
  readonly members = new Map<string, ShareMember>()
  /** Target assignment of the assignment epoch, per member. */
  target = new Map<string, ShareAssignment>()
  /** Share-partitions initialized for this group ("topicId:partition"). */
  readonly initialized = new Set<string>()
  private initializing = false

  constructor(readonly groupId: string) {}

  state(): string {
    return this.members.size === 0 ? 'Empty' : 'Stable'
  }

  /** Schedules the initialization of the subscribed partitions not yet initialized; true if any. */
  requestInitialization(pending: string[], done: () => void): boolean {
    if (pending.length === 0 || this.initializing) return false
    this.initializing = true
    setImmediate(() => {
      this.initializing = false
      for (const k of pending) this.initialized.add(k)
      this.groupEpoch++
      done()
    })
    return true
  }
}

export interface ShareHeartbeat {
  groupId: string
  memberId: string
  memberEpoch: number
  rackId: string | null
  subscribedTopicNames: string[] | null
  clientId: string
  clientHost: string
}

export interface ShareHeartbeatResult {
  errorCode: number
  errorMessage: string | null
  memberId: string | null
  memberEpoch: number
  heartbeatIntervalMs: number
  assignment: ShareAssignment | null
}

const LEAVE = -1

function failure(errorCode: number, errorMessage: string): ShareHeartbeatResult {
  return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null }
}

function sameAssignment(a: ShareAssignment, b: ShareAssignment): boolean {
  const size = (x: ShareAssignment) => [...x.values()].reduce((n, s) => n + s.size, 0)
  if (size(a) !== size(b)) return false
  for (const [t, ps] of a) for (const p of ps) if (b.get(t)?.has(p) !== true) return false
  return true
}

/**
 * The simple assignor for one topic's partitions over the members subscribed to it (sorted by
 * member id), keeping what members already have when partitions are not shared.
 */
export function simpleAssign(
  partitions: number[],
  members: string[],
  current: (member: string) => Set<number> | undefined,
): Map<string, number[]> {
  const out = new Map<string, number[]>(members.map((m) => [m, []]))
  if (members.length === 0 || partitions.length === 0) return out
  if (members.length > partitions.length) {
    members.forEach((m, i) => out.get(m)!.push(partitions[i % partitions.length]!))
    return out
  }
  const base = Math.floor(partitions.length / members.length)
  let extra = partitions.length % members.length
  const quota = new Map<string, number>()
  for (const m of members) {
    quota.set(m, base + (extra > 0 ? 1 : 0))
    if (extra > 0) extra--
  }
  const free = new Set(partitions)
  for (const m of members) {
    for (const p of [...(current(m) ?? [])].sort((a, b) => a - b)) {
      if (out.get(m)!.length >= quota.get(m)! || !free.has(p)) continue
      out.get(m)!.push(p)
      free.delete(p)
    }
  }
  const left = [...free].sort((a, b) => a - b)
  for (const m of members) while (out.get(m)!.length < quota.get(m)! && left.length > 0) out.get(m)!.push(left.shift()!)
  for (const ps of out.values()) ps.sort((a, b) => a - b)
  return out
}

export class ShareGroupCoordinator {
  private readonly groups = new Map<string, ShareGroup>()

  constructor(
    private readonly cluster: Cluster,
    private readonly configs: ShareGroupConfigs,
    /** Called when a member leaves or is removed (its sessions and acquired records go). */
    private readonly onMemberGone: (groupId: string, memberId: string) => void,
  ) {}

  get(groupId: string): ShareGroup | undefined {
    const g = this.groups.get(groupId)
    if (g !== undefined) this.expireMembers(g, Date.now())
    return g
  }

  all(): ShareGroup[] {
    return [...this.groups.values()]
  }

  heartbeat(req: ShareHeartbeat, now = Date.now()): ShareHeartbeatResult {
    if (req.groupId === '') return failure(ErrorCode.INVALID_REQUEST, "GroupId can't be empty.")
    if (req.memberId === '') return failure(ErrorCode.INVALID_REQUEST, "MemberId can't be empty.")
    if (req.memberEpoch < LEAVE) return failure(ErrorCode.INVALID_REQUEST, 'MemberEpoch is invalid.')
    if (req.memberEpoch === 0 && (req.subscribedTopicNames === null || req.subscribedTopicNames.length === 0))
      return failure(ErrorCode.INVALID_REQUEST, 'SubscribedTopicNames must be set in first request.')
    let g = this.groups.get(req.groupId)
    if (g === undefined) {
      if (req.memberEpoch !== 0) return failure(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} not found.`)
      g = new ShareGroup(req.groupId)
      this.groups.set(req.groupId, g)
    }
    this.expireMembers(g, now)
    let m = g.members.get(req.memberId)
    if (m === undefined && req.memberEpoch !== 0)
      return failure(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${req.groupId}.`)
    if (req.memberEpoch === LEAVE) {
      this.removeMember(g, m!)
      return {
        errorCode: 0,
        errorMessage: null,
        memberId: req.memberId,
        memberEpoch: LEAVE,
        heartbeatIntervalMs: 0,
        assignment: null,
      }
    }
    let changed = false
    if (m === undefined) {
      m = {
        memberId: req.memberId,
        memberEpoch: 0,
        previousEpoch: 0,
        rackId: req.rackId,
        clientId: req.clientId,
        clientHost: req.clientHost,
        subscribedTopicNames: [...req.subscribedTopicNames!],
        assignment: new Map(),
        lastSeen: now,
      }
      g.members.set(m.memberId, m)
      g.groupEpoch++
      changed = true
    } else if (req.memberEpoch !== 0 && req.memberEpoch !== m.memberEpoch && req.memberEpoch !== m.previousEpoch) {
      return failure(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `The share group member has a smaller or larger member epoch (${req.memberEpoch}) than the one known by the group coordinator (${m.memberEpoch}).`,
      )
    }
    m.lastSeen = now
    if (req.rackId !== null) m.rackId = req.rackId
    const subs = req.subscribedTopicNames
    if (
      subs !== null &&
      (subs.length !== m.subscribedTopicNames.length || subs.some((t, i) => m.subscribedTopicNames[i] !== t))
    ) {
      m.subscribedTopicNames = [...subs]
      g.groupEpoch++
    }
    // Partitions of the subscriptions whose share-partitions are not initialized yet.
    const pending: string[] = []
    for (const name of new Set([...g.members.values()].flatMap((x) => x.subscribedTopicNames))) {
      const t = this.cluster.topics.get(name)
      if (t === undefined) continue
      for (let p = 0; p < t.partitions.length; p++) if (!g.initialized.has(`${t.id}:${p}`)) pending.push(`${t.id}:${p}`)
    }
    if (g.requestInitialization(pending, () => undefined)) g.groupEpoch++
    if (g.groupEpoch > g.assignmentEpoch) this.computeTarget(g)
    if (m.memberEpoch !== g.assignmentEpoch || req.memberEpoch === 0) {
      const next = g.target.get(m.memberId) ?? new Map<string, Set<number>>()
      if (m.memberEpoch !== g.assignmentEpoch) {
        m.previousEpoch = m.memberEpoch
        m.memberEpoch = g.assignmentEpoch
        changed = true
      }
      if (!sameAssignment(next, m.assignment)) changed = true
      m.assignment = next
    }
    return {
      errorCode: 0,
      errorMessage: null,
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      heartbeatIntervalMs: this.configs.heartbeatIntervalMs(g.groupId),
      assignment: changed || req.memberEpoch === 0 ? m.assignment : null,
    }
  }

  private computeTarget(g: ShareGroup): void {
    const target = new Map<string, ShareAssignment>([...g.members.keys()].map((id) => [id, new Map()]))
    const topics = new Set([...g.members.values()].flatMap((m) => m.subscribedTopicNames))
    for (const name of [...topics].sort()) {
      const t = this.cluster.topics.get(name)
      if (t === undefined) continue
      const partitions = t.partitions.map((_, i) => i).filter((p) => g.initialized.has(`${t.id}:${p}`))
      const members = [...g.members.values()]
        .filter((m) => m.subscribedTopicNames.includes(name))
        .map((m) => m.memberId)
        .sort()
      const split = simpleAssign(partitions, members, (id) => g.members.get(id)?.assignment.get(t.id))
      for (const [id, ps] of split) if (ps.length > 0) target.get(id)!.set(t.id, new Set(ps))
    }
    g.target = target
    g.assignmentEpoch = g.groupEpoch
  }

  private removeMember(g: ShareGroup, m: ShareMember): void {
    g.members.delete(m.memberId)
    g.groupEpoch++
    this.computeTarget(g)
    this.onMemberGone(g.groupId, m.memberId)
  }

  private expireMembers(g: ShareGroup, now: number): void {
    const timeout = this.configs.sessionTimeoutMs(g.groupId)
    for (const m of [...g.members.values()]) if (now - m.lastSeen > timeout) this.removeMember(g, m)
  }
}
