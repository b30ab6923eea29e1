// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// listTransactions and describeTransactions (and describeProducers on the same partition) with
// three transactional Writers: one whose transaction is left open, one committed, one aborted.
// The oracle is what the Writers did (their ids, the partition written) and the coordinator's
// own answers (Kafka's state names, TRANSACTIONAL_ID_NOT_FOUND), never numbers computed here.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import { AdminBatchError } from '../../src/admin/errors.js'
import type { KafkaError } from '../../src/errors.js'
import { Writer } from '../../src/producer/writer.js'
import { startTarget, unique, waitFor, type Target } from '../consumer/helpers.js'

let target: Target
let admin: Admin
const writers: Writer[] = []

beforeAll(async () => {
  target = await startTarget()
  admin = new Admin({ brokers: target.bootstrap, clientId: 'admin-txn-test' })
}, 60_000)

afterAll(async () => {
  for (const w of writers) await w.close().catch(() => {})
  await admin?.close()
  await target?.stop()
})

function transactional(id: string, topic: string): Writer {
  const w = new Writer({ brokers: target.bootstrap, topic, transactionalId: id, transactionTimeout: 45_000 })
  writers.push(w)
  return w
}

describe('Admin transactions', () => {
  it('lists and describes an open, a committed and an aborted transaction', async () => {
    const p = unique('txn')
    const topic = `${p}-topic`
    await admin.createTopics(
      [{ name: topic, partitions: 1, replicationFactor: Math.min(3, target.brokerIds.length) }],
      {
        waitForLeaders: true,
      },
    )
    const ids = { open: `${p}-open`, committed: `${p}-committed`, aborted: `${p}-aborted` }
    const before = Date.now()
    const committed = transactional(ids.committed, topic)
    await committed.beginTransaction()
    await committed.writeMessages([{ value: 'c' }])
    await committed.commitTransaction()
    const aborted = transactional(ids.aborted, topic)
    await aborted.beginTransaction()
    await aborted.writeMessages([{ value: 'a' }])
    await aborted.abortTransaction()
    const mine = async (options?: Parameters<Admin['listTransactions']>[0]) =>
      (await admin.listTransactions(options)).filter((t) => t.transactionalId.startsWith(p))
    // Markers are written after EndTxn: wait until both ended transactions are complete (their
    // markers in the log).
    await waitFor(
      async () => (await mine({ states: ['CompleteCommit', 'CompleteAbort'] })).length === 2,
      20_000,
      'the committed and aborted transactions complete',
    )
    // The open transaction starts at the log end offset after the two ended ones (and their markers).
    const [end] = await admin.listOffsets([{ topic, partition: 0, spec: 'latest' }])
    const open = transactional(ids.open, topic)
    await open.beginTransaction()
    await open.writeMessages([{ value: 'o' }])

    const listed = await mine()
    expect(listed.map((t) => [t.transactionalId, t.state])).toEqual([
      [ids.aborted, 'CompleteAbort'],
      [ids.committed, 'CompleteCommit'],
      [ids.open, 'Ongoing'],
    ])
    const pid = (id: string): bigint => listed.find((t) => t.transactionalId === id)!.producerId

    expect((await mine({ states: ['Ongoing'] })).map((t) => t.transactionalId)).toEqual([ids.open])
    expect((await mine({ producerIds: [pid(ids.committed)] })).map((t) => t.transactionalId)).toEqual([ids.committed])
    expect((await mine({ transactionalIdPattern: `${p}-(open|aborted)` })).map((t) => t.transactionalId)).toEqual([
      ids.aborted,
      ids.open,
    ])
    // Open longer than an hour: none; longer than 0 ms: the open one too.
    expect(await mine({ states: ['Ongoing'], durationMs: 3_600_000 })).toEqual([])
    expect((await mine({ states: ['Ongoing'], durationMs: 0 })).map((t) => t.transactionalId)).toEqual([ids.open])
    // A state Kafka does not know matches nothing.
    expect(await mine({ states: ['Bogus'] })).toEqual([])

    const [o, c, a] = await admin.describeTransactions([ids.open, ids.committed, ids.aborted])
    expect(o).toMatchObject({
      transactionalId: ids.open,
      state: 'Ongoing',
      timeoutMs: 45_000,
      producerId: pid(ids.open),
      topics: [{ topic, partitions: [0] }],
    })
    expect(o!.producerEpoch).toBeGreaterThanOrEqual(0)
    expect(o!.startTimeMs).toBeGreaterThanOrEqual(before - 5_000)
    expect(o!.startTimeMs).toBeLessThanOrEqual(Date.now() + 5_000)
    expect(target.brokerIds).toContain(o!.coordinator)
    expect(c).toMatchObject({
      transactionalId: ids.committed,
      state: 'CompleteCommit',
      producerId: pid(ids.committed),
      topics: [],
    })
    expect(a).toMatchObject({
      transactionalId: ids.aborted,
      state: 'CompleteAbort',
      producerId: pid(ids.aborted),
      topics: [],
    })

    // describeProducers on the open transaction's partition shows it, with its first offset.
    const [producers] = await admin.describeProducers([{ topic, partition: 0 }])
    const openProducer = producers!.producers.find((s) => s.producerId === pid(ids.open))
    expect(openProducer?.currentTransactionStartOffset).toBe(end!.offset)

    const missing = `${p}-never-used`
    const err = await admin.describeTransactions([missing, ids.open]).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(AdminBatchError)
    expect(((err as AdminBatchError).errors.get(missing) as KafkaError).code).toBe('KAFKA_TRANSACTIONAL_ID_NOT_FOUND')
    expect([...(err as AdminBatchError).results.keys()]).toEqual([ids.open])

    await open.abortTransaction()
    await waitFor(
      async () => (await admin.describeTransactions([ids.open]))[0]!.state === 'CompleteAbort',
      20_000,
      'the open transaction aborted',
    )
    await admin.deleteTopics([topic])
  }, 90_000)
})
