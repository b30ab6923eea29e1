// The sticky assignment algorithm (Java's AbstractStickyAssignor), shared by sticky flavours:
// as balanced as subscriptions allow while moving as few owned partitions as possible. The
// cooperative flavour's rules around it live in cooperative-sticky.ts.

import { DEFAULT_GENERATION, type TopicPartitions } from './balancer.js'
import { compareStrings } from './prepare.js'

/** An interned topic-partition: one object per (topic, partition) of the current metadata. */
export interface TP {
  readonly topic: string
  readonly partition: number
}

export class PartitionTable {
  private readonly byTopic = new Map<string, Map<number, TP>>()
  /** Every partition, topics in sorted order, partitions ascending. */
  readonly all: TP[] = []

  constructor(readonly partitions: Map<string, number[]>) {
    for (const [topic, ids] of partitions) {
      const map = new Map<number, TP>()
      for (const partition of ids) {
        const tp: TP = { topic, partition }
        map.set(partition, tp)
        this.all.push(tp)
      }
      this.byTopic.set(topic, map)
    }
  }

  get(topic: string, partition: number): TP | undefined {
    return this.byTopic.get(topic)?.get(partition)
  }

  topicPartitions(topic: string): TP[] {
    const map = this.byTopic.get(topic)
    return map === undefined ? [] : [...map.values()]
  }

  count(topic: string): number {
    return this.byTopic.get(topic)?.size ?? 0
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic)
  }

  get totalCount(): number {
    return this.all.length
  }
}

/** Java's AbstractStickyAssignor.MemberData: what a member claims to own, and since when. */
export interface MemberData {
  /** Owned partitions that exist in the current metadata (deduplicated, in the member's order). */
  partitions: TP[]
  /** Absent when the member sent no generation at all. */
  generation: number | undefined
}

export interface StickyMember {
  id: string
  topics: Set<string>
  /** The subscription's own generationId field (v2+), -1 when absent. */
  subscriptionGeneration: number
  data: MemberData
}

interface StickyResult {
  assignment: Map<string, TP[]>
  /**
   * Partitions given to a member other than their current owner (partition → new owner), as the
   * constrained builder computes them; null when the general builder ran (then the cooperative
   * step derives them from the owned partitions, as Java does).
   */
  transferring: Map<TP, string> | null
}

export function ownedTPs(table: PartitionTable, owned: readonly TopicPartitions[] | undefined): TP[] {
  const out: TP[] = []
  const seen = new Set<TP>()
  for (const entry of owned ?? []) {
    for (const partition of entry.partitions) {
      const tp = table.get(entry.topic, partition)
      if (tp === undefined || seen.has(tp)) continue
      seen.add(tp)
      out.push(tp)
    }
  }
  return out
}

export function removeFrom<T>(list: T[], item: T): void {
  const at = list.indexOf(item)
  if (at >= 0) list.splice(at, 1)
}

/** (partition, topic) order: how the constrained builder picks which owned partitions to keep. */
function comparePartitionThenTopic(a: TP, b: TP): number {
  return a.partition - b.partition || compareStrings(a.topic, b.topic)
}

export function stickyAssign(members: StickyMember[], table: PartitionTable): StickyResult {
  // allSubscriptionsEqual: also collects each member's still-valid owned partitions, resolving
  // partitions claimed by several members by generation.
  const consumerToOwned = new Map<string, TP[]>()
  const multipleOwners = new Set<TP>()
  const byId = new Map(members.map((m) => [m.id, m] as const))
  const previousOwner = new Map<TP, string>()
  let allEqual = true
  let maxGeneration = DEFAULT_GENERATION
  let firstTopics: Set<string> | null = null
  for (const member of members) {
    // Java starts comparing once it has seen a non-empty subscription, which treats a member
    // subscribed to nothing as equal to everyone; comparing from the first member avoids
    // assigning partitions to a member that did not subscribe to them.
    if (firstTopics === null) firstTopics = member.topics
    else if (allEqual && !sameSet(firstTopics, member.topics)) allEqual = false
    const generation = member.data.generation ?? DEFAULT_GENERATION
    maxGeneration = Math.max(maxGeneration, generation)
    const owned: TP[] = []
    consumerToOwned.set(member.id, owned)
    for (const tp of member.data.partitions) {
      const other = previousOwner.get(tp)
      if (other === undefined) {
        owned.push(tp)
        previousOwner.set(tp, member.id)
        continue
      }
      // As Java: the other claimant's generation is its subscription field, not its userData.
      const otherGeneration = byId.get(other)!.subscriptionGeneration
      if (generation === otherGeneration) {
        // Two members of one generation claim it: neither keeps it, and it moves only after
        // both revoked it.
        multipleOwners.add(tp)
        removeFrom(consumerToOwned.get(other)!, tp)
        previousOwner.set(tp, member.id)
      } else if (generation > otherGeneration) {
        owned.push(tp)
        removeFrom(consumerToOwned.get(other)!, tp)
        previousOwner.set(tp, member.id)
      }
      // else: the other member's claim is newer; it keeps the partition.
    }
  }
  if (allEqual) return new ConstrainedAssignmentBuilder(table, consumerToOwned, multipleOwners).build()
  return {
    assignment: new GeneralAssignmentBuilder(table, consumerToOwned, members, maxGeneration).build(),
    transferring: null,
  }
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}

/**
 * Java's ConstrainedAssignmentBuilder, used when every member subscribes to the same topics:
 * 1. each member keeps its owned partitions up to its quota (minQuota, or maxQuota for as many
 *    members as there are partitions left over), preferring low partition numbers;
 * 2. the rest is dealt round robin to the members still under quota.
 */
class ConstrainedAssignmentBuilder {
  private readonly minQuota: number
  private readonly maxQuota: number
  private readonly expectedNumMembersWithOverMinQuota: number
  private currentNumMembersWithOverMinQuota = 0
  private readonly assignment = new Map<string, TP[]>()
  private readonly assignedPartitions = new Set<TP>()
  private readonly maybeRevoked = new Map<TP, string>()
  private unfilledUnderMinQuota: string[] = []
  private unfilledExactlyMinQuota: string[] = []
  private readonly transferring = new Map<TP, string>()

  constructor(
    private readonly table: PartitionTable,
    private readonly currentAssignment: Map<string, TP[]>,
    private readonly multipleOwners: Set<TP>,
  ) {
    const consumers = currentAssignment.size
    const total = table.totalCount
    this.minQuota = Math.floor(total / consumers)
    this.maxQuota = Math.ceil(total / consumers)
    this.expectedNumMembersWithOverMinQuota = total % consumers
    for (const consumer of currentAssignment.keys()) this.assignment.set(consumer, [])
  }

  build(): StickyResult {
    this.assignOwnedPartitions()
    const unassigned = this.table.all.filter((tp) => !this.assignedPartitions.has(tp))
    this.unfilledUnderMinQuota.sort(compareStrings)
    this.unfilledExactlyMinQuota.sort(compareStrings)
    this.assignRoundRobin(unassigned)
    this.verifyUnfilledMembers()
    return { assignment: this.assignment, transferring: this.transferring }
  }

  private assignOwnedPartitions(): void {
    for (const [consumer, ownedList] of this.currentAssignment) {
      const owned = ownedList.filter((tp) => !this.multipleOwners.has(tp)).sort(comparePartitionThenTopic)
      const target = this.assignment.get(consumer)!
      if (owned.length < this.minQuota) {
        // Fewer than its share: keep everything and wait for more.
        this.keep(target, owned)
        this.unfilledUnderMinQuota.push(consumer)
      } else if (
        owned.length >= this.maxQuota &&
        this.currentNumMembersWithOverMinQuota < this.expectedNumMembersWithOverMinQuota
      ) {
        // Enough for one of the members that get maxQuota: keep maxQuota, give up the rest.
        this.currentNumMembersWithOverMinQuota++
        if (this.currentNumMembersWithOverMinQuota === this.expectedNumMembersWithOverMinQuota)
          this.unfilledExactlyMinQuota = []
        this.keep(target, owned.slice(0, this.maxQuota))
        for (const tp of owned.slice(this.maxQuota)) this.maybeRevoked.set(tp, consumer)
      } else {
        // At least minQuota: keep minQuota, give up the rest; it may still get one more.
        this.keep(target, owned.slice(0, this.minQuota))
        for (const tp of owned.slice(this.minQuota)) this.maybeRevoked.set(tp, consumer)
        if (this.currentNumMembersWithOverMinQuota < this.expectedNumMembersWithOverMinQuota)
          this.unfilledExactlyMinQuota.push(consumer)
      }
    }
  }

  private keep(target: TP[], partitions: TP[]): void {
    for (const tp of partitions) {
      target.push(tp)
      this.assignedPartitions.add(tp)
    }
  }

  private assignRoundRobin(unassigned: TP[]): void {
    // A Java iterator over the LinkedList of members under minQuota, which may remove the
    // member it returned last.
    let cursor = 0
    for (let i = 0; i < unassigned.length; i++) {
      const tp = unassigned[i]!
      let consumer: string
      let fromUnder: boolean
      if (cursor < this.unfilledUnderMinQuota.length) {
        consumer = this.unfilledUnderMinQuota[cursor++]!
        fromUnder = true
      } else if (this.unfilledUnderMinQuota.length === 0 && this.unfilledExactlyMinQuota.length === 0) {
        throw new Error(
          `cooperative-sticky: no member left to take ${tp.topic}-${tp.partition} (assignment algorithm error)`,
        )
      } else if (this.unfilledUnderMinQuota.length === 0) {
        consumer = this.unfilledExactlyMinQuota.shift()!
        fromUnder = false
      } else {
        cursor = 0
        consumer = this.unfilledUnderMinQuota[cursor++]!
        fromUnder = true
      }
      const count = this.assignNewPartition(tp, consumer)
      if (count === this.minQuota) {
        if (fromUnder) this.unfilledUnderMinQuota.splice(--cursor, 1)
        this.unfilledExactlyMinQuota.push(consumer)
      } else if (count === this.maxQuota) {
        this.currentNumMembersWithOverMinQuota++
      }
    }
  }

  private assignNewPartition(tp: TP, consumer: string): number {
    const target = this.assignment.get(consumer)!
    target.push(tp)
    const revokedFrom = this.maybeRevoked.get(tp)
    if ((revokedFrom !== undefined && revokedFrom !== consumer) || this.multipleOwners.has(tp))
      this.transferring.set(tp, consumer)
    return target.length
  }

  private verifyUnfilledMembers(): void {
    if (this.unfilledUnderMinQuota.length === 0) return
    if (this.currentNumMembersWithOverMinQuota !== this.expectedNumMembersWithOverMinQuota) {
      throw new Error('cooperative-sticky: fewer members than expected reached maxQuota (assignment algorithm error)')
    }
    for (const consumer of this.unfilledUnderMinQuota) {
      if (this.assignment.get(consumer)!.length !== this.minQuota) {
        throw new Error(`cooperative-sticky: member ${consumer} did not reach minQuota (assignment algorithm error)`)
      }
    }
  }
}

/** Java's TreeSet<String> ordered by (assigned partition count, member id). */
class MembersBySize {
  readonly ids: string[] = []
  private readonly members = new Set<string>()

  constructor(private readonly size: (id: string) => number) {}

  private compare(a: string, b: string): number {
    return this.size(a) - this.size(b) || compareStrings(a, b)
  }

  private lowerBound(id: string): number {
    let lo = 0
    let hi = this.ids.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.compare(this.ids[mid]!, id) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  add(id: string): void {
    if (this.members.has(id)) return
    this.members.add(id)
    this.ids.splice(this.lowerBound(id), 0, id)
  }

  /** Must be called before the member's size changes (as Java does with its TreeSet). */
  remove(id: string): void {
    if (!this.members.delete(id)) return
    let at = this.lowerBound(id)
    if (this.ids[at] !== id) at = this.ids.indexOf(id)
    this.ids.splice(at, 1)
  }

  first(): string | undefined {
    return this.ids[0]
  }

  last(): string | undefined {
    return this.ids[this.ids.length - 1]
  }
}

/** Java's PartitionMovements: which partitions moved between which members during balancing. */
class PartitionMovements {
  private readonly byTopic = new Map<string, Map<string, Set<TP>>>()
  private readonly movements = new Map<TP, { src: string; dst: string }>()

  private static pairKey(src: string, dst: string): string {
    return JSON.stringify([src, dst])
  }

  private removeRecord(tp: TP): { src: string; dst: string } {
    const pair = this.movements.get(tp)!
    this.movements.delete(tp)
    const forTopic = this.byTopic.get(tp.topic)!
    const key = PartitionMovements.pairKey(pair.src, pair.dst)
    const set = forTopic.get(key)!
    set.delete(tp)
    if (set.size === 0) forTopic.delete(key)
    if (forTopic.size === 0) this.byTopic.delete(tp.topic)
    return pair
  }

  private addRecord(tp: TP, src: string, dst: string): void {
    this.movements.set(tp, { src, dst })
    let forTopic = this.byTopic.get(tp.topic)
    if (forTopic === undefined) this.byTopic.set(tp.topic, (forTopic = new Map()))
    const key = PartitionMovements.pairKey(src, dst)
    let set = forTopic.get(key)
    if (set === undefined) forTopic.set(key, (set = new Set()))
    set.add(tp)
  }

  movePartition(tp: TP, oldConsumer: string, newConsumer: string): void {
    if (this.movements.has(tp)) {
      const existing = this.removeRecord(tp)
      // Moving back to where it came from cancels the movement.
      if (existing.src !== newConsumer) this.addRecord(tp, existing.src, newConsumer)
    } else {
      this.addRecord(tp, oldConsumer, newConsumer)
    }
  }

  /**
   * Rather than moving `tp` from `oldConsumer` to `newConsumer`, move back a partition of the same
   * topic that earlier moved the other way, so members do not swap partitions of one topic.
   */
  actualPartitionToMove(tp: TP, oldConsumer: string, newConsumer: string): TP {
    const forTopic = this.byTopic.get(tp.topic)
    if (forTopic === undefined) return tp
    const earlier = this.movements.get(tp)
    if (earlier !== undefined) oldConsumer = earlier.src
    const reverse = forTopic.get(PartitionMovements.pairKey(newConsumer, oldConsumer))
    if (reverse === undefined) return tp
    return reverse.values().next().value ?? tp
  }
}

/**
 * Java's GeneralAssignmentBuilder, used when members subscribe to different topics: keep every
 * valid owned partition, hand out the unassigned ones to the least loaded eligible members, then
 * move partitions one at a time from members with 2+ more than an eligible member until no such
 * move is left, keeping the result only if it is better balanced than before.
 */
class GeneralAssignmentBuilder {
  private readonly topicConsumers = new Map<string, string[]>()
  private readonly consumerTopics = new Map<string, string[]>()
  private readonly consumerTopicSet = new Map<string, Set<string>>()
  private readonly partitionConsumer = new Map<TP, string>()
  private readonly sortedAllPartitions: TP[]
  private readonly sorted: MembersBySize
  private readonly movements = new PartitionMovements()
  private revocationRequired = false

  constructor(
    private readonly table: PartitionTable,
    private currentAssignment: Map<string, TP[]>,
    private readonly members: StickyMember[],
    private readonly maxGeneration: number,
  ) {
    for (const topic of table.partitions.keys()) this.topicConsumers.set(topic, [])
    for (const member of members) {
      const topics: string[] = []
      for (const topic of member.topics) {
        if (!table.has(topic)) continue
        topics.push(topic)
        this.topicConsumers.get(topic)!.push(member.id)
      }
      this.consumerTopics.set(member.id, topics)
      this.consumerTopicSet.set(member.id, new Set(topics))
      if (!currentAssignment.has(member.id)) currentAssignment.set(member.id, [])
    }
    for (const [consumer, partitions] of currentAssignment) {
      for (const tp of partitions) this.partitionConsumer.set(tp, consumer)
    }
    // Topics with the fewest potential consumers first, then by name.
    const topics = [...this.topicConsumers.keys()].sort(
      (a, b) => this.topicConsumers.get(a)!.length - this.topicConsumers.get(b)!.length || compareStrings(a, b),
    )
    this.sortedAllPartitions = topics.flatMap((topic) => table.topicPartitions(topic))
    this.sorted = new MembersBySize((id) => this.currentAssignment.get(id)!.length)
  }

  build(): Map<string, TP[]> {
    const prevAssignment = this.prepopulatePreviousAssignment()
    const assigned = this.assignOwnedPartitions()
    const unassigned = this.sortedAllPartitions.filter((tp) => !assigned.has(tp))
    for (const consumer of this.currentAssignment.keys()) this.sorted.add(consumer)
    this.balance(prevAssignment, unassigned)
    return this.currentAssignment
  }

  /** The owner of each partition in the generation before the newest (members with older generations). */
  private prepopulatePreviousAssignment(): Map<TP, { consumer: string; generation: number }> {
    const prev = new Map<TP, { consumer: string; generation: number }>()
    const update = (partitions: TP[], consumer: string, generation: number): void => {
      for (const tp of partitions) {
        const existing = prev.get(tp)
        if (existing === undefined || generation > existing.generation) prev.set(tp, { consumer, generation })
      }
    }
    for (const member of this.members) {
      const { generation, partitions } = member.data
      if (generation !== undefined && generation < this.maxGeneration) update(partitions, member.id, generation)
      else if (generation === undefined && this.maxGeneration > DEFAULT_GENERATION)
        update(partitions, member.id, DEFAULT_GENERATION)
    }
    return prev
  }

  private assignOwnedPartitions(): Set<TP> {
    const assigned = new Set<TP>()
    const byId = new Map(this.members.map((m) => [m.id, m] as const))
    for (const [consumer, partitions] of this.currentAssignment) {
      const member = byId.get(consumer)!
      const kept: TP[] = []
      for (const tp of partitions) {
        if (!member.topics.has(tp.topic)) {
          // No longer subscribed: it must be revoked before it can go elsewhere.
          this.revocationRequired = true
        } else {
          kept.push(tp)
          assigned.add(tp)
        }
      }
      this.currentAssignment.set(consumer, kept)
    }
    return assigned
  }

  private size(consumer: string): number {
    return this.currentAssignment.get(consumer)!.length
  }

  private maxAssignmentSize(consumer: string): number {
    let total = 0
    for (const topic of this.consumerTopics.get(consumer)!) total += this.table.count(topic)
    return total
  }

  /**
   * Java's isBalanced: counts within one, or no member short of all it could get could take a
   * partition from a member with 2+ more. Java scans every (member, partition) pair; this keeps,
   * per topic, the two largest owner counts, which gives the same answer in O(partitions + members × topics).
   */
  private isBalanced(): boolean {
    const first = this.sorted.first()
    const last = this.sorted.last()
    if (first === undefined || last === undefined) return true
    if (this.size(first) >= this.size(last) - 1) return true
    // topic → the largest owner count and its owner, and the largest count of any other owner
    const top = new Map<string, { size1: number; owner1: string; size2: number }>()
    for (const [consumer, partitions] of this.currentAssignment) {
      const size = partitions.length
      for (const tp of partitions) {
        const t = top.get(tp.topic)
        if (t === undefined) top.set(tp.topic, { size1: size, owner1: consumer, size2: -1 })
        else if (t.owner1 === consumer) continue
        else if (size > t.size1) {
          t.size2 = t.size1
          t.size1 = size
          t.owner1 = consumer
        } else if (size > t.size2) t.size2 = size
      }
    }
    for (const consumer of this.sorted.ids) {
      const count = this.size(consumer)
      if (count === this.maxAssignmentSize(consumer)) continue
      for (const topic of this.consumerTopics.get(consumer)!) {
        const t = top.get(topic)
        if (t === undefined) continue
        const largestOther = t.owner1 === consumer ? t.size2 : t.size1
        if (count + 1 < largestOther) return false
      }
    }
    return true
  }

  /** Sum over member pairs of the difference of their partition counts (0 = perfectly even). */
  private static balanceScore(assignment: Map<string, TP[]>): number {
    const sizes = [...assignment.values()].map((l) => l.length).sort((a, b) => a - b)
    let score = 0
    for (let i = 0; i < sizes.length; i++) score += sizes[i]! * (2 * i - sizes.length + 1)
    return score
  }

  private assignToLeastLoaded(tp: TP): void {
    for (const consumer of this.sorted.ids) {
      if (!this.consumerTopicSet.get(consumer)!.has(tp.topic)) continue
      this.sorted.remove(consumer)
      this.currentAssignment.get(consumer)!.push(tp)
      this.partitionConsumer.set(tp, consumer)
      this.sorted.add(consumer)
      return
    }
  }

  private canTopicParticipate(topic: string): boolean {
    return this.topicConsumers.get(topic)!.length >= 2
  }

  private canConsumerParticipate(consumer: string): boolean {
    const partitions = this.currentAssignment.get(consumer)!
    if (partitions.length < this.maxAssignmentSize(consumer)) return true
    return partitions.some((tp) => this.canTopicParticipate(tp.topic))
  }

  private balance(prevAssignment: Map<TP, { consumer: string; generation: number }>, unassignedIn: TP[]): void {
    const last = this.sorted.last()
    const initializing = last === undefined || this.size(last) === 0
    for (const tp of unassignedIn) {
      if (this.topicConsumers.get(tp.topic)!.length === 0) continue
      this.assignToLeastLoaded(tp)
    }
    // Only partitions of topics with 2+ potential consumers, and only members that could gain or
    // lose something, take part in reassignment.
    const reassignable = this.sortedAllPartitions.filter((tp) => this.canTopicParticipate(tp.topic))
    const unassigned = unassignedIn.filter((tp) => this.canTopicParticipate(tp.topic))
    const fixed = new Map<string, TP[]>()
    for (const consumer of this.consumerTopics.keys()) {
      if (this.canConsumerParticipate(consumer)) continue
      this.sorted.remove(consumer)
      fixed.set(consumer, this.currentAssignment.get(consumer)!)
      this.currentAssignment.delete(consumer)
    }
    const preBalance = new Map<string, TP[]>()
    for (const [consumer, partitions] of this.currentAssignment) preBalance.set(consumer, [...partitions])
    const preBalanceOwners = new Map(this.partitionConsumer)
    // Without revocations due to subscription changes, first try moving only the new partitions.
    if (!this.revocationRequired) this.performReassignments(unassigned, prevAssignment)
    const reassigned = this.performReassignments(reassignable, prevAssignment)
    if (
      !initializing &&
      reassigned &&
      GeneralAssignmentBuilder.balanceScore(this.currentAssignment) >= GeneralAssignmentBuilder.balanceScore(preBalance)
    ) {
      this.currentAssignment = preBalance
      this.partitionConsumer.clear()
      for (const [tp, consumer] of preBalanceOwners) this.partitionConsumer.set(tp, consumer)
    }
    for (const [consumer, partitions] of fixed) this.currentAssignment.set(consumer, partitions)
  }

  private performReassignments(
    partitions: TP[],
    prevAssignment: Map<TP, { consumer: string; generation: number }>,
  ): boolean {
    let performed = false
    let modified: boolean
    do {
      modified = false
      for (const tp of partitions) {
        if (this.isBalanced()) break
        const consumer = this.partitionConsumer.get(tp)
        if (consumer === undefined || !this.currentAssignment.has(consumer)) continue
        const prev = prevAssignment.get(tp)
        // Back to its owner of the previous generation when that evens things out. (Java does
        // not check that the previous owner still takes part and still subscribes to the topic.)
        if (
          prev !== undefined &&
          this.currentAssignment.has(prev.consumer) &&
          this.consumerTopicSet.get(prev.consumer)!.has(tp.topic) &&
          this.size(consumer) > this.size(prev.consumer) + 1
        ) {
          this.reassignPartitionTo(tp, prev.consumer)
          performed = modified = true
          continue
        }
        for (const other of this.topicConsumers.get(tp.topic)!) {
          if (!this.currentAssignment.has(other)) continue
          if (this.size(consumer) > this.size(other) + 1) {
            this.reassignPartition(tp)
            performed = modified = true
            break
          }
        }
      }
    } while (modified)
    return performed
  }

  /** To the least loaded member subscribed to the partition's topic. */
  private reassignPartition(tp: TP): void {
    for (const consumer of this.sorted.ids) {
      if (this.consumerTopicSet.get(consumer)!.has(tp.topic)) {
        this.reassignPartitionTo(tp, consumer)
        return
      }
    }
  }

  private reassignPartitionTo(tp: TP, newConsumer: string): void {
    const consumer = this.partitionConsumer.get(tp)!
    const toMove = this.movements.actualPartitionToMove(tp, consumer, newConsumer)
    const oldConsumer = this.partitionConsumer.get(toMove)!
    this.sorted.remove(oldConsumer)
    this.sorted.remove(newConsumer)
    this.movements.movePartition(toMove, oldConsumer, newConsumer)
    removeFrom(this.currentAssignment.get(oldConsumer)!, toMove)
    this.currentAssignment.get(newConsumer)!.push(toMove)
    this.partitionConsumer.set(toMove, newConsumer)
    this.sorted.add(newConsumer)
    this.sorted.add(oldConsumer)
  }
}
