// faults.lagMetadata: one broker answers Metadata from an old view of the cluster.
//
// On Kafka (KRaft) every broker replays the controller's metadata log on its own, so a broker
// that is behind answers Metadata with leaders, epochs and topics the others have moved past
// (seen with kcat on 4.0.1: right after CreateTopics one broker still says
// UNKNOWN_TOPIC_OR_PARTITION). A client rotating its metadata requests over brokers can
// therefore see a topic vanish and come back, or an older leader epoch.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { DeleteTopics } from '../../src/protocol/messages/delete-topics.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { makeBatch, TestClient } from './helpers.js'

describe('lagMetadata', () => {
  let cluster: Cluster
  const clients: TestClient[] = []
  const connect = async (broker: number): Promise<TestClient> => {
    const c = await TestClient.connect(cluster.brokers[broker]!.address)
    clients.push(c)
    return c
  }
  const metadata = (c: TestClient, topics: string[] | null, allowAutoTopicCreation = false) =>
    c.send(Metadata, 12, {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation,
    })

  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 3 })
    cluster.createTopic('ml', { assignments: [[0, 1, 2]] })
    cluster.createTopic('gone', { assignments: [[1, 2, 0]] })
  })
  afterAll(async () => {
    for (const c of clients) c.close()
    await cluster.stop()
  })

  it('a lagging broker answers with the leaders, epochs and topics it knew when the fault was set', async () => {
    const c0 = await connect(0)
    const c2 = await connect(2)
    cluster.faults.lagMetadata(2)
    cluster.faults.moveLeader('ml', 0, 1)
    cluster.createTopic('new', { assignments: [[2, 0, 1]] })
    expect(
      (await c0.send(DeleteTopics, 6, { topics: [{ name: 'gone' }], timeoutMs: 1000 })).responses[0]!.errorCode,
    ).toBe(0)

    // The up-to-date broker.
    const fresh = await metadata(c0, ['ml', 'new', 'gone'])
    expect(fresh.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['ml', 0],
      ['new', 0],
      ['gone', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ])
    expect(fresh.topics[0]!.partitions[0]).toMatchObject({ leaderId: 1, leaderEpoch: 1 })

    // The lagging one: the old leader and epoch, no 'new', 'gone' still there.
    const stale = await metadata(c2, ['ml', 'new', 'gone'])
    expect(stale.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['ml', 0],
      ['new', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['gone', 0],
    ])
    expect(stale.topics[0]!.partitions[0]).toMatchObject({ leaderId: 0, leaderEpoch: 0 })
    expect((await metadata(c2, null)).topics.map((t) => t.name).sort()).toEqual(['gone', 'ml'])

    // A client that believed it: the old leader rejects the produce and names the new one.
    const produced = await c0.send(Produce, 11, {
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 'ml', partitionData: [{ index: 0, records: await makeBatch(1) }] }],
    })
    expect(produced.responses[0]!.partitionResponses[0]).toMatchObject({
      errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
      currentLeader: { leaderId: 1, leaderEpoch: 1 },
    })

    // The lag is deterministic: it lasts until it is turned off.
    expect((await metadata(c2, ['new'])).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    cluster.faults.lagMetadata(2, false)
    const caughtUp = await metadata(c2, ['ml', 'new', 'gone'])
    expect(caughtUp.topics.map((t) => t.errorCode)).toEqual([0, 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
    expect(caughtUp.topics[0]!.partitions[0]).toMatchObject({ leaderId: 1, leaderEpoch: 1 })
  })

  it('keeps the old broker list, and auto-creation through a lagging broker reaches the cluster', async () => {
    const c1 = await connect(1)
    const c2 = await connect(2)
    cluster.faults.lagMetadata(2)
    // The lagging broker forwards the creation (as KRaft's AutoTopicCreationManager does) but
    // does not see the topic until it catches up; the others do.
    expect((await metadata(c2, ['auto-lag'], true)).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    expect(cluster.topics.get('auto-lag')).toBeDefined()
    expect((await metadata(c2, ['auto-lag'], true)).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    expect((await metadata(c1, ['auto-lag'])).topics[0]!.errorCode).toBe(0)

    await cluster.faults.stopBroker(0)
    expect((await metadata(c2, [])).brokers.map((b) => b.nodeId)).toEqual([0, 1, 2])
    expect((await metadata(c1, [])).brokers.map((b) => b.nodeId)).toEqual([1, 2])
    cluster.faults.clear()
    expect((await metadata(c2, ['auto-lag'])).topics[0]!.errorCode).toBe(0)
    await cluster.faults.startBroker(0)
    expect(() => cluster.faults.lagMetadata(9)).toThrow(RangeError)
  })
})
