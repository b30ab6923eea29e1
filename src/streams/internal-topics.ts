// What a topology needs from the cluster before it runs: the partition count of every topic it
// reads, derived counts for its internal topics (a repartition topic gets the most partitions of
// the topics feeding the sub-topology that writes it; a changelog, those of its store's
// sub-topology, as Kafka Streams does), the co-partitioning check, and CreateTopics for the
// internal topics with Kafka Streams' configs (internalTopicConfigs).

import type { KafkaClient } from '../cluster/client.js'
import { retry } from '../cluster/retry.js'
import { KafkaError } from '../errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { CreateTopics } from '../protocol/messages/index.js'
import { TopologyError } from './errors.js'
import type { InternalTopicSpec, Topology } from './topology.js'

export interface TopicPlan {
  /** Partition count of every topic the application reads or keeps state in, by full name. */
  partitions: Map<string, number>
  /** Internal topics to create, by full name. */
  internal: { name: string; partitions: number; configs: { name: string; value: string }[] }[]
}

/** Kafka Streams' windowstore.changelog.additional.retention.ms default: one day. */
export const WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS = 86_400_000

/**
 * The configs Kafka Streams creates an internal topic with (InternalTopicConfig and its
 * subclasses): CreateTime timestamps everywhere (the record's event time is what the
 * application reads back); a key-value store's changelog compacted; a window or session
 * store's changelog compacted and deleted after its retention plus a day, so expired windows
 * leave the topic; a repartition topic with cleanup.policy delete but no retention
 * (retention.ms -1) and 50 MB segments, as Kafka Streams purges it itself.
 */
export function internalTopicConfigs(spec: InternalTopicSpec): { name: string; value: string }[] {
  const policy =
    spec.kind === 'repartition' ? 'delete' : spec.windowRetention === undefined ? 'compact' : 'compact,delete'
  const configs = [
    { name: 'cleanup.policy', value: policy },
    { name: 'message.timestamp.type', value: 'CreateTime' },
  ]
  if (spec.kind === 'repartition') {
    // Kept until this application purges them (repartition-purge.ts), not by time: retention
    // could delete records not read yet. Segments of 50 MB, so DeleteRecords frees disk soon.
    configs.push({ name: 'segment.bytes', value: '52428800' }, { name: 'retention.ms', value: '-1' })
  }
  if (spec.kind === 'changelog' && spec.windowRetention !== undefined) {
    // Java caps the sum at Long.MAX_VALUE; a JavaScript number cannot get there with safe values.
    configs.push({
      name: 'retention.ms',
      value: String(spec.windowRetention + WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS),
    })
  }
  return configs
}

/** Full name of a topology topic: internal ones get the application id as prefix. */
export function fullName(applicationId: string, name: string, internal: boolean): string {
  return internal ? `${applicationId}-${name}` : name
}

/**
 * The partition counts: user topics from the metadata (each must exist), internal topics
 * derived until nothing changes (a repartition topic can feed another sub-topology's).
 */
export function planTopics(
  topology: Topology,
  applicationId: string,
  userPartitions: (topic: string) => number | undefined,
): TopicPlan {
  const partitions = new Map<string, number>()
  const missing: string[] = []
  for (const { topic, internal } of topology.sourceTopics()) {
    if (internal) continue
    const n = userPartitions(topic)
    if (n === undefined) missing.push(topic)
    else partitions.set(topic, n)
  }
  if (missing.length > 0) {
    throw new TopologyError(`source topic(s) ${missing.join(', ')} do not exist; create them before start()`)
  }
  const internalName = (name: string): string => fullName(applicationId, name, true)
  for (const spec of topology.internalTopics.values()) {
    if (spec.partitions !== undefined) partitions.set(internalName(spec.name), spec.partitions)
  }
  // Which sub-topology writes each repartition topic.
  const writers = new Map<string, number>()
  for (const sub of topology.subtopologies) {
    for (const node of sub.nodes) if (node.kind === 'sink' && node.internal) writers.set(node.topic, sub.id)
  }
  const subPartitions = (id: number): number | undefined => {
    let max: number | undefined
    for (const s of topology.subtopologies[id]!.sources) {
      for (const t of s.topics) {
        const n = partitions.get(fullName(applicationId, t, s.internal))
        if (n === undefined) return undefined
        max = Math.max(max ?? 0, n)
      }
    }
    return max
  }
  for (let changed = true; changed;) {
    changed = false
    for (const spec of topology.internalTopics.values()) {
      const name = internalName(spec.name)
      if (partitions.has(name) || spec.kind !== 'repartition') continue
      const n = subPartitions(writers.get(spec.name)!)
      if (n !== undefined) {
        partitions.set(name, n)
        changed = true
      }
    }
  }
  for (const sub of topology.subtopologies) {
    const n = subPartitions(sub.id)
    if (n === undefined) throw new TopologyError(`sub-topology ${sub.id}: cannot derive its partition count (a cycle?)`)
    for (const changelog of sub.changelogs) partitions.set(internalName(changelog), n)
    checkCopartitioned(
      sub.id,
      sub.stores.length > 0,
      sub.sources.flatMap((s) => s.topics.map((t) => fullName(applicationId, t, s.internal))),
      partitions,
    )
  }
  const internal = [...topology.internalTopics.values()].map((spec) => ({
    name: internalName(spec.name),
    partitions: partitions.get(internalName(spec.name))!,
    configs: internalTopicConfigs(spec),
  }))
  return { partitions, internal }
}

/**
 * A sub-topology with state reads partition p of each of its topics in one task, so they must
 * have the same number of partitions (Kafka Streams checks this for joins; a stateful
 * sub-topology of topics that differ would split a key's state, so it is refused as well).
 */
function checkCopartitioned(id: number, stateful: boolean, topics: string[], partitions: Map<string, number>): void {
  if (!stateful || topics.length < 2) return
  const counts = topics.map((t) => `${t} (${partitions.get(t)})`)
  if (new Set(topics.map((t) => partitions.get(t))).size > 1) {
    throw new TopologyError(
      `sub-topology ${id} is not co-partitioned: its topics must have the same number of partitions: ${counts.join(', ')}`,
    )
  }
}

/** Reads the partition counts of user topics from the cluster (undefined: the topic does not exist). */
export async function userTopicPartitions(
  client: KafkaClient,
  topics: string[],
  signal: AbortSignal,
): Promise<Map<string, number>> {
  await client.metadata.refresh(topics, signal)
  const out = new Map<string, number>()
  for (const t of topics) {
    const info = client.metadata.topic(t)
    if (info !== undefined && info.errorCode === 0 && info.partitions.length > 0) out.set(t, info.partitions.length)
  }
  return out
}

/** Creates the internal topics; an existing one must have the expected partition count. */
export async function createInternalTopics(
  client: KafkaClient,
  plan: TopicPlan,
  replicationFactor: number,
  signal: AbortSignal,
): Promise<void> {
  if (plan.internal.length === 0) return
  await client.metadata.refresh([], signal)
  const response = await retry(
    client.retryPolicy,
    () =>
      client.requestTo(
        client.anyBroker(),
        CreateTopics,
        {
          topics: plan.internal.map((t) => ({
            name: t.name,
            numPartitions: t.partitions,
            replicationFactor,
            configs: t.configs,
          })),
          timeoutMs: 30_000,
        },
        { signal },
      ),
    { what: 'CreateTopics (internal topics)', signal },
  )
  for (const r of response.topics) {
    if (r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) continue
    if (r.errorCode !== 0) throw KafkaError.fromCode(r.errorCode, { topic: r.name, errorMessage: r.errorMessage })
  }
  // Wait until every internal topic has leaders, and check the ones that existed already.
  const names = plan.internal.map((t) => t.name)
  await retry(
    { ...client.retryPolicy, maxAttempts: 100, backoffMs: 50, backoffMaxMs: 500 },
    async () => {
      await client.metadata.refresh(names, signal)
      for (const t of plan.internal) {
        const info = client.metadata.topic(t.name)
        if (
          info === undefined ||
          info.errorCode !== 0 ||
          info.partitions.some((p) => p.leader < 0) ||
          info.partitions.length === 0
        ) {
          throw KafkaError.fromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: t.name })
        }
        if (info.partitions.length !== t.partitions) {
          throw new TopologyError(
            `internal topic ${t.name} has ${info.partitions.length} partitions, the topology needs ${t.partitions}; delete it (application reset) or keep the input topics' partition counts`,
          )
        }
      }
    },
    { what: 'internal topic leaders', signal },
  )
}
