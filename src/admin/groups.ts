// Consumer groups: list (every broker's, with state and type), describe (ConsumerGroupDescribe for
// KIP-848 groups, DescribeGroups for classic ones, with members and their assignments), delete,
// and delete a group's offsets. Group
// requests go to the group's coordinator (consumer/coordinator.ts), found once per group and
// looked up again when an answer says it moved.

import { Coordinator } from '../consumer/coordinator.js'
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription } from '../consumer/assignors/index.js'
import { KafkaError } from '../errors.js'
import { UnsupportedVersionError } from '../net/errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import {
  ConsumerGroupDescribe,
  DeleteGroups,
  DescribeGroups,
  ListGroups,
  Metadata,
  OffsetDelete,
} from '../protocol/messages/index.js'
import type { ConsumerGroupDescribeResponseDescribedGroup } from '../protocol/messages/consumer-group-describe.js'
import { batch, retried, tpKey, type AdminCallOptions, type AdminContext, type Outcome } from './context.js'

export interface GroupListing {
  groupId: string
  /** 'consumer' for consumer groups; '' for groups that only commit offsets. */
  protocolType: string
  /** Stable, Empty, PreparingRebalance, ...; '' from brokers older than ListGroups v4. */
  state: string
  /** 'classic', 'consumer', 'share'; '' from brokers older than ListGroups v5. */
  type: string
}

export interface TopicPartitionsList {
  topic: string
  partitions: number[]
}

export interface MemberDescription {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  /** The partitions assigned to the member (consumer protocol groups; else empty). */
  assignment: TopicPartitionsList[]
  /** The topics the member subscribed to (consumer protocol groups; else empty). */
  topics: string[]
  /** The member's epoch (KIP-848 consumer groups); null in classic groups. */
  memberEpoch: number | null
}

export interface GroupDescription {
  groupId: string
  /**
   * Classic groups: Stable, Empty, PreparingRebalance, CompletingRebalance, Dead. Consumer
   * groups (KIP-848): Stable, Empty, Assigning, Reconciling.
   */
  state: string
  /** 'consumer' for consumer groups of either kind; '' for groups that only commit offsets. */
  protocolType: string
  /** The assignor chosen (range, cooperative-sticky, uniform, ...); '' when none. */
  protocol: string
  /** 'consumer': a KIP-848 group (ConsumerGroupDescribe); 'classic': described by DescribeGroups. */
  type: 'consumer' | 'classic'
  /** Consumer groups: the group's epoch and the epoch of its target assignment; null for classic groups. */
  groupEpoch: number | null
  assignmentEpoch: number | null
  members: MemberDescription[]
}

const coordinators = new WeakMap<AdminContext, Map<string, Coordinator>>()

/** The group's coordinator, kept per Admin so repeated calls skip FindCoordinator. */
export function coordinatorFor(ctx: AdminContext, groupId: string): Coordinator {
  let map = coordinators.get(ctx)
  if (map === undefined) coordinators.set(ctx, (map = new Map()))
  let c = map.get(groupId)
  if (c === undefined) map.set(groupId, (c = new Coordinator(ctx.client, groupId, ctx.policy)))
  return c
}

/** A group-level error code as an error; forgets the coordinator when the code says it moved. */
export function groupError(
  ctx: AdminContext,
  groupId: string,
  code: number,
  apiName: string,
  errorMessage?: string | null,
): KafkaError {
  coordinatorFor(ctx, groupId).checkCoordinatorError(code)
  return KafkaError.fromCode(code, { apiName, groupId, errorMessage: errorMessage ?? null })
}

export interface ListGroupsOptions extends AdminCallOptions {
  /** Only groups in these states (case-insensitive; ListGroups v4+). */
  states?: readonly string[]
  /** Only groups of these types ('classic', 'consumer'; ListGroups v5+). */
  types?: readonly string[]
}

/** Every group of every broker, sorted by id. */
export async function listGroups(ctx: AdminContext, options: ListGroupsOptions = {}): Promise<GroupListing[]> {
  const { signal } = options
  await retried(ctx, 'Metadata (brokers)', signal, () => ctx.client.metadata.refresh([], signal))
  const brokers = [...ctx.client.metadata.brokers.values()]
  const lists = await Promise.all(
    brokers.map((broker) =>
      retried(ctx, `ListGroups on broker ${broker.nodeId}`, signal, async () => {
        const r = await ctx.client.requestTo(
          broker,
          ListGroups,
          (version) => ({
            ...(version >= 4 ? { statesFilter: [...(options.states ?? [])] } : {}),
            ...(version >= 5 ? { typesFilter: [...(options.types ?? [])] } : {}),
          }),
          { signal, timeoutMs: options.timeout },
        )
        if (r.errorCode !== ErrorCode.NONE)
          throw KafkaError.fromCode(r.errorCode, { apiName: 'ListGroups', broker: broker.nodeId })
        return r.groups
      }),
    ),
  )
  const byId = new Map<string, GroupListing>()
  for (const list of lists) {
    for (const g of list) {
      byId.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType })
    }
  }
  const states = options.states?.map((s) => s.toLowerCase())
  return [...byId.values()]
    .filter((g) => states === undefined || g.state === '' || states.includes(g.state.toLowerCase()))
    .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
}

/**
 * State, assignor and members (with assignments) of each group, in the order asked. As Java's
 * Admin.describeConsumerGroups: ConsumerGroupDescribe first; a group it does not know as a
 * consumer group (GROUP_ID_NOT_FOUND: classic or missing), or a coordinator without it, is asked
 * with DescribeGroups.
 */
export async function describeGroups(
  ctx: AdminContext,
  groupIds: readonly string[],
  options: AdminCallOptions = {},
): Promise<GroupDescription[]> {
  const results = await batch<GroupDescription>(ctx, 'DescribeGroups', groupIds, options.signal, async (ids) => {
    const answers = new Map<string, Outcome<GroupDescription>>()
    await Promise.all(
      ids.map(async (groupId) => {
        const first = await describeConsumerGroup(ctx, groupId, options)
        let answer = typeof first === 'string' ? await describeClassicGroup(ctx, groupId, options) : first
        // Not found by either: it may have become a consumer group between the two requests
        // (its first member joined; Kafka then says "not a classic group"). Ask once more.
        if (first === 'not-found' && answer !== undefined && notFound(answer)) {
          const again = await describeConsumerGroup(ctx, groupId, options)
          if (typeof again !== 'string') answer = again ?? answer
        }
        if (answer !== undefined) answers.set(groupId, answer)
      }),
    )
    return answers
  })
  return groupIds.map((id) => results.get(id)!)
}

function notFound(answer: Outcome<GroupDescription>): boolean {
  return (
    'error' in answer && answer.error instanceof KafkaError && answer.error.errorCode === ErrorCode.GROUP_ID_NOT_FOUND
  )
}

type SendOptions = { signal: AbortSignal | undefined; timeoutMs?: number }

function sendOptions(options: AdminCallOptions): SendOptions {
  return { signal: options.signal, ...(options.timeout !== undefined ? { timeoutMs: options.timeout } : {}) }
}

/**
 * ConsumerGroupDescribe of one group; 'not-found' (not a consumer group) or 'unsupported' (the
 * coordinator has no consumer groups) when the group is to be asked with DescribeGroups.
 */
async function describeConsumerGroup(
  ctx: AdminContext,
  groupId: string,
  options: AdminCallOptions,
): Promise<Outcome<GroupDescription> | undefined | 'not-found' | 'unsupported'> {
  let r
  try {
    r = await coordinatorFor(ctx, groupId).send(
      ConsumerGroupDescribe,
      { groupIds: [groupId], includeAuthorizedOperations: false },
      sendOptions(options),
    )
  } catch (err) {
    // A coordinator older than Kafka 3.7 (or without KIP-848) has no ConsumerGroupDescribe.
    if (err instanceof UnsupportedVersionError) return 'unsupported'
    throw err
  }
  const g = r.groups.find((x) => x.groupId === groupId)
  if (g === undefined) return undefined
  // Kafka answers GROUP_ID_NOT_FOUND for a classic group ("is not a consumer group") and for a
  // missing one; DescribeGroups tells them apart, as in Java's DescribeConsumerGroupsHandler.
  if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) return 'not-found'
  // Kafka 3.9 advertises ConsumerGroupDescribe but, without the consumer protocol enabled (its
  // default), answers each group UNSUPPORTED_VERSION.
  if (g.errorCode === ErrorCode.UNSUPPORTED_VERSION) return 'unsupported'
  if (g.errorCode !== ErrorCode.NONE)
    return { error: groupError(ctx, groupId, g.errorCode, 'ConsumerGroupDescribe', g.errorMessage) }
  return { value: await consumerGroupDescription(ctx, g, options) }
}

async function consumerGroupDescription(
  ctx: AdminContext,
  g: ConsumerGroupDescribeResponseDescribedGroup,
  options: AdminCallOptions,
): Promise<GroupDescription> {
  const lists = g.members.map((m) => m.assignment.topicPartitions)
  // Kafka fills topicName; a topic deleted meanwhile (or a broker that left it out) has ''.
  const unnamed = lists.some((tps) => tps.some((tp) => tp.topicName === ''))
  const names = unnamed ? await topicNamesById(ctx, options) : new Map<string, string>()
  const assignment = (tps: ConsumerGroupDescribeResponseDescribedGroup['members'][number]['assignment']) =>
    tps.topicPartitions
      .map((tp) => ({ topic: tp.topicName || names.get(tp.topicId) || '', partitions: [...tp.partitions] }))
      // A topic whose name no one knows any more is gone: nothing of it to report.
      .filter((tp) => tp.topic !== '' && tp.partitions.length > 0)
      .map((tp) => ({ topic: tp.topic, partitions: tp.partitions.sort((a, b) => a - b) }))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
  return {
    groupId: g.groupId,
    state: g.groupState,
    protocolType: CONSUMER_PROTOCOL_TYPE,
    protocol: g.assignorName,
    type: 'consumer',
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.instanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: assignment(m.assignment),
      topics: [...m.subscribedTopicNames].sort(),
      memberEpoch: m.memberEpoch,
    })),
  }
}

/** Every topic's name by id (all-topics Metadata). */
async function topicNamesById(ctx: AdminContext, options: AdminCallOptions): Promise<Map<string, string>> {
  const r = await retried(ctx, 'Metadata (all topics)', options.signal, () =>
    ctx.client.requestTo(
      ctx.client.anyBroker(),
      Metadata,
      (version) => ({ topics: null, ...(version >= 4 ? { allowAutoTopicCreation: false } : {}) }),
      { signal: options.signal, timeoutMs: options.timeout, versions: { min: 1 } },
    ),
  )
  return new Map(r.topics.flatMap((t) => (t.name === null ? [] : [[t.topicId, t.name] as const])))
}

/** DescribeGroups of one group (a classic group, or one no coordinator knows). */
async function describeClassicGroup(
  ctx: AdminContext,
  groupId: string,
  options: AdminCallOptions,
): Promise<Outcome<GroupDescription> | undefined> {
  const r = await coordinatorFor(ctx, groupId).send(DescribeGroups, { groups: [groupId] }, sendOptions(options))
  const g = r.groups.find((x) => x.groupId === groupId)
  if (g === undefined) return undefined
  // Before DescribeGroups v6 (Kafka 3.x) a group that does not exist is described as Dead
  // with no error; v6 (KIP-1043) answers GROUP_ID_NOT_FOUND, and so do we, as Java does.
  const code = g.errorCode === ErrorCode.NONE && g.groupState === 'Dead' ? ErrorCode.GROUP_ID_NOT_FOUND : g.errorCode
  return code !== ErrorCode.NONE
    ? { error: groupError(ctx, groupId, code, 'DescribeGroups', g.errorMessage) }
    : { value: describeGroup(g) }
}

function describeGroup(g: {
  groupId: string
  groupState: string
  protocolType: string
  protocolData: string
  members: {
    memberId: string
    groupInstanceId: string | null
    clientId: string
    clientHost: string
    memberMetadata: Buffer
    memberAssignment: Buffer
  }[]
}): GroupDescription {
  const consumer = g.protocolType === CONSUMER_PROTOCOL_TYPE
  return {
    groupId: g.groupId,
    state: g.groupState,
    protocolType: g.protocolType,
    protocol: g.protocolData,
    type: 'classic',
    groupEpoch: null,
    assignmentEpoch: null,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: consumer ? decodeOr(() => assignmentList(m.memberAssignment), []) : [],
      topics: consumer ? decodeOr(() => decodeSubscription(m.memberMetadata).topics, []) : [],
      memberEpoch: null,
    })),
  }
}

function assignmentList(bytes: Buffer): TopicPartitionsList[] {
  if (bytes.length === 0) return []
  return [...decodeAssignment(bytes).partitions]
    .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
}

/** Member bytes another client wrote may not decode: describe the member without them. */
function decodeOr<T>(decode: () => T, fallback: T): T {
  try {
    return decode()
  } catch {
    return fallback
  }
}

/** Deletes each group (it must be empty: NON_EMPTY_GROUP otherwise) with its offsets. */
export async function deleteGroups(
  ctx: AdminContext,
  groupIds: readonly string[],
  options: AdminCallOptions = {},
): Promise<void> {
  await batch<true>(ctx, 'DeleteGroups', groupIds, options.signal, async (ids) => {
    const answers = new Map<string, Outcome<true>>()
    await Promise.all(
      ids.map(async (groupId) => {
        const r = await coordinatorFor(ctx, groupId).send(
          DeleteGroups,
          { groupsNames: [groupId] },
          { signal: options.signal, ...(options.timeout !== undefined ? { timeoutMs: options.timeout } : {}) },
        )
        const g = r.results.find((x) => x.groupId === groupId)
        if (g === undefined) return
        answers.set(
          groupId,
          g.errorCode === ErrorCode.NONE
            ? { value: true }
            : { error: groupError(ctx, groupId, g.errorCode, 'DeleteGroups') },
        )
      }),
    )
    return answers
  })
}

/**
 * Deletes a group's committed offsets of some partitions (OffsetDelete, KIP-496). Refused per
 * partition (GROUP_SUBSCRIBED_TO_TOPIC) while a member of the group subscribes to the topic.
 */
export async function deleteGroupOffsets(
  ctx: AdminContext,
  groupId: string,
  partitions: readonly { topic: string; partition: number }[],
  options: AdminCallOptions = {},
): Promise<void> {
  const byKey = new Map(partitions.map((p) => [tpKey(p.topic, p.partition), p]))
  await batch<true>(ctx, 'OffsetDelete', [...byKey.keys()], options.signal, async (keys) => {
    const byTopic = new Map<string, number[]>()
    for (const k of keys) {
      const p = byKey.get(k)!
      byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition])
    }
    const r = await coordinatorFor(ctx, groupId).send(
      OffsetDelete,
      {
        groupId,
        topics: [...byTopic].map(([name, ps]) => ({
          name,
          partitions: ps.map((partitionIndex) => ({ partitionIndex })),
        })),
      },
      { signal: options.signal, ...(options.timeout !== undefined ? { timeoutMs: options.timeout } : {}) },
    )
    // A group-level error is every partition's.
    if (r.errorCode !== ErrorCode.NONE) {
      const error = groupError(ctx, groupId, r.errorCode, 'OffsetDelete')
      return new Map(keys.map((k) => [k, { error }]))
    }
    const answers = new Map<string, Outcome<true>>()
    for (const t of r.topics) {
      for (const p of t.partitions) {
        answers.set(
          tpKey(t.name, p.partitionIndex),
          p.errorCode === ErrorCode.NONE
            ? { value: true }
            : {
                error: KafkaError.fromCode(p.errorCode, {
                  apiName: 'OffsetDelete',
                  groupId,
                  topic: t.name,
                  partition: p.partitionIndex,
                }),
              },
        )
      }
    }
    return answers
  })
}
