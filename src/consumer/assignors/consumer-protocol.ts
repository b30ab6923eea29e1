// The consumer protocol's bytes: each member's subscription (JoinGroup member metadata) and
// assignment (SyncGroup), as the balancers and the admin client read and write them.

import { ProtocolDecodeError, ProtocolEncodeError } from '../../errors.js'
import { ConsumerProtocolAssignment } from '../../protocol/messages/consumer-protocol-assignment.js'
import { ConsumerProtocolSubscription } from '../../protocol/messages/consumer-protocol-subscription.js'
import { Reader } from '../../protocol/reader.js'
import { Writer } from '../../protocol/writer.js'
import { DEFAULT_GENERATION, type GroupMember, type TopicPartitions } from './balancer.js'
import { compareStrings } from './prepare.js'

/** The consumer protocol type in JoinGroup (`protocol_type`). */
export const CONSUMER_PROTOCOL_TYPE = 'consumer'
/** The newest ConsumerProtocolSubscription / ConsumerProtocolAssignment version (3). */
export const CONSUMER_PROTOCOL_VERSION = ConsumerProtocolSubscription.maxVersion

export interface Subscription {
  topics: string[]
  userData: Buffer | null
  /** v1+. */
  ownedPartitions: TopicPartitions[]
  /** v2+; -1 when unknown. */
  generationId: number
  /** v3+; null when unknown (an empty rack id decodes as null, as in Java). */
  rackId: string | null
}

export interface DecodedSubscription extends Subscription {
  /** The version in the header (may be newer than this client knows; it was read as v3). */
  version: number
}

export interface Assignment {
  /** topic → partitions */
  partitions: Map<string, number[]>
  userData: Buffer | null
}

export interface DecodedAssignment extends Assignment {
  version: number
}

function encodeVersion(version: number, what: string): number {
  if (!Number.isInteger(version) || version < 0 || version > 0x7fff) {
    throw new ProtocolEncodeError(`${what}: unsupported consumer protocol version ${version}`)
  }
  // As Java: versions newer than this client knows are written as the newest it knows.
  return Math.min(version, CONSUMER_PROTOCOL_VERSION)
}

/**
 * Member metadata for JoinGroup: an int16 version, then ConsumerProtocolSubscription at that
 * version. As Java, topics are sorted and owned partitions are sorted and grouped by topic, so
 * equal subscriptions give equal bytes; fields the version lacks are left out.
 */
export function encodeSubscription(
  subscription: Partial<Subscription> & { topics: readonly string[] },
  version: number = CONSUMER_PROTOCOL_VERSION,
): Buffer {
  const v = encodeVersion(version, 'subscription')
  const owned: [string, number][] = []
  for (const entry of subscription.ownedPartitions ?? []) for (const p of entry.partitions) owned.push([entry.topic, p])
  owned.sort((a, b) => compareStrings(a[0], b[0]) || a[1] - b[1])
  const grouped: TopicPartitions[] = []
  for (const [topic, partition] of owned) {
    const last = grouped[grouped.length - 1]
    if (last !== undefined && last.topic === topic) last.partitions.push(partition)
    else grouped.push({ topic, partitions: [partition] })
  }
  const w = new Writer(64)
  w.int16(v)
  ConsumerProtocolSubscription.encode(w, v, {
    topics: [...subscription.topics].sort(compareStrings),
    userData: subscription.userData ?? null,
    ownedPartitions: grouped,
    generationId: subscription.generationId ?? DEFAULT_GENERATION,
    rackId: subscription.rackId ?? null,
  })
  return w.toBuffer()
}

function readVersion(r: Reader, what: string): number {
  const version = r.int16()
  r.check()
  if (version < 0) throw new ProtocolDecodeError(`${what}: unsupported consumer protocol version ${version}`)
  return version
}

/**
 * Reads JoinGroup member metadata. Like Java, a version newer than 3 is read with the v3 layout
 * (newer versions only append fields) and bytes after the known fields are ignored.
 */
export function decodeSubscription(bytes: Uint8Array): DecodedSubscription {
  const r = new Reader(bytes)
  const version = readVersion(r, 'subscription')
  const data = ConsumerProtocolSubscription.decode(r, Math.min(version, CONSUMER_PROTOCOL_VERSION))
  r.check()
  return {
    version,
    topics: data.topics,
    userData: data.userData === null ? null : Buffer.from(data.userData),
    ownedPartitions: data.ownedPartitions.map((tp) => ({ topic: tp.topic, partitions: tp.partitions })),
    generationId: data.generationId,
    rackId: data.rackId === null || data.rackId === '' ? null : data.rackId,
  }
}

/** The GroupMember a leader hands its balancer for one JoinGroup response member. */
export function groupMember(
  id: string,
  groupInstanceId: string | null | undefined,
  subscription: Subscription,
): GroupMember {
  const member: GroupMember = {
    id,
    groupInstanceId: groupInstanceId ?? null,
    topics: subscription.topics,
    userData: subscription.userData,
    ownedPartitions: subscription.ownedPartitions,
    rackId: subscription.rackId,
  }
  if (subscription.generationId >= 0) member.generation = subscription.generationId
  return member
}

/** One member's SyncGroup assignment: an int16 version, then ConsumerProtocolAssignment. */
export function encodeAssignment(
  partitions: ReadonlyMap<string, readonly number[]> | readonly TopicPartitions[],
  userData: Buffer | null = null,
  version: number = CONSUMER_PROTOCOL_VERSION,
): Buffer {
  const v = encodeVersion(version, 'assignment')
  const entries: TopicPartitions[] = []
  if (partitions instanceof Map) {
    for (const [topic, list] of partitions as ReadonlyMap<string, readonly number[]>)
      entries.push({ topic, partitions: [...list] })
  } else {
    for (const entry of partitions as readonly TopicPartitions[])
      entries.push({ topic: entry.topic, partitions: [...entry.partitions] })
  }
  const w = new Writer(64)
  w.int16(v)
  ConsumerProtocolAssignment.encode(w, v, { assignedPartitions: entries, userData })
  return w.toBuffer()
}

/**
 * Reads a SyncGroup assignment; newer versions and trailing bytes are tolerated as in Java. An
 * empty buffer (what the coordinator sends a member the leader gave nothing, e.g. a leader that
 * failed) is an empty assignment rather than an error.
 */
export function decodeAssignment(bytes: Uint8Array): DecodedAssignment {
  if (bytes.length === 0) return { version: 0, partitions: new Map(), userData: null }
  const r = new Reader(bytes)
  const version = readVersion(r, 'assignment')
  const data = ConsumerProtocolAssignment.decode(r, Math.min(version, CONSUMER_PROTOCOL_VERSION))
  r.check()
  const partitions = new Map<string, number[]>()
  for (const entry of data.assignedPartitions) {
    const list = partitions.get(entry.topic)
    if (list === undefined) partitions.set(entry.topic, [...entry.partitions])
    else list.push(...entry.partitions)
  }
  return { version, partitions, userData: data.userData === null ? null : Buffer.from(data.userData) }
}

/** A GroupAssignment entry as a list (topics in map order). */
export function toTopicPartitions(assignment: ReadonlyMap<string, readonly number[]>): TopicPartitions[] {
  return [...assignment].map(([topic, partitions]) => ({ topic, partitions: [...partitions] }))
}
