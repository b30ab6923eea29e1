// Lag under read_committed, on a 1-broker reference cluster: an open transaction holds the last
// stable offset (LSO) back, so a read_committed group's lag is measured to the LSO, not the high
// watermark; committing the transaction releases it. The transaction is driven over the raw
// protocol (the Writer has no transactions), as in test/broker/transactions.test.ts, and
// DescribeProducers shows its start offset meanwhile.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import { Cluster } from '../../src/broker/index.js'
import { AddPartitionsToTxn } from '../../src/protocol/messages/add-partitions-to-txn.js'
import { EndTxn } from '../../src/protocol/messages/end-txn.js'
import { InitProducerId } from '../../src/protocol/messages/init-producer-id.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { makeBatch, TestClient } from '../broker/helpers.js'

describe('Admin lag with read_committed', () => {
  let cluster: Cluster
  let raw: TestClient
  let admin: Admin
  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 1 })
    raw = await TestClient.connect(cluster.bootstrapServers[0]!)
    admin = new Admin({ brokers: cluster.bootstrapServers })
  })
  afterAll(async () => {
    raw.close()
    await admin.close()
    await cluster.stop()
  })

  const produce = async (records: Buffer, transactionalId: string | null = null) =>
    (
      await raw.send(Produce, 9, {
        transactionalId,
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: 'txlag', partitionData: [{ index: 0, records }] }],
      })
    ).responses[0]!.partitionResponses[0]!

  it('measures a read_committed group to the LSO while a transaction is open', async () => {
    await admin.createTopics([{ name: 'txlag', partitions: 1, replicationFactor: 1 }], { waitForLeaders: true })
    expect((await produce(await makeBatch(3))).errorCode).toBe(0) // offsets 0-2
    await admin.alterGroupOffsets('txg', [{ topic: 'txlag', partition: 0, offset: 1 }])

    const init = await raw.send(InitProducerId, 5, { transactionalId: 't1', transactionTimeoutMs: 60_000 })
    const { producerId, producerEpoch } = init
    const added = await raw.send(AddPartitionsToTxn, 3, {
      v3AndBelowTransactionalId: 't1',
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: 'txlag', partitions: [0] }],
    })
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(0)
    const open = await produce(
      await makeBatch(2, { producerId, producerEpoch, baseSequence: 0, transactional: true }),
      't1',
    )
    expect(open).toMatchObject({ errorCode: 0, baseOffset: 3n }) // offsets 3-4, not yet stable

    const uncommitted = await admin.groupLag('txg')
    expect(uncommitted.partitions[0]).toMatchObject({ committedOffset: 1n, endOffset: 5n, lag: 4n })
    const committed = await admin.groupLag('txg', { isolationLevel: 'read_committed' })
    expect(committed.partitions[0]).toMatchObject({ committedOffset: 1n, endOffset: 3n, lag: 2n })
    const [producers] = await admin.describeProducers([{ topic: 'txlag', partition: 0 }])
    expect(producers!.producers).toContainEqual(
      expect.objectContaining({ producerId, currentTransactionStartOffset: 3n }),
    )

    const ended = await raw.send(EndTxn, 3, { transactionalId: 't1', producerId, producerEpoch, committed: true })
    expect(ended.errorCode).toBe(0)
    // The commit marker takes offset 5; the LSO moves past it.
    let after = await admin.groupLag('txg', { isolationLevel: 'read_committed' })
    for (let i = 0; i < 50 && after.partitions[0]!.endOffset !== 6n; i++) {
      await new Promise((r) => setTimeout(r, 20))
      after = await admin.groupLag('txg', { isolationLevel: 'read_committed' })
    }
    expect(after.partitions[0]).toMatchObject({ endOffset: 6n, lag: 5n })
  })
})
