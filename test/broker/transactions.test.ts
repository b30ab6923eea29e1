// InitProducerId and transactions over the raw protocol: markers, LSO, aborted-transaction
// lists, transactional offset commits, fencing and timeouts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { AddOffsetsToTxn } from '../../src/protocol/messages/add-offsets-to-txn.js'
import { AddPartitionsToTxn } from '../../src/protocol/messages/add-partitions-to-txn.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { DescribeProducers } from '../../src/protocol/messages/describe-producers.js'
import { EndTxn } from '../../src/protocol/messages/end-txn.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { InitProducerId } from '../../src/protocol/messages/init-producer-id.js'
import { ListOffsets } from '../../src/protocol/messages/list-offsets.js'
import { OffsetFetch } from '../../src/protocol/messages/offset-fetch.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { TxnOffsetCommit } from '../../src/protocol/messages/txn-offset-commit.js'
import { decodeControlRecord, decodeRecordBatches } from '../../src/protocol/record-batch.js'
import { makeBatch, sleep, TestClient } from './helpers.js'

// Raw requests with exact answers expected: the cluster starts with its group coordinators
// loaded (coordinatorLoadRequests: 0); the clients' retries of a load are tested elsewhere.
describe('transactions', () => {
  let cluster: Cluster
  let c: TestClient
  beforeAll(async () => {
    // Markers trail EndTxn by 100 ms here, long enough to observe the Prepare state.
    cluster = await Cluster.start({ brokers: 1, transactionMarkerDelayMs: 100, coordinatorLoadRequests: 0 })
    c = await TestClient.connect(cluster.bootstrapServers[0]!)
    await c.send(CreateTopics, 7, { topics: [{ name: 'tx', numPartitions: 2, replicationFactor: 1 }] })
  })
  afterAll(async () => {
    c.close()
    await cluster.stop()
  })

  const init = (transactionalId: string | null, timeout = 60_000, version = 5, producerId = -1n, producerEpoch = -1) =>
    c.send(InitProducerId, version, { transactionalId, transactionTimeoutMs: timeout, producerId, producerEpoch })
  const addPartitions = (txnId: string, pid: bigint, epoch: number, partitions: number[], version = 3) =>
    c.send(AddPartitionsToTxn, version, {
      v3AndBelowTransactionalId: txnId,
      v3AndBelowProducerId: pid,
      v3AndBelowProducerEpoch: epoch,
      v3AndBelowTopics: [{ name: 'tx', partitions }],
    })
  const produceTx = async (txnId: string | null, pid: bigint, epoch: number, seq: number, partition = 0, n = 2) =>
    (
      await c.send(Produce, 9, {
        transactionalId: txnId,
        acks: -1,
        timeoutMs: 1000,
        topicData: [
          {
            name: 'tx',
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
    ).responses[0]!.partitionResponses[0]!
  const endTxn = (txnId: string, pid: bigint, epoch: number, committed: boolean, version = 3) =>
    c.send(EndTxn, version, { transactionalId: txnId, producerId: pid, producerEpoch: epoch, committed })
  const fetchCommitted = async (partition = 0) =>
    (
      await c.send(Fetch, 12, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 1,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'tx', partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
      })
    ).responses[0]!.partitions[0]!

  /** Waits until the transaction's markers are written (its Prepare state is over) and replicated. */
  const settled = async (txnId: string) => {
    for (let i = 0; i < 100 && cluster.transactions.txns.get(txnId)!.state.startsWith('Prepare'); i++) await sleep(20)
    await sleep(20) // and the high watermark moved past them
    return cluster.transactions.txns.get(txnId)!.state
  }

  it('InitProducerId: idempotent producers always get a new id; transactional ids bump the epoch', async () => {
    const a = await init(null)
    const b = await init(null)
    expect(a.errorCode).toBe(0)
    expect(b.producerId).not.toBe(a.producerId)
    expect(b.producerEpoch).toBe(0)
    const t1 = await init('tid-1')
    const t2 = await init('tid-1')
    expect(t2).toMatchObject({ errorCode: 0, producerId: t1.producerId, producerEpoch: t1.producerEpoch + 1 })
    expect((await init('tid-1', 10_000_000)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT)
    // KIP-360: recovering with the current (pid, epoch) bumps; a stale pair is fenced.
    const recovered = await init('tid-1', 60_000, 5, t2.producerId, t2.producerEpoch)
    expect(recovered).toMatchObject({ errorCode: 0, producerEpoch: t2.producerEpoch + 1 })
    expect((await init('tid-1', 60_000, 5, 999n, 0)).errorCode).toBe(ErrorCode.PRODUCER_FENCED)
    expect((await init('tid-1', 60_000, 3, 999n, 0)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH)
    expect((await init(null, 60_000, 5, 5n, -1)).errorCode).toBe(ErrorCode.INVALID_REQUEST)
  })

  it('aborted data stays below the LSO until the marker, then is listed as aborted', async () => {
    const { producerId: pid, producerEpoch: epoch } = await init('tid-abort')
    expect((await produceTx('tid-abort', pid, epoch, 0)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE)
    const added = await addPartitions('tid-abort', pid, epoch, [0])
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(0)
    const first = await produceTx('tid-abort', pid, epoch, 0)
    expect(first.errorCode).toBe(0)
    await produceTx('tid-abort', pid, epoch, 2)
    const p = cluster.topics.partition('tx', 0)!
    expect(p.highWatermark).toBe(4)
    expect(p.lastStableOffset).toBe(Number(first.baseOffset))
    expect((await fetchCommitted()).records?.length ?? 0).toBe(0)
    const latest = await c.send(ListOffsets, 9, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: 'tx', partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
    })
    expect(latest.topics[0]!.partitions[0]!.offset).toBe(0n)

    expect((await endTxn('tid-abort', pid, epoch, false)).errorCode).toBe(0)
    // The markers are written asynchronously: the LSO trails EndTxn, and the id is busy meanwhile.
    expect(p.lastStableOffset).toBe(Number(first.baseOffset))
    expect((await endTxn('tid-abort', pid, epoch, false)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS)
    expect((await init('tid-abort', 60_000, 5, pid, epoch)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS)
    expect(
      (await addPartitions('tid-abort', pid, epoch, [1])).resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!
        .partitionErrorCode,
    ).toBe(ErrorCode.CONCURRENT_TRANSACTIONS)
    expect(await settled('tid-abort')).toBe('CompleteAbort')
    expect(p.lastStableOffset).toBe(5)
    const f = await fetchCommitted()
    expect(f.lastStableOffset).toBe(5n)
    expect(f.abortedTransactions).toEqual([{ producerId: pid, firstOffset: 0n }])
    const batches = await decodeRecordBatches(f.records)
    const marker = batches[batches.length - 1]!
    expect(marker.isControl).toBe(true)
    expect(decodeControlRecord(marker.records[0]!).type).toBe('abort')
    // Retrying the same EndTxn is fine; the opposite outcome is not.
    expect((await endTxn('tid-abort', pid, epoch, false)).errorCode).toBe(0)
    expect((await endTxn('tid-abort', pid, epoch, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE)
  })

  it('committed transactions are readable, with transactional offsets committed at the end', async () => {
    const { producerId: pid, producerEpoch: epoch } = await init('tid-commit')
    await addPartitions('tid-commit', pid, epoch, [1])
    await produceTx('tid-commit', pid, epoch, 0, 1, 3)
    expect(
      (
        await c.send(AddOffsetsToTxn, 3, {
          transactionalId: 'tid-commit',
          producerId: pid,
          producerEpoch: epoch,
          groupId: 'txg',
        })
      ).errorCode,
    ).toBe(0)
    const toc = await c.send(TxnOffsetCommit, 3, {
      transactionalId: 'tid-commit',
      groupId: 'txg',
      producerId: pid,
      producerEpoch: epoch,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: 'tx', partitions: [{ partitionIndex: 1, committedOffset: 3n }] }],
    })
    expect(toc.topics[0]!.partitions[0]!.errorCode).toBe(0)
    const stable = await c.send(OffsetFetch, 7, {
      groupId: 'txg',
      topics: [{ name: 'tx', partitionIndexes: [1] }],
      requireStable: true,
    })
    expect(stable.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT)
    const unstable = await c.send(OffsetFetch, 7, {
      groupId: 'txg',
      topics: [{ name: 'tx', partitionIndexes: [1] }],
      requireStable: false,
    })
    expect(unstable.topics[0]!.partitions[0]!.committedOffset).toBe(-1n)

    const producers = await c.send(DescribeProducers, 0, { topics: [{ name: 'tx', partitionIndexes: [1] }] })
    expect(producers.topics[0]!.partitions[0]!.activeProducers[0]).toMatchObject({
      producerId: pid,
      currentTxnStartOffset: 0n,
      lastSequence: 2,
    })

    // EndTxn v5 is Transactions V2: the epoch is bumped and returned.
    const end = await endTxn('tid-commit', pid, epoch, true, 5)
    expect(end).toMatchObject({ errorCode: 0, producerId: pid, producerEpoch: epoch + 1 })
    expect(await settled('tid-commit')).toBe('CompleteCommit')
    const f = await fetchCommitted(1)
    expect(f.abortedTransactions).toEqual([])
    const batches = await decodeRecordBatches(f.records)
    expect(batches[0]!.records).toHaveLength(3)
    expect(decodeControlRecord(batches[1]!.records[0]!).type).toBe('commit')
    const after = await c.send(OffsetFetch, 7, {
      groupId: 'txg',
      topics: [{ name: 'tx', partitionIndexes: [1] }],
      requireStable: true,
    })
    expect(after.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, committedOffset: 3n })
  })

  it('fences: InitProducerId aborts an ongoing transaction, the old epoch gets PRODUCER_FENCED', async () => {
    const { producerId: pid, producerEpoch: epoch } = await init('tid-fence')
    await addPartitions('tid-fence', pid, epoch, [0])
    await produceTx('tid-fence', pid, epoch, 0)
    const concurrent = await init('tid-fence')
    expect(concurrent.errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS)
    // Still aborting: the client retries until the markers are written.
    expect((await init('tid-fence')).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS)
    await settled('tid-fence')
    const next = await init('tid-fence')
    expect(next).toMatchObject({ errorCode: 0, producerId: pid })
    expect(next.producerEpoch).toBe(epoch + 2)
    const stale = await addPartitions('tid-fence', pid, epoch, [0])
    expect(stale.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(ErrorCode.PRODUCER_FENCED)
    expect((await endTxn('tid-fence', pid, epoch, true, 1)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH)
    expect((await produceTx('tid-fence', pid, epoch, 2)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH)
    expect(
      (await addPartitions('tid-fence', 12345n, next.producerEpoch, [0])).resultsByTopicV3AndBelow[0]!
        .resultsByPartition[0]!.partitionErrorCode,
    ).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
    const unknownPartition = await addPartitions('tid-fence', pid, next.producerEpoch, [0, 9])
    expect(unknownPartition.resultsByTopicV3AndBelow[0]!.resultsByPartition.map((r) => r.partitionErrorCode)).toEqual([
      ErrorCode.OPERATION_NOT_ATTEMPTED,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ])
  })

  it('aborts a transaction that outlives its timeout and fences its producer', async () => {
    const { producerId: pid, producerEpoch: epoch } = await init('tid-timeout', 100)
    await addPartitions('tid-timeout', pid, epoch, [0])
    await produceTx('tid-timeout', pid, epoch, 0)
    await sleep(150)
    cluster.transactions.abortTimedOut(Date.now())
    expect(await settled('tid-timeout')).toBe('CompleteAbort')
    expect((await endTxn('tid-timeout', pid, epoch, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED)
    expect(cluster.topics.partition('tx', 0)!.lastStableOffset).toBe(cluster.topics.partition('tx', 0)!.highWatermark)
  })
})
