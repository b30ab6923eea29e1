// Produce, Fetch, ListOffsets, DeleteRecords, OffsetForLeaderEpoch and the partition log.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { crc32c } from '../../src/protocol/crc32c.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { DeleteRecords } from '../../src/protocol/messages/delete-records.js'
import { Fetch, type FetchRequest, type FetchResponse } from '../../src/protocol/messages/fetch.js'
import { IncrementalAlterConfigs } from '../../src/protocol/messages/incremental-alter-configs.js'
import { ListOffsets } from '../../src/protocol/messages/list-offsets.js'
import { OffsetForLeaderEpoch } from '../../src/protocol/messages/offset-for-leader-epoch.js'
import { Produce, type ProduceResponsePartitionProduceResponse } from '../../src/protocol/messages/produce.js'
import { decodeRecordBatches, readBatchHeader, splitBatches } from '../../src/protocol/record-batch.js'
import type { Input } from '../../src/protocol/api.js'
import { makeBatch, sleep, TestClient } from './helpers.js'

async function produce(
  c: TestClient,
  topic: string,
  partition: number,
  records: Buffer | null,
  opts: { acks?: number; version?: number; timeoutMs?: number; transactionalId?: string | null } = {},
): Promise<ProduceResponsePartitionProduceResponse> {
  const r = await c.send(Produce, opts.version ?? 9, {
    transactionalId: opts.transactionalId ?? null,
    acks: opts.acks ?? -1,
    timeoutMs: opts.timeoutMs ?? 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  })
  return r.responses[0]!.partitionResponses[0]!
}

function fetchReq(
  topic: string,
  partition: number,
  fetchOffset: bigint,
  extra: Partial<Input<FetchRequest>> = {},
  partitionMaxBytes = 1 << 20,
): Input<FetchRequest> {
  return {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 50 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, fetchOffset, partitionMaxBytes }] }],
    ...extra,
  }
}

function firstPartition(r: FetchResponse) {
  return r.responses[0]!.partitions[0]!
}

describe('Produce', () => {
  let cluster: Cluster
  let c: TestClient
  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 1 })
    c = await TestClient.connect(cluster.bootstrapServers[0]!)
    await c.send(CreateTopics, 7, {
      topics: [
        { name: 'p', numPartitions: 2, replicationFactor: 1 },
        {
          name: 'small',
          numPartitions: 1,
          replicationFactor: 1,
          configs: [{ name: 'max.message.bytes', value: '200' }],
        },
        {
          name: 'compacted',
          numPartitions: 1,
          replicationFactor: 1,
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        },
        {
          name: 'lat',
          numPartitions: 1,
          replicationFactor: 1,
          configs: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
        },
      ],
    })
  })
  afterAll(async () => {
    c.close()
    await cluster.stop()
  })

  it('assigns offsets in place, at every version v3-v12', async () => {
    let expected = 0n
    for (let v = 3; v <= 12; v++) {
      const r = await produce(c, 'p', 0, await makeBatch(3), { version: v })
      expect(r).toMatchObject({ errorCode: 0, baseOffset: expected })
      expected += 3n
    }
    const stored = [...cluster.topics.partition('p', 0)!.log.batches()]
    expect(stored.map((b) => b.baseOffset)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27])
    expect(readBatchHeader(stored[1]!.data).baseOffset).toBe(3n)
  })

  it('rejects corrupt, legacy, multi-batch, oversized and misdirected records with Kafka codes', async () => {
    const corrupt = Buffer.from(await makeBatch(2))
    corrupt[corrupt.length - 1]! ^= 0xff
    expect((await produce(c, 'p', 1, corrupt)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE)

    const legacy = Buffer.from(await makeBatch(1))
    legacy[16] = 1
    expect((await produce(c, 'p', 1, legacy)).errorCode).toBe(ErrorCode.INVALID_RECORD)

    const two = Buffer.concat([await makeBatch(1), await makeBatch(1)])
    expect((await produce(c, 'p', 1, two)).errorCode).toBe(ErrorCode.INVALID_RECORD)
    expect((await produce(c, 'p', 1, null)).errorCode).toBe(ErrorCode.INVALID_RECORD)

    const big = await makeBatch(20)
    const tooLarge = await produce(c, 'small', 0, big, { version: 9 })
    // RecordTooLargeException: no message, no log start offset (ReplicaManager.handleAppendError).
    expect(tooLarge).toMatchObject({ errorCode: ErrorCode.MESSAGE_TOO_LARGE, errorMessage: null, logStartOffset: -1n })

    expect((await produce(c, 'nope', 0, await makeBatch(1))).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    expect((await produce(c, 'p', 9, await makeBatch(1))).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    expect((await produce(c, 'p', 1, await makeBatch(1), { acks: 2 })).errorCode).toBe(ErrorCode.INVALID_REQUIRED_ACKS)

    // zstd needs Produce v7+: flip the codec bits and fix the CRC.
    const zstd = Buffer.from(await makeBatch(1))
    zstd.writeInt16BE(zstd.readInt16BE(21) | 4, 21)
    zstd.writeUInt32BE(crc32c(zstd, 21), 17)
    expect((await produce(c, 'p', 1, zstd, { version: 6 })).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE)
    expect(cluster.topics.partition('p', 1)!.log.endOffset).toBe(0)
  })

  it('rejects null keys on a compacted topic with record errors', async () => {
    const r = await produce(c, 'compacted', 0, await makeBatch(3, { key: (i) => (i === 1 ? null : `k${i}`) }), {
      version: 9,
    })
    expect(r.errorCode).toBe(ErrorCode.INVALID_RECORD)
    const keyError = 'Compacted topic cannot accept message without key in topic partition compacted-0.'
    expect(r.recordErrors).toEqual([{ batchIndex: 1, batchIndexErrorMessage: keyError }])
    // LogValidator.processRecordErrors' message (a RecordValidationException's is sent as is).
    expect(r.errorMessage).toBe(
      `One or more records have been rejected due to 1 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=1, message='${keyError}')]`,
    )
    expect(r.logStartOffset).toBe(0n)
    expect((await produce(c, 'compacted', 0, await makeBatch(3, { key: (i) => `k${i}` }))).errorCode).toBe(0)
  })

  it('stamps LogAppendTime', async () => {
    const before = Date.now()
    const r = await produce(c, 'lat', 0, await makeBatch(2, { timestamp: 1000 }))
    expect(Number(r.logAppendTimeMs)).toBeGreaterThanOrEqual(before)
    const stored = [...cluster.topics.partition('lat', 0)!.log.batches()][0]!
    const [batch] = await decodeRecordBatches(stored.data)
    expect(batch!.timestampType).toBe('log-append')
    expect(batch!.records.every((rec) => rec.timestamp === r.logAppendTimeMs)).toBe(true)
  })

  it("answers partition errors with Kafka's errorMessage, recordErrors and logStartOffset", async () => {
    await c.send(CreateTopics, 7, {
      topics: [
        {
          name: 'errs',
          numPartitions: 1,
          replicationFactor: 1,
          configs: [{ name: 'message.timestamp.before.max.ms', value: '60000' }],
        },
      ],
    })
    expect((await produce(c, 'errs', 0, await makeBatch(3))).errorCode).toBe(0)
    const del = await c.send(DeleteRecords, 2, {
      topics: [{ name: 'errs', partitions: [{ partitionIndex: 0, offset: 2n }] }],
      timeoutMs: 5000,
    })
    expect(del.topics[0]!.partitions[0]!.errorCode).toBe(0)

    // INVALID_TIMESTAMP (LogValidator.validateTimestamp per record, processRecordErrors).
    const old = Date.now() - 3_600_000
    const ts = await produce(c, 'errs', 0, await makeBatch(2, { timestamp: old }))
    expect(ts).toMatchObject({
      errorCode: ErrorCode.INVALID_TIMESTAMP,
      errorMessage: 'One or more records have been rejected due to invalid timestamp',
      logStartOffset: 2n,
      baseOffset: -1n,
    })
    expect(ts.recordErrors.map((e) => e.batchIndex)).toEqual([0, 1])
    expect(ts.recordErrors[1]!.batchIndexErrorMessage).toMatch(
      new RegExp(
        `^Timestamp ${old} of message with offset 1 is out of range\\. The timestamp should be within \\[\\d+, \\d+\\]$`,
      ),
    )

    // OUT_OF_ORDER_SEQUENCE_NUMBER and INVALID_PRODUCER_EPOCH: no message, the log start offset.
    const pid = 9090n
    const batch = (seq: number, epoch: number) =>
      makeBatch(1, { producerId: pid, producerEpoch: epoch, baseSequence: seq })
    expect((await produce(c, 'errs', 0, await batch(0, 1))).errorCode).toBe(0)
    expect(await produce(c, 'errs', 0, await batch(5, 1))).toMatchObject({
      errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      errorMessage: null,
      logStartOffset: 2n,
    })
    expect(await produce(c, 'errs', 0, await batch(1, 0))).toMatchObject({
      errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
      errorMessage: null,
      logStartOffset: 2n,
    })
    // min.insync.replicas above the replica count is capped at it (Partition.effectiveMinIsr, as
    // Kafka 4.0.1 and 4.4.0 answer: test/fixtures/broker-metrics): acks=-1 on one replica succeeds.
    await c.send(IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: 'errs',
          configs: [{ name: 'min.insync.replicas', configOperation: 0, value: '2' }],
        },
      ],
      validateOnly: false,
    })
    expect(await produce(c, 'errs', 0, await makeBatch(1))).toMatchObject({ errorCode: 0 })
  })

  it("answers a duplicate batch with the original batch's max timestamp as logAppendTimeMs", async () => {
    const stamp = Date.now() - 5000
    const batch = await makeBatch(2, { producerId: 5151n, producerEpoch: 0, baseSequence: 0, timestamp: stamp })
    const first = await produce(c, 'p', 0, batch)
    expect(first).toMatchObject({ errorCode: 0, logAppendTimeMs: -1n })
    // UnifiedLog.append: appendInfo.setLogAppendTime(duplicate.timestamp) for a CreateTime topic too.
    expect(await produce(c, 'p', 0, batch)).toMatchObject({
      errorCode: 0,
      baseOffset: first.baseOffset,
      logAppendTimeMs: BigInt(stamp),
    })
  })

  it('acks=0 gets no response; a failed acks=0 produce closes the connection', async () => {
    const c2 = await TestClient.connect(cluster.bootstrapServers[0]!)
    c2.sendOneWay(Produce, 9, {
      acks: 0,
      timeoutMs: 1000,
      topicData: [{ name: 'p', partitionData: [{ index: 1, records: await makeBatch(1) }] }],
    })
    const next = await produce(c2, 'p', 1, await makeBatch(1))
    expect(next).toMatchObject({ errorCode: 0, baseOffset: 1n })
    expect(c2.unexpected).toHaveLength(0)
    c2.sendOneWay(Produce, 9, {
      acks: 0,
      timeoutMs: 1000,
      topicData: [{ name: 'nope', partitionData: [{ index: 0, records: await makeBatch(1) }] }],
    })
    await c2.closed
  })

  it('is idempotent like Kafka: duplicates get the original offsets, gaps and stale epochs fail', async () => {
    const pid = 4242n
    const batch = (seq: number, n: number, epoch = 0) =>
      makeBatch(n, { producerId: pid, producerEpoch: epoch, baseSequence: seq })
    const first = await produce(c, 'p', 0, await batch(0, 5))
    const base = first.baseOffset
    expect((await produce(c, 'p', 0, await batch(5, 5))).baseOffset).toBe(base + 5n)
    // The same batch again (a retry): acknowledged with the original offset, not appended.
    const end = cluster.topics.partition('p', 0)!.log.endOffset
    expect(await produce(c, 'p', 0, await batch(0, 5))).toMatchObject({ errorCode: 0, baseOffset: base })
    expect(await produce(c, 'p', 0, await batch(5, 5))).toMatchObject({ errorCode: 0, baseOffset: base + 5n })
    expect(cluster.topics.partition('p', 0)!.log.endOffset).toBe(end)
    // A gap.
    expect((await produce(c, 'p', 0, await batch(11, 1))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
    // A new epoch must start at sequence 0.
    expect((await produce(c, 'p', 0, await batch(3, 1, 1))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
    expect((await produce(c, 'p', 0, await batch(0, 1, 1))).errorCode).toBe(0)
    // The old epoch is now fenced.
    expect((await produce(c, 'p', 0, await batch(10, 1, 0))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH)
    // Only the last 5 batches are remembered: an older retry is out of order.
    for (let s = 1; s <= 6; s++) await produce(c, 'p', 0, await batch(s, 1, 1))
    expect((await produce(c, 'p', 0, await batch(1, 1, 1))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
    // A producer this partition has never seen is accepted at any sequence (Kafka 4, no UNKNOWN_PRODUCER_ID).
    expect(
      (await produce(c, 'p', 0, await makeBatch(1, { producerId: 777n, producerEpoch: 3, baseSequence: 42 })))
        .errorCode,
    ).toBe(0)
    // A producer id without a sequence is invalid.
    expect(
      (await produce(c, 'p', 0, await makeBatch(1, { producerId: 778n, producerEpoch: 0, baseSequence: -1 })))
        .errorCode,
    ).toBe(ErrorCode.INVALID_RECORD)
  })
})

describe('Fetch', () => {
  let cluster: Cluster
  let c: TestClient
  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 2 })
    c = await TestClient.connect(cluster.bootstrapServers[0]!)
    await c.send(CreateTopics, 7, {
      topics: [
        {
          name: 'f',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [
            { partitionIndex: 0, brokerIds: [0, 1] },
            { partitionIndex: 1, brokerIds: [1, 0] },
          ],
        },
        { name: 'g', numPartitions: 1, replicationFactor: 1 },
        // Broker 0 is no replica: a follower serves a v11+ consumer fetch (KIP-392).
        { name: 'fl', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] },
      ],
    })
    for (let i = 0; i < 5; i++) await produce(c, 'f', 0, await makeBatch(10, { valuePrefix: `b${i}` }))
  })
  afterAll(async () => {
    c.close()
    await cluster.stop()
  })

  it('returns the stored batches at every version v4-v17', async () => {
    const topicId = cluster.topics.get('f')!.id
    for (let v = 4; v <= 17; v++) {
      const req = fetchReq('f', 0, 0n)
      if (v >= 13)
        req.topics = [{ topicId, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }]
      const r = await c.send(Fetch, v, req)
      const p = firstPartition(r)
      expect(p).toMatchObject({ errorCode: 0, highWatermark: 50n, logStartOffset: v >= 5 ? 0n : -1n })
      if (v >= 13) expect(r.responses[0]!.topicId).toBe(topicId)
      const batches = await decodeRecordBatches(p.records)
      expect(batches.map((b) => b.baseOffset)).toEqual([0n, 10n, 20n, 30n, 40n])
    }
  })

  it('starts at the batch containing the fetch offset and reports OFFSET_OUT_OF_RANGE', async () => {
    const p = firstPartition(await c.send(Fetch, 12, fetchReq('f', 0, 25n)))
    expect((await decodeRecordBatches(p.records)).map((b) => b.baseOffset)).toEqual([20n, 30n, 40n])
    const atEnd = firstPartition(await c.send(Fetch, 12, fetchReq('f', 0, 50n)))
    expect(atEnd).toMatchObject({ errorCode: 0 })
    expect(atEnd.records?.length ?? 0).toBe(0)
    expect(firstPartition(await c.send(Fetch, 12, fetchReq('f', 0, 51n))).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE)
  })

  it('returns at least one whole batch, and cuts the last batch at the byte limit', async () => {
    const sizes = [...cluster.topics.partition('f', 0)!.log.batches()].map((b) => b.data.length)
    const one = firstPartition(await c.send(Fetch, 12, fetchReq('f', 0, 0n, {}, 10)))
    expect(one.records!.length).toBe(sizes[0])
    const limit = sizes[0]! + 20
    const cut = firstPartition(await c.send(Fetch, 12, fetchReq('f', 0, 0n, {}, limit)))
    expect(cut.records!.length).toBe(limit)
    expect(splitBatches(cut.records!)).toHaveLength(1)
    // The response limit applies across partitions; the first partition still gets its first batch.
    const r = await c.send(Fetch, 12, fetchReq('f', 0, 0n, { maxBytes: 1 }))
    expect(firstPartition(r).records!.length).toBe(sizes[0])
  })

  it('serves a consumer fetch from a follower from v11 (KIP-392), not before', async () => {
    const follower = await TestClient.connect(cluster.bootstrapServers[1]!)
    try {
      await waitForFollower(cluster, 'f', 0, 1)
      const v11 = firstPartition(await follower.send(Fetch, 11, fetchReq('f', 0, 0n)))
      expect(v11.errorCode).toBe(0)
      expect((await decodeRecordBatches(v11.records)).map((b) => b.baseOffset)[0]).toBe(0n)
      expect(v11.preferredReadReplica).toBe(-1)
      const v10 = firstPartition(await follower.send(Fetch, 10, fetchReq('f', 0, 0n)))
      expect(v10.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
    } finally {
      follower.close()
    }
  })

  it('answers NOT_LEADER_OR_FOLLOWER with the current leader (v12+ tagged, v16 endpoints)', async () => {
    const p = firstPartition(await c.send(Fetch, 12, fetchReq('fl', 0, 0n)))
    expect(p.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
    expect(p.currentLeader).toMatchObject({ leaderId: 1 })
    const topicId = cluster.topics.get('fl')!.id
    const r = await c.send(Fetch, 16, {
      ...fetchReq('fl', 0, 0n),
      topics: [{ topicId, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 100 }] }],
    })
    expect(firstPartition(r).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
    expect(r.nodeEndpoints.map((e) => e.nodeId)).toEqual([1])
    // v13+ with an unknown topic id.
    const unknownId = await c.send(Fetch, 16, fetchReq('fl', 0, 0n))
    expect(firstPartition(unknownId).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID)
    const prod = await c.send(Produce, 10, {
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: 'f', partitionData: [{ index: 1, records: await makeBatch(1) }] }],
    })
    expect(prod.responses[0]!.partitionResponses[0]).toMatchObject({
      errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
      currentLeader: { leaderId: 1 },
    })
    expect(prod.nodeEndpoints.map((e) => e.nodeId)).toEqual([1])
  })

  it('long polls until data arrives or MaxWaitMs passes', async () => {
    const c2 = await TestClient.connect(cluster.bootstrapServers[0]!)
    const start = Date.now()
    const pending = c2.send(Fetch, 12, fetchReq('g', 0, 0n, { maxWaitMs: 10_000, minBytes: 1 }))
    await sleep(100)
    await produce(c, 'g', 0, await makeBatch(1))
    const r = await pending
    expect(Date.now() - start).toBeLessThan(5000)
    expect(firstPartition(r).records!.length).toBeGreaterThan(0)

    const t0 = Date.now()
    const empty = await c2.send(Fetch, 12, fetchReq('g', 0, 1n, { maxWaitMs: 300, minBytes: 1 }))
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250)
    expect(firstPartition(empty).records?.length ?? 0).toBe(0)

    // MinBytes larger than one batch: keeps waiting until enough bytes are there.
    const big = c2.send(Fetch, 12, fetchReq('g', 0, 1n, { maxWaitMs: 10_000, minBytes: 150 }))
    await produce(c, 'g', 0, await makeBatch(1))
    await sleep(100)
    let done = false
    void big.then(() => (done = true))
    await sleep(50)
    expect(done).toBe(false)
    await produce(c, 'g', 0, await makeBatch(5))
    const full = await big
    expect(firstPartition(full).records!.length).toBeGreaterThanOrEqual(150)
    c2.close()
  })

  it('fetch sessions: full, incremental, epochs, forgotten partitions (KIP-227)', async () => {
    const c3 = await TestClient.connect(cluster.bootstrapServers[0]!)
    const hw = BigInt(cluster.topics.partition('g', 0)!.highWatermark)
    const created = await c3.send(Fetch, 12, {
      ...fetchReq('g', 0, hw),
      sessionId: 0,
      sessionEpoch: 0,
      topics: [
        { topic: 'g', partitions: [{ partition: 0, fetchOffset: hw, partitionMaxBytes: 1 << 20 }] },
        { topic: 'f', partitions: [{ partition: 0, fetchOffset: 50n, partitionMaxBytes: 1 << 20 }] },
      ],
    })
    expect(created.errorCode).toBe(0)
    expect(created.sessionId).toBeGreaterThan(0)
    expect(created.responses.flatMap((t) => t.partitions)).toHaveLength(2)
    const sessionId = created.sessionId

    // Nothing changed: an incremental response carries no partitions.
    const quiet = await c3.send(Fetch, 12, { ...fetchReq('g', 0, hw), sessionId, sessionEpoch: 1, topics: [] })
    expect(quiet.errorCode).toBe(0)
    expect(quiet.responses).toEqual([])

    await produce(c, 'g', 0, await makeBatch(1))
    const news = await c3.send(Fetch, 12, { ...fetchReq('g', 0, hw), sessionId, sessionEpoch: 2, topics: [] })
    expect(news.responses.map((t) => t.topic)).toEqual(['g'])
    expect(firstPartition(news).records!.length).toBeGreaterThan(0)

    const wrongEpoch = await c3.send(Fetch, 12, { ...fetchReq('g', 0, hw), sessionId, sessionEpoch: 7, topics: [] })
    expect(wrongEpoch.errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH)
    const unknown = await c3.send(Fetch, 12, {
      ...fetchReq('g', 0, hw),
      sessionId: 999_999,
      sessionEpoch: 1,
      topics: [],
    })
    expect(unknown.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND)

    // Forget 'g'; then only 'f' remains in the session.
    const forgot = await c3.send(Fetch, 12, {
      ...fetchReq('g', 0, hw),
      sessionId,
      sessionEpoch: 3,
      topics: [],
      forgottenTopicsData: [{ topic: 'g', partitions: [0] }],
    })
    expect(forgot.errorCode).toBe(0)
    expect(cluster.brokers[0]!.fetchSessions.get(sessionId)!.partitions.size).toBe(1)
    // Closing the session (epoch -1) makes a sessionless full fetch.
    const closed = await c3.send(Fetch, 12, { ...fetchReq('g', 0, hw), sessionId, sessionEpoch: -1 })
    expect(closed.sessionId).toBe(0)
    expect(cluster.brokers[0]!.fetchSessions.get(sessionId)).toBeUndefined()
    c3.close()
  })

  it('ListOffsets: earliest, latest, by timestamp, max timestamp; DeleteRecords moves the start', async () => {
    await c.send(CreateTopics, 7, {
      topics: [
        { name: 'lo', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [0] }] },
      ],
    })
    await produce(c, 'lo', 0, await makeBatch(2, { timestamp: 1000 }))
    await produce(c, 'lo', 0, await makeBatch(2, { timestamp: 5000 }))
    await produce(c, 'lo', 0, await makeBatch(2, { timestamp: 3000 }))
    const list = async (timestamp: bigint, v = 9) =>
      (
        await c.send(ListOffsets, v, {
          replicaId: -1,
          topics: [{ name: 'lo', partitions: [{ partitionIndex: 0, timestamp }] }],
        })
      ).topics[0]!.partitions[0]!
    expect(await list(-2n)).toMatchObject({ errorCode: 0, offset: 0n })
    expect(await list(-1n)).toMatchObject({ errorCode: 0, offset: 6n })
    expect(await list(2000n)).toMatchObject({ offset: 2n, timestamp: 5000n })
    expect(await list(9000n)).toMatchObject({ offset: -1n, timestamp: -1n })
    expect(await list(-3n)).toMatchObject({ offset: 2n, timestamp: 5000n })
    for (let v = 1; v <= 10; v++) expect((await list(-1n, v)).offset).toBe(6n)

    const del = await c.send(DeleteRecords, 2, {
      topics: [{ name: 'lo', partitions: [{ partitionIndex: 0, offset: 3n }] }],
      timeoutMs: 1000,
    })
    expect(del.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 3n })
    expect(await list(-2n)).toMatchObject({ offset: 3n })
    expect(firstPartition(await c.send(Fetch, 12, fetchReq('lo', 0, 1n))).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE)
    const beyond = await c.send(DeleteRecords, 2, {
      topics: [{ name: 'lo', partitions: [{ partitionIndex: 0, offset: 99n }] }],
      timeoutMs: 1000,
    })
    expect(beyond.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE)
    const all = await c.send(DeleteRecords, 2, {
      topics: [{ name: 'lo', partitions: [{ partitionIndex: 0, offset: -1n }] }],
      timeoutMs: 1000,
    })
    expect(all.topics[0]!.partitions[0]!.lowWatermark).toBe(6n)
  })

  it('OffsetForLeaderEpoch follows leader changes', async () => {
    const p = cluster.topics.partition('f', 0)!
    expect(p.leaderEpoch).toBe(0)
    cluster.faults.moveLeader('f', 0, 1)
    const c1 = await TestClient.connect(cluster.bootstrapServers[1]!)
    await produce(c1, 'f', 0, await makeBatch(3))
    const r = await c1.send(OffsetForLeaderEpoch, 4, {
      replicaId: -1,
      topics: [{ topic: 'f', partitions: [{ partition: 0, currentLeaderEpoch: 1, leaderEpoch: 0 }] }],
    })
    expect(r.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, leaderEpoch: 0, endOffset: 50n })
    const current = await c1.send(OffsetForLeaderEpoch, 4, {
      replicaId: -1,
      topics: [{ topic: 'f', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 1 }] }],
    })
    expect(current.topics[0]!.partitions[0]).toMatchObject({ leaderEpoch: 1, endOffset: 53n })
    const fenced = await c1.send(OffsetForLeaderEpoch, 4, {
      replicaId: -1,
      topics: [{ topic: 'f', partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }] }],
    })
    expect(fenced.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH)
    const old = await c.send(OffsetForLeaderEpoch, 4, {
      replicaId: -1,
      topics: [{ topic: 'f', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
    })
    expect(old.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER)
    // A fetch with a stale leader epoch is fenced too.
    const stale = await c1.send(Fetch, 12, {
      ...fetchReq('f', 0, 0n),
      topics: [
        { topic: 'f', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1000, currentLeaderEpoch: 0 }] },
      ],
    })
    expect(firstPartition(stale).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH)
    c1.close()
  })
})

describe('retention and compaction', () => {
  let cluster: Cluster
  let c: TestClient
  beforeAll(async () => {
    cluster = await Cluster.start()
    c = await TestClient.connect(cluster.bootstrapServers[0]!)
  })
  afterAll(async () => {
    c.close()
    await cluster.stop()
  })

  it('deletes whole old segments by size and by time', async () => {
    await c.send(CreateTopics, 7, {
      topics: [
        { name: 'ret', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'segment.bytes', value: '300' }] },
      ],
    })
    for (let i = 0; i < 10; i++) await produce(c, 'ret', 0, await makeBatch(2, { timestamp: Date.now() - 60_000 }))
    const p = cluster.topics.partition('ret', 0)!
    expect(p.log.logStartOffset).toBe(0)
    await c.send(IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: 'ret',
          configs: [{ name: 'retention.bytes', configOperation: 0, value: '600' }],
        },
      ],
    })
    const sizeBefore = p.log.size
    await cluster.runLogCleaner()
    // Kafka deletes the oldest segments while what remains stays at or above retention.bytes.
    expect(p.log.size).toBeLessThan(sizeBefore)
    expect(p.log.size).toBeGreaterThanOrEqual(600)
    expect(p.log.logStartOffset).toBeGreaterThan(0)
    await c.send(IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: 'ret',
          configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }],
        },
      ],
    })
    await cluster.runLogCleaner()
    expect(p.log.logStartOffset).toBe(20)
    expect(p.log.size).toBe(0)
    // The log continues at its end offset.
    expect((await produce(c, 'ret', 0, await makeBatch(1))).baseOffset).toBe(20n)
  })

  it('compacts closed segments to the latest record per key', async () => {
    await c.send(CreateTopics, 7, {
      topics: [
        {
          name: 'cmp',
          numPartitions: 1,
          replicationFactor: 1,
          configs: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '200' },
          ],
        },
      ],
    })
    for (let i = 0; i < 6; i++)
      await produce(c, 'cmp', 0, await makeBatch(3, { key: (j) => `k${j}`, valuePrefix: `round${i}` }))
    await cluster.runLogCleaner()
    const p = cluster.topics.partition('cmp', 0)!
    const records = (await Promise.all([...p.log.batches()].map((b) => decodeRecordBatches(b.data))))
      .flat()
      .flatMap((b) => b.records)
    // Offsets are kept; earlier values of each key are gone from the closed segments.
    const byKey = new Map<string, bigint[]>()
    for (const r of records) byKey.set(r.key!.toString(), [...(byKey.get(r.key!.toString()) ?? []), r.offset])
    expect(records.length).toBeLessThan(18)
    for (const offsets of byKey.values()) expect(offsets[offsets.length - 1]).toBeGreaterThanOrEqual(15n)
    const offsets = records.map((r) => r.offset)
    expect([...offsets].sort((a, b) => (a < b ? -1 : 1))).toEqual(offsets)
    // Still readable from the start.
    const f = firstPartition(await c.send(Fetch, 12, fetchReq('cmp', 0, 0n)))
    expect(f.errorCode).toBe(0)
  })
})

/** Waits until `broker` has copied the partition up to the leader's high watermark. */
async function waitForFollower(cluster: Cluster, topic: string, partition: number, broker: number): Promise<void> {
  const p = cluster.topics.partition(topic, partition)!
  for (let i = 0; i < 100 && (p.followerHw.get(broker) ?? 0) < p.highWatermark; i++)
    await new Promise((r) => setTimeout(r, 20))
}
