// The Writer under faults that only the reference cluster can inject (cluster.faults): errors
// answered to chosen requests, a broker that reads requests and never answers, answers that come
// after the client gave up, answers lost after the append (dropResponse), one failing partition
// inside a request (failPartition), stale metadata on every broker (lagMetadata), followers that
// stop copying (lagReplica) before a leader crash. Real Kafka has no switch for these, so this suite always runs on a
// 3-broker reference cluster, whatever KAFKA_BOOTSTRAP says; it is not part of `npm run
// test:kafka` (no @integration marker). Broker restarts and leader moves, which real Kafka can do
// too, are tested on both targets in writer.test.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BalancerFunc,
  DeliveryTimeoutError,
  Hash,
  KafkaError,
  RetriesExhaustedError,
  RoundRobin,
  Sticky,
  Writer,
  WriteErrors,
  type Message,
  type WriterConfig,
} from '../../src/index.js'
import { fnv1a32 } from '../../src/producer/hash.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import {
  checkExactlyOnceInOrder,
  createTopic,
  leaders,
  readAll,
  startReferenceCluster,
  uniqueTopic,
} from './helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

describe.sequential('Writer under injected faults (reference cluster)', () => {
  let cluster: Cluster
  let bootstrap: string[]
  const writers: Writer[] = []

  beforeAll(async () => {
    cluster = await startReferenceCluster()
    bootstrap = cluster.bootstrapServers
  })

  afterAll(async () => {
    await Promise.allSettled(writers.map((w) => w.close()))
    await cluster?.stop()
  })

  function writer(config: Omit<WriterConfig, 'brokers'>): Writer {
    const w = new Writer({ brokers: bootstrap, ...config })
    writers.push(w)
    return w
  }

  function keyedMessages(count: number, keys = 10, from = 0): Message[] {
    return Array.from({ length: count }, (_, j) => {
      const i = from + j
      return { key: `k${i % keys}`, value: `k${i % keys}:${i}` }
    })
  }

  it('retries retriable broker errors (failNext) and counts each retry', async () => {
    const topic = uniqueTopic('failnext')
    await createTopic(bootstrap, topic, { partitions: 1 })
    const w = writer({ topic, writeBackoffMin: 10 })
    await w.writeMessages({ value: 'warm-up' })
    w.stats()
    cluster.faults.failNext('Produce', 2, ErrorCode.NOT_ENOUGH_REPLICAS)
    await w.writeMessages({ value: 'after two failures' })
    expect(w.stats().retries).toBe(2)
    expect((await readAll(bootstrap, topic, 2)).map((r) => r.value)).toEqual(['warm-up', 'after two failures'])
  })

  it('without idempotence, gives up after maxAttempts with every attempt’s error', async () => {
    const topic = uniqueTopic('exhausted')
    await createTopic(bootstrap, topic, { partitions: 1 })
    const w = writer({ topic, maxAttempts: 4, writeBackoffMin: 10, idempotent: false })
    await w.writeMessages({ value: 'warm-up' })
    cluster.faults.failNext('Produce', 4, ErrorCode.NOT_ENOUGH_REPLICAS)
    const error = await w.writeMessages({ value: 'never written' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RetriesExhaustedError)
    expect((error as RetriesExhaustedError).attempts).toBe(4)
    expect((error as RetriesExhaustedError).errors.map((e) => (e as KafkaError).errorName)).toEqual(
      Array(4).fill('NOT_ENOUGH_REPLICAS'),
    )
    await w.writeMessages({ value: 'after the failure' })
    expect((await readAll(bootstrap, topic, 2)).map((r) => r.value)).toEqual(['warm-up', 'after the failure'])
  })

  it('with idempotence, maxAttempts does not end a batch: only deliveryTimeout does', async () => {
    const topic = uniqueTopic('budget')
    await createTopic(bootstrap, topic, { partitions: 1 })
    const w = writer({ topic, maxAttempts: 2, writeBackoffMin: 10, writeBackoffMax: 20 })
    await w.writeMessages({ value: 'warm-up' })
    w.stats()
    cluster.faults.failNext('Produce', 6, ErrorCode.NOT_ENOUGH_REPLICAS)
    await w.writeMessages({ value: 'after six failures' })
    const stats = w.stats()
    expect(stats.retries).toBe(6)
    expect(stats.epochBumps).toBe(0)
    expect((await readAll(bootstrap, topic, 2)).map((r) => r.value)).toEqual(['warm-up', 'after six failures'])
  })

  it('fails a batch at once on a non-retriable error and keeps writing after it', async () => {
    const topic = uniqueTopic('fatal')
    await createTopic(bootstrap, topic, { partitions: 1 })
    const w = writer({ topic, writeBackoffMin: 10 })
    await w.writeMessages({ value: 'before' })
    w.stats()
    cluster.faults.failNext('Produce', 1, ErrorCode.INVALID_RECORD)
    const error = await w.writeMessages({ value: 'rejected' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(KafkaError)
    expect((error as KafkaError).errorName).toBe('INVALID_RECORD')
    await w.writeMessages({ value: 'after' })
    const stats = w.stats()
    expect(stats.retries).toBe(0)
    expect(stats.errors).toBe(1)
    expect((await readAll(bootstrap, topic, 2)).map((r) => r.value)).toEqual(['before', 'after'])
  })

  it('bumps the epoch on OUT_OF_ORDER_SEQUENCE_NUMBER and writes everything exactly once', async () => {
    const topic = uniqueTopic('ooo')
    await createTopic(bootstrap, topic, { partitions: 3 })
    const w = writer({ topic, balancer: new Hash(), batchSize: 20, writeBackoffMin: 10 })
    const messages = keyedMessages(600)
    await w.writeMessages(messages.slice(0, 200))
    cluster.faults.failNext('Produce', 1, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
    await w.writeMessages(messages.slice(200))
    expect(w.stats().epochBumps).toBe(1)
    const records = await readAll(bootstrap, topic, 600)
    expect(
      checkExactlyOnceInOrder(
        records,
        messages.map((m) => m.value as string),
      ),
    ).toEqual({ missing: [], duplicated: [], reordered: [] })
  })

  it('a Produce answered after the request timeout is not written twice', async () => {
    const topic = uniqueTopic('late')
    await createTopic(bootstrap, topic, { partitions: 1 })
    const w = writer({ topic, requestTimeout: 500, writeBackoffMin: 10 })
    await w.writeMessages({ value: 'k:0' })
    // The broker handles the next Produce after 1.5 s: the client has timed out and resent by then.
    cluster.faults.delay('Produce', 1500, { count: 1 })
    await w.writeMessages({ value: 'k:1' })
    await w.writeMessages({ value: 'k:2' })
    expect(w.stats().retries).toBeGreaterThan(0)
    expect((await readAll(bootstrap, topic, 3)).map((r) => r.value)).toEqual(['k:0', 'k:1', 'k:2'])
  })

  it('survives the broker closing its connections mid-stream', async () => {
    const topic = uniqueTopic('dropped')
    await createTopic(bootstrap, topic, { partitions: 3 })
    const w = writer({ topic, balancer: new Hash(), batchSize: 20, writeBackoffMin: 10, maxAttempts: 30 })
    const messages = keyedMessages(2000, 12)
    let drops = 0
    for (let i = 0; i < messages.length; i += 100) {
      const writing = w.writeMessages(messages.slice(i, i + 100))
      // Every few chunks, a broker drops its connections while this chunk's requests are in flight.
      if ((i / 100) % 2 === 1) {
        await new Promise((r) => setTimeout(r, 1))
        cluster.faults.dropConnections(drops++ % 3)
      }
      await writing
    }
    const records = await readAll(bootstrap, topic, 2000)
    expect(
      checkExactlyOnceInOrder(
        records,
        messages.map((m) => m.value as string),
      ),
    ).toEqual({ missing: [], duplicated: [], reordered: [] })
    expect(w.stats().errors).toBe(0)
  })

  it('leaves a hung leader once the partition moves: nothing lost or duplicated', async () => {
    const topic = uniqueTopic('hung')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 3 })
    const w = writer({ topic, requestTimeout: 500, writeBackoffMin: 10, maxAttempts: 50 })
    const messages = keyedMessages(200, 5)
    await w.writeMessages(messages.slice(0, 100))
    const hung = (await leaders(bootstrap, topic)).get(0)!
    cluster.faults.blackhole(hung)
    try {
      const writing = w.writeMessages(messages.slice(100))
      await new Promise((r) => setTimeout(r, 800)) // at least one request timed out on the hung broker
      cluster.faults.moveLeader(topic, 0, (hung + 1) % 3)
      await writing
    } finally {
      cluster.faults.blackhole(hung, false)
    }
    expect(w.stats().retries).toBeGreaterThan(0)
    const records = await readAll(bootstrap, topic, 200)
    expect(
      checkExactlyOnceInOrder(
        records,
        messages.map((m) => m.value as string),
      ),
    ).toEqual({ missing: [], duplicated: [], reordered: [] })
  })
  it('sends keyless records only to partitions with a leader; keyed ones keep their partition (KIP-794)', async () => {
    const topic = uniqueTopic('offline')
    // One replica per partition: stopping a partition's broker leaves it without a leader.
    await createTopic(bootstrap, topic, { partitions: 3, replicationFactor: 1 })
    const down = (await leaders(bootstrap, topic)).get(0)!
    const offline = [...(await leaders(bootstrap, topic))].filter(([, b]) => b === down).map(([p]) => p)
    const config = { topic, deliveryTimeout: 3000, requestTimeout: 1000, writeBackoffMin: 10 } as const
    const roundRobin = writer({ ...config, balancer: new RoundRobin() })
    const sticky = writer({ ...config, balancer: new Sticky({ batchBytes: 10 }) })
    const keyed = writer({ ...config, balancer: new Hash() })
    for (const w of [roundRobin, sticky, keyed]) await w.writeMessages({ key: 'warm', value: 'warm-up' })
    await cluster.faults.stopBroker(down)
    try {
      for (const w of [roundRobin, sticky, keyed]) await w.client.metadata.refresh()
      const started = Date.now()
      const results = [
        ...(await roundRobin.writeMessages(Array.from({ length: 30 }, (_, i) => ({ value: `rr${i}` })))),
        ...(await sticky.writeMessages(Array.from({ length: 30 }, (_, i) => ({ value: `st${i}` })))),
        // kafka-go's Hash sends keyless messages round-robin: they avoid the offline partition too.
        ...(await keyed.writeMessages(Array.from({ length: 30 }, (_, i) => ({ value: `h${i}` })))),
      ]
      expect(Date.now() - started).toBeLessThan(config.deliveryTimeout)
      expect(results.filter((r) => offline.includes(r.partition))).toEqual([])
      expect(new Set(results.map((r) => r.partition)).size).toBe(3 - offline.length)
      // A key's partition never depends on availability: it waits for the leader, up to deliveryTimeout.
      const key = Array.from({ length: 100 }, (_, i) => `key${i}`).find((k) =>
        offline.includes(Math.abs((fnv1a32(k) | 0) % 3)),
      )!
      const error = await keyed.writeMessages({ key, value: 'to the offline partition' }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DeliveryTimeoutError)
      expect((error as DeliveryTimeoutError).message).toContain(`${topic}/${offline[0]}`)
    } finally {
      await cluster.faults.startBroker(down)
    }
  })
  it('splits a batch the broker finds too large and retries the halves; a record over the limit fails alone', async () => {
    // One 64 KiB batch, or several 6000-byte batches in flight at once (each refused and split).
    for (const [idempotent, batchBytes] of [
      [true, 65536],
      [true, 6000],
      [false, 65536],
    ] as const) {
      const topic = uniqueTopic(idempotent ? 'split-idem' : 'split')
      // The broker takes record batches of at most 2000 bytes.
      await createTopic(bootstrap, topic, { partitions: 1, configs: { 'max.message.bytes': '2000' } })
      const w = writer({ topic, idempotent, batchBytes, batchSize: 1000, writeBackoffMin: 10 })
      w.stats()
      const values = Array.from({ length: 60 }, (_, i) => `m${i}:`.padEnd(200, 'x'))
      const results = await w.writeMessages(values.map((value) => ({ value })))
      expect(results.map((r) => r.offset)).toEqual(values.map((_, i) => BigInt(i)))
      const stats = w.stats()
      expect(stats.errors).toBe(0)
      expect(stats.batchSplits).toBeGreaterThan(0)
      expect(stats.batchBytes.max).toBeLessThanOrEqual(2000) // every batch written fits the topic's limit
      // One record of ~3000 bytes between small ones: only it fails, with the broker's code and its size.
      const mixed = ['a', 'b', 'big'.padEnd(3000, 'y'), 'c', 'd']
      const error = await w.writeMessages(mixed.map((value) => ({ value }))).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(WriteErrors)
      const errors = (error as WriteErrors).errors
      expect(Array.from(errors, (e) => e === undefined)).toEqual([true, true, false, true, true])
      expect(errors[2]).toBeInstanceOf(KafkaError)
      expect((errors[2] as KafkaError).errorName).toBe('MESSAGE_TOO_LARGE')
      expect((errors[2] as KafkaError).message).toMatch(/a batch of 1 record, \d{4} bytes/)
      const read = await readAll(bootstrap, topic, 64)
      expect(read.map((r) => r.value)).toEqual([...values, 'a', 'b', 'c', 'd'])
    }
  })
  it('a Produce applied but never answered (dropResponse) is written once, reported once, with its original offsets', async () => {
    const topic = uniqueTopic('dropresp')
    await createTopic(bootstrap, topic, { partitions: 1 })
    const w = writer({ topic, writeBackoffMin: 10 })
    await w.writeMessages({ value: 'k:0' })
    w.stats()
    cluster.faults.dropResponse('Produce', 1)
    const results = await w.writeMessages(Array.from({ length: 10 }, (_, i) => ({ value: `k:${i + 1}` })))
    // The retry is a duplicate: the broker answers it with the offsets of the append it lost the answer of.
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i + 1)))
    const stats = w.stats()
    expect(stats.retries).toBeGreaterThan(0)
    expect(stats.messages).toBe(10)
    expect(stats.errors).toBe(0)
    const records = await readAll(bootstrap, topic, 11)
    expect(records.map((r) => [r.offset, r.value])).toEqual(Array.from({ length: 11 }, (_, i) => [i, `k:${i}`]))
  })

  it('one failing partition inside a multi-partition Produce (failPartition): only it is retried', async () => {
    const topic = uniqueTopic('failpart')
    await createTopic(bootstrap, topic, { partitions: 3, replicationFactor: 3 })
    // Every leader on broker 0, so one Produce request carries all three partitions.
    for (const p of [0, 1, 2]) cluster.faults.moveLeader(topic, p, 0)
    const w = writer({
      topic,
      writeBackoffMin: 10,
      balancer: new BalancerFunc((m) => Number(String(m.value).split(':')[0])),
    })
    await w.client.metadata.refresh()
    await w.writeMessages([0, 1, 2].map((p) => ({ value: `${p}:warm` })))
    const before = w.stats()
    expect(before.requests).toBe(1)
    cluster.faults.failPartition(topic, 1, ErrorCode.NOT_ENOUGH_REPLICAS)
    const results = await w.writeMessages([0, 1, 2].flatMap((p) => [0, 1].map((i) => ({ value: `${p}:${i}` }))))
    expect(results.map((r) => [r.partition, r.offset])).toEqual(
      [0, 1, 2].flatMap((p) => [
        [p, 1n],
        [p, 2n],
      ]),
    )
    const stats = w.stats()
    expect(stats.requests).toBe(2) // the three partitions together, then partition 1 alone
    expect(stats.retries).toBe(1)
    const records = await readAll(bootstrap, topic, 9)
    const byPartition = [0, 1, 2].map((p) => records.filter((r) => r.partition === p).map((r) => r.value))
    expect(byPartition).toEqual([0, 1, 2].map((p) => [`${p}:warm`, `${p}:0`, `${p}:1`]))
  })

  it('finds a moved leader through the KIP-951 hint while every broker answers stale metadata (lagMetadata)', async () => {
    const topic = uniqueTopic('lagmeta')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 3 })
    const w = writer({ topic, writeBackoffMin: 10, deliveryTimeout: 10_000 })
    await w.writeMessages({ value: 'k:0' })
    const old = (await leaders(bootstrap, topic)).get(0)!
    for (const b of [0, 1, 2]) cluster.faults.lagMetadata(b)
    try {
      cluster.faults.moveLeader(topic, 0, (old + 1) % 3)
      const started = Date.now()
      const results = await w.writeMessages({ value: 'k:1' }, { value: 'k:2' })
      expect(results.map((r) => r.offset)).toEqual([1n, 2n])
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(w.client.metadata.partition(topic, 0)?.leader).toBe((old + 1) % 3)
    } finally {
      for (const b of [0, 1, 2]) cluster.faults.lagMetadata(b, false)
    }
    expect((await readAll(bootstrap, topic, 3)).map((r) => r.value)).toEqual(['k:0', 'k:1', 'k:2'])
  })

  it('with acks=all, no acknowledged write is lost when the leader crashes', async () => {
    const topic = uniqueTopic('crash-all')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 3 })
    const w = writer({ topic, writeBackoffMin: 10, batchSize: 10 })
    const crashed = (await leaders(bootstrap, topic)).get(0)!
    const acknowledged: string[] = []
    let i = 0
    const writing = (async () => {
      for (; i < 400; i += 10) {
        const chunk = Array.from({ length: 10 }, (_, j) => ({ value: `k:${i + j}` }))
        await w.writeMessages(chunk)
        acknowledged.push(...chunk.map((m) => m.value))
      }
    })()
    let settled = false
    void writing.finally(() => (settled = true)).catch(() => {}) // awaited below
    while (acknowledged.length < 100 && !settled) await new Promise((r) => setTimeout(r, 1))
    await cluster.faults.stopBroker(crashed)
    try {
      await writing
    } finally {
      await cluster.faults.startBroker(crashed)
    }
    const records = await readAll(bootstrap, topic, 400)
    expect(checkExactlyOnceInOrder(records, acknowledged)).toEqual({ missing: [], duplicated: [], reordered: [] })
    expect(acknowledged).toHaveLength(400)
  })

  it('with acks=leader, acknowledged writes the followers had not copied are lost when the leader crashes (as on Kafka)', async () => {
    const topic = uniqueTopic('crash-one')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 3 })
    const w = writer({ topic, requiredAcks: 'leader', writeBackoffMin: 10 })
    await w.writeMessages({ value: 'k:0' })
    const leader = (await leaders(bootstrap, topic)).get(0)!
    const followers = [0, 1, 2].filter((b) => b !== leader)
    await new Promise((r) => setTimeout(r, 50)) // the followers copy k:0
    for (const f of followers) cluster.faults.lagReplica(topic, 0, f)
    const results = await w.writeMessages({ value: 'k:1' }, { value: 'k:2' })
    expect(results.map((r) => r.offset)).toEqual([1n, 2n]) // acknowledged by the leader alone
    await cluster.faults.stopBroker(leader)
    try {
      for (const f of followers) cluster.faults.lagReplica(topic, 0, f, false)
      await w.writeMessages({ value: 'k:3' })
    } finally {
      await cluster.faults.startBroker(leader)
    }
    // A follower took over without k:1 and k:2; the old leader truncates to it when it rejoins.
    expect((await readAll(bootstrap, topic, 2)).map((r) => r.value)).toEqual(['k:0', 'k:3'])
  })
  it('finds the new leader of a crashed broker through another broker while its bootstrap broker lags (lagMetadata)', async () => {
    const topic = uniqueTopic('lagmeta2')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 3 })
    const crashed = (await leaders(bootstrap, topic)).get(0)!
    const lagging = (crashed + 1) % 3
    // The Writer knows only the lagging broker at first; no KIP-951 hint comes from a dead broker.
    const w = new Writer({ brokers: [bootstrap[lagging]!], topic, writeBackoffMin: 10, deliveryTimeout: 10_000 })
    writers.push(w)
    await w.writeMessages({ value: 'k:0' })
    cluster.faults.lagMetadata(lagging)
    await cluster.faults.stopBroker(crashed)
    try {
      const started = Date.now()
      const results = await w.writeMessages({ value: 'k:1' }, { value: 'k:2' })
      expect(results.map((r) => r.offset)).toEqual([1n, 2n])
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      cluster.faults.lagMetadata(lagging, false)
      await cluster.faults.startBroker(crashed)
    }
    expect((await readAll(bootstrap, topic, 3)).map((r) => r.value)).toEqual(['k:0', 'k:1', 'k:2'])
  })
})
