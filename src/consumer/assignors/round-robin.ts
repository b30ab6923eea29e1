import type { GroupAssignment, GroupBalancer, GroupMember } from './balancer.js'
import { addPartition, compareMemberInfo, emptyAssignment, prepare } from './prepare.js'

/**
 * Kafka's 'roundrobin' assignor (Java RoundRobinAssignor): every subscribed topic-partition,
 * sorted by topic then partition, is dealt in turn to the members (sorted as for range), skipping
 * members not subscribed to the partition's topic. With identical subscriptions the partition
 * counts differ by at most one.
 *
 * Example, topics t0 and t1 with 3 partitions each, 2 members: C0 [t0-0, t0-2, t1-1], C1 [t0-1, t1-0, t1-2].
 */
export class RoundRobinGroupBalancer implements GroupBalancer {
  readonly name = 'roundrobin'
  readonly protocol = 'eager'

  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, readonly number[]>): GroupAssignment {
    const { members: prepared, partitions } = prepare(members, partitionsPerTopic)
    const out = emptyAssignment(members)
    const ring = [...prepared].sort((a, b) => compareMemberInfo(a.member, b.member))
    let next = 0
    // `partitions` iterates topics in sorted order (see prepare).
    for (const [topic, ids] of partitions) {
      for (const partition of ids) {
        // Some member subscribes to every topic in `partitions`, so this ends.
        while (!ring[next % ring.length]!.topics.has(topic)) next++
        addPartition(out, ring[next % ring.length]!.member.id, topic, partition)
        next++
      }
    }
    return out
  }
}
