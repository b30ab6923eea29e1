// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// TransactionalProcessor (issue 12 item 5) on a 3-broker reference cluster, or on real Kafka when
// KAFKA_BOOTSTRAP is set: every input record transformed exactly once, a handler error aborts and
// rewinds (the batch is processed again, its first outputs never visible), a rebalance while a
// transaction is open (committed before the partition moves when the handler ends in time; aborted
// and rewound when the generation moved on), a fenced Writer stops the processor. What is visible
// is read back with kcat (librdkafka, read_committed) and committed offsets with a raw OffsetFetch,
// so no assertion trusts the code under test. The crash test (kill -9) is in
// transactional-processor-crash.test.ts.

import { afterAll, describe, expect, it } from 'vitest'
import {
  Admin,
  ConfigError,
  ProducerFencedError,
  Reader,
  TransactionStateError,
  TransactionalProcessor,
  Writer,
  type MessageBatch,
  type ReaderConfig,
} from '../../src/index.js'
import {
  committedOffsets,
  createTopic,
  produce,
  sleep,
  startTarget,
  targetName,
  unique,
  waitFor,
} from '../consumer/helpers.js'
import { useTarget } from '../helpers/use-target.js'
import { readAll } from './helpers.js'

const target = useTarget(startTarget)
const closers: { close(): Promise<void> }[] = []

afterAll(async () => {
  await Promise.allSettled(closers.map((c) => c.close()))
})

async function topic(prefix: string, partitions = 3): Promise<string> {
  const name = unique(prefix)
  await createTopic(target.bootstrap, name, partitions, Math.min(3, target.brokerIds.length))
  return name
}

/** `defaultProtocol`: the Reader's default group protocol; otherwise classic, with quick heartbeats. */
function reader(input: string, groupId: string, extra: Partial<ReaderConfig> = {}, defaultProtocol = false): Reader {
  const r = new Reader({
    brokers: target.bootstrap,
    groupId,
    groupTopics: [input],
    commitInterval: 0,
    ...(defaultProtocol ? {} : { heartbeatInterval: 500 }),
    ...extra,
  })
  closers.push(r)
  return r
}

function writer(output: string, transactionalId: string): Writer {
  const w = new Writer({ brokers: target.bootstrap, topic: output, transactionalId, writeBackoffMin: 20 })
  closers.push(w)
  return w
}

/** Values a read_committed consumer (kcat) sees, sorted. */
async function committedValues(name: string, expected?: number): Promise<string[]> {
  const records = await readAll(target.bootstrap, name, expected, ['-X', 'isolation.level=read_committed'])
  return records.map((r) => r.value ?? '').sort()
}

const transform = (batch: MessageBatch): { key: string; value: string }[] =>
  batch.messages.map((m) => ({ key: `${batch.partition}:${m.offset}`, value: `out-${m.value?.toString()}` }))

const expectedOutputs = (count: number): string[] => Array.from({ length: count }, (_, i) => `out-in${i}`).sort()

/** Runs `processor` until `done()` holds, then stops it. */
async function runUntil(
  processor: TransactionalProcessor,
  handler: Parameters<TransactionalProcessor['process']>[0],
  done: () => boolean,
  what: string,
): Promise<void> {
  const stop = new AbortController()
  const running = processor.process(handler, { signal: stop.signal })
  try {
    await Promise.race([
      waitFor(done, 60_000, what),
      running.then(() => {
        throw new Error('process() ended early')
      }),
    ])
  } finally {
    stop.abort()
    await running.catch(() => undefined)
  }
}

describe.sequential(`TransactionalProcessor on ${targetName}`, () => {
  it('checks what it is given: a group Reader and a transactional Writer', async () => {
    const name = await topic('eos-config', 1)
    const direct = new Reader({ brokers: target.bootstrap, topic: name, partition: 0 })
    closers.push(direct)
    const tx = writer(name, unique('eos-config'))
    expect(() => new TransactionalProcessor({ reader: direct, writer: tx })).toThrow(ConfigError)
    expect(() => new TransactionalProcessor({ reader: undefined as unknown as Reader, writer: tx })).toThrow(
      ConfigError,
    )
    // A plain Writer is refused at the first transaction, before anything is read.
    await produce(target.bootstrap, name, 1, { prefix: 'in' })
    const plain = new Writer({ brokers: target.bootstrap, topic: name })
    closers.push(plain)
    const r = reader(name, unique('eos-config'))
    const p = new TransactionalProcessor({ reader: r, writer: plain })
    await expect(p.processBatch(() => undefined)).rejects.toThrow(TransactionStateError)
    // The batch it fetched was not lost: the Reader was moved back, so it is read again.
    const q = new TransactionalProcessor({ reader: r, writer: tx })
    const seen: string[] = []
    const outcome = await q.processBatch(
      (batch) => {
        seen.push(...batch.messages.map((m) => m.value?.toString() ?? ''))
      },
      { signal: AbortSignal.timeout(20_000) },
    )
    expect(outcome).toBe('committed')
    expect(seen).toEqual(['in0'])
  })

  it.each([
    ['classic', false],
    // The Reader's default: KIP-848 where the broker has it (the member epoch is the generation).
    ['default', true],
  ] as const)(
    '%s protocol: transforms every input record exactly once and commits the input offsets with the outputs',
    async (_name, defaultProtocol) => {
      const input = await topic('eos-in')
      const output = await topic('eos-out')
      const count = 300
      await produce(target.bootstrap, input, count, { prefix: 'in' })
      const groupId = unique('eos-group')
      const processor = new TransactionalProcessor({
        reader: reader(input, groupId, {}, defaultProtocol),
        writer: writer(output, unique('eos')),
      })
      await runUntil(
        processor,
        async (batch, send) => {
          await send(transform(batch))
        },
        () => processor.stats().records >= count,
        'every input record processed',
      )
      expect(processor.stats()).toMatchObject({ records: count, aborted: 0 })
      expect(await committedValues(output, count)).toEqual(expectedOutputs(count))
      // The group's offsets are each input partition's log end (kcat counts the input per partition).
      const perPartition = new Map<number, bigint>()
      for (const r of await readAll(target.bootstrap, input, count))
        perPartition.set(
          r.partition,
          BigInt(r.offset) + 1n > (perPartition.get(r.partition) ?? 0n)
            ? BigInt(r.offset) + 1n
            : perPartition.get(r.partition)!,
        )
      expect(await committedOffsets(target.bootstrap, groupId, input, 3)).toEqual(perPartition)
    },
  )

  it('a handler error aborts the transaction, rewinds the Reader and surfaces; the batch is processed again', async () => {
    const input = await topic('eos-err-in', 1)
    const output = await topic('eos-err-out', 1)
    const count = 50
    await produce(target.bootstrap, input, count, { prefix: 'in' })
    const groupId = unique('eos-err')
    const processor = new TransactionalProcessor({
      reader: reader(input, groupId),
      writer: writer(output, unique('eos-err')),
    })
    const boom = new Error('handler failed after writing')
    let failed = false
    const handler = async (
      batch: MessageBatch,
      send: Parameters<Parameters<TransactionalProcessor['process']>[0]>[1],
    ): Promise<void> => {
      await send(transform(batch))
      if (!failed && batch.messages.some((m) => m.value?.toString() === 'in10')) {
        failed = true
        throw boom
      }
    }
    await expect(processor.process(handler)).rejects.toBe(boom)
    expect(processor.stats().aborted).toBe(1)
    // Nothing of the failed batch is visible, nothing of it is committed.
    const before = await committedOffsets(target.bootstrap, groupId, input, 1)
    expect(before.get(0) ?? 0n).toBeLessThanOrEqual(10n)
    await runUntil(processor, handler, () => processor.stats().records >= count, 'the rest processed')
    expect(processor.stats().records).toBe(count)
    expect(await committedValues(output, count)).toEqual(expectedOutputs(count))
    expect((await committedOffsets(target.bootstrap, groupId, input, 1)).get(0)).toBe(BigInt(count))
  })

  it('a rebalance while a transaction is open: the transaction commits before the partitions move', async () => {
    const input = await topic('eos-reb-in')
    const output = await topic('eos-reb-out')
    const count = 60
    await produce(target.bootstrap, input, count, { prefix: 'in' })
    const groupId = unique('eos-reb')
    const a = new TransactionalProcessor({
      reader: reader(input, groupId),
      writer: writer(output, unique('eos-reb-a')),
    })
    const admin = new Admin({ brokers: target.bootstrap })
    closers.push(admin)
    let second: Reader | undefined
    const outcome = await a.processBatch(async (batch, send) => {
      await send(transform(batch))
      // A second member joins: the group prepares a rebalance, which waits for this batch.
      second = reader(input, groupId)
      void second.fetchBatch({ signal: AbortSignal.timeout(1) }).catch(() => undefined)
      await waitFor(
        async () => (await admin.describeGroups([groupId]))[0]?.state === 'PreparingRebalance',
        20_000,
        'the group to prepare a rebalance',
      )
      // Four heartbeats: long enough for the member to learn of the rebalance and, were the
      // batch not held, to revoke and rejoin under a new generation.
      await sleep(2000)
    })
    expect(outcome).toBe('committed')
    expect(a.stats()).toMatchObject({ committed: 1, aborted: 0 })
    const b = new TransactionalProcessor({ reader: second!, writer: writer(output, unique('eos-reb-b')) })
    const stop = new AbortController()
    const handler = async (
      batch: MessageBatch,
      send: Parameters<Parameters<TransactionalProcessor['process']>[0]>[1],
    ): Promise<void> => {
      await send(transform(batch))
    }
    const runs = [a.process(handler, { signal: stop.signal }), b.process(handler, { signal: stop.signal })]
    try {
      await waitFor(() => a.stats().records + b.stats().records >= count, 60_000, 'both members to process the rest')
    } finally {
      stop.abort()
      await Promise.all(runs)
    }
    expect(a.stats().records + b.stats().records).toBe(count)
    expect(await committedValues(output, count)).toEqual(expectedOutputs(count))
  })

  it('a rebalance that outlasts the handler: the generation moved, so the transaction aborts and the batch is read again', async () => {
    const input = await topic('eos-late-in', 1)
    const output = await topic('eos-late-out', 1)
    const count = 20
    await produce(target.bootstrap, input, count, { prefix: 'in' })
    const groupId = unique('eos-late')
    // A short rebalanceTimeout: the revocation stops waiting for the batch held by the handler.
    const first = reader(input, groupId, { rebalanceTimeout: 1500 })
    const a = new TransactionalProcessor({ reader: first, writer: writer(output, unique('eos-late-a')) })
    let joined: Reader | undefined
    const outcome = await a.processBatch(async (batch, send) => {
      await send(transform(batch))
      const generation = first.generationId
      joined = reader(input, groupId)
      void joined.fetchBatch({ signal: AbortSignal.timeout(1) }).catch(() => undefined)
      await waitFor(() => first.generationId > generation, 30_000, 'a new generation')
    })
    expect(outcome).toBe('rebalanced')
    expect(a.stats()).toMatchObject({ committed: 0, aborted: 1 })
    // Nothing of it is visible, and its offsets were not committed.
    expect(await committedOffsets(target.bootstrap, groupId, input, 1)).toEqual(new Map())
    const b = new TransactionalProcessor({ reader: joined!, writer: writer(output, unique('eos-late-b')) })
    const stop = new AbortController()
    const handler = async (
      batch: MessageBatch,
      send: Parameters<Parameters<TransactionalProcessor['process']>[0]>[1],
    ): Promise<void> => {
      await send(transform(batch))
    }
    const runs = [a.process(handler, { signal: stop.signal }), b.process(handler, { signal: stop.signal })]
    try {
      await waitFor(
        () => a.stats().records + b.stats().records >= count,
        60_000,
        'the partition processed by its owner',
      )
    } finally {
      stop.abort()
      await Promise.all(runs)
    }
    expect(await committedValues(output, count)).toEqual(expectedOutputs(count))
    expect((await committedOffsets(target.bootstrap, groupId, input, 1)).get(0)).toBe(BigInt(count))
  })

  it('a fenced Writer (a newer instance with the same transactionalId) stops the processor; its batch stays invisible', async () => {
    const input = await topic('eos-fence-in', 1)
    const output = await topic('eos-fence-out', 1)
    await produce(target.bootstrap, input, 10, { prefix: 'in' })
    const groupId = unique('eos-fence')
    const id = unique('eos-fence')
    const old = new TransactionalProcessor({ reader: reader(input, groupId), writer: writer(output, id) })
    const newer = writer(output, id)
    const err = await old
      .processBatch(async (batch, send) => {
        await send(transform(batch))
        // The newer instance initializes: the coordinator aborts this transaction and bumps the epoch.
        await newer.beginTransaction()
        await newer.abortTransaction()
        await send([{ value: 'after-fence' }])
      })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProducerFencedError)
    await expect(old.processBatch(() => undefined)).rejects.toThrow(ProducerFencedError)
    await newer.transaction(async (tx) => {
      await tx.writeMessages([{ value: 'from-newer' }])
    })
    expect(await committedValues(output, 1)).toEqual(['from-newer'])
    expect(await committedOffsets(target.bootstrap, groupId, input, 1)).toEqual(new Map())
  })
})
