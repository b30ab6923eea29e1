import {
  DEFAULT_GENERATION,
  type BalancerUserDataContext,
  type GroupAssignment,
  type GroupBalancer,
  type GroupMember,
} from './balancer.js'
import { addPartition, compareStrings, emptyAssignment, prepare } from './prepare.js'
import {
  ownedTPs,
  PartitionTable,
  removeFrom,
  stickyAssign,
  type MemberData,
  type StickyMember,
  type TP,
} from './sticky.js'

/**
 * Kafka's 'cooperative-sticky' assignor (Java CooperativeStickyAssignor, KIP-429):
 *
 * - sticky: as balanced as possible (counts within one when subscriptions allow), while moving
 *   as few owned partitions as possible;
 * - cooperative: a partition moving from member A to member B is left out of B's assignment in
 *   this rebalance. A, seeing the partition missing from its assignment, revokes it and rejoins;
 *   the follow-up rebalance then gives it to B. No partition is ever owned by two members.
 * - generation-aware: owned partitions are trusted by generation (subscription v2+ field, else the
 *   generation this balancer puts in userData): of two members claiming a partition the newer
 *   generation keeps it, and a partition claimed by two members of one generation is revoked
 *   from both before it is given out again.
 *
 * Its userData is Java's: the member's generation as an int32, read by members whose
 * subscriptions predate the generation field (v1).
 */
export class CooperativeStickyGroupBalancer implements GroupBalancer {
  readonly name = 'cooperative-sticky'
  readonly protocol = 'cooperative'

  userData(context: BalancerUserDataContext): Buffer {
    const out = Buffer.alloc(4)
    out.writeInt32BE(context.generation, 0)
    return out
  }

  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, readonly number[]>): GroupAssignment {
    const prepared = prepare(members, partitionsPerTopic)
    const out = emptyAssignment(members)
    if (members.length === 0) return out
    const table = new PartitionTable(prepared.partitions)
    const sticky: StickyMember[] = prepared.members
      .map(({ member, topics }) => ({
        id: member.id,
        topics,
        subscriptionGeneration: subscriptionGeneration(member),
        data: cooperativeMemberData(member, table),
      }))
      .sort((a, b) => compareStrings(a.id, b.id))
    const { assignment, transferring } = stickyAssign(sticky, table)
    // Cooperative: a partition changing owner is first revoked; it is assigned in the next rebalance.
    const moving = transferring ?? partitionsTransferringOwnership(sticky, assignment)
    for (const [tp, consumer] of moving) removeFrom(assignment.get(consumer)!, tp)
    for (const [consumer, partitions] of assignment) {
      for (const tp of [...partitions].sort(compareTopicThenPartition))
        addPartition(out, consumer, tp.topic, tp.partition)
    }
    return out
  }
}

function compareTopicThenPartition(a: TP, b: TP): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition
}

/** The subscription's generationId field: -1 when absent (subscription v0/v1) or negative. */
function subscriptionGeneration(member: GroupMember): number {
  const generation = member.generation
  return generation === undefined || generation < 0 ? DEFAULT_GENERATION : generation
}

/**
 * Java CooperativeStickyAssignor.memberData: the generation comes from the subscription (v2+)
 * or else from the userData int32; undecodable userData counts as the default generation.
 */
function cooperativeMemberData(member: GroupMember, table: PartitionTable): MemberData {
  const partitions = ownedTPs(table, member.ownedPartitions)
  if (member.generation !== undefined && member.generation >= 0) return { partitions, generation: member.generation }
  const userData = member.userData ?? null
  if (userData === null) return { partitions, generation: undefined }
  return { partitions, generation: userData.length >= 4 ? userData.readInt32BE(0) : DEFAULT_GENERATION }
}

/** Partitions added to one member that another member (claims to) own: partition → new owner. */
function partitionsTransferringOwnership(members: StickyMember[], assignment: Map<string, TP[]>): Map<TP, string> {
  const added = new Map<TP, string>()
  const revoked = new Set<TP>()
  for (const member of members) {
    const owned = new Set(member.data.partitions)
    const assigned = assignment.get(member.id) ?? []
    const assignedSet = new Set(assigned)
    for (const tp of assigned) if (!owned.has(tp)) added.set(tp, member.id)
    for (const tp of owned) if (!assignedSet.has(tp)) revoked.add(tp)
  }
  for (const tp of added.keys()) if (!revoked.has(tp)) added.delete(tp)
  return added
}
