// Faults that act inside a request, the way real brokers fail producers: a request applied whose
// answer is lost, and one partition failing inside a multi-partition request.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { FindCoordinator } from '../../src/protocol/messages/find-coordinator.js'
import { InitProducerId } from '../../src/protocol/messages/init-producer-id.js'
import { OffsetCommit } from '../../src/protocol/messages/offset-commit.js'
import { OffsetFetch } from '../../src/protocol/messages/offset-fetch.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { makeBatch, TestClient } from './helpers.js'

// Raw requests with exact answers expected: the clusters start with their group coordinators
// loaded (coordinatorLoadRequests: 0); the clients' retries of a load are tested elsewhere.
describe('faults inside a request', () => {
  let cluster: Cluster
  const clients: TestClient[] = []
  const connect = async (broker: number): Promise<TestClient> => {
    const c = await TestClient.connect(cluster.brokers[broker]!.address)
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    cluster = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 3 })
    cluster.createTopic('drop', { assignments: [[0, 1, 2]] })
    cluster.createTopic('multi', {
      assignments: [
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 2],
      ],
    })
  })
  afterAll(async () => {
    for (const c of clients) c.close()
    await cluster.stop()
  })

  // Kafka appends a produce and then answers it; if the connection dies in between (or the
  // client's request timeout fires first), the batch is in the log but the producer never hears
  // of it. Its retry carries the same producer id, epoch and sequence, and Kafka's producer state
  // (ProducerStateManager's last five batches) answers it as a duplicate with the ORIGINAL offset.
  it('dropResponse: the produce is in the log, the client gets no answer, its retry is a duplicate', async () => {
    const c = await connect(0)
    const { producerId, producerEpoch } = await c.send(InitProducerId, 4, {
      transactionalId: null,
      transactionTimeoutMs: 1000,
    })
    const idempotent = { producerId, producerEpoch, baseSequence: 0 }
    const request = async () => ({
      acks: -1,
      timeoutMs: 2000,
      topicData: [{ name: 'drop', partitionData: [{ index: 0, records: await makeBatch(3, idempotent) }] }],
    })
    const p = cluster.topics.partition('drop', 0)!
    cluster.faults.dropResponse('Produce', 1, { broker: 0 })
    await expect(c.send(Produce, 11, await request())).rejects.toThrow('connection closed')
    await c.closed
    expect(p.log.endOffset).toBe(3)
    expect(p.highWatermark).toBe(3)

    const again = await connect(0)
    const retry = (await again.send(Produce, 11, await request())).responses[0]!.partitionResponses[0]!
    expect(retry).toMatchObject({ errorCode: 0, baseOffset: 0n })
    expect(p.log.endOffset).toBe(3)
    // The fault was for one request only: the next batch is appended and answered.
    const next = await again.send(Produce, 11, {
      acks: -1,
      timeoutMs: 2000,
      topicData: [
        {
          name: 'drop',
          partitionData: [{ index: 0, records: await makeBatch(1, { ...idempotent, baseSequence: 3 }) }],
        },
      ],
    })
    expect(next.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 3n })
  })

  // The same loss for an offset commit: the group coordinator stored the offset, the consumer
  // saw its connection close; a later OffsetFetch shows the commit happened.
  it('dropResponse applies an OffsetCommit before closing the connection', async () => {
    const probe = await connect(0)
    const coordinator = (await probe.send(FindCoordinator, 3, { key: 'drop-group', keyType: 0 })).nodeId
    const c = await connect(coordinator)
    cluster.faults.dropResponse('OffsetCommit', 1)
    await expect(
      c.send(OffsetCommit, 9, {
        groupId: 'drop-group',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        topics: [{ name: 'drop', partitions: [{ partitionIndex: 0, committedOffset: 2n }] }],
      }),
    ).rejects.toThrow('connection closed')
    const again = await connect(coordinator)
    const fetched = await again.send(OffsetFetch, 7, {
      groupId: 'drop-group',
      topics: [{ name: 'drop', partitionIndexes: [0] }],
    })
    expect(fetched.topics[0]!.partitions[0]!.committedOffset).toBe(2n)
  })

  it('dropResponse only counts requests of its API on its broker, and clear() removes it', async () => {
    const c1 = await connect(1)
    cluster.faults.dropResponse('Produce', 1, { broker: 0 })
    // A Produce to broker 1 (not the leader) is answered: the rule names broker 0.
    const other = await c1.send(Produce, 11, {
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: 'drop', partitionData: [{ index: 0, records: await makeBatch(1) }] }],
    })
    expect(other.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
    cluster.faults.clear()
    const c0 = await connect(0)
    const answered = await c0.send(Produce, 11, {
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: 'drop', partitionData: [{ index: 0, records: await makeBatch(1) }] }],
    })
    expect(answered.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
    expect(() => cluster.faults.dropResponse('Produce', 0)).toThrow(RangeError)
    expect(() => cluster.faults.dropResponse('NoSuchApi', 1)).toThrow(RangeError)
  })

  // Kafka handles each partition of a Produce on its own (ReplicaManager.appendToLocalLog catches
  // per partition), so one partition can fail (a leader moving, a full disk, a record error)
  // while the others of the same request are appended.
  it('failPartition fails one partition of a multi-partition Produce; the others are appended', async () => {
    const c = await connect(0)
    const { producerId, producerEpoch } = await c.send(InitProducerId, 4, {
      transactionalId: null,
      transactionTimeoutMs: 1000,
    })
    const batch = (baseSequence: number) => makeBatch(2, { producerId, producerEpoch, baseSequence })
    const request = async (indexes: number[]) => ({
      acks: -1,
      timeoutMs: 2000,
      topicData: [
        {
          name: 'multi',
          partitionData: await Promise.all(indexes.map(async (index) => ({ index, records: await batch(0) }))),
        },
      ],
    })
    cluster.faults.failPartition('multi', 1, ErrorCode.NOT_LEADER_OR_FOLLOWER)
    const r = await c.send(Produce, 11, await request([0, 1, 2]))
    expect(r.responses[0]!.partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset])).toEqual([
      [0, 0, 0n],
      [1, ErrorCode.NOT_LEADER_OR_FOLLOWER, -1n],
      [2, 0, 0n],
    ])
    expect([0, 1, 2].map((i) => cluster.topics.partition('multi', i)!.log.endOffset)).toEqual([2, 0, 2])
    // Nothing of partition 1 was applied: its producer state is untouched, so the retry of the
    // same batch (sequence 0) is a first append, not a duplicate; count 1 means it succeeds.
    const retry = await c.send(Produce, 11, await request([1]))
    expect(retry.responses[0]!.partitionResponses[0]).toMatchObject({ index: 1, errorCode: 0, baseOffset: 0n })
    expect(cluster.topics.partition('multi', 1)!.log.endOffset).toBe(2)
  })

  // Fetch is answered per partition too (ReplicaManager.readFromLog): one partition's error
  // leaves the others' records in the same response, and an error answers a long poll at once.
  it('failPartition with api Fetch fails one partition of a Fetch; the others return records', async () => {
    const c = await connect(0)
    cluster.faults.failPartition('multi', 2, ErrorCode.KAFKA_STORAGE_ERROR, { api: 'Fetch', count: 2 })
    const fetch = () =>
      c.send(Fetch, 12, {
        maxWaitMs: 5000,
        minBytes: 1 << 20,
        maxBytes: 1 << 20,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: 'multi',
            partitions: [0, 1, 2].map((partition) => ({ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 })),
          },
        ],
      })
    const t0 = Date.now()
    for (let i = 0; i < 2; i++) {
      const parts = (await fetch()).responses[0]!.partitions
      expect(parts.map((p) => p.errorCode)).toEqual([0, 0, ErrorCode.KAFKA_STORAGE_ERROR])
      expect(parts[0]!.records?.length).toBeGreaterThan(0)
      expect(parts[1]!.records?.length).toBeGreaterThan(0)
      expect(parts[2]!.records?.length ?? 0).toBe(0)
    }
    expect(Date.now() - t0).toBeLessThan(4000)
    const after = (
      await c.send(Fetch, 12, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'multi', partitions: [{ partition: 2, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
      })
    ).responses[0]!.partitions[0]!
    expect(after.errorCode).toBe(0)
    expect(after.records?.length).toBeGreaterThan(0)
    expect(() => cluster.faults.failPartition('multi', 0, 6, { api: 'Metadata' as 'Fetch' })).toThrow(RangeError)
    expect(() => cluster.faults.failPartition('multi', -1, 6)).toThrow(RangeError)
  })
})
