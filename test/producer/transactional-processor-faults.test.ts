// TransactionalProcessor under faults only the reference cluster can inject (cluster.faults), under
// both transaction protocols: a failed write inside the transaction, an offset commit refused or
// slowed by the coordinator, and an EndTxn applied but never answered (outcome unknown: not
// rewound, learned before the next batch). After each, the input is processed exactly once, as a
// read_committed kcat sees the output. Always on a 3-broker reference cluster (no @integration
// marker); the rest runs on real Kafka too in transactional-processor.test.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Reader,
  TransactionOutcomeUnknownError,
  TransactionalProcessor,
  Writer,
  type BatchHandler,
  type WriterConfig,
} from '../../src/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { committedOffsets, produce } from '../consumer/helpers.js'
import { createTopic, readAll, startReferenceCluster, uniqueTopic } from './helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

for (const version of [1, 2] as const)
  describe.sequential(`TransactionalProcessor under injected faults (transaction.version=${version})`, () => {
    let cluster: Cluster
    let bootstrap: string[]
    const closers: { close(): Promise<void> }[] = []

    beforeAll(async () => {
      cluster = await startReferenceCluster({ transactionVersion: version, groupInitialRebalanceDelayMs: 0 })
      bootstrap = cluster.bootstrapServers
    })

    afterAll(async () => {
      await Promise.allSettled(closers.map((c) => c.close()))
      await cluster?.stop()
    })

    /** An input topic of `count` records (one partition) and a processor from it to an output topic. */
    async function setup(
      name: string,
      count: number,
      writerConfig: Partial<WriterConfig> = {},
    ): Promise<{ processor: TransactionalProcessor; input: string; output: string; groupId: string }> {
      const input = uniqueTopic(`${name}-in`)
      const output = uniqueTopic(`${name}-out`)
      await createTopic(bootstrap, input, { partitions: 1 })
      await createTopic(bootstrap, output, { partitions: 1 })
      await produce(bootstrap, input, count, { prefix: 'in' })
      const groupId = uniqueTopic(name)
      const reader = new Reader({ brokers: bootstrap, groupId, groupTopics: [input], commitInterval: 0 })
      const writer = new Writer({
        brokers: bootstrap,
        topic: output,
        transactionalId: uniqueTopic(name),
        writeBackoffMin: 10,
        writeBackoffMax: 50,
        ...writerConfig,
      })
      closers.push(reader, writer)
      return { processor: new TransactionalProcessor({ reader, writer }), input, output, groupId }
    }

    const transform: BatchHandler = async (batch, send) => {
      await send(batch.messages.map((m) => ({ value: `out-${m.value?.toString()}` })))
    }

    /** processBatch until `count` records are committed; failures are collected and retried. */
    async function drain(processor: TransactionalProcessor, count: number, handler = transform): Promise<unknown[]> {
      const errors: unknown[] = []
      const deadline = Date.now() + 30_000
      while (processor.stats().records < count) {
        if (Date.now() > deadline) throw new Error(`only ${processor.stats().records} of ${count} processed`)
        await processor.processBatch(handler, { signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => {
          errors.push(e)
        })
      }
      return errors
    }

    async function expectExactlyOnce(output: string, count: number): Promise<void> {
      const records = await readAll(bootstrap, output, count, ['-X', 'isolation.level=read_committed'])
      expect(records.map((r) => r.value).sort()).toEqual(Array.from({ length: count }, (_, i) => `out-in${i}`).sort())
    }

    it('a write refused inside the transaction: aborted, rewound, rejected; the retry processes it once', async () => {
      const { processor, output } = await setup('eosf-produce', 30)
      cluster.faults.failNext('Produce', 1, ErrorCode.INVALID_RECORD)
      const errors = await drain(processor, 30)
      expect(errors.length).toBe(1)
      expect(String(errors[0])).toMatch(/INVALID_RECORD/)
      expect(processor.stats()).toMatchObject({ records: 30, aborted: 1 })
      await expectExactlyOnce(output, 30)
    })

    it('retriable coordinator errors on the offset commit are retried within the transaction', async () => {
      const { processor, output } = await setup('eosf-retry', 30)
      cluster.faults.failNext('TxnOffsetCommit', 2, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
      cluster.faults.failNext('AddOffsetsToTxn', 1, ErrorCode.CONCURRENT_TRANSACTIONS)
      expect(await drain(processor, 30)).toEqual([])
      expect(processor.stats().aborted).toBe(0)
      await expectExactlyOnce(output, 30)
    })

    it('an offset commit refused for good: aborted, rewound, rejected; the retry processes it once', async () => {
      const { processor, output, groupId, input } = await setup('eosf-offsets', 30)
      cluster.faults.failNext('TxnOffsetCommit', 1, ErrorCode.GROUP_AUTHORIZATION_FAILED)
      const errors = await drain(processor, 30)
      expect(errors.length).toBe(1)
      expect(String(errors[0])).toMatch(/GROUP_AUTHORIZATION_FAILED/)
      expect(processor.stats()).toMatchObject({ records: 30, aborted: 1 })
      await expectExactlyOnce(output, 30)
      // The aborted attempt's offsets went with it; the retry's committed the whole input.
      expect((await committedOffsets(bootstrap, groupId, input, 1)).get(0)).toBe(30n)
    })

    it('an EndTxn never answered: the outcome is unknown, not rewound, and learned before the next batch', async () => {
      const { processor, output } = await setup('eosf-unknown', 10, { requestTimeout: 300, transactionTimeout: 1500 })
      cluster.faults.dropResponse('EndTxn', 1000)
      const err = await processor.processBatch(transform).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(TransactionOutcomeUnknownError)
      expect(processor.stats()).toMatchObject({ committed: 0, aborted: 0 })
      cluster.faults.clear()
      // The commit was applied: learned on the next call, which then waits for more input.
      const next = await processor
        .processBatch(transform, { signal: AbortSignal.timeout(1000) })
        .catch((e: unknown) => e)
      expect(String(next)).toMatch(/aborted/)
      expect(processor.stats()).toMatchObject({ committed: 1, records: 10, aborted: 0 })
      await expectExactlyOnce(output, 10)
    })
  })
