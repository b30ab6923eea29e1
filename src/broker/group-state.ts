// A classic group as the coordinator keeps it: the request/response shapes, its members, its
// state and generation, protocol selection among the members, and its committed offsets. The
// operations live in group-store.ts (groups by id, offsets) and groups.ts (membership).

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

export interface MemberProtocol {
  name: string
  metadata: Buffer
}

export interface JoinResult {
  errorCode: number
  generationId: number
  protocolType: string | null
  protocolName: string | null
  leader: string
  memberId: string
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[]
}

export interface SyncResult {
  errorCode: number
  protocolType: string | null
  protocolName: string | null
  assignment: Buffer
}

export interface Member {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: MemberProtocol[]
  assignment: Buffer
  /** Resolves the member's pending JoinGroup. */
  awaitingJoin: ((r: JoinResult) => void) | undefined
  /** Resolves the member's pending SyncGroup. */
  awaitingSync: ((r: SyncResult) => void) | undefined
  isNew: boolean
  sessionTimer: NodeJS.Timeout | undefined
}

export interface CommittedOffset {
  offset: bigint
  leaderEpoch: number
  metadata: string
  commitTimestamp: number
}

export interface JoinRequest {
  groupId: string
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: MemberProtocol[]
  /** JoinGroup v4+: unknown dynamic members must get a member id first (KIP-394). */
  requireKnownMemberId: boolean
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

export function splitOffsetKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf('\u0000')
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) }
}

export class Group {
  state: GroupState = 'Empty'
  protocolType: string | null = null
  protocolName: string | null = null
  generationId = 0
  leaderId: string | null = null
  readonly members = new Map<string, Member>()
  /** group.instance.id → member id. */
  readonly staticMembers = new Map<string, string>()
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>()
  readonly offsets = new Map<string, CommittedOffset>()
  /** Transactional commits by producer id, visible once the transaction commits. */
  readonly pendingTxnOffsets = new Map<bigint, Map<string, CommittedOffset>>()
  rebalanceTimer: NodeJS.Timeout | undefined
  syncTimer: NodeJS.Timeout | undefined
  /** An initial delayed join (group.initial.rebalance.delay.ms) is running: no early completion. */
  initialDelayActive = false
  /** How much longer the initial delay may still be extended (up to the rebalance timeout). */
  initialDelayRemainingMs = 0
  /** A member joined during the initial delay, which extends it once more. */
  newMemberAdded = false

  constructor(readonly groupId: string) {}

  get hasMembers(): boolean {
    return this.members.size > 0
  }

  /** Protocols every member supports (ClassicGroup.candidateProtocols). */
  candidateProtocols(extra?: MemberProtocol[]): Set<string> {
    const lists = [...this.members.values()].map((m) => m.protocols)
    if (extra !== undefined) lists.push(extra)
    if (lists.length === 0) return new Set()
    const [first, ...rest] = lists
    return new Set(first!.map((p) => p.name).filter((n) => rest.every((l) => l.some((p) => p.name === n))))
  }

  supportsProtocols(protocolType: string, protocols: MemberProtocol[]): boolean {
    if (this.state === 'Empty' || this.members.size === 0) return protocolType !== '' && protocols.length > 0
    return this.protocolType === protocolType && this.candidateProtocols(protocols).size > 0
  }

  /** Each member votes for its most preferred candidate; the most voted wins (ClassicGroup.selectProtocol). */
  selectProtocol(): string {
    const candidates = this.candidateProtocols()
    const votes = new Map<string, number>()
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name))
      if (choice !== undefined) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1)
    }
    let best = ''
    let bestVotes = -1
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name
        bestVotes = n
      }
    }
    return best
  }

  rebalanceTimeoutMs(): number {
    let max = 0
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs)
    return max
  }

  allJoined(): boolean {
    for (const m of this.members.values()) if (m.awaitingJoin === undefined) return false
    return this.pendingMembers.size === 0
  }
}
