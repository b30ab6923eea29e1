// What the KIP-848 consumer group and KIP-932 share group handlers both write: assignments
// (topic id -> partitions) on the wire, with topic names in Describe answers, and the member's
// client host as Kafka shows it.

import type { Cluster } from '../cluster.js'
import type { RequestContext } from './types.js'

/** A member's partitions per topic id. */
export type MemberAssignment = Map<string, Set<number>>

/** Wire form: topics with partitions only, partitions in order. */
export function fromAssignment(a: MemberAssignment): { topicId: string; partitions: number[] }[] {
  return [...a]
    .filter(([, ps]) => ps.size > 0)
    .map(([topicId, ps]) => ({ topicId, partitions: [...ps].sort((x, y) => x - y) }))
}

/** Describe answers name each topic too ('' for a topic that is gone). */
export function describedAssignment(cluster: Cluster, a: MemberAssignment) {
  return {
    topicPartitions: fromAssignment(a).map((tp) => ({
      topicId: tp.topicId,
      topicName: cluster.topics.getById(tp.topicId)?.name ?? '',
      partitions: tp.partitions,
    })),
  }
}

/** What a coordinator's heartbeat decided, as both heartbeat APIs answer it. */
export function heartbeatAnswer(r: {
  errorCode: number
  errorMessage: string | null
  memberId: string | null
  memberEpoch: number
  heartbeatIntervalMs: number
  assignment: MemberAssignment | null
}) {
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    memberId: r.memberId,
    memberEpoch: r.memberEpoch,
    heartbeatIntervalMs: r.heartbeatIntervalMs,
    assignment: r.assignment === null ? null : { topicPartitions: fromAssignment(r.assignment) },
  }
}

/** Kafka's clientHost: "/" and the address, IPv4 without its IPv6 mapping. */
export function clientHost(ctx: RequestContext): string {
  return `/${ctx.connection.remoteAddress.replace(/^::ffff:/, '')}`
}
