// A KIP-848 consumer group as the coordinator keeps it: members with their epochs and
// assignments, the group epoch and the target assignment, and the server-side assignors
// (`uniform`, `range`). The operations are in consumer-groups.ts. Assignments map a topic id to
// a set of partitions.

import type { MemberProtocol } from './group-state.js'

export type Assignment = Map<string, Set<number>>

/** What a member that speaks the classic protocol (JoinGroup/SyncGroup) inside a consumer group keeps. */
export interface ClassicMetadata {
  sessionTimeoutMs: number
  /** Its JoinGroup protocols (embedded ConsumerProtocol subscriptions), in its order of preference. */
  protocols: MemberProtocol[]
}

export type MemberState = 'stable' | 'unrevoked' | 'unreleased'

export interface ConsumerMember {
  memberId: string
  instanceId: string | null
  rackId: string | null
  clientId: string
  clientHost: string
  rebalanceTimeoutMs: number
  subscribedTopicNames: string[]
  subscribedTopicRegex: string | null
  serverAssignor: string | null
  /** -2 while a static member is away (left with epoch -2, may come back). */
  memberEpoch: number
  previousMemberEpoch: number
  state: MemberState
  /** What the member owns or may fetch now. */
  assigned: Assignment
  /** What it must give up before it moves to the next epoch. */
  pendingRevocation: Assignment
  sessionTimer: NodeJS.Timeout | undefined
  rebalanceTimer: NodeJS.Timeout | undefined
  /** Set for a classic-protocol member (after an online upgrade, or a JoinGroup into the group). */
  classic: ClassicMetadata | null
}

export const ASSIGNORS = ['uniform', 'range'] as const

export class ConsumerGroup {
  /** Kafka 4.4's first member gets epoch 2: a new group starts at 1. */
  groupEpoch = 1
  assignmentEpoch = 0
  readonly members = new Map<string, ConsumerMember>()
  /** instance id → member id. */
  readonly staticMembers = new Map<string, string>()
  target = new Map<string, Assignment>()
  /** Subscribed topics and their partition counts when the group epoch was last bumped for them. */
  subscriptionSignature = ''
  lastAssignmentMs = -Infinity
  assignTimer: NodeJS.Timeout | undefined

  constructor(readonly groupId: string) {}

  /** The most used server assignor among the members, else the default (`uniform`). */
  assignorName(): string {
    const votes = new Map<string, number>()
    for (const m of this.members.values())
      if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1)
    let best: string = ASSIGNORS[0]
    let n = 0
    for (const [name, v] of votes) if (v > n) [best, n] = [name, v]
    return best
  }

  state(): 'Empty' | 'Assigning' | 'Reconciling' | 'Stable' {
    if (this.members.size === 0) return 'Empty'
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning'
    for (const m of this.members.values())
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== 'stable') return 'Reconciling'
    return 'Stable'
  }

  /** Whether another member still holds the partition (assigned or pending revocation). */
  heldByOther(memberId: string, topicId: string, partition: number): boolean {
    for (const m of this.members.values()) {
      if (m.memberId === memberId) continue
      if (m.assigned.get(topicId)?.has(partition) === true) return true
      if (m.pendingRevocation.get(topicId)?.has(partition) === true) return true
    }
    return false
  }
}

export function copyAssignment(a: Assignment): Assignment {
  return new Map([...a].map(([t, ps]) => [t, new Set(ps)]))
}

export function assignmentSize(a: Assignment): number {
  let n = 0
  for (const ps of a.values()) n += ps.size
  return n
}

export function sameAssignment(a: Assignment, b: Assignment): boolean {
  if (assignmentSize(a) !== assignmentSize(b)) return false
  for (const [t, ps] of a) for (const p of ps) if (b.get(t)?.has(p) !== true) return false
  return true
}

export function addPartition(a: Assignment, topicId: string, partition: number): void {
  let ps = a.get(topicId)
  if (ps === undefined) a.set(topicId, (ps = new Set()))
  ps.add(partition)
}

/** Partitions of `a` that are not in `b`. */
export function minus(a: Assignment, b: Assignment): Assignment {
  const out: Assignment = new Map()
  for (const [t, ps] of a) for (const p of ps) if (b.get(t)?.has(p) !== true) addPartition(out, t, p)
  return out
}

export function intersect(a: Assignment, b: Assignment): Assignment {
  const out: Assignment = new Map()
  for (const [t, ps] of a) for (const p of ps) if (b.get(t)?.has(p) === true) addPartition(out, t, p)
  return out
}

export interface SubscribedTopic {
  id: string
  name: string
  partitions: number
}

export interface AssignorInput {
  /** Member id → the topics it subscribes to (existing ones), sorted by name. */
  subscriptions: Map<string, SubscribedTopic[]>
  /** The previous target, for stickiness. */
  previous: Map<string, Assignment>
}

/**
 * `uniform`: balanced and sticky. Each member keeps what it had, up to its share; what is left
 * goes, partition by partition (topics by name), to the least loaded subscribed member (ties by
 * member id). For one subscription shared by all this gives Kafka's answers (two partitions of
 * four move to a member that joins, the lowest kept); Kafka orders topics by id, so with several
 * topics which partitions move may differ, not how many.
 */
export function uniformAssign(input: AssignorInput): Map<string, Assignment> {
  const ids = [...input.subscriptions.keys()].sort()
  const out = new Map<string, Assignment>(ids.map((id) => [id, new Map()]))
  const load = new Map<string, number>(ids.map((id) => [id, 0]))
  const all = new Map<string, SubscribedTopic>()
  for (const ts of input.subscriptions.values()) for (const t of ts) all.set(t.id, t)
  const topics = [...all.values()].sort((a, b) => a.name.localeCompare(b.name))
  const subscribers = (topicId: string) =>
    ids.filter((id) => input.subscriptions.get(id)!.some((t) => t.id === topicId))
  // A member's share: its subscribed partitions spread over the members subscribed to them.
  const share = new Map<string, number>()
  for (const id of ids) {
    let s = 0
    for (const t of input.subscriptions.get(id)!) s += t.partitions / subscribers(t.id).length
    share.set(id, Math.floor(s))
  }
  let extras = 0
  {
    let total = 0
    for (const t of topics) total += t.partitions
    let floorSum = 0
    for (const v of share.values()) floorSum += v
    extras = total - floorSum
  }
  const taken = new Set<string>()
  const keep = (id: string, limit: (id: string) => number) => {
    const prev = input.previous.get(id)
    if (prev === undefined) return
    const subscribed = new Map(input.subscriptions.get(id)!.map((t) => [t.id, t]))
    for (const t of [...prev.keys()].sort((a, b) => (all.get(a)?.name ?? '').localeCompare(all.get(b)?.name ?? ''))) {
      const topic = subscribed.get(t)
      if (topic === undefined) continue
      for (const p of [...prev.get(t)!].sort((a, b) => a - b)) {
        if (p >= topic.partitions || taken.has(`${t}:${p}`)) continue
        if (load.get(id)! >= limit(id)) return
        addPartition(out.get(id)!, t, p)
        taken.add(`${t}:${p}`)
        load.set(id, load.get(id)! + 1)
      }
    }
  }
  for (const id of ids) keep(id, (m) => share.get(m)!)
  // Members that had more keep one extra while extra slots remain.
  for (const id of ids) {
    if (extras <= 0) break
    const before = load.get(id)!
    keep(id, (m) => share.get(m)! + 1)
    if (load.get(id)! > before) extras--
  }
  for (const t of topics) {
    const subs = subscribers(t.id)
    for (let p = 0; p < t.partitions; p++) {
      if (taken.has(`${t.id}:${p}`) || subs.length === 0) continue
      let best = subs[0]!
      for (const id of subs) if (load.get(id)! < load.get(best)!) best = id
      addPartition(out.get(best)!, t.id, p)
      load.set(best, load.get(best)! + 1)
    }
  }
  return out
}

/** `range`: per topic, contiguous ranges to the subscribed members sorted by member id, the first ones one more. */
export function rangeAssign(input: AssignorInput): Map<string, Assignment> {
  const ids = [...input.subscriptions.keys()].sort()
  const out = new Map<string, Assignment>(ids.map((id) => [id, new Map()]))
  const all = new Map<string, SubscribedTopic>()
  for (const ts of input.subscriptions.values()) for (const t of ts) all.set(t.id, t)
  for (const t of [...all.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const subs = ids.filter((id) => input.subscriptions.get(id)!.some((x) => x.id === t.id))
    const per = Math.floor(t.partitions / subs.length)
    const extra = t.partitions % subs.length
    let next = 0
    subs.forEach((id, i) => {
      const n = per + (i < extra ? 1 : 0)
      for (let k = 0; k < n; k++) addPartition(out.get(id)!, t.id, next++)
    })
  }
  return out
}
