// Asynchronous replication as on Kafka: followers fetch on a later turn, the high watermark
// trails the log end, a new leader starts from its own high watermark, and acks=1 data no
// follower copied is lost when the leader crashes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { ListOffsets } from '../../src/protocol/messages/list-offsets.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { decodeRecordBatches } from '../../src/protocol/record-batch.js'
import { makeBatch, sleep, TestClient, waitFor } from './helpers.js'

describe('replication', () => {
  let cluster: Cluster
  const clients: TestClient[] = []
  const connect = async (broker: number): Promise<TestClient> => {
    const c = await TestClient.connect(cluster.brokers[broker]!.address)
    clients.push(c)
    return c
  }
  const produce = async (c: TestClient, topic: string, acks: number, valuePrefix = 'value') =>
    (
      await c.send(Produce, 11, {
        acks,
        timeoutMs: 2000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: await makeBatch(2, { valuePrefix }) }] }],
      })
    ).responses[0]!.partitionResponses[0]!
  const fetch = async (c: TestClient, topic: string, offset: number) =>
    (
      await c.send(Fetch, 12, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: 1 << 20 }] }],
      })
    ).responses[0]!.partitions[0]!
  const latest = async (c: TestClient, topic: string) =>
    (
      await c.send(ListOffsets, 7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }],
      })
    ).topics[0]!.partitions[0]!

  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 3 })
  })
  afterAll(async () => {
    for (const c of clients) c.close()
    await cluster.stop()
  })

  // On Kafka the leader appends, and its high watermark moves only when the followers' next
  // fetches show they have the batch (Partition.maybeIncrementLeaderHW); acks=-1 is a
  // DelayedProduce completed then. Followers learn the new high watermark from a later fetch.
  it('the high watermark trails the log end until the followers fetch; acks=-1 waits for them', async () => {
    cluster.createTopic('async', { assignments: [[0, 1, 2]] })
    const p = cluster.topics.partition('async', 0)!
    const seen: { end: number; hw: number; follower: number }[] = []
    const off = p.onChange(() =>
      seen.push({ end: p.log.endOffset, hw: p.highWatermark, follower: p.followerEnd.get(1) ?? -1 }),
    )
    const c = await connect(0)
    expect((await produce(c, 'async', 1)).baseOffset).toBe(0n)
    // First the append (nothing copied, high watermark behind), then the fetch round.
    expect(seen[0]).toEqual({ end: 2, hw: 0, follower: 0 })
    expect(seen).toContainEqual({ end: 2, hw: 2, follower: 2 })
    seen.length = 0
    const r = await produce(c, 'async', -1)
    expect(r).toMatchObject({ errorCode: 0, baseOffset: 2n })
    expect(p.followerEnd.get(1)).toBe(4)
    expect(p.followerEnd.get(2)).toBe(4)
    expect(seen[0]).toEqual({ end: 4, hw: 2, follower: 2 })
    // The followers hear of the high watermark one round later, and then the rounds stop.
    await waitFor(() => p.followerHw.get(1) === 4 && p.followerHw.get(2) === 4, 2000, 'followers to learn the HW')
    off()
  })

  // Kafka's Partition.makeLeader starts the new leader from its own high watermark, which can be
  // behind the old leader's when the old leader died before the followers' next fetch: consumers
  // see the high watermark go backwards, and ListOffsets(latest) from a consumer answers
  // OFFSET_NOT_AVAILABLE while the high watermark is below the epoch's start offset
  // (Partition.fetchOffsetForTimestamp, KIP-207). It catches up once the followers fetch.
  it('a new leader starts from its own, older high watermark; ListOffsets waits with OFFSET_NOT_AVAILABLE', async () => {
    cluster.createTopic('failover', { assignments: [[0, 1, 2]] })
    const p = cluster.topics.partition('failover', 0)!
    const c0 = await connect(0)
    expect((await produce(c0, 'failover', -1)).errorCode).toBe(0)
    await waitFor(() => p.followerHw.get(1) === 2 && p.followerHw.get(2) === 2, 2000, 'followers to learn the HW')
    // The followers copy the next batch, then stop fetching before they learn the new high watermark.
    const off = p.onChange(() => {
      if (p.leader !== 0 || p.highWatermark !== 4) return
      off()
      cluster.faults.lagReplica('failover', 0, 1)
      cluster.faults.lagReplica('failover', 0, 2)
    })
    expect((await produce(c0, 'failover', -1)).baseOffset).toBe(2n)
    expect((await fetch(c0, 'failover', 0)).highWatermark).toBe(4n)
    expect(p.followerHw.get(1)).toBe(2)

    await cluster.faults.stopBroker(0)
    expect(p.leader).toBe(1)
    const c1 = await connect(1)
    const behind = await fetch(c1, 'failover', 4)
    expect(behind).toMatchObject({ errorCode: 0, highWatermark: 2n })
    expect((await fetch(c1, 'failover', 2)).records?.length ?? 0).toBe(0)
    expect((await latest(c1, 'failover')).errorCode).toBe(ErrorCode.OFFSET_NOT_AVAILABLE)
    // Follower 2 still does not fetch, so the new leader cannot know it has the data.
    await sleep(20)
    expect(p.highWatermark).toBe(2)

    cluster.faults.lagReplica('failover', 0, 2, false)
    expect(p.highWatermark).toBe(4)
    expect(await latest(c1, 'failover')).toMatchObject({ errorCode: 0, offset: 4n })
    expect((await fetch(c1, 'failover', 2)).records?.length).toBeGreaterThan(0)
    await cluster.faults.startBroker(0)
    cluster.faults.clear()
  })

  // On Kafka acks=1 is answered once the leader appended; a batch no follower fetched yet is
  // gone when the leader crashes, and the old leader truncates it when it returns as a follower.
  it('acks=1 data no follower copied is lost when the leader crashes before their fetch round', async () => {
    cluster.createTopic('lost', { assignments: [[0, 1, 2]] })
    const p = cluster.topics.partition('lost', 0)!
    const c0 = await connect(0)
    expect((await produce(c0, 'lost', -1)).errorCode).toBe(0)
    // The leader crashes right after appending, before the followers' next round.
    let crashed: Promise<void> | undefined
    const off = p.onChange(() => {
      if (p.log.endOffset !== 4 || crashed !== undefined) return
      off()
      crashed = cluster.faults.stopBroker(0)
    })
    await expect(produce(c0, 'lost', 1, 'lost')).rejects.toThrow('connection closed')
    await crashed
    expect(p.leader).toBe(1)
    expect(p.log.endOffset).toBe(2)
    const c1 = await connect(1)
    expect((await produce(c1, 'lost', 1, 'kept')).baseOffset).toBe(2n)
    await cluster.faults.startBroker(0)
    await waitFor(() => p.highWatermark === 4, 2000, 'the returning broker to catch up')
    expect(p.isr).toEqual([0, 1, 2])
    // Offsets 2-3 hold the new leader's batch; the returning broker truncated the lost one.
    const batches = await decodeRecordBatches((await fetch(c1, 'lost', 0)).records ?? null)
    const values = batches.flatMap((b) => b.records.map((r) => r.value?.toString()))
    expect(values).toEqual(['value-0', 'value-1', 'kept-0', 'kept-1'])
  })

  // An unref'd immediate does not stop the event loop from blocking for I/O: on a broker with
  // nothing else to do, the round ran only at the next timer (the transaction coordinator's,
  // every second), so acks=-1 answers at the end of a burst waited up to a second (kafkats bench
  // against `kafkats broker`: p99 1271 ms with acks=all against 475 ms with acks=1).
  it('a scheduled replication round keeps the event loop awake', () => {
    cluster.createTopic('awake', { partitions: 1, replicationFactor: 3 })
    const immediates = () => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length
    const before = immediates()
    cluster.topics.partition('awake', 0)!.scheduleReplication()
    expect(immediates()).toBe(before + 1)
  })
  // Every acks=-1 wait listened for the connection's abort on its own: a Produce to more than
  // ten partitions printed MaxListenersExceededWarning (one listener per partition on ctx.signal).
  it('one acks=-1 Produce waiting on many partitions adds one abort listener, not one per partition', async () => {
    const partitions = 16
    cluster.createTopic('wide', { assignments: Array.from({ length: partitions }, () => [0, 1, 2]) })
    const warnings: Error[] = []
    const onWarning = (w: Error): void => {
      warnings.push(w)
    }
    process.on('warning', onWarning)
    try {
      const c = await connect(0)
      const partitionData = await Promise.all(
        Array.from({ length: partitions }, async (_, index) => ({ index, records: await makeBatch(1) })),
      )
      const r = await c.send(Produce, 11, { acks: -1, timeoutMs: 2000, topicData: [{ name: 'wide', partitionData }] })
      expect(r.responses[0]!.partitionResponses.map((p) => p.errorCode)).toEqual(Array(partitions).fill(0))
      await sleep(10) // process warnings are emitted on a later tick
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([])
  })
})
