// The transactional Writer under faults only the reference cluster can inject (cluster.faults):
// retriable coordinator errors on every transactional request, an EndTxn applied but never
// answered (dropResponse: the outcome is unknown, so it is sent again, never reported aborted), a
// failed batch that makes the transaction abortable (then a new epoch, KIP-360), and an abort while
// a batch is in flight. Always on a 3-broker reference cluster (no @integration marker); the core
// checks run on real Kafka too in transactions.test.ts. Visibility is checked with kcat
// (read_committed), not with our Reader.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ProducerFencedError,
  TransactionAbortableError,
  TransactionalIdAuthorizationError,
  TransactionOutcomeUnknownError,
  TransactionStateError,
  Writer,
  type WriterConfig,
} from '../../src/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { createTopic, readAll, startReferenceCluster, uniqueTopic } from './helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

// Both protocols: the classic one (AddPartitionsToTxn before a partition's first batch, a fixed
// epoch) and transactions V2 (KIP-890: partitions added by Produce, an epoch per transaction).
for (const version of [1, 2] as const)
  describe.sequential(
    `transactional Writer under injected faults (reference cluster, transaction.version=${version})`,
    () => {
      let cluster: Cluster
      let bootstrap: string[]
      const writers: Writer[] = []

      beforeAll(async () => {
        cluster = await startReferenceCluster({ transactionVersion: version })
        bootstrap = cluster.bootstrapServers
      })

      afterAll(async () => {
        await Promise.allSettled(writers.map((w) => w.close()))
        await cluster?.stop()
      })

      function writer(config: Omit<WriterConfig, 'brokers'>): Writer {
        const w = new Writer({ brokers: bootstrap, writeBackoffMin: 10, writeBackoffMax: 50, ...config })
        writers.push(w)
        return w
      }

      async function committedValues(topic: string, expected?: number): Promise<string[]> {
        const records = await readAll(bootstrap, topic, expected, ['-X', 'isolation.level=read_committed'])
        return records.map((r) => r.value ?? '').sort()
      }

      it('retries retriable coordinator errors on every transactional request', async () => {
        const topic = uniqueTopic('txf-retry')
        await createTopic(bootstrap, topic, { partitions: 2 })
        const w = writer({ topic, transactionalId: uniqueTopic('txf-retry') })
        cluster.faults.failNext('FindCoordinator', 1, ErrorCode.COORDINATOR_NOT_AVAILABLE)
        cluster.faults.failNext('InitProducerId', 2, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
        await w.beginTransaction()
        expect(w.transactionVersion).toBe(version)
        if (version === 1) cluster.faults.failNext('AddPartitionsToTxn', 2, ErrorCode.CONCURRENT_TRANSACTIONS)
        await w.writeMessages({ key: 'a', value: 'one' }, { key: 'b', value: 'two' })
        cluster.faults.failNext('EndTxn', 1, ErrorCode.NOT_COORDINATOR)
        cluster.faults.failNext('EndTxn', 1, ErrorCode.CONCURRENT_TRANSACTIONS)
        await w.commitTransaction()
        expect(await committedValues(topic, 2)).toEqual(['one', 'two'])
      })

      it('an unauthorized transactional id is fatal: TransactionalIdAuthorizationError, for good', async () => {
        const topic = uniqueTopic('txf-authz')
        await createTopic(bootstrap, topic, { partitions: 1 })
        const w = writer({ topic, transactionalId: uniqueTopic('txf-authz') })
        cluster.faults.failNext('InitProducerId', 1, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        await expect(w.beginTransaction()).rejects.toThrow(TransactionalIdAuthorizationError)
        await expect(w.beginTransaction()).rejects.toThrow(TransactionalIdAuthorizationError)
      })

      if (version === 1)
        it('a partition the coordinator refuses to add fails its records and makes the transaction abortable', async () => {
          const topic = uniqueTopic('txf-addfail')
          await createTopic(bootstrap, topic, { partitions: 1 })
          const w = writer({ topic, transactionalId: uniqueTopic('txf-addfail') })
          await w.beginTransaction()
          cluster.faults.failNext('AddPartitionsToTxn', 1, ErrorCode.INVALID_TXN_STATE)
          await expect(w.writeMessages({ value: 'refused' })).rejects.toThrow(/INVALID_TXN_STATE/)
          await expect(w.commitTransaction()).rejects.toThrow(TransactionAbortableError)
          await w.abortTransaction()
          await w.transaction(async (tx) => {
            await tx.writeMessages({ value: 'next' })
          })
          expect(await committedValues(topic, 1)).toEqual(['next'])
        })

      it('sends an unanswered EndTxn again: the commit is reported committed, never aborted', async () => {
        const topic = uniqueTopic('txf-endtxn')
        await createTopic(bootstrap, topic, { partitions: 1 })
        const w = writer({ topic, transactionalId: uniqueTopic('txf-endtxn'), requestTimeout: 500 })
        await w.beginTransaction()
        await w.writeMessages({ value: 'committed-once' })
        // The coordinator applies the commit; its answer is lost; the retry is answered NONE.
        cluster.faults.dropResponse('EndTxn', 1)
        await w.commitTransaction()
        expect(await committedValues(topic, 1)).toEqual(['committed-once'])
        await w.transaction(async (tx) => {
          await tx.writeMessages([{ value: 'next' }])
        })
        expect(await committedValues(topic, 2)).toEqual(['committed-once', 'next'])
      })

      it('reports an unknown outcome when no EndTxn answer comes in time, and learns it on the next call', async () => {
        const topic = uniqueTopic('txf-unknown')
        await createTopic(bootstrap, topic, { partitions: 1 })
        const w = writer({
          topic,
          transactionalId: uniqueTopic('txf-unknown'),
          requestTimeout: 300,
          transactionTimeout: 1500,
        })
        await w.beginTransaction()
        await w.writeMessages({ value: 'maybe' })
        cluster.faults.dropResponse('EndTxn', 1000)
        const err = await w.commitTransaction().catch((e: unknown) => e)
        expect(err).toBeInstanceOf(TransactionOutcomeUnknownError)
        // Not aborted, and not abortable: only the commit can be asked again.
        await expect(w.abortTransaction()).rejects.toThrow(TransactionStateError)
        await expect(w.beginTransaction()).rejects.toThrow(TransactionStateError)
        cluster.faults.clear()
        await w.commitTransaction()
        expect(await committedValues(topic, 1)).toEqual(['maybe'])
      })

      it('a failed batch makes the transaction abortable; after the abort a new epoch writes from sequence 0', async () => {
        const topic = uniqueTopic('txf-abortable')
        await createTopic(bootstrap, topic, { partitions: 1 })
        const w = writer({ topic, transactionalId: uniqueTopic('txf-abortable') })
        await w.transaction(async (tx) => {
          await tx.writeMessages([{ value: 'before' }])
        })
        await w.beginTransaction()
        await w.writeMessages({ value: 'in-failed-txn-1' })
        cluster.faults.failNext('Produce', 1, ErrorCode.INVALID_RECORD)
        await expect(w.writeMessages({ value: 'refused' })).rejects.toThrow(/INVALID_RECORD/)
        await expect(w.writeMessages({ value: 'after-failure' })).rejects.toThrow(TransactionAbortableError)
        await expect(w.commitTransaction()).rejects.toThrow(TransactionAbortableError)
        await w.abortTransaction()
        await w.transaction(async (tx) => {
          await tx.writeMessages([{ value: 'after' }, { value: 'after-2' }])
        })
        expect(await committedValues(topic, 3)).toEqual(['after', 'after-2', 'before'])
      })

      if (version === 1)
        it('a transaction the coordinator aborted for its timeout fences the Writer (classic protocol, as Kafka answers)', async () => {
          const topic = uniqueTopic('txf-timeout')
          await createTopic(bootstrap, topic, { partitions: 1 })
          const w = writer({ topic, transactionalId: uniqueTopic('txf-timeout'), transactionTimeout: 500 })
          await w.beginTransaction()
          await w.writeMessages({ value: 'timed-out' })
          await new Promise((r) => setTimeout(r, 2000))
          // The partition knows the coordinator's new epoch: abortable (KIP-588); EndTxn then says fenced.
          await expect(w.writeMessages({ value: 'late' })).rejects.toThrow(/INVALID_PRODUCER_EPOCH/)
          await expect(w.commitTransaction()).rejects.toThrow(TransactionAbortableError)
          await expect(w.abortTransaction()).rejects.toThrow(ProducerFencedError)
          expect(await committedValues(topic)).toEqual([])
        })

      if (version === 2)
        it('a transaction the coordinator aborted for its timeout is aborted, and the next one commits (V2, as Kafka answers)', async () => {
          const topic = uniqueTopic('txf-timeout-v2')
          await createTopic(bootstrap, topic, { partitions: 1 })
          const w = writer({ topic, transactionalId: uniqueTopic('txf-timeout-v2'), transactionTimeout: 500 })
          await w.beginTransaction()
          await w.writeMessages({ value: 'timed-out' })
          await new Promise((r) => setTimeout(r, 2000))
          await expect(w.writeMessages({ value: 'late' })).rejects.toThrow(/INVALID_PRODUCER_EPOCH/)
          await expect(w.commitTransaction()).rejects.toThrow(TransactionAbortableError)
          await w.abortTransaction()
          await w.transaction(async (tx) => {
            await tx.writeMessages([{ value: 'next' }])
          })
          expect(await committedValues(topic, 1)).toEqual(['next'])
        })

      it('refuses writes once a commit started flushing (they would miss the commit)', async () => {
        const topic = uniqueTopic('txf-commit-flush')
        await createTopic(bootstrap, topic, { partitions: 1 })
        const w = writer({ topic, transactionalId: uniqueTopic('txf-commit-flush'), async: true })
        await w.beginTransaction()
        cluster.faults.delay('Produce', 300, { count: 1 })
        await w.writeMessages([{ value: 'buffered' }])
        const commit = w.commitTransaction()
        await expect(w.writeMessages([{ value: 'too-late' }])).rejects.toThrow(TransactionStateError)
        await commit
        expect(await committedValues(topic, 1)).toEqual(['buffered'])
      })

      it('an abort waits for the batch in flight, so nothing lands after the abort markers', async () => {
        const topic = uniqueTopic('txf-inflight')
        await createTopic(bootstrap, topic, { partitions: 1 })
        const w = writer({ topic, transactionalId: uniqueTopic('txf-inflight') })
        await w.beginTransaction()
        await w.writeMessages({ value: 'first' })
        cluster.faults.delay('Produce', 300, { count: 1 })
        const inFlight = w.writeMessages({ value: 'in-flight' }).then(
          () => 'written',
          (e: unknown) => e,
        )
        await new Promise((r) => setTimeout(r, 50))
        await w.abortTransaction()
        expect(await inFlight).toBe('written')
        await w.transaction(async (tx) => {
          await tx.writeMessages([{ value: 'next' }])
        })
        // The next transaction's record is visible: no batch of the aborted one holds the LSO back.
        expect(await committedValues(topic, 1)).toEqual(['next'])
      })
    },
  )
