// The reference broker's metrics (metrics.ts) as Kafka defines them: bytes in are the record
// batch bytes a third-party producer (KafkaJS) sent and the log stored; bytes out are the record
// bytes Fetch responses carried; the ISR faults move UnderReplicatedPartitions and the
// shrink/expand meters; a stopped broker leaves partitions offline; request times and counts
// per API.

import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ZERO_UUID } from '../../src/protocol/api.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { DeleteTopics } from '../../src/protocol/messages/delete-topics.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { makeBatch, TestClient, waitFor } from './helpers.js'

describe('broker metrics', () => {
  let cluster: Cluster
  const clients: TestClient[] = []
  const connect = async (broker: number): Promise<TestClient> => {
    const c = await TestClient.connect(cluster.brokers[broker]!.address)
    clients.push(c)
    return c
  }
  const leaderOf = (topic: string, partition = 0): number => cluster.topics.partition(topic, partition)!.leader

  beforeAll(async () => {
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
    cluster = await Cluster.start({ brokers: 3, groupInitialRebalanceDelayMs: 0 })
  })
  afterAll(async () => {
    for (const c of clients) c.close()
    await cluster.stop()
  })

  it('counts the record batch bytes and records a KafkaJS producer appended as BytesIn and MessagesIn', async () => {
    cluster.createTopic('m-in', { partitions: 3, replicationFactor: 2 })
    const before = cluster.metrics().BrokerTopicMetrics
    const kafka = new Kafka({ brokers: cluster.bootstrapServers, logLevel: logLevel.NOTHING })
    const producer = kafka.producer()
    await producer.connect()
    try {
      for (let i = 0; i < 5; i++) {
        await producer.send({
          topic: 'm-in',
          messages: Array.from({ length: 4 }, (_, j) => ({ key: `k${j}`, value: `value ${i}-${j}` })),
        })
      }
    } finally {
      await producer.disconnect()
    }
    // What the log holds is exactly what KafkaJS sent (batches are stored as they arrive).
    const stored = cluster.topics.get('m-in')!.partitions.reduce((n, p) => n + p.log.size, 0)
    expect(stored).toBeGreaterThan(0)
    const m = cluster.metrics()
    expect(m.BrokerTopicMetrics.BytesInPerSec.count - before.BytesInPerSec.count).toBe(stored)
    expect(m.BrokerTopicMetrics.MessagesInPerSec.count - before.MessagesInPerSec.count).toBe(20)
    expect(m.BrokerTopicMetrics.topics['m-in']!.BytesInPerSec.count).toBe(stored)
    expect(m.BrokerTopicMetrics.topics['m-in']!.MessagesInPerSec.count).toBe(20)
    // Each broker counts what it led.
    for (const b of m.brokers) {
      const led = cluster.topics
        .get('m-in')!
        .partitions.filter((p) => p.leader === b.brokerId)
        .reduce((n, p) => n + p.log.size, 0)
      expect(b.BrokerTopicMetrics.topics['m-in']?.BytesInPerSec.count ?? 0).toBe(led)
    }
    expect(m.BrokerTopicMetrics.topics['m-in']!.FailedProduceRequestsPerSec.count).toBe(0)
  })

  it('counts the record bytes of Fetch responses as BytesOut', async () => {
    cluster.createTopic('m-out', { partitions: 1, replicationFactor: 1 })
    const leader = leaderOf('m-out')
    const c = await connect(leader)
    const batch = await makeBatch(10)
    await c.send(Produce, 11, {
      acks: 1,
      timeoutMs: 2000,
      topicData: [{ name: 'm-out', partitionData: [{ index: 0, records: batch }] }],
    })
    let received = 0
    for (let i = 0; i < 3; i++) {
      const res = await c.send(Fetch, 12, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'm-out', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
      })
      received += res.responses[0]!.partitions[0]!.records?.length ?? 0
    }
    expect(received).toBe(3 * batch.length)
    const t = cluster.broker(leader).metrics().BrokerTopicMetrics.topics['m-out']!
    expect(t.BytesOutPerSec.count).toBe(received)
    expect(t.BytesInPerSec.count).toBe(batch.length)
    expect(t.TotalFetchRequestsPerSec.count).toBe(3)
    expect(t.TotalProduceRequestsPerSec.count).toBe(1)
  })

  it('moves UnderReplicatedPartitions and the ISR shrink/expand meters with faults.shrinkIsr', async () => {
    cluster.createTopic('m-isr', { partitions: 1, replicationFactor: 3 })
    const leader = leaderOf('m-isr')
    const followers = [0, 1, 2].filter((b) => b !== leader)
    const before = cluster.broker(leader).metrics().ReplicaManager
    expect(cluster.metrics().UnderReplicatedPartitions).toBe(0)

    cluster.faults.shrinkIsr('m-isr', 0, [leader])
    let rm = cluster.broker(leader).metrics().ReplicaManager
    expect(rm.UnderReplicatedPartitions).toBe(1)
    expect(rm.IsrShrinksPerSec.count - before.IsrShrinksPerSec.count).toBe(1)
    expect(cluster.metrics().UnderReplicatedPartitions).toBe(1)
    // Only the leader reports the partition.
    for (const f of followers) expect(cluster.broker(f).metrics().ReplicaManager.UnderReplicatedPartitions).toBe(0)

    cluster.faults.shrinkIsr('m-isr', 0, [0, 1, 2])
    rm = cluster.broker(leader).metrics().ReplicaManager
    expect(rm.UnderReplicatedPartitions).toBe(0)
    expect(rm.IsrExpandsPerSec.count - before.IsrExpandsPerSec.count).toBe(2)
    expect(cluster.metrics().UnderReplicatedPartitions).toBe(0)
  })

  it('counts acks=-1 below min.insync.replicas as a failed produce, and NOT_LEADER_OR_FOLLOWER not', async () => {
    cluster.createTopic('m-fail', { partitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } })
    const leader = leaderOf('m-fail')
    const follower = [0, 1, 2].find((b) => b !== leader)!
    cluster.faults.shrinkIsr('m-fail', 0, [leader])
    try {
      const c = await connect(leader)
      const res = await c.send(Produce, 11, {
        acks: -1,
        timeoutMs: 2000,
        topicData: [{ name: 'm-fail', partitionData: [{ index: 0, records: await makeBatch(1) }] }],
      })
      expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS)
      const wrong = await connect(follower)
      const res2 = await wrong.send(Produce, 11, {
        acks: 1,
        timeoutMs: 2000,
        topicData: [{ name: 'm-fail', partitionData: [{ index: 0, records: await makeBatch(1) }] }],
      })
      expect(res2.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
      const t = cluster.metrics().BrokerTopicMetrics.topics['m-fail']!
      expect(t.FailedProduceRequestsPerSec.count).toBe(1)
      expect(t.TotalProduceRequestsPerSec.count).toBe(2)
      expect(t.BytesInPerSec.count).toBe(0)
    } finally {
      cluster.faults.shrinkIsr('m-fail', 0, [0, 1, 2])
    }
  })

  it('times requests per API (RequestMetrics) and counts them per version', async () => {
    const c = await connect(0)
    const before = cluster.broker(0).metrics().RequestMetrics['Metadata']?.RequestsPerSec.count ?? 0
    cluster.faults.delay('Metadata', 60, { broker: 0, count: 1 })
    for (let i = 0; i < 3; i++) await c.send(Metadata, 12, { topics: [], allowAutoTopicCreation: false })
    const r = cluster.broker(0).metrics().RequestMetrics['Metadata']!
    expect(r.RequestsPerSec.count - before).toBe(3)
    expect(r.versions[12]!.count).toBeGreaterThanOrEqual(3)
    expect(r.TotalTimeMs.max).toBeGreaterThanOrEqual(59)
    expect(r.TotalTimeMs.count).toBe(r.RequestsPerSec.count)
  })

  it('counts open connections per broker', async () => {
    const before = cluster.broker(2).metrics().SocketServer.connectionCount
    await connect(2)
    await connect(2)
    await waitFor(
      () => cluster.broker(2).metrics().SocketServer.connectionCount === before + 2,
      5000,
      'two connections',
    )
    expect(cluster.broker(2).metrics().SocketServer.listener).toBe('PLAINTEXT')
  })

  it('reports the partitions of a stopped broker as offline on the controller until it returns', async () => {
    cluster.createTopic('m-offline', { assignments: [[2], [2], [1]] })
    expect(cluster.metrics().OfflinePartitionsCount).toBe(0)
    await cluster.faults.stopBroker(2)
    try {
      const m = cluster.metrics()
      expect(m.OfflinePartitionsCount).toBe(2)
      // Reported once, by the active controller (broker 0), as Kafka's controller metrics are.
      expect(m.brokers.map((b) => b.KafkaController)).toEqual([
        { ActiveControllerCount: 1, OfflinePartitionsCount: 2 },
        { ActiveControllerCount: 0, OfflinePartitionsCount: 0 },
        { ActiveControllerCount: 0, OfflinePartitionsCount: 0 },
      ])
      expect(m.brokers[2]!.running).toBe(false)
      expect(m.brokers[2]!.SocketServer.connectionCount).toBe(0)
    } finally {
      await cluster.faults.startBroker(2)
    }
    expect(cluster.metrics().OfflinePartitionsCount).toBe(0)
  })

  it('drops a deleted topic’s metrics (as Kafka’s BrokerTopicStats.removeMetrics), keeping the totals', async () => {
    cluster.createTopic('m-deleted', { partitions: 1, replicationFactor: 1 })
    const c = await connect(leaderOf('m-deleted'))
    await c.send(Produce, 11, {
      acks: 1,
      timeoutMs: 2000,
      topicData: [{ name: 'm-deleted', partitionData: [{ index: 0, records: await makeBatch(3) }] }],
    })
    expect(cluster.metrics().BrokerTopicMetrics.topics['m-deleted']?.MessagesInPerSec.count).toBe(3)
    const total = cluster.metrics().BrokerTopicMetrics.MessagesInPerSec.count
    const res = await c.send(DeleteTopics, 6, { topics: [{ name: 'm-deleted', topicId: ZERO_UUID }], timeoutMs: 5000 })
    expect(res.responses[0]!.errorCode).toBe(0)
    const m = cluster.metrics()
    expect(m.BrokerTopicMetrics.topics['m-deleted']).toBeUndefined()
    expect(m.BrokerTopicMetrics.MessagesInPerSec.count).toBe(total)
  })

  it('counts a stopped follower leaving the ISR and rejoining it', async () => {
    cluster.createTopic('m-restart', { assignments: [[0, 1]] })
    const before = cluster.broker(0).metrics().ReplicaManager
    await cluster.faults.stopBroker(1)
    try {
      expect(cluster.broker(0).metrics().ReplicaManager.UnderReplicatedPartitions).toBeGreaterThanOrEqual(1)
    } finally {
      await cluster.faults.startBroker(1)
    }
    const after = cluster.broker(0).metrics().ReplicaManager
    expect(after.IsrShrinksPerSec.count - before.IsrShrinksPerSec.count).toBeGreaterThanOrEqual(1)
    expect(after.IsrExpandsPerSec.count - before.IsrExpandsPerSec.count).toBeGreaterThanOrEqual(1)
    expect(cluster.metrics().UnderReplicatedPartitions).toBe(0)
  })
})
