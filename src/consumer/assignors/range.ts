import type { GroupAssignment, GroupBalancer, GroupMember } from './balancer.js'
import { addPartition, compareMemberInfo, emptyAssignment, prepare } from './prepare.js'

/**
 * Kafka's 'range' assignor (Java RangeAssignor): topic by topic, the partitions are split into
 * consecutive ranges over the members subscribed to that topic, sorted as Java sorts them
 * (static members by group.instance.id first, then the others by member id); the first
 * `partitions % members` members get one partition more. Co-partitioned topics therefore land
 * on the same members.
 *
 * Example, 5 partitions and 2 members: C0 [0, 1, 2], C1 [3, 4].
 */
export class RangeGroupBalancer implements GroupBalancer {
  readonly name = 'range'
  readonly protocol = 'eager'

  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, readonly number[]>): GroupAssignment {
    const { members: prepared, partitions } = prepare(members, partitionsPerTopic)
    const out = emptyAssignment(members)
    for (const [topic, ids] of partitions) {
      const consumers = prepared
        .filter((m) => m.topics.has(topic))
        .map((m) => m.member)
        .sort(compareMemberInfo)
      if (consumers.length === 0) continue
      const perMember = Math.floor(ids.length / consumers.length)
      const withExtra = ids.length % consumers.length
      let at = 0
      for (let i = 0; i < consumers.length; i++) {
        const count = perMember + (i < withExtra ? 1 : 0)
        for (let k = 0; k < count; k++) addPartition(out, consumers[i]!.id, topic, ids[at + k]!)
        at += count
      }
    }
    return out
  }
}
