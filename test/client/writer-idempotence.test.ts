// The Writer's produce path against a scripted one-broker Kafka (mini-kafka.ts): idempotence
// rules, retries in order, epoch bumps (KIP-360), request shape, timeouts and close.

import { afterEach, describe, expect, it } from 'vitest'
import type { Message } from '../../src/message.js'
import type { WriterConfig } from '../../src/producer/config.js'
import { Writer } from '../../src/producer/writer.js'
import { RetriesExhaustedError } from '../../src/cluster/retry.js'
import { KafkaError } from '../../src/errors.js'
import { UnsupportedVersionError } from '../../src/net/errors.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { DeliveryTimeoutError, WriteErrors } from '../../src/producer/errors.js'
import { incrementSequence } from '../../src/producer/idempotence.js'
import { BalancerFunc } from '../../src/producer/balancers.js'
import { MiniKafka } from './mini-kafka.js'

let mini: MiniKafka | undefined
const writers: Writer[] = []

afterEach(async () => {
  await Promise.allSettled(writers.splice(0).map((w) => w.close()))
  await mini?.stop()
  mini = undefined
})

async function setup(config: Partial<WriterConfig> = {}, partitions = 1): Promise<Writer> {
  mini = await MiniKafka.start({ t: partitions })
  const w = new Writer({ brokers: [mini.address], topic: 't', writeBackoffMin: 5, writeBackoffMax: 20, ...config })
  writers.push(w)
  return w
}

const values = (from: number, to: number): Message[] =>
  Array.from({ length: to - from }, (_, i) => ({ value: `m${from + i}` }))
const names = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `m${from + i}`)

describe('incrementSequence', () => {
  it('wraps after int32 max like Java', () => {
    expect(incrementSequence(0, 5)).toBe(5)
    expect(incrementSequence(0x7fffffff - 5, 5)).toBe(0x7fffffff)
    expect(incrementSequence(0x7fffffff - 4, 5)).toBe(0)
    expect(incrementSequence(0x7fffffff, 1)).toBe(0)
    expect(incrementSequence(0x7fffffff - 2, 10)).toBe(7)
  })
})

describe('idempotent Writer', () => {
  it('numbers batches per partition and sends one Produce request per broker for all partitions', async () => {
    const w = await setup({ balancer: new BalancerFunc((m) => Number((m.value as string).slice(1)) % 3) }, 3)
    await w.writeMessages(values(0, 9))
    const produces = mini!.broker.received('Produce')
    expect(produces.length).toBe(1)
    expect(produces[0]!.body.topicData[0].partitionData.map((p: { index: number }) => p.index).sort()).toEqual([
      0, 1, 2,
    ])
    expect(produces[0]!.version).toBe(12)
    expect(produces[0]!.body.acks).toBe(-1)
    await w.writeMessages(values(9, 12))
    expect(mini!.attempts.map((a) => `${a.partition}:${a.baseSequence}`).sort()).toEqual([
      '0:0',
      '0:3',
      '1:0',
      '1:3',
      '2:0',
      '2:3',
    ])
    expect(mini!.initProducerIdRequests).toEqual([{ producerId: -1n, producerEpoch: -1 }])
  })

  it('deduplicates a batch whose response was lost: the retry keeps its sequence', async () => {
    const w = await setup()
    mini!.produceHook = (_a, i) => (i === 0 ? 'drop-after-append' : undefined)
    await w.writeMessages(values(0, 5))
    expect(mini!.log('t', 0)).toEqual(names(0, 5))
    expect(mini!.attempts.map((a) => a.baseSequence)).toEqual([0, 0])
    expect(w.stats().retries).toBe(1)
  })

  it('resends a failed batch and the batches behind it in their original order, keeping sequences', async () => {
    const w = await setup({ batchSize: 5, async: true, completion: () => {}, batchTimeout: 50 })
    // One batch first: until the broker has acknowledged one, only one batch is in flight (an
    // unknown producer is accepted at any sequence), so the pipelined case needs a known producer.
    await w.writeMessages(values(0, 1))
    await w.flush()
    let failed = false
    mini!.produceHook = (a) => {
      if (!failed && a.baseSequence === 1) {
        failed = true
        return ErrorCode.NOT_LEADER_OR_FOLLOWER
      }
      return undefined
    }
    await w.writeMessages(values(1, 21)) // 4 batches, pipelined
    await w.flush()
    expect(mini!.log('t', 0)).toEqual(names(0, 21))
    const sent = mini!.attempts.map((a) => a.baseSequence)
    // The later batches got OUT_OF_ORDER (the gap) and went out again after the first, in order.
    expect(sent.slice(0, 5)).toEqual([0, 1, 6, 11, 16])
    expect(sent.slice(5)).toEqual([1, 6, 11, 16])
    expect(w.stats().epochBumps).toBe(0)
  })

  it('sends one batch at a time until the broker has acknowledged one of the producer', async () => {
    const w = await setup({ batchSize: 5, async: true, completion: () => {}, batchTimeout: 50 })
    let failed = false
    mini!.produceHook = (a) => {
      if (!failed && a.baseSequence === 0) {
        failed = true
        return ErrorCode.NOT_ENOUGH_REPLICAS
      }
      return undefined
    }
    await w.writeMessages(values(0, 20))
    await w.flush()
    expect(mini!.log('t', 0)).toEqual(names(0, 20))
    // Nothing went out behind the first batch until it was acknowledged: no OUT_OF_ORDER round.
    expect(mini!.attempts.map((a) => a.baseSequence)).toEqual([0, 0, 5, 10, 15])
  })

  it('bumps the epoch locally after UNKNOWN_PRODUCER_ID (KIP-360) and renumbers from 0', async () => {
    const w = await setup()
    await w.writeMessages(values(0, 3))
    await w.writeMessages(values(3, 6))
    mini!.forgetProducers()
    await w.writeMessages(values(6, 9))
    expect(mini!.log('t', 0)).toEqual(names(0, 9))
    // The bump is local (KIP-360 for an idempotent producer): same id, epoch + 1, no InitProducerId.
    expect(mini!.initProducerIdRequests).toEqual([{ producerId: -1n, producerEpoch: -1 }])
    const last = mini!.attempts[mini!.attempts.length - 1]!
    expect(last).toMatchObject({ producerId: 1000n, producerEpoch: 1, baseSequence: 0 })
    expect(w.stats().epochBumps).toBe(1)
  })

  it('bumps the epoch after OUT_OF_ORDER_SEQUENCE_NUMBER with nothing earlier unanswered', async () => {
    const w = await setup()
    await w.writeMessages(values(0, 3))
    mini!.produceHook = (_a, i) => (i === 1 ? ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER : undefined)
    await w.writeMessages(values(3, 6))
    expect(mini!.log('t', 0)).toEqual(names(0, 6))
    expect(mini!.attempts.slice(1).map((a) => [a.producerEpoch, a.baseSequence])).toEqual([
      [0, 3],
      [1, 0],
    ])
  })

  it('bumps the epoch after INVALID_PRODUCER_EPOCH', async () => {
    const w = await setup()
    mini!.produceHook = (_a, i) => (i === 0 ? ErrorCode.INVALID_PRODUCER_EPOCH : undefined)
    await w.writeMessages(values(0, 2))
    expect(mini!.log('t', 0)).toEqual(names(0, 2))
    expect(mini!.initProducerIdRequests.length).toBe(2)
  })

  it('treats DUPLICATE_SEQUENCE_NUMBER as success', async () => {
    const completed: Message[][] = []
    const w = await setup({ async: true, completion: (m, e) => void (e === null && completed.push(m)) })
    mini!.produceHook = () => ErrorCode.DUPLICATE_SEQUENCE_NUMBER
    await w.writeMessages(values(0, 2))
    await w.flush()
    expect(completed.flat().map((m) => m.value)).toEqual(['m0', 'm1'])
    expect(completed[0]![0]!.offset).toBeUndefined() // unknown for a duplicate
    expect(w.stats().errors).toBe(0)
  })

  it('fails a batch on a non-retriable error, then renumbers what follows under a new epoch', async () => {
    const w = await setup()
    mini!.produceHook = (_a, i) => (i === 0 ? ErrorCode.INVALID_RECORD : undefined)
    const err = await w.writeMessages(values(0, 2)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WriteErrors)
    const errors = (err as WriteErrors).errors
    expect(errors.every((e) => e instanceof KafkaError && e.errorName === 'INVALID_RECORD')).toBe(true)
    await w.writeMessages(values(2, 4))
    expect(mini!.log('t', 0)).toEqual(names(2, 4))
    expect(mini!.attempts[1]).toMatchObject({ producerEpoch: 1, baseSequence: 0 })
  })

  it("without idempotence, gives up after maxAttempts with every attempt's error", async () => {
    const w = await setup({ maxAttempts: 3, idempotent: false })
    mini!.produceHook = () => ErrorCode.NOT_ENOUGH_REPLICAS
    const err = await w.writeMessages({ value: 'x' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RetriesExhaustedError)
    expect((err as RetriesExhaustedError).attempts).toBe(3)
    expect(((err as RetriesExhaustedError).cause as KafkaError).errorName).toBe('NOT_ENOUGH_REPLICAS')
    expect(mini!.attempts.length).toBe(3)
  })

  it('with idempotence, retries beyond maxAttempts until deliveryTimeout, then fails as not written', async () => {
    const w = await setup({ maxAttempts: 3, deliveryTimeout: 400 })
    mini!.produceHook = () => ErrorCode.NOT_ENOUGH_REPLICAS
    const started = Date.now()
    const err = await w.writeMessages({ value: 'x' }).catch((e: unknown) => e)
    expect(Date.now() - started).toBeGreaterThanOrEqual(400)
    expect(err).toBeInstanceOf(DeliveryTimeoutError)
    expect((err as DeliveryTimeoutError).maybeWritten).toBe(false) // NOT_ENOUGH_REPLICAS comes before the append
    expect(((err as DeliveryTimeoutError).cause as KafkaError).errorName).toBe('NOT_ENOUGH_REPLICAS')
    expect(mini!.attempts.length).toBeGreaterThan(3)
  })

  it('retries after a request timeout on a new connection without duplicating', async () => {
    const w = await setup({ requestTimeout: 300 })
    mini!.produceHook = (_a, i) => (i === 0 ? 'hang' : undefined)
    const started = Date.now()
    await w.writeMessages(values(0, 3))
    expect(Date.now() - started).toBeLessThan(3000)
    expect(mini!.log('t', 0)).toEqual(names(0, 3))
    expect(mini!.attempts.map((a) => a.baseSequence)).toEqual([0, 0])
  })
})

describe('Writer produce requests', () => {
  it('asks the broker to wait less than the client waits (Produce timeoutMs below requestTimeout)', async () => {
    const w = await setup({ requestTimeout: 2_000 })
    await w.writeMessages({ value: 'x' })
    const defaults = new Writer({ brokers: [mini!.address], topic: 't' })
    writers.push(defaults)
    await defaults.writeMessages({ value: 'y' })
    expect(mini!.broker.received('Produce').map((r) => r.body.timeoutMs)).toEqual([1_600, 25_000])
  })

  it('sends acks=0 without waiting for a response', async () => {
    const w = await setup({ requiredAcks: 'none' })
    await w.writeMessages(values(0, 3)) // resolves once written: no response will come
    for (let i = 0; i < 100 && mini!.attempts.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(mini!.broker.received('Produce')[0]!.body.acks).toBe(0)
    expect(mini!.attempts[0]).toMatchObject({ producerId: -1n, baseSequence: -1 })
    expect(mini!.broker.received('InitProducerId')).toEqual([])
  })

  it('never sends Produce below v3: a broker offering only v0-v2 gets a clear error', async () => {
    mini = await MiniKafka.start({ t: 1 })
    mini.broker.apiVersions = mini.broker.apiVersions.map((v) => (v.apiKey === 0 ? { ...v, maxVersion: 2 } : v))
    const w = new Writer({ brokers: [mini.address], topic: 't', requiredAcks: 'leader' })
    writers.push(w)
    const err = await w.writeMessages({ value: 'x' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnsupportedVersionError)
    expect((err as Error).message).toMatch(/Produce: the broker supports v0-v2, this client needs v3-v12/)
    expect(mini.broker.received('Produce')).toEqual([])
  })

  it('close() is bounded when the broker never answers', async () => {
    const w = await setup({ closeTimeout: 300, requestTimeout: 60_000 })
    mini!.produceHook = () => 'hang'
    const pending = w.writeMessages({ value: 'x' }).catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 50))
    const started = Date.now()
    await w.close()
    expect(Date.now() - started).toBeLessThan(2000)
    expect(await pending).toBeInstanceOf(Error)
  })
})
