// A test balancer for the hand-over suites: which member ends up with a partition is known.

import type { GroupBalancer, GroupMember } from '../../src/consumer/assignors/index.js'

/**
 * Everything to the member tagged 'B' when there is one, else to 'A', else to the first member
 * ('C' members get partitions only when no 'A' or 'B' member is in the group). Member order is
 * not a tag: Kafka's member ids are random, so "the first one" is not a test's to choose.
 */
export function toB(tag: 'A' | 'B' | 'C', protocol: 'eager' | 'cooperative'): GroupBalancer {
  const tagOf = (m: GroupMember): string => m.userData?.toString() ?? ''
  return {
    name: `to-b-${protocol}`,
    protocol,
    userData: () => Buffer.from(tag),
    assign(members, partitionsPerTopic) {
      const winner = members.find((m) => tagOf(m) === 'B') ?? members.find((m) => tagOf(m) === 'A') ?? members[0]!
      const out = new Map<string, Map<string, number[]>>(members.map((m) => [m.id, new Map()]))
      for (const [topic, ids] of partitionsPerTopic) {
        for (const p of ids) {
          // Cooperative: a partition another member owns is first taken from it (given to
          // nobody); the rebalance that follows its revocation hands it over.
          const owner = members.find((m) =>
            m.ownedPartitions?.some((o) => o.topic === topic && o.partitions.includes(p)),
          )
          if (protocol === 'cooperative' && owner !== undefined && owner.id !== winner.id) continue
          const mine = out.get(winner.id)!
          mine.set(topic, [...(mine.get(topic) ?? []), p])
        }
      }
      return out
    },
  }
}
