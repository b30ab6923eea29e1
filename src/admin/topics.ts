// Topics: create (partitions, replication, configs, manual assignments, validate-only), delete,
// list, describe (partitions, leaders, replicas, ISR) and create partitions. KRaft brokers
// forward these to the controller, so any broker will do; NOT_CONTROLLER and the like are
// retriable and retried per topic.

import { KafkaError, isRetriable } from '../errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { CreatePartitions, CreateTopics, DeleteTopics, Metadata } from '../protocol/messages/index.js'
import { batch, batchRetrying, retried, type AdminCallOptions, type AdminContext, type Outcome } from './context.js'

/** A topic that does not exist is an answer, not a reason to retry (as in Java's Admin). */
function notUnknownTopic(err: unknown): boolean {
  return isRetriable(err) && !(err instanceof KafkaError && err.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
}

export interface NewTopic {
  name: string
  /** Default: the broker's num.partitions. */
  partitions?: number
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  configs?: Readonly<Record<string, string>>
  /** Manual placement: partition → broker ids (then partitions/replicationFactor stay unset). */
  assignments?: Readonly<Record<number, readonly number[]>>
}

export interface CreateTopicsOptions extends AdminCallOptions {
  /** Check that the topics could be created, create nothing. */
  validateOnly?: boolean
  /** Resolve only once the metadata shows every partition of every new topic with a leader. */
  waitForLeaders?: boolean
}

export interface CreatedTopic {
  name: string
  /** Kafka's 22-character form; all zeros before CreateTopics v7. */
  topicId: string
  /** -1 when the broker does not say (CreateTopics before v5). */
  partitions: number
  replicationFactor: number
}

export interface PartitionDescription {
  partition: number
  /** Node id of the leader, -1 when there is none. */
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
}

export interface TopicDescription {
  name: string
  topicId: string
  isInternal: boolean
  partitions: PartitionDescription[]
}

export async function createTopics(
  ctx: AdminContext,
  topics: readonly NewTopic[],
  options: CreateTopicsOptions = {},
): Promise<CreatedTopic[]> {
  const byName = new Map(topics.map((t) => [t.name, t]))
  const timeoutMs = options.timeout ?? ctx.timeoutMs
  const results = await batch<CreatedTopic>(ctx, 'CreateTopics', [...byName.keys()], options.signal, async (names) => {
    const response = await ctx.client.requestTo(
      ctx.client.anyBroker(),
      CreateTopics,
      {
        topics: names.map((name) => toCreatable(byName.get(name)!)),
        timeoutMs,
        validateOnly: options.validateOnly ?? false,
      },
      { signal: options.signal, timeoutMs: timeoutMs + 5_000 },
    )
    const answers = new Map<string, Outcome<CreatedTopic>>()
    for (const t of response.topics) {
      answers.set(
        t.name,
        t.errorCode === ErrorCode.NONE
          ? {
              value: {
                name: t.name,
                topicId: t.topicId,
                partitions: t.numPartitions,
                replicationFactor: t.replicationFactor,
              },
            }
          : {
              error: KafkaError.fromCode(t.errorCode, {
                apiName: 'CreateTopics',
                topic: t.name,
                errorMessage: t.errorMessage,
              }),
            },
      )
    }
    return answers
  })
  if (options.waitForLeaders === true && options.validateOnly !== true) {
    await waitForLeaders(ctx, [...results.keys()], options.signal)
  }
  return topics.map((t) => results.get(t.name)!)
}

function toCreatable(topic: NewTopic): {
  name: string
  numPartitions: number
  replicationFactor: number
  assignments: { partitionIndex: number; brokerIds: number[] }[]
  configs: { name: string; value: string }[]
} {
  const assignments = Object.entries(topic.assignments ?? {}).map(([p, brokers]) => ({
    partitionIndex: Number(p),
    brokerIds: [...brokers],
  }))
  return {
    name: topic.name,
    numPartitions: topic.partitions ?? -1,
    replicationFactor: topic.replicationFactor ?? -1,
    assignments,
    configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
  }
}

/**
 * Waits until every broker's metadata shows every partition of `topics` with a leader (retried
 * per the policy). Kafka brokers learn a new topic one by one (DESIGN.md: metadata is per
 * broker), so asking one broker is not enough for a client that asks another next.
 */
export async function waitForLeaders(
  ctx: AdminContext,
  topics: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  if (topics.length === 0) return
  await retried(ctx, `leaders of ${topics.join(', ')}`, signal, async () => {
    await ctx.client.metadata.refresh([], signal)
    for (const broker of ctx.client.metadata.brokers.values()) {
      const r = await ctx.client.requestTo(
        broker,
        Metadata,
        { topics: topics.map((name) => ({ name })) },
        { signal, versions: { min: 4 } },
      )
      for (const name of topics) {
        const t = r.topics.find((x) => x.name === name)
        if (t === undefined || t.errorCode !== 0 || t.partitions.length === 0) {
          throw KafkaError.fromCode(t?.errorCode || ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, {
            topic: name,
            apiName: 'Metadata',
            broker: broker.nodeId,
          })
        }
        const leaderless = t.partitions.find((p) => p.leaderId < 0)
        if (leaderless !== undefined) {
          throw KafkaError.fromCode(ErrorCode.LEADER_NOT_AVAILABLE, {
            topic: name,
            partition: leaderless.partitionIndex,
            apiName: 'Metadata',
            broker: broker.nodeId,
          })
        }
      }
    }
  })
}

export async function deleteTopics(
  ctx: AdminContext,
  topics: readonly string[],
  options: AdminCallOptions = {},
): Promise<void> {
  const timeoutMs = options.timeout ?? ctx.timeoutMs
  await batchRetrying<true>(ctx, 'DeleteTopics', topics, options.signal, notUnknownTopic, async (names) => {
    const response = await ctx.client.requestTo(
      ctx.client.anyBroker(),
      DeleteTopics,
      (version) =>
        version >= 6 ? { topics: names.map((name) => ({ name })), timeoutMs } : { topicNames: names, timeoutMs },
      { signal: options.signal, timeoutMs: timeoutMs + 5_000 },
    )
    const answers = new Map<string, Outcome<true>>()
    for (const t of response.responses) {
      if (t.name === null) continue
      answers.set(
        t.name,
        t.errorCode === ErrorCode.NONE
          ? { value: true }
          : {
              error: KafkaError.fromCode(t.errorCode, {
                apiName: 'DeleteTopics',
                topic: t.name,
                errorMessage: t.errorMessage,
              }),
            },
      )
    }
    return answers
  })
  ctx.client.metadata.markStale()
}

export interface ListTopicsOptions extends AdminCallOptions {
  /** Include internal topics (__consumer_offsets, __transaction_state). Default false. */
  internal?: boolean
}

/** The names of the cluster's topics, sorted. */
export async function listTopics(ctx: AdminContext, options: ListTopicsOptions = {}): Promise<string[]> {
  const response = await retried(ctx, 'Metadata (all topics)', options.signal, () =>
    ctx.client.requestTo(
      ctx.client.anyBroker(),
      Metadata,
      (version) => ({ topics: null, ...(version >= 4 ? { allowAutoTopicCreation: false } : {}) }),
      { signal: options.signal, timeoutMs: options.timeout, versions: { min: 1 } },
    ),
  )
  return response.topics
    .filter((t) => t.name !== null && t.errorCode === ErrorCode.NONE && (options.internal === true || !t.isInternal))
    .map((t) => t.name!)
    .sort()
}

/** Partitions, leaders, replicas and ISR of each topic, in the order asked. */
export async function describeTopics(
  ctx: AdminContext,
  topics: readonly string[],
  options: AdminCallOptions = {},
): Promise<TopicDescription[]> {
  const results = await batchRetrying<TopicDescription>(
    ctx,
    'Metadata',
    topics,
    options.signal,
    notUnknownTopic,
    async (names) => {
      const response = await ctx.client.requestTo(
        ctx.client.anyBroker(),
        Metadata,
        (version) => ({
          topics: names.map((name) => ({ name })),
          ...(version >= 4 ? { allowAutoTopicCreation: false } : {}),
        }),
        { signal: options.signal, timeoutMs: options.timeout, versions: { min: 1 } },
      )
      const answers = new Map<string, Outcome<TopicDescription>>()
      for (const t of response.topics) {
        if (t.name === null) continue
        answers.set(
          t.name,
          t.errorCode !== ErrorCode.NONE
            ? { error: KafkaError.fromCode(t.errorCode, { apiName: 'Metadata', topic: t.name }) }
            : {
                value: {
                  name: t.name,
                  topicId: t.topicId,
                  isInternal: t.isInternal,
                  partitions: t.partitions
                    .map((p) => ({
                      partition: p.partitionIndex,
                      leader: p.leaderId,
                      leaderEpoch: p.leaderEpoch,
                      replicas: p.replicaNodes,
                      isr: p.isrNodes,
                      offlineReplicas: p.offlineReplicas,
                    }))
                    .sort((a, b) => a.partition - b.partition),
                },
              },
        )
      }
      return answers
    },
  )
  return topics.map((t) => results.get(t)!)
}

export interface CreatePartitionsOptions extends AdminCallOptions {
  validateOnly?: boolean
}

/** Raises each topic's partition count to `count` (Kafka never lowers it). */
export async function createPartitions(
  ctx: AdminContext,
  topics: readonly { topic: string; count: number; assignments?: readonly (readonly number[])[] }[],
  options: CreatePartitionsOptions = {},
): Promise<void> {
  const byName = new Map(topics.map((t) => [t.topic, t]))
  const timeoutMs = options.timeout ?? ctx.timeoutMs
  await batchRetrying<true>(
    ctx,
    'CreatePartitions',
    [...byName.keys()],
    options.signal,
    notUnknownTopic,
    async (names) => {
      const response = await ctx.client.requestTo(
        ctx.client.anyBroker(),
        CreatePartitions,
        {
          topics: names.map((name) => {
            const t = byName.get(name)!
            return {
              name,
              count: t.count,
              assignments: t.assignments === undefined ? null : t.assignments.map((b) => ({ brokerIds: [...b] })),
            }
          }),
          timeoutMs,
          validateOnly: options.validateOnly ?? false,
        },
        { signal: options.signal, timeoutMs: timeoutMs + 5_000 },
      )
      const answers = new Map<string, Outcome<true>>()
      for (const r of response.results) {
        answers.set(
          r.name,
          r.errorCode === ErrorCode.NONE
            ? { value: true }
            : {
                error: KafkaError.fromCode(r.errorCode, {
                  apiName: 'CreatePartitions',
                  topic: r.name,
                  errorMessage: r.errorMessage,
                }),
              },
        )
      }
      return answers
    },
  )
  ctx.client.metadata.markStale()
}
