// Helpers every balancer shares: validating and normalising the leader's input, Java's member
// order, and building the assignment map.

import { KafkaTsError } from '../../errors.js'
import type { GroupAssignment, GroupMember } from './balancer.js'

/** Java's String.compareTo: UTF-16 code unit order, which is also JavaScript's `<` on strings. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

interface Prepared {
  /** Members in the order given, with their topics deduplicated. */
  members: { member: GroupMember; topics: Set<string> }[]
  /** Subscribed topics that have partitions → sorted, unique partition ids. */
  partitions: Map<string, number[]>
}

export function prepare(
  members: readonly GroupMember[],
  partitionsPerTopic: ReadonlyMap<string, readonly number[]>,
): Prepared {
  const seen = new Set<string>()
  const prepared: Prepared['members'] = []
  const subscribed = new Set<string>()
  for (const member of members) {
    if (seen.has(member.id)) {
      throw new KafkaTsError(
        'KAFKATS_INVALID_ARGUMENT',
        `group balancer: member id ${JSON.stringify(member.id)} appears twice`,
      )
    }
    seen.add(member.id)
    const topics = new Set(member.topics)
    for (const topic of topics) subscribed.add(topic)
    prepared.push({ member, topics })
  }
  const partitions = new Map<string, number[]>()
  for (const topic of [...subscribed].sort(compareStrings)) {
    const ids = partitionsPerTopic.get(topic)
    if (ids === undefined || ids.length === 0) continue
    partitions.set(
      topic,
      [...new Set(ids)].sort((a, b) => a - b),
    )
  }
  return { members: prepared, partitions }
}

/** An empty assignment with an entry for every member, in the order given. */
export function emptyAssignment(members: readonly GroupMember[]): GroupAssignment {
  const out: GroupAssignment = new Map()
  for (const member of members) out.set(member.id, new Map())
  return out
}

export function addPartition(assignment: GroupAssignment, memberId: string, topic: string, partition: number): void {
  const topics = assignment.get(memberId)!
  const list = topics.get(topic)
  if (list === undefined) topics.set(topic, [partition])
  else list.push(partition)
}

/**
 * Java's AbstractPartitionAssignor.MemberInfo order: static members (with a group instance id)
 * first, by instance id; then dynamic members by member id.
 */
export function compareMemberInfo(a: GroupMember, b: GroupMember): number {
  const ai = a.groupInstanceId ?? null
  const bi = b.groupInstanceId ?? null
  if (ai !== null && bi !== null) return compareStrings(ai, bi)
  if (ai !== null) return -1
  if (bi !== null) return 1
  return compareStrings(a.id, b.id)
}
