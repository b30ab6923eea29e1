// KafkaJS 2.2 (a pure-JS third-party client) against the reference cluster: admin, producer,
// consumer groups with commits and resume, and transactions with a read_committed consumer.
// Every scenario is bounded by a timeout.

import { Kafka, logLevel, CompressionTypes, type Consumer } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'

const N = 10_000

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
    p.then(
      (v) => {
        clearTimeout(t)
        resolve(v)
      },
      (e: unknown) => {
        clearTimeout(t)
        reject(e as Error)
      },
    )
  })
}

/** Consumes until `count` messages arrived (or times out); returns their values. */
async function consume(consumer: Consumer, topic: string, count: number, ms = 30_000): Promise<string[]> {
  const values: string[] = []
  await consumer.subscribe({ topic, fromBeginning: true })
  await withTimeout(
    new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value?.toString() ?? '')
          if (values.length === count) resolve()
        },
      })
    }),
    ms,
    `consuming ${count} messages from ${topic}`,
  )
  return values
}

describe('KafkaJS', () => {
  let cluster: Cluster
  let kafka: Kafka
  beforeAll(async () => {
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
    cluster = await Cluster.start({ brokers: 3, groupInitialRebalanceDelayMs: 0 })
    kafka = new Kafka({
      clientId: 'kafkajs-test',
      brokers: cluster.bootstrapServers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 50 },
    })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('admin: creates a topic, lists metadata, describes the cluster and configs', async () => {
    const admin = kafka.admin()
    await admin.connect()
    try {
      expect(
        await admin.createTopics({
          topics: [
            {
              topic: 'kjs-admin',
              numPartitions: 4,
              replicationFactor: 3,
              configEntries: [{ name: 'retention.ms', value: '60000' }],
            },
          ],
        }),
      ).toBe(true)
      expect(await admin.listTopics()).toContain('kjs-admin')
      const md = await admin.fetchTopicMetadata({ topics: ['kjs-admin'] })
      expect(md.topics[0]!.partitions).toHaveLength(4)
      for (const p of md.topics[0]!.partitions) expect(p.isr).toHaveLength(3)
      const described = await admin.describeCluster()
      expect(described.brokers).toHaveLength(3)
      expect(described.clusterId).toBe(cluster.clusterId)
      const configs = await admin.describeConfigs({
        resources: [{ type: 2, name: 'kjs-admin', configNames: ['retention.ms'] }],
        includeSynonyms: false,
      })
      expect(configs.resources[0]!.configEntries[0]).toMatchObject({ configName: 'retention.ms', configValue: '60000' })
      await admin.createPartitions({ topicPartitions: [{ topic: 'kjs-admin', count: 6 }] })
      expect((await admin.fetchTopicMetadata({ topics: ['kjs-admin'] })).topics[0]!.partitions).toHaveLength(6)
      await admin.deleteTopics({ topics: ['kjs-admin'] })
      expect(await admin.listTopics()).not.toContain('kjs-admin')
    } finally {
      await admin.disconnect()
    }
  })

  for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
    it(`produces ${N} messages (${compression === CompressionTypes.GZIP ? 'gzip' : 'none'}) and consumes them in a group`, async () => {
      const topic = `kjs-${compression}`
      const admin = kafka.admin()
      await admin.connect()
      await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }] })
      await admin.disconnect()
      const producer = kafka.producer()
      await producer.connect()
      const messages = Array.from({ length: N }, (_, i) => ({ key: `k${i}`, value: `v${i}` }))
      for (let i = 0; i < N; i += 1000)
        await producer.send({ topic, compression, acks: -1, messages: messages.slice(i, i + 1000) })
      await producer.disconnect()
      const consumer = kafka.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 500 })
      await consumer.connect()
      const values = await consume(consumer, topic, N)
      await consumer.disconnect()
      expect(new Set(values).size).toBe(N)
    })
  }

  it('commits offsets and resumes from them after the consumer restarts', async () => {
    const topic = 'kjs-resume'
    const producer = kafka.producer({ allowAutoTopicCreation: true })
    await producer.connect()
    // Auto-creation: the first Metadata answer is UNKNOWN_TOPIC_OR_PARTITION (Kafka 4), KafkaJS retries.
    await producer.send({ topic, messages: Array.from({ length: 100 }, (_, i) => ({ value: `a${i}` })) })
    const c1 = kafka.consumer({ groupId: 'kjs-resume-g', maxWaitTimeInMs: 500 })
    await c1.connect()
    const first = await consume(c1, topic, 100)
    await c1.disconnect()
    expect(first).toHaveLength(100)
    const admin = kafka.admin()
    await admin.connect()
    const offsets = await admin.fetchOffsets({ groupId: 'kjs-resume-g', topics: [topic] })
    expect(offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0)).toBe(100)
    await admin.disconnect()

    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: `b${i}` })) })
    await producer.disconnect()
    const c2 = kafka.consumer({ groupId: 'kjs-resume-g', maxWaitTimeInMs: 500 })
    await c2.connect()
    const second = await consume(c2, topic, 20)
    await c2.disconnect()
    expect(second.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`).sort())
  })

  it('two consumers in one group split the partitions', async () => {
    const topic = 'kjs-split'
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 4, replicationFactor: 2 }] })
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic, messages: Array.from({ length: 400 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) })
    await producer.disconnect()
    const seen = new Map<string, number>()
    const members = [
      kafka.consumer({ groupId: 'kjs-split-g', maxWaitTimeInMs: 500 }),
      kafka.consumer({ groupId: 'kjs-split-g', maxWaitTimeInMs: 500 }),
    ]
    const partitionsOf = [new Set<number>(), new Set<number>()]
    await Promise.all(members.map((m) => m.connect()))
    await Promise.all(members.map((m) => m.subscribe({ topic, fromBeginning: true })))
    await withTimeout(
      new Promise<void>((resolve) => {
        members.forEach((m, i) => {
          void m.run({
            eachMessage: async ({ message, partition }) => {
              partitionsOf[i]!.add(partition)
              seen.set(message.value!.toString(), (seen.get(message.value!.toString()) ?? 0) + 1)
              if (seen.size === 400) resolve()
            },
          })
        })
      }),
      30_000,
      'split consumption',
    )
    const described = await admin.describeGroups(['kjs-split-g'])
    expect(described.groups[0]!.members.length).toBeGreaterThanOrEqual(1)
    await Promise.all(members.map((m) => m.disconnect()))
    await admin.disconnect()
    expect(seen.size).toBe(400)
  })

  it('keeps producing and consuming when a partition leader stops', async () => {
    const topic = 'kjs-failover'
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] })
    await admin.disconnect()
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic, acks: -1, messages: [{ value: 'before' }] })
    const leader = cluster.topics.partition(topic, 0)!.leader
    await cluster.faults.stopBroker(leader)
    try {
      await withTimeout(
        producer.send({ topic, acks: -1, messages: [{ value: 'after' }] }),
        30_000,
        'produce after failover',
      )
      await producer.disconnect()
      expect(cluster.topics.partition(topic, 0)!.leader).not.toBe(leader)
      const consumer = kafka.consumer({ groupId: 'kjs-failover-g', maxWaitTimeInMs: 500 })
      await consumer.connect()
      expect(await consume(consumer, topic, 2)).toEqual(['before', 'after'])
      await consumer.disconnect()
    } finally {
      await cluster.faults.startBroker(leader)
    }
  })

  it('transactions: a read_committed consumer sees the committed transaction only', async () => {
    const topic = 'kjs-txn'
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] })
    await admin.disconnect()
    const producer = kafka.producer({ transactionalId: 'kjs-txn-id', idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const committed = await producer.transaction()
    await committed.send({ topic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] })
    await committed.commit()
    const aborted = await producer.transaction()
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }] })
    await aborted.abort()
    const last = await producer.transaction()
    await last.send({ topic, messages: [{ value: 'committed-3' }] })
    await last.commit()
    await producer.disconnect()

    const consumer = kafka.consumer({ groupId: 'kjs-txn-g', readUncommitted: false, maxWaitTimeInMs: 500 })
    await consumer.connect()
    const values = await consume(consumer, topic, 3)
    // Give an aborted message the chance to (wrongly) show up.
    await new Promise((r) => setTimeout(r, 300))
    await consumer.disconnect()
    expect(values).toEqual(['committed-1', 'committed-2', 'committed-3'])

    const uncommitted = kafka.consumer({ groupId: 'kjs-txn-g2', readUncommitted: true, maxWaitTimeInMs: 500 })
    await uncommitted.connect()
    const all = await consume(uncommitted, topic, 4)
    await uncommitted.disconnect()
    expect(all).toContain('aborted-1')
  })
})
