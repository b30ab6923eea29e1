// The target of the consumer integration suites: real Kafka when KAFKA_BOOTSTRAP is set (e.g.
// `eval "$(scripts/kafka.sh env)"`), otherwise a 3-broker reference cluster started in-process.
// Both targets can stop and restart a broker and move a partition leader (real Kafka: the
// shared control in test/helpers/real-kafka.ts, as for the Writer suite; reference: cluster.faults).
// Topics are created through the client core (CreateTopics), test data is written with the
// Writer, and committed offsets are read back with a raw OffsetFetch, so assertions about the
// group's offsets do not go through the Reader under test.

import { randomBytes } from 'node:crypto'
import { KafkaClient } from '../../src/cluster/client.js'
import { retry } from '../../src/cluster/retry.js'
import { KafkaError } from '../../src/errors.js'
import type { Message } from '../../src/message.js'
import {
  CreatePartitions,
  CreateTopics,
  FindCoordinator,
  OffsetCommit,
  OffsetFetch,
} from '../../src/protocol/messages/index.js'
import { Writer } from '../../src/producer/writer.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import type { Reader } from '../../src/consumer/reader.js'
import { brokerIdsOf, realKafkaFaults, waitForLeader } from '../helpers/real-kafka.js'

export { isr, leaders } from '../helpers/real-kafka.js'

export interface Target {
  bootstrap: string[]
  real: boolean
  /** Reference cluster only (undefined against real Kafka). */
  cluster: ReferenceCluster | undefined
  /** Node ids of the live brokers (reference: 0..2; scripts/kafka.sh: 1..3). */
  brokerIds: number[]
  /** Stops a broker (real Kafka: a controlled shutdown) and resolves once it is down. */
  stopBroker(id: number): Promise<void>
  /** Restarts a stopped broker and resolves once it serves again. */
  startBroker(id: number): Promise<void>
  /** Makes `toBroker` (a replica) the leader of the partition; resolves once metadata says so. */
  moveLeader(topic: string, partition: number, toBroker: number): Promise<void>
  stop(): Promise<void>
}

/** The parts of the reference cluster the suites use (typed here so the client never imports broker code). */
export interface ReferenceCluster {
  faults: {
    stopBroker(id: number, opts?: { sessionTimeoutMs?: number }): Promise<void>
    startBroker(id: number): Promise<void>
    moveLeader(topic: string, partition: number, toBroker: number): void
    dropConnections(brokerId: number): void
    delay(api: string, ms: number, opts?: { broker?: number; count?: number }): void
    failNext(api: string, count: number, errorCode: number, opts?: { broker?: number }): void
    clear(): void
  }
  coordinatorFor(key: string): { id: number } | undefined
}

export const targetName = process.env.KAFKA_BOOTSTRAP
  ? `Kafka at ${process.env.KAFKA_BOOTSTRAP}`
  : 'the reference cluster'

/**
 * Real Kafka when KAFKA_BOOTSTRAP is set, else a 3-broker reference cluster. Suites that need the
 * reference cluster's fault injection pass `{ reference: true }`: they are a separate suite that
 * always runs on it (npm run test:kafka does not select them), never a skipped one.
 */
export async function startTarget(options: { reference?: boolean } = {}): Promise<Target> {
  const bootstrap = options.reference === true ? undefined : process.env.KAFKA_BOOTSTRAP
  if (bootstrap !== undefined && bootstrap !== '') {
    const brokers = bootstrap.split(',')
    return {
      bootstrap: brokers,
      real: true,
      cluster: undefined,
      brokerIds: await brokerIdsOf(brokers),
      ...realKafkaFaults(brokers),
      stop: async () => {},
    }
  }
  // The reference broker is test infrastructure: only tests import it, never the client.
  const { Cluster } = await import('../../src/broker/index.js')
  // No initial rebalance delay (Kafka's default is 3 s; the real test cluster runs with 0 too),
  // and short sessions allowed for the reference-only expiry tests.
  const cluster = await Cluster.start({
    brokers: 3,
    groupInitialRebalanceDelayMs: 0,
    groupMinSessionTimeoutMs: 1000,
    // Short share-group acquisition locks allowed, as scripts/kafka.sh allows them on Kafka.
    shareMinRecordLockDurationMs: 1000,
  })
  const reference = cluster as unknown as ReferenceCluster
  return {
    bootstrap: cluster.bootstrapServers,
    real: false,
    cluster: reference,
    brokerIds: [0, 1, 2],
    stopBroker: (id) => reference.faults.stopBroker(id),
    startBroker: (id) => reference.faults.startBroker(id),
    moveLeader: async (topic, partition, to) => {
      reference.faults.moveLeader(topic, partition, to)
      await waitForLeader(cluster.bootstrapServers, topic, partition, to)
    },
    stop: () => cluster.stop(),
  }
}

export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** A broker that answers: the metadata lists the live ones. */
async function liveBroker(client: KafkaClient): Promise<{ nodeId: number; host: string; port: number }> {
  await client.metadata.refresh([])
  return client.anyBroker()
}

async function withClient<T>(bootstrap: string[], fn: (client: KafkaClient) => Promise<T>): Promise<T> {
  const client = new KafkaClient({ brokers: bootstrap, clientId: 'test-admin' })
  try {
    return await fn(client)
  } finally {
    await client.close()
  }
}

/** Creates a topic and waits until every partition has a leader. */
export async function createTopic(
  bootstrap: string[],
  name: string,
  partitions = 3,
  replicationFactor = 3,
): Promise<void> {
  await withClient(bootstrap, async (client) => {
    const response = await client.requestTo(await liveBroker(client), CreateTopics, {
      topics: [{ name, numPartitions: partitions, replicationFactor }],
      timeoutMs: 30_000,
    })
    const result = response.topics[0]!
    if (result.errorCode !== 0 && result.errorCode !== 36 /* TOPIC_ALREADY_EXISTS */) {
      throw KafkaError.fromCode(result.errorCode, { topic: name, errorMessage: result.errorMessage })
    }
    await waitForLeaders(client, name, partitions)
  })
}

/** Adds partitions to a topic (CreatePartitions) and waits for their leaders. */
export async function addPartitions(bootstrap: string[], name: string, count: number): Promise<void> {
  await withClient(bootstrap, async (client) => {
    const response = await client.requestTo(await liveBroker(client), CreatePartitions, {
      topics: [{ name, count, assignments: null }],
      timeoutMs: 30_000,
    })
    const result = response.results[0]!
    if (result.errorCode !== 0)
      throw KafkaError.fromCode(result.errorCode, { topic: name, errorMessage: result.errorMessage })
    await waitForLeaders(client, name, count)
  })
}

async function waitForLeaders(client: KafkaClient, name: string, partitions: number): Promise<void> {
  await retry(
    { maxAttempts: 100, backoffMs: 50, backoffMaxMs: 200 },
    async () => {
      await client.metadata.refresh([name])
      const info = client.metadata.topic(name)
      if (
        info === undefined ||
        info.errorCode !== 0 ||
        info.partitions.length < partitions ||
        info.partitions.some((p) => p.leader < 0)
      ) {
        throw KafkaError.fromCode(5, { topic: name })
      }
    },
    { what: `topic ${name} leaders` },
  )
}

/**
 * Writes `count` messages with values `${prefix}${i}` (i from `from`), keyless (spread over
 * partitions by the Writer's RoundRobin) unless `partition` pins them via a key-less balancer.
 */
export async function produce(
  bootstrap: string[],
  topic: string,
  count: number,
  options: {
    from?: number
    prefix?: string
    valueBytes?: number
    compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
    partition?: number
    batchSize?: number
  } = {},
): Promise<void> {
  const from = options.from ?? 0
  const prefix = options.prefix ?? ''
  const pad = options.valueBytes !== undefined ? '.'.repeat(options.valueBytes) : ''
  const pinned = options.partition
  const writer = new Writer({
    brokers: bootstrap,
    topic,
    batchSize: options.batchSize ?? 2000,
    batchBytes: 4 * 1024 * 1024,
    compression: options.compression ?? 'none',
    ...(pinned !== undefined ? { balancer: { balance: () => pinned } } : {}),
  })
  try {
    const chunk = 10_000
    for (let start = 0; start < count; start += chunk) {
      const messages: Message[] = []
      for (let i = start; i < Math.min(count, start + chunk); i++)
        messages.push({ value: `${prefix}${from + i}${pad}` })
      await writer.writeMessages(messages)
    }
  } finally {
    await writer.close()
  }
}

async function coordinatorOf(
  client: KafkaClient,
  groupId: string,
): Promise<{ nodeId: number; host: string; port: number }> {
  return retry(
    { maxAttempts: 30, backoffMs: 100, backoffMaxMs: 500 },
    async () => {
      const r = await client.requestTo(await liveBroker(client), FindCoordinator, (v) =>
        v >= 4 ? { keyType: 0, coordinatorKeys: [groupId] } : { key: groupId },
      )
      const c = r.coordinators[0] ?? { errorCode: r.errorCode, nodeId: r.nodeId, host: r.host, port: r.port }
      if (c.errorCode !== 0) throw KafkaError.fromCode(c.errorCode, { groupId })
      return { nodeId: c.nodeId, host: c.host, port: c.port }
    },
    { what: 'FindCoordinator' },
  )
}

/**
 * Runs `fn` against the group's coordinator, retrying (with a fresh FindCoordinator) while the
 * answer is retriable: a coordinator that is loading (COORDINATOR_LOAD_IN_PROGRESS, as on Kafka
 * just after a start or a move, and on the reference cluster by default) or has moved.
 */
async function withCoordinator<T>(
  bootstrap: string[],
  groupId: string,
  fn: (client: KafkaClient, node: { nodeId: number; host: string; port: number }) => Promise<T>,
): Promise<T> {
  return withClient(bootstrap, (client) =>
    retry(
      { maxAttempts: 30, backoffMs: 100, backoffMaxMs: 500 },
      async () => fn(client, await coordinatorOf(client, groupId)),
      {
        what: 'group request',
      },
    ),
  )
}

/** Throws an OffsetFetch answer's group or partition error (v8+ answers per group). */
function checkOffsetFetch(
  r: {
    errorCode: number
    topics: readonly { partitions: readonly { errorCode: number }[] }[]
    groups: readonly { errorCode: number; topics: readonly { partitions: readonly { errorCode: number }[] }[] }[]
  },
  groupId: string,
): void {
  const group = r.groups[0]
  const code = group !== undefined ? group.errorCode : r.errorCode
  if (code !== 0) throw KafkaError.fromCode(code, { groupId })
  for (const t of group?.topics ?? r.topics)
    for (const p of t.partitions) if (p.errorCode !== 0) throw KafkaError.fromCode(p.errorCode, { groupId })
}

/** The node id of the group's coordinator (FindCoordinator). */
export async function coordinatorId(bootstrap: string[], groupId: string): Promise<number> {
  return withClient(bootstrap, async (client) => (await coordinatorOf(client, groupId)).nodeId)
}

/** A raw OffsetFetch of one topic's partitions from the group's coordinator: its committed entries. */
async function fetchCommitted(
  bootstrap: string[],
  groupId: string,
  topic: string,
  partitions: number,
  minVersion = 0,
): Promise<
  { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; metadata: string | null }[]
> {
  return withCoordinator(bootstrap, groupId, async (client, node) => {
    const indexes = Array.from({ length: partitions }, (_, i) => i)
    const r = await client.requestTo(
      node,
      OffsetFetch,
      (v) =>
        v >= 8
          ? {
              groups: [
                { groupId, memberId: null, memberEpoch: -1, topics: [{ name: topic, partitionIndexes: indexes }] },
              ],
            }
          : { groupId, topics: [{ name: topic, partitionIndexes: indexes }] },
      { versions: { min: minVersion } },
    )
    checkOffsetFetch(r, groupId)
    const topics = r.groups[0]?.topics ?? r.topics
    return topics.flatMap((t) => t.partitions.filter((p) => p.committedOffset >= 0n))
  })
}

/** The group's committed offsets for a topic (partition → offset; partitions without one are left out). */
export async function committedOffsets(
  bootstrap: string[],
  groupId: string,
  topic: string,
  partitions: number,
): Promise<Map<number, bigint>> {
  const committed = await fetchCommitted(bootstrap, groupId, topic, partitions)
  return new Map(committed.map((p) => [p.partitionIndex, p.committedOffset]))
}

/** The committedLeaderEpoch of each committed partition (raw OffsetFetch, v5+ where the field exists). */
export async function committedLeaderEpochs(
  bootstrap: string[],
  groupId: string,
  topic: string,
  partitions: number,
): Promise<Map<number, number>> {
  const committed = await fetchCommitted(bootstrap, groupId, topic, partitions, 5)
  return new Map(committed.map((p) => [p.partitionIndex, p.committedLeaderEpoch]))
}

/** The committed offset and metadata of each committed partition (raw OffsetFetch). */
export async function committedWithMetadata(
  bootstrap: string[],
  groupId: string,
  topic: string,
  partitions: number,
): Promise<Map<number, { offset: bigint; metadata: string | null }>> {
  const committed = await fetchCommitted(bootstrap, groupId, topic, partitions)
  return new Map(committed.map((p) => [p.partitionIndex, { offset: p.committedOffset, metadata: p.metadata }]))
}

/** Commits offsets for a group without members (generation -1), e.g. to set up OFFSET_OUT_OF_RANGE. */
export async function commitAsAdmin(
  bootstrap: string[],
  groupId: string,
  topic: string,
  offsets: Map<number, bigint>,
): Promise<void> {
  await withCoordinator(bootstrap, groupId, async (client, node) => {
    const r = await client.requestTo(node, OffsetCommit, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [
        {
          name: topic,
          partitions: [...offsets].map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset })),
        },
      ],
    })
    for (const t of r.topics)
      for (const p of t.partitions) if (p.errorCode !== 0) throw KafkaError.fromCode(p.errorCode, { groupId })
  })
}

export function valueOf(m: FetchedMessage): string {
  return m.value === null ? '' : m.value.toString('utf8')
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `condition` until it holds, or fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

/** The next `count` messages the Reader hands out, one fetchMessage at a time, within `timeoutMs`. */
export async function readMessages(reader: Reader, count: number, timeoutMs = 30_000): Promise<FetchedMessage[]> {
  const signal = AbortSignal.timeout(timeoutMs)
  const out: FetchedMessage[] = []
  while (out.length < count) out.push(await reader.fetchMessage({ signal }))
  return out
}
