// The reference broker's transactions as Kafka 4.x serves them: Transactions V2 (KIP-890 part 2)
// next to V1, markers written after EndTxn (the LSO trails it), timeouts that fence, and
// recovery after a coordinator move or a restart. The Java client (kafka-clients 4.4, through
// test/helpers/java-tx.ts) is the judge where it can be: it picks V2 or V1 from what ApiVersions
// advertises, and its read_committed consumer says what is visible.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { AddPartitionsToTxn } from '../../src/protocol/messages/add-partitions-to-txn.js'
import { ApiVersions } from '../../src/protocol/messages/api-versions.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { EndTxn } from '../../src/protocol/messages/end-txn.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { FindCoordinator } from '../../src/protocol/messages/find-coordinator.js'
import { InitProducerId } from '../../src/protocol/messages/init-producer-id.js'
import { OffsetFetch } from '../../src/protocol/messages/offset-fetch.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { TxnOffsetCommit } from '../../src/protocol/messages/txn-offset-commit.js'
import { decodeControlRecord, decodeRecordBatches } from '../../src/protocol/record-batch.js'
import { javaConsume, javaProduce, type TxStep } from '../helpers/java-tx.js'
import { makeBatch, sleep, TestClient } from './helpers.js'

/** A raw transactional producer over one connection to a cluster (coordinator found per request). */
function rawProducer(cluster: Cluster, topic: string) {
  const clients = new Map<string, TestClient>()
  const to = async (address: string) => {
    let c = clients.get(address)
    if (c === undefined) clients.set(address, (c = await TestClient.connect(address)))
    return c
  }
  const coordinator = (txnId: string) => to(cluster.coordinatorFor(txnId)!.address)
  const leader = (partition: number) => {
    const p = cluster.topics.partition(topic, partition)!
    return to(cluster.broker(p.leader).address)
  }
  return {
    init: async (txnId: string, timeoutMs = 60_000) =>
      (await coordinator(txnId)).send(InitProducerId, 5, {
        transactionalId: txnId,
        transactionTimeoutMs: timeoutMs,
        producerId: -1n,
        producerEpoch: -1,
      }),
    produce: async (
      txnId: string,
      pid: bigint,
      epoch: number,
      seq: number,
      partition: number,
      version: number,
      n = 2,
    ) =>
      (
        await (
          await leader(partition)
        ).send(Produce, version, {
          transactionalId: txnId,
          acks: -1,
          timeoutMs: 1000,
          topicData: [
            {
              name: topic,
              partitionData: [
                {
                  index: partition,
                  records: await makeBatch(n, {
                    producerId: pid,
                    producerEpoch: epoch,
                    baseSequence: seq,
                    transactional: true,
                  }),
                },
              ],
            },
          ],
        })
      ).responses[0]!.partitionResponses[0]!,
    addPartitions: async (txnId: string, pid: bigint, epoch: number, partitions: number[]) =>
      (
        await (
          await coordinator(txnId)
        ).send(AddPartitionsToTxn, 3, {
          v3AndBelowTransactionalId: txnId,
          v3AndBelowProducerId: pid,
          v3AndBelowProducerEpoch: epoch,
          v3AndBelowTopics: [{ name: topic, partitions }],
        })
      ).resultsByTopicV3AndBelow[0]!.resultsByPartition.map((r) => r.partitionErrorCode),
    endTxn: async (txnId: string, pid: bigint, epoch: number, committed: boolean, version = 5) =>
      (await coordinator(txnId)).send(EndTxn, version, {
        transactionalId: txnId,
        producerId: pid,
        producerEpoch: epoch,
        committed,
      }),
    fetchCommitted: async (partition: number) =>
      (
        await (
          await leader(partition)
        ).send(Fetch, 12, {
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          isolationLevel: 1,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
        })
      ).responses[0]!.partitions[0]!,
    client: to,
    close: () => {
      for (const c of clients.values()) c.close()
    },
  }
}

/** Waits until the transaction's markers are written and the high watermark moved past them. */
async function settled(cluster: Cluster, txnId: string): Promise<string> {
  for (let i = 0; i < 250 && cluster.transactions.txns.get(txnId)!.state.startsWith('Prepare'); i++) await sleep(20)
  await sleep(50)
  return cluster.transactions.txns.get(txnId)!.state
}

// Raw requests with exact answers expected: the clusters start with their group coordinators
// loaded (coordinatorLoadRequests: 0); the clients' retries of a load are tested elsewhere.
describe('Transactions V2 on the wire', () => {
  let cluster: Cluster
  let p: ReturnType<typeof rawProducer>
  beforeAll(async () => {
    cluster = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 3, transactionMarkerDelayMs: 100 })
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    await c.send(CreateTopics, 7, { topics: [{ name: 'v2', numPartitions: 2, replicationFactor: 3 }] })
    c.close()
    p = rawProducer(cluster, 'v2')
  })
  afterAll(async () => {
    p.close()
    await cluster.stop()
  })

  it('ApiVersions: transaction.version supported 0-2 and finalized at 2, as a fresh Kafka 4.4 cluster', async () => {
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    const r = await c.send(ApiVersions, 4, { clientSoftwareName: 't', clientSoftwareVersion: '1' })
    c.close()
    expect(r.supportedFeatures).toContainEqual(
      expect.objectContaining({ name: 'transaction.version', minVersion: 0, maxVersion: 2 }),
    )
    expect(r.finalizedFeatures).toContainEqual(
      expect.objectContaining({ name: 'transaction.version', minVersionLevel: 2, maxVersionLevel: 2 }),
    )
  })

  it('Produce v12 adds the partition; EndTxn v5 bumps the epoch; the old epoch is fenced', async () => {
    const { producerId: pid, producerEpoch: epoch } = await p.init('v2-a')
    // No AddPartitionsToTxn: the partition leader registers the partition with the coordinator.
    const first = await p.produce('v2-a', pid, epoch, 0, 0, 12)
    expect(first.errorCode).toBe(0)
    expect([...cluster.transactions.txns.get('v2-a')!.partitions.get('v2')!]).toEqual([0])
    expect(cluster.transactions.txns.get('v2-a')!.state).toBe('Ongoing')
    const end = await p.endTxn('v2-a', pid, epoch, true)
    expect(end).toMatchObject({ errorCode: 0, producerId: pid, producerEpoch: epoch + 1 })
    // While the markers are on their way the next transaction waits; a retry of the same EndTxn
    // (the epoch before the bump) gets CONCURRENT_TRANSACTIONS, the opposite outcome is refused.
    expect((await p.produce('v2-a', pid, epoch + 1, 0, 1, 12)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS)
    expect((await p.endTxn('v2-a', pid, epoch, true)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS)
    expect((await p.endTxn('v2-a', pid, epoch, false)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE)
    expect(await settled(cluster, 'v2-a')).toBe('CompleteCommit')
    // The retry after completion is answered OK with the current epoch.
    expect(await p.endTxn('v2-a', pid, epoch, true)).toMatchObject({ errorCode: 0, producerEpoch: epoch + 1 })
    // The marker carries the bumped epoch, so a late batch of the finished transaction is fenced.
    const f = await p.fetchCommitted(0)
    const batches = await decodeRecordBatches(f.records)
    expect(batches.map((b) => b.isControl)).toEqual([false, true])
    expect(batches[1]!.producerEpoch).toBe(epoch + 1)
    expect(decodeControlRecord(batches[1]!.records[0]!).type).toBe('commit')
    expect((await p.produce('v2-a', pid, epoch, 2, 0, 12)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH)
    // The next transaction runs on the new epoch, sequence 0.
    expect((await p.produce('v2-a', pid, epoch + 1, 0, 0, 12)).errorCode).toBe(0)
    expect((await p.endTxn('v2-a', pid, epoch + 1, false)).producerEpoch).toBe(epoch + 2)
    expect(await settled(cluster, 'v2-a')).toBe('CompleteAbort')
    expect((await p.fetchCommitted(0)).abortedTransactions).toEqual([{ producerId: pid, firstOffset: 3n }])
  })

  it('V2 aborts a transaction that added nothing, and refuses to commit it', async () => {
    const { producerId: pid, producerEpoch: epoch } = await p.init('v2-empty')
    expect((await p.endTxn('v2-empty', pid, epoch, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE)
    expect(await p.endTxn('v2-empty', pid, epoch, false)).toMatchObject({ errorCode: 0, producerEpoch: epoch + 1 })
    expect(await settled(cluster, 'v2-empty')).toBe('CompleteAbort')
    // V1 (EndTxn v4) refuses both.
    const v1 = await p.init('v1-empty')
    expect((await p.endTxn('v1-empty', v1.producerId, v1.producerEpoch, false, 4)).errorCode).toBe(
      ErrorCode.INVALID_TXN_STATE,
    )
  })

  it('V1 paths: Produce to a partition not added is refused; EndTxn v4 keeps the epoch', async () => {
    const { producerId: pid, producerEpoch: epoch } = await p.init('v1-a')
    // TRANSACTION_ABORTABLE from v11 on, INVALID_TXN_STATE for older clients (as Kafka 4.4).
    expect((await p.produce('v1-a', pid, epoch, 0, 1, 11)).errorCode).toBe(ErrorCode.TRANSACTION_ABORTABLE)
    expect((await p.produce('v1-a', pid, epoch, 0, 1, 10)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE)
    expect(await p.addPartitions('v1-a', pid, epoch, [1])).toEqual([0])
    expect((await p.produce('v1-a', pid, epoch, 0, 1, 11)).errorCode).toBe(0)
    expect(await p.endTxn('v1-a', pid, epoch, true, 4)).toMatchObject({ errorCode: 0 })
    expect(await p.addPartitions('v1-a', pid, epoch, [0])).toEqual([ErrorCode.CONCURRENT_TRANSACTIONS])
    expect(await settled(cluster, 'v1-a')).toBe('CompleteCommit')
    expect(cluster.transactions.txns.get('v1-a')!.producerEpoch).toBe(epoch)
  })

  it('TxnOffsetCommit v5 adds the group to a V2 transaction (no AddOffsetsToTxn)', async () => {
    const { producerId: pid, producerEpoch: epoch } = await p.init('v2-offsets')
    const group = await p.client(cluster.coordinatorFor('v2-g')!.address)
    const commit = await group.send(TxnOffsetCommit, 5, {
      transactionalId: 'v2-offsets',
      groupId: 'v2-g',
      producerId: pid,
      producerEpoch: epoch,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'v2', partitions: [{ partitionIndex: 0, committedOffset: 7n, committedMetadata: '' }] }],
    })
    expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(0)
    // v4 (a V1 client) without AddOffsetsToTxn is refused (TRANSACTION_ABORTABLE, as Kafka 4.4).
    const other = await p.init('v1-offsets')
    const v4 = await group.send(TxnOffsetCommit, 4, {
      transactionalId: 'v1-offsets',
      groupId: 'v2-g',
      producerId: other.producerId,
      producerEpoch: other.producerEpoch,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'v2', partitions: [{ partitionIndex: 1, committedOffset: 7n, committedMetadata: '' }] }],
    })
    expect(v4.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TRANSACTION_ABORTABLE)
    expect((await p.endTxn('v2-offsets', pid, epoch, true)).errorCode).toBe(0)
    await settled(cluster, 'v2-offsets')
    const fetched = await group.send(OffsetFetch, 7, {
      groupId: 'v2-g',
      topics: [{ name: 'v2', partitionIndexes: [0] }],
      requireStable: true,
    })
    expect(fetched.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, committedOffset: 7n })
  })

  it('a V2 transaction that times out is aborted with the epoch bumped once (as Kafka 4.x)', async () => {
    const { producerId: pid, producerEpoch: epoch } = await p.init('v2-timeout', 200)
    expect((await p.produce('v2-timeout', pid, epoch, 0, 1, 12)).errorCode).toBe(0)
    await sleep(250)
    cluster.transactions.abortTimedOut(Date.now())
    expect(await settled(cluster, 'v2-timeout')).toBe('CompleteAbort')
    expect(cluster.transactions.txns.get('v2-timeout')!.producerEpoch).toBe(epoch + 1)
    // The old epoch is one behind: taken for a retry whose outcome (abort) differs.
    expect((await p.endTxn('v2-timeout', pid, epoch, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE)
    expect((await p.endTxn('v2-timeout', pid, epoch - 1, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED)
    expect((await p.produce('v2-timeout', pid, epoch, 2, 1, 12)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH)
    const part = cluster.topics.partition('v2', 1)!
    expect(part.lastStableOffset).toBe(part.highWatermark)
  })

  it('a coordinator move mid-transaction: the new coordinator ends it', async () => {
    const { producerId: pid, producerEpoch: epoch } = await p.init('v2-move')
    expect((await p.produce('v2-move', pid, epoch, 0, 0, 12)).errorCode).toBe(0)
    const old = cluster.coordinatorFor('v2-move')!.id
    await cluster.faults.stopBroker(old)
    try {
      const moved = cluster.coordinatorFor('v2-move')!
      expect(moved.id).not.toBe(old)
      const c = await p.client(cluster.bootstrapServers.find((a) => a !== cluster.broker(old).address)!)
      const found = await c.send(FindCoordinator, 4, { keyType: 1, coordinatorKeys: ['v2-move'] })
      expect(found.coordinators[0]).toMatchObject({ errorCode: 0, nodeId: moved.id })
      expect((await p.endTxn('v2-move', pid, epoch, true)).errorCode).toBe(0)
      expect(await settled(cluster, 'v2-move')).toBe('CompleteCommit')
    } finally {
      await cluster.faults.startBroker(old)
    }
  })
})

describe('restart mid-transaction (dataDir, no stop: as after kill -9)', () => {
  it('a logged EndTxn is completed after the restart; an ongoing transaction is aborted after its timeout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kafkats-txn-restart-'))
    // Markers that never come before the "crash".
    const crashed = await Cluster.start({ coordinatorLoadRequests: 0, dataDir: dir, transactionMarkerDelayMs: 600_000 })
    try {
      crashed.createTopic('rt', { partitions: 1 })
      const p = rawProducer(crashed, 'rt')
      const a = await p.init('rt-commit')
      expect((await p.produce('rt-commit', a.producerId, a.producerEpoch, 0, 0, 12)).errorCode).toBe(0)
      const b = await p.init('rt-open', 1000)
      expect((await p.produce('rt-open', b.producerId, b.producerEpoch, 0, 0, 12)).errorCode).toBe(0)
      expect((await p.endTxn('rt-commit', a.producerId, a.producerEpoch, true)).errorCode).toBe(0)
      expect(crashed.transactions.txns.get('rt-commit')!.state).toBe('PrepareCommit')
      p.close()

      const restarted = await Cluster.start({ coordinatorLoadRequests: 0, dataDir: dir })
      try {
        expect(await settled(restarted, 'rt-commit')).toBe('CompleteCommit')
        const part = restarted.topics.partition('rt', 0)!
        // The open transaction still holds the LSO at its first offset (2) until its timeout.
        expect(part.lastStableOffset).toBe(2)
        for (let i = 0; i < 100 && restarted.transactions.txns.get('rt-open')!.state !== 'CompleteAbort'; i++)
          await sleep(50)
        expect(await settled(restarted, 'rt-open')).toBe('CompleteAbort')
        const q = rawProducer(restarted, 'rt')
        const f = await q.fetchCommitted(0)
        q.close()
        expect(f.abortedTransactions).toEqual([{ producerId: b.producerId, firstOffset: 2n }])
        const types = (await decodeRecordBatches(f.records))
          .filter((x) => x.isControl)
          .map((x) => decodeControlRecord(x.records[0]!).type)
        expect(types).toEqual(['commit', 'abort'])
      } finally {
        await restarted.stop()
      }
    } finally {
      await crashed.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }, 30_000)
})

describe('the Java producer against the reference broker, judged by the Java consumer', () => {
  const steps: TxStep[] = [
    {
      op: 'commit',
      records: [
        { partition: 0, key: 'a', value: 'c1' },
        { partition: 1, key: 'b', value: 'c1' },
      ],
    },
    {
      op: 'abort',
      records: [
        { partition: 0, key: 'c', value: 'a2' },
        { partition: 1, key: 'd', value: 'a2' },
      ],
    },
    { op: 'commit', records: [{ partition: 1, key: 'e', value: 'c3' }] },
    { op: 'abort', records: [{ partition: 0, key: 'f', value: 'a4' }] },
    { op: 'commit', records: [{ partition: 0, key: 'g', value: 'c5' }] },
  ]
  for (const transactionVersion of [2, 1]) {
    it(`transaction.version ${transactionVersion}: the client speaks V${transactionVersion}, committed records only are visible`, async () => {
      const cluster = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 3, transactionVersion })
      try {
        cluster.createTopic('java', { partitions: 2 })
        const sent = await javaProduce(cluster.bootstrapServers, 'java-tx', 'java', steps)
        const txn = cluster.transactions.txns.get('java-tx')!
        // V2: every EndTxn bumped the epoch (5 transactions); V1 keeps the InitProducerId epoch.
        expect({ epoch: txn.producerEpoch, tv2: txn.tv2 }).toEqual(
          transactionVersion === 2 ? { epoch: 5, tv2: true } : { epoch: 0, tv2: false },
        )
        const visible = sent.filter((r) => r.op === 'commit')
        const got = await javaConsume(cluster.bootstrapServers, 'java', 'read_committed', { expected: visible.length })
        const key = (r: { partition: number; offset: number; key: string }) => `${r.partition}/${r.offset}/${r.key}`
        expect(got.records.map(key).sort()).toEqual(visible.map(key).sort())
      } finally {
        await cluster.stop()
      }
    }, 120_000)
  }

  it('the transaction coordinator stops and comes back while the Java producer runs 40 transactions', async () => {
    const cluster = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 3 })
    try {
      cluster.createTopic('move', { partitions: 2 })
      const steps: TxStep[] = Array.from({ length: 40 }, (_, i) => ({
        op: i % 3 === 1 ? 'abort' : 'commit',
        records: [
          { partition: i % 2, key: `k${i}`, value: `v${i}` },
          { partition: (i + 1) % 2, key: `k${i}b`, value: `v${i}` },
        ],
      }))
      const running = javaProduce(cluster.bootstrapServers, 'moving-tx', 'move', steps)
      // Wait until transactions are under way, then take the coordinator away for a while.
      // Bounded by time, not a count of polls: the JVM's start alone can take seconds on a busy CPU.
      const deadline = Date.now() + 60_000
      while ((cluster.transactions.txns.get('moving-tx')?.producerEpoch ?? -1) < 3 && Date.now() < deadline)
        await sleep(20)
      const coordinator = cluster.coordinatorFor('moving-tx')!.id
      const epochAtStop = cluster.transactions.txns.get('moving-tx')!.producerEpoch
      await cluster.faults.stopBroker(coordinator)
      await sleep(1500)
      await cluster.faults.startBroker(coordinator)
      const sent = await running
      // Stopped mid-run; every one of the 40 transactions ended with an EndTxn v5 (one bump each).
      expect(epochAtStop).toBeLessThan(40)
      expect(cluster.transactions.txns.get('moving-tx')!.producerEpoch).toBeGreaterThanOrEqual(40)
      const visible = sent.filter((r) => r.op === 'commit')
      expect(visible).toHaveLength(2 * steps.filter((s) => s.op === 'commit').length)
      const got = await javaConsume(cluster.bootstrapServers, 'move', 'read_committed', { expected: visible.length })
      const key = (r: { partition: number; offset: number; key: string }) => `${r.partition}/${r.offset}/${r.key}`
      expect(got.records.map(key).sort()).toEqual(visible.map(key).sort())
    } finally {
      await cluster.stop()
    }
  }, 180_000)

  it('a second Java producer with the same id fences the first, whose open transaction is aborted', async () => {
    const cluster = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 1 })
    try {
      cluster.createTopic('fence', { partitions: 1 })
      const open = await javaProduce(cluster.bootstrapServers, 'same-id', 'fence', [
        { op: 'open', records: [{ partition: 0, key: 'zombie', value: 'z' }] },
      ])
      const next = await javaProduce(cluster.bootstrapServers, 'same-id', 'fence', [
        { op: 'commit', records: [{ partition: 0, key: 'live', value: 'l' }] },
      ])
      const got = await javaConsume(cluster.bootstrapServers, 'fence', 'read_committed', { expected: 1 })
      expect(got.records.map((r) => r.key)).toEqual(['live'])
      expect(next[0]!.offset).toBeGreaterThan(open[0]!.offset)
    } finally {
      await cluster.stop()
    }
  }, 120_000)
})
