import type { AssignContext, GroupAssignment, GroupBalancer, GroupMember } from './balancer.js'
import { addPartition, compareMemberInfo, emptyAssignment, prepare } from './prepare.js'

/**
 * Kafka's 'range' assignor (Java RangeAssignor): topic by topic, the partitions are split into
 * consecutive ranges over the members subscribed to that topic, sorted as Java sorts them
 * (static members by group.instance.id first, then the others by member id); the first
 * `partitions % members` members get one partition more. Co-partitioned topics therefore land
 * on the same members.
 *
 * Example, 5 partitions and 2 members: C0 [0, 1, 2], C1 [3, 4].
 *
 * Rack-aware (KIP-881, Java's RangeAssignor.assignRanges): when members send their rack and the
 * leader knows the replicas' racks, a first pass gives each member, in order and up to its quota,
 * the unassigned partitions with a replica in its rack; a second pass fills the quotas with what
 * is left, in partition order. Without racks the second pass alone is the plain range split.
 * (Java also aligns co-partitioned topics in the rack-aware case; not done here.)
 */
export class RangeGroupBalancer implements GroupBalancer {
  readonly name = 'range'
  readonly protocol = 'eager'

  assign(
    members: readonly GroupMember[],
    partitionsPerTopic: ReadonlyMap<string, readonly number[]>,
    context: AssignContext = {},
  ): GroupAssignment {
    const { members: prepared, partitions } = prepare(members, partitionsPerTopic)
    const out = emptyAssignment(members)
    for (const [topic, ids] of partitions) {
      const consumers = prepared
        .filter((m) => m.topics.has(topic))
        .map((m) => m.member)
        .sort(compareMemberInfo)
      if (consumers.length === 0) continue
      const racks = context.partitionRacks?.get(topic)
      const state = new TopicState(ids, consumers.length)
      const rackAware =
        racks !== undefined && racks.size > 0 && consumers.some((c) => c.rackId !== undefined && c.rackId !== null)
      if (rackAware) {
        state.assignRanges(consumers, (c, p) => {
          const rack = c.rackId ?? null
          return rack === null || (racks.get(p)?.includes(rack) ?? false)
        })
      }
      state.assignRanges(consumers, () => true)
      for (const [memberId, list] of state.assigned) for (const p of list) addPartition(out, memberId, topic, p)
    }
    return out
  }
}

/** One topic's assignment in progress (Java's TopicAssignmentState). */
class TopicState {
  readonly assigned = new Map<string, number[]>()
  #unassigned: number[]
  readonly #perMember: number
  #withExtra: number

  constructor(ids: readonly number[], consumers: number) {
    this.#unassigned = [...ids].sort((a, b) => a - b)
    this.#perMember = Math.floor(ids.length / consumers)
    this.#withExtra = ids.length % consumers
  }

  assignRanges(consumers: readonly GroupMember[], mayAssign: (c: GroupMember, partition: number) => boolean): void {
    for (const c of consumers) {
      if (this.#unassigned.length === 0) return
      const had = this.assigned.get(c.id)?.length ?? 0
      const max = Math.max(0, this.#perMember + (this.#withExtra > 0 ? 1 : 0) - had)
      const take = this.#unassigned.filter((p) => mayAssign(c, p)).slice(0, max)
      if (take.length === 0) continue
      this.assigned.set(c.id, [...(this.assigned.get(c.id) ?? []), ...take])
      if (had + take.length > this.#perMember) this.#withExtra--
      const taken = new Set(take)
      this.#unassigned = this.#unassigned.filter((p) => !taken.has(p))
    }
  }
}
