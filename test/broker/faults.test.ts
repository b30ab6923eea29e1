// Fault injection on a 3-broker cluster: broker stops, leader moves, ISR changes, injected
// errors and delays, hung brokers, dropped connections.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { ApiVersions } from '../../src/protocol/messages/api-versions.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { makeBatch, sleep, TestClient } from './helpers.js'

describe('faults', () => {
  let cluster: Cluster
  const clients: TestClient[] = []
  const connect = async (broker: number): Promise<TestClient> => {
    const c = await TestClient.connect(`${cluster.brokers[broker]!.host}:${cluster.brokers[broker]!.port}`)
    clients.push(c)
    return c
  }
  const produce = async (c: TestClient, topic: string, partition: number, acks = -1, timeoutMs = 2000) =>
    (
      await c.send(Produce, 10, {
        acks,
        timeoutMs,
        topicData: [{ name: topic, partitionData: [{ index: partition, records: await makeBatch(2) }] }],
      })
    ).responses[0]!.partitionResponses[0]!

  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 3 })
    const c = await connect(0)
    await c.send(CreateTopics, 7, {
      topics: [
        {
          name: 'ft',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [0, 1, 2] }],
        },
        {
          name: 'isr',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 0] }],
          configs: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
    })
  })
  afterAll(async () => {
    for (const c of clients) c.close()
    await cluster.stop()
  })

  it('stopBroker moves leadership to the next ISR member; startBroker brings the broker back on its port', async () => {
    const c0 = await connect(0)
    expect((await produce(c0, 'ft', 0)).errorCode).toBe(0)
    const port = cluster.brokers[0]!.port
    await cluster.faults.stopBroker(0)
    await c0.closed
    const c1 = await connect(1)
    const md = await c1.send(Metadata, 12, { topics: [{ name: 'ft' }] })
    expect(md.brokers.map((b) => b.nodeId)).toEqual([1, 2])
    expect(md.topics[0]!.partitions[0]).toMatchObject({
      leaderId: 1,
      leaderEpoch: 1,
      isrNodes: [1, 2],
      offlineReplicas: [0],
    })
    // The acknowledged data survived (it was replicated to the ISR).
    expect((await produce(c1, 'ft', 0)).baseOffset).toBe(2n)
    await cluster.faults.startBroker(0)
    expect(cluster.brokers[0]!.port).toBe(port)
    const md2 = await c1.send(Metadata, 12, { topics: [{ name: 'ft' }] })
    expect(md2.topics[0]!.partitions[0]).toMatchObject({ leaderId: 1, isrNodes: [0, 1, 2] })
    cluster.faults.moveLeader('ft', 0, 0)
    const back = await connect(0)
    expect((await produce(back, 'ft', 0)).baseOffset).toBe(4n)
    expect((await produce(c1, 'ft', 0)).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
  })

  it('a crashed broker with a session timeout stays leader, coordinator and listed until fenced, as on Kafka', async () => {
    // Kafka's controller fences a broker only when its session (broker.session.timeout.ms)
    // expires; until then metadata still names it and clients get refused connections.
    const c1 = await connect(1)
    const before = await c1.send(Metadata, 12, { topics: [{ name: 'ft' }] })
    const leader = before.topics[0]!.partitions[0]!.leaderId
    const other = [0, 1, 2].find((b) => b !== leader && b !== 1) ?? 2
    const group = [...Array(200).keys()].map((i) => `g${i}`).find((g) => cluster.coordinatorFor(g)!.id === leader)!
    const asker = await connect(leader === 1 ? other : 1)
    await cluster.faults.stopBroker(leader, { sessionTimeoutMs: 400 })
    const during = await asker.send(Metadata, 12, { topics: [{ name: 'ft' }] })
    expect(during.brokers.map((b) => b.nodeId)).toContain(leader)
    expect(during.topics[0]!.partitions[0]!.leaderId).toBe(leader)
    expect(cluster.coordinatorFor(group)!.id).toBe(leader)
    await sleep(600)
    const after = await asker.send(Metadata, 12, { topics: [{ name: 'ft' }] })
    expect(after.brokers.map((b) => b.nodeId)).not.toContain(leader)
    expect(after.topics[0]!.partitions[0]!.leaderId).not.toBe(leader)
    expect(cluster.coordinatorFor(group)!.id).not.toBe(leader)
    await cluster.faults.startBroker(leader)
    // Back within the session: nothing moved, and no fencing timer fires later.
    await cluster.faults.stopBroker(leader, { sessionTimeoutMs: 300 })
    await cluster.faults.startBroker(leader)
    await sleep(400)
    expect(cluster.isAlive(leader)).toBe(true)
    expect(cluster.coordinatorFor(group)!.id).toBe(leader)
  })

  it('a partition whose replicas are all down has no leader', async () => {
    const c = await connect(0)
    await c.send(CreateTopics, 7, {
      topics: [
        {
          name: 'off',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
        },
      ],
    })
    await cluster.faults.stopBroker(1)
    await cluster.faults.stopBroker(2)
    const md = await c.send(Metadata, 12, { topics: [{ name: 'off' }] })
    expect(md.topics[0]!.partitions[0]).toMatchObject({
      errorCode: ErrorCode.LEADER_NOT_AVAILABLE,
      leaderId: -1,
      isrNodes: [2],
    })
    // The last ISR member comes back and leads again (no unclean election).
    await cluster.faults.startBroker(1)
    expect(cluster.topics.partition('off', 0)!.leader).toBe(-1)
    await cluster.faults.startBroker(2)
    const md2 = await c.send(Metadata, 12, { topics: [{ name: 'off' }] })
    expect(md2.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, leaderId: 2, isrNodes: [1, 2] })
    cluster.faults.moveLeader('isr', 0, 1)
  })

  it('acks=-1 fails with NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas', async () => {
    const c = await connect(1)
    expect((await produce(c, 'isr', 0)).errorCode).toBe(0)
    cluster.faults.shrinkIsr('isr', 0, [1])
    // A plain exception from Partition.appendRecordsToLeader: no message, the log start offset.
    expect(await produce(c, 'isr', 0)).toMatchObject({
      errorCode: ErrorCode.NOT_ENOUGH_REPLICAS,
      errorMessage: null,
      logStartOffset: BigInt(cluster.topics.partition('isr', 0)!.logStartOffset),
    })
    expect((await produce(c, 'isr', 0, 1)).errorCode).toBe(0)
    cluster.faults.shrinkIsr('isr', 0, [1, 2, 0])
    expect((await produce(c, 'isr', 0)).errorCode).toBe(0)
  })

  it('a lagging follower holds the high watermark: acks=-1 times out, consumers see nothing new', async () => {
    const c = await connect(1)
    const p = cluster.topics.partition('isr', 0)!
    const hw = p.highWatermark
    cluster.faults.lagReplica('isr', 0, 2)
    const r = await produce(c, 'isr', 0, -1, 200)
    expect(r.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT)
    expect(p.highWatermark).toBe(hw)
    const f = await c.send(Fetch, 12, {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: 'isr', partitions: [{ partition: 0, fetchOffset: BigInt(hw), partitionMaxBytes: 1 << 20 }] }],
    })
    expect(f.responses[0]!.partitions[0]!.records?.length ?? 0).toBe(0)
    // A produce waiting on the lagging replica completes when it catches up.
    const pending = produce(c, 'isr', 0, -1, 5000)
    await sleep(50)
    cluster.faults.lagReplica('isr', 0, 2, false)
    expect((await pending).errorCode).toBe(0)
    expect(p.highWatermark).toBe(p.log.endOffset)
  })

  it('a leader failover truncates what only the old leader had (acks=1 data is lost, as in Kafka)', async () => {
    const c = await connect(0)
    await c.send(CreateTopics, 7, {
      topics: [
        {
          name: 'trunc',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [0, 1] }],
        },
      ],
    })
    const p = cluster.topics.partition('trunc', 0)!
    expect((await produce(c, 'trunc', 0)).baseOffset).toBe(0n)
    cluster.faults.lagReplica('trunc', 0, 1)
    expect((await produce(c, 'trunc', 0, 1)).baseOffset).toBe(2n)
    expect(p.log.endOffset).toBe(4)
    expect(p.highWatermark).toBe(2)
    await cluster.faults.stopBroker(0)
    expect(p.leader).toBe(1)
    expect(p.log.endOffset).toBe(2)
    const c1 = await connect(1)
    expect((await produce(c1, 'trunc', 0)).baseOffset).toBe(2n)
    await cluster.faults.startBroker(0)
    cluster.faults.clear()
    cluster.faults.moveLeader('ft', 0, 0)
  })

  it('failNext answers the next requests with an error; delay slows them down', async () => {
    const c = await connect(0)
    cluster.faults.failNext('Metadata', 2, ErrorCode.NOT_CONTROLLER)
    const r1 = await c.send(Metadata, 13, { topics: [{ name: 'ft' }] })
    expect(r1.errorCode).toBe(ErrorCode.NOT_CONTROLLER)
    expect(r1.topics[0]!.errorCode).toBe(ErrorCode.NOT_CONTROLLER)
    const r2 = await c.send(Metadata, 12, { topics: [{ name: 'ft' }] })
    expect(r2.topics[0]!.errorCode).toBe(ErrorCode.NOT_CONTROLLER)
    expect((await c.send(Metadata, 12, { topics: [{ name: 'ft' }] })).topics[0]!.errorCode).toBe(0)

    cluster.faults.failNext(0, 1, ErrorCode.NOT_LEADER_OR_FOLLOWER, { broker: 0 })
    expect((await produce(c, 'ft', 0)).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
    expect((await produce(c, 'ft', 0)).errorCode).toBe(0)

    cluster.faults.delay('ApiVersions', 200, { count: 1 })
    const t0 = Date.now()
    await c.send(ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(180)
    const t1 = Date.now()
    await c.send(ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })
    expect(Date.now() - t1).toBeLessThan(150)
  })

  it('blackhole keeps connections open but never answers; dropConnections closes them', async () => {
    const c = await connect(2)
    cluster.faults.blackhole(2)
    let answered = false
    void c.send(ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }).then(
      () => (answered = true),
      () => {},
    )
    await sleep(200)
    expect(answered).toBe(false)
    expect(c.socket.destroyed).toBe(false)
    cluster.faults.clear()
    const fresh = await connect(2)
    expect((await fresh.send(ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })).errorCode).toBe(
      0,
    )
    cluster.faults.dropConnections(2)
    await fresh.closed
    await c.closed
  })

  it('rejects faults that name unknown things', () => {
    expect(() => cluster.faults.failNext('NoSuchApi', 1, 1)).toThrow(RangeError)
    expect(() => cluster.faults.moveLeader('nope', 0, 1)).toThrow(RangeError)
    expect(() => cluster.faults.moveLeader('ft', 0, 7)).toThrow(RangeError)
  })
})
