// @integration: runs against the real Kafka at KAFKA_BOOTSTRAP when it is set (npm run test:kafka)
// Writer integration suite. Runs against real Kafka (3 brokers) when KAFKA_BOOTSTRAP is set, otherwise
// against a 3-broker reference cluster; every write is read back with kcat (librdkafka). Nothing here
// is specific to one target: broker restarts and leader moves work on both (see helpers.ts), and the
// reference cluster's fault injection has its own suite, writer-faults.test.ts.

import * as net from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import {
  ClosedError,
  ConfigError,
  CRC32Balancer,
  DeliveryTimeoutError,
  Hash,
  InvalidMessageError,
  KafkaError,
  LeastBytes,
  MessageTooLargeError,
  Murmur2Balancer,
  ReferenceHash,
  RetriesExhaustedError,
  RoundRobin,
  Sticky,
  Writer,
  type Balancer,
  type Message,
  type WriterConfig,
} from '../../src/index.js'
import { AbortError, ConnectionError, SaslAuthenticationError } from '../../src/net/errors.js'
import {
  checkExactlyOnceInOrder,
  createTopic,
  isr,
  kcatSasl,
  kcatTls,
  leaders,
  readAll,
  startSecureTargets,
  startTarget,
  targetName,
  uniqueTopic,
  waitFor,
  type SecureTargets,
} from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

describe('Writer configuration', () => {
  const brokers = ['127.0.0.1:1']
  const cases: [string, Partial<WriterConfig>, RegExp][] = [
    [
      'idempotence with acks=leader',
      { requiredAcks: 'leader', idempotent: true },
      /idempotent: needs requiredAcks 'all'/,
    ],
    [
      'idempotence with too many in flight',
      { idempotent: true, maxInFlightRequests: 6 },
      /idempotent: allows at most 5/,
    ],
    ['a removed option', { acks: 1 } as Partial<WriterConfig>, /acks: is not a Writer option; use requiredAcks/],
    ['a bad batchSize', { batchSize: 0 }, /batchSize: must be an integer/],
    ['a bad requiredAcks', { requiredAcks: 'most' as 'all' }, /requiredAcks: must be 'none', 'leader' or 'all'/],
    ['an unknown codec', { compression: 'brotli' as 'gzip' }, /compression: must be one of none, gzip/],
    [
      'a buffer smaller than a batch',
      { batchBytes: 1 << 20, bufferMaxBytes: 1024 },
      /bufferMaxBytes: must be at least batchBytes/,
    ],
    ['completion without async', { completion: () => {} }, /completion: is only called in async mode/],
    [
      'backoff max below min',
      { writeBackoffMin: 500, writeBackoffMax: 100 },
      /writeBackoffMax: must be at least writeBackoffMin/,
    ],
    ['a balancer without balance()', { balancer: {} as Balancer }, /balancer: must be an object with a balance/],
    ['no brokers', { brokers: [] }, /brokers: must list at least one/],
    ['an idle limit of zero', { connectionsMaxIdle: 0 }, /connectionsMaxIdle: must be a number of milliseconds/],
  ]
  for (const [what, config, message] of cases) {
    it(`rejects ${what} with a ConfigError naming the option`, () => {
      let error: unknown
      try {
        new Writer({ brokers, ...config } as WriterConfig)
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toMatch(message)
    })
  }

  it('turns idempotence off by default for acks other than all, as Java does', async () => {
    const w = new Writer({ brokers, topic: 't', requiredAcks: 'none' })
    expect(w.stats().requiredAcks).toBe(0)
    await w.close()
  })

  it('rejects bad messages before sending anything', async () => {
    const withTopic = new Writer({ brokers, topic: 't' })
    const without = new Writer({ brokers })
    try {
      await expect(withTopic.writeMessages({ topic: 'other', value: 'x' })).rejects.toThrow(
        /set on both the Writer \('t'\) and the message \('other'\)/,
      )
      await expect(without.writeMessages({ value: 'x' })).rejects.toBeInstanceOf(InvalidMessageError)
      await expect(withTopic.writeMessages({ value: 42 as unknown as string })).rejects.toThrow(
        /value must be a string, a Uint8Array/,
      )
      await expect(withTopic.writeMessages({ value: 'x'.repeat(2 << 20) })).rejects.toBeInstanceOf(MessageTooLargeError)
      await expect(withTopic.writeMessages({ value: 'x', timestamp: Number.NaN })).rejects.toThrow(/timestamp/)
    } finally {
      await withTopic.close()
      await without.close()
    }
  })
})

describe.sequential(`Writer against ${targetName}`, () => {
  const target = useTarget(startTarget, { startTimeout: 120_000 })
  const writers: Writer[] = []

  afterAll(async () => {
    await Promise.allSettled(writers.map((w) => w.close()))
  }, 60_000)

  function writer(config: Omit<WriterConfig, 'brokers'> & { brokers?: WriterConfig['brokers'] }): Writer {
    const w = new Writer({ brokers: target.bootstrap, ...config })
    writers.push(w)
    return w
  }

  function keyedMessages(count: number, keys = 10, tag = ''): Message[] {
    return Array.from({ length: count }, (_, i) => ({ key: `k${i % keys}`, value: `k${i % keys}:${i}${tag}` }))
  }

  for (const acks of ['none', 'leader', 'all'] as const) {
    it(`writes with requiredAcks=${acks}`, async () => {
      const topic = uniqueTopic(`acks-${acks}`)
      await createTopic(target.bootstrap, topic, { partitions: 3 })
      const w = writer({ topic, requiredAcks: acks, balancer: new Hash() })
      const messages = keyedMessages(300)
      await w.writeMessages(messages.slice(0, 150))
      for (let i = 150; i < 300; i += 50) await w.writeMessages(messages.slice(i, i + 50))
      const stats = w.stats()
      expect(stats.messages).toBe(300)
      expect(stats.errors).toBe(0)
      expect(stats.requiredAcks).toBe(acks === 'none' ? 0 : acks === 'leader' ? 1 : -1)
      const records = await readAll(target.bootstrap, topic, 300)
      const check = checkExactlyOnceInOrder(
        records,
        messages.map((m) => m.value as string),
      )
      expect(check).toEqual({ missing: [], duplicated: [], reordered: [] })
    })
  }

  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`writes ${compression}-compressed batches that librdkafka reads back`, async () => {
      const topic = uniqueTopic(`codec-${compression}`)
      await createTopic(target.bootstrap, topic, { partitions: 2 })
      const w = writer({ topic, compression })
      const messages = Array.from({ length: 400 }, (_, i) => ({
        key: `key-${i}`,
        value: `${compression} value ${i} `.repeat(5),
        headers: [{ key: 'n', value: String(i) }],
      }))
      await w.writeMessages(messages)
      const records = await readAll(target.bootstrap, topic, 400)
      expect(records.length).toBe(400)
      const byKey = new Map(records.map((r) => [r.key, r]))
      for (const m of messages) {
        const r = byKey.get(m.key)!
        expect(r.value).toBe(m.value)
        expect(r.headers).toEqual({ n: m.headers[0]!.value })
      }
    })
  }

  describe('balancers', () => {
    const keyed: [string, () => Balancer][] = [
      ['Hash', () => new Hash()],
      ['ReferenceHash', () => new ReferenceHash()],
      ['CRC32Balancer', () => new CRC32Balancer()],
      ['Murmur2Balancer', () => new Murmur2Balancer()],
      ['Sticky (keyed)', () => new Sticky()],
    ]
    for (const [name, make] of keyed) {
      it(`${name} sends each key where the reference client would`, async () => {
        const topic = uniqueTopic('bal')
        await createTopic(target.bootstrap, topic, { partitions: 6, replicationFactor: 1 })
        const w = writer({ topic, balancer: make() })
        const messages = Array.from({ length: 300 }, (_, i) => ({
          key: `user-${i % 60}`,
          value: `user-${i % 60}:${i}`,
        }))
        await w.writeMessages(messages)
        const oracle = make()
        const expected = new Map(messages.map((m) => [m.value, oracle.balance(m, [0, 1, 2, 3, 4, 5])]))
        const records = await readAll(target.bootstrap, topic, 300)
        expect(records.length).toBe(300)
        for (const r of records) expect(r.partition).toBe(expected.get(r.value!))
        expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(3)
      })
    }

    it('RoundRobin and LeastBytes spread keyless messages evenly', async () => {
      for (const make of [() => new RoundRobin(), () => new LeastBytes()]) {
        const topic = uniqueTopic('even')
        await createTopic(target.bootstrap, topic, { partitions: 6, replicationFactor: 1 })
        const w = writer({ topic, balancer: make() })
        await w.writeMessages(Array.from({ length: 600 }, (_, i) => ({ value: `v:${String(i).padStart(4, '0')}` })))
        const counts = new Map<number, number>()
        for (const r of await readAll(target.bootstrap, topic, 600))
          counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1)
        expect([...counts.values()]).toEqual([100, 100, 100, 100, 100, 100])
      }
    })

    it('Sticky keeps keyless messages on one partition per batch', async () => {
      const topic = uniqueTopic('sticky')
      await createTopic(target.bootstrap, topic, { partitions: 6, replicationFactor: 1 })
      const w = writer({ topic, balancer: new Sticky({ batchBytes: 1000 }) })
      await w.writeMessages(Array.from({ length: 100 }, (_, i) => ({ value: String(i).padStart(100, '0') })))
      const records = await readAll(target.bootstrap, topic, 100)
      const runs = records.reduce((n, r, i, all) => (i > 0 && all[i - 1]!.partition !== r.partition ? n + 1 : n), 1)
      expect(records.length).toBe(100)
      // 10 switches of ~10 messages each; every partition holds whole runs of 10.
      const counts = new Map<number, number>()
      for (const r of records) counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1)
      for (const n of counts.values()) expect(n % 10).toBe(0)
      expect(runs).toBeGreaterThan(1)
    })
  })

  it('async mode reports every batch to completion with offsets', async () => {
    const topic = uniqueTopic('async')
    await createTopic(target.bootstrap, topic, { partitions: 3 })
    const completed: Message[] = []
    const errors: Error[] = []
    const w = writer({
      topic,
      async: true,
      batchTimeout: 20,
      completion: (messages, error) => {
        if (error !== null) errors.push(error)
        else completed.push(...messages)
      },
    })
    const messages = keyedMessages(1000)
    for (let i = 0; i < 1000; i += 100) await w.writeMessages(messages.slice(i, i + 100)) // returns once buffered
    await w.flush()
    expect(errors).toEqual([])
    expect(completed.length).toBe(1000)
    const offsets = new Set(completed.map((m) => `${m.partition}/${m.offset}`))
    expect(offsets.size).toBe(1000)
    expect(completed.every((m) => m.topic === topic && typeof m.offset === 'bigint')).toBe(true)
    expect((await readAll(target.bootstrap, topic, 1000)).length).toBe(1000)
  })

  it('synchronous writes resolve with where Kafka put each message', async () => {
    const topic = uniqueTopic('offsets')
    await createTopic(target.bootstrap, topic, { partitions: 3 })
    const w = writer({ topic, balancer: new Hash() })
    const messages = keyedMessages(30, 7)
    const first = await w.writeMessages(messages.slice(0, 12))
    const second = await w.writeMessages(messages.slice(12))
    const results = [...first, ...second]
    expect(results.length).toBe(30)
    // kcat (librdkafka) reads what the broker stored: each value at the partition and offset we returned.
    const stored = new Map((await readAll(target.bootstrap, topic, 30)).map((r) => [r.value, r]))
    results.forEach((r, i) => {
      const record = stored.get(messages[i]!.value as string)
      expect(r.topic).toBe(topic)
      expect([r.partition, r.offset]).toEqual([record?.partition, BigInt(record?.offset ?? -2)])
    })
    const async = writer({ topic, async: true, completion: () => {} })
    expect(await async.writeMessages({ value: 'buffered' })).toEqual([])
  })

  it('synchronous writes do not wait out the linger', async () => {
    const topic = uniqueTopic('linger')
    await createTopic(target.bootstrap, topic, { partitions: 1 })
    const w = writer({ topic, batchTimeout: 10_000 })
    await w.writeMessages({ value: 'warm-up' })
    const started = Date.now()
    await w.writeMessages({ value: 'now' })
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('applies backpressure when the buffer is full and still delivers everything', async () => {
    const topic = uniqueTopic('backpressure')
    await createTopic(target.bootstrap, topic, { partitions: 2 })
    const w = writer({ topic, async: true, batchBytes: 16 * 1024, bufferMaxBytes: 32 * 1024, completion: () => {} })
    const value = 'x'.repeat(1000)
    const started = Date.now()
    for (let i = 0; i < 400; i++) await w.writeMessages({ value: `${i}:${value}` })
    await w.flush()
    const stats = w.stats()
    expect(stats.waitTime.count).toBeGreaterThan(0) // writeMessages had to wait for room
    expect(stats.messages).toBe(400)
    expect(stats.bufferedBytes).toBe(0)
    expect(Date.now() - started).toBeLessThan(30_000)
    expect((await readAll(target.bootstrap, topic, 400)).length).toBe(400)
  })

  it('survives connections dropped with requests in flight: nothing lost, duplicated or reordered', async () => {
    const topic = uniqueTopic('drops')
    await createTopic(target.bootstrap, topic, { partitions: 3 })
    const sockets = new Set<net.Socket>()
    const w = writer({
      topic,
      balancer: new Hash(),
      batchSize: 20,
      maxAttempts: 30,
      writeBackoffMin: 10,
      writeBackoffMax: 50,
      // Client-side socket kills: requests already written may or may not have reached the broker.
      socketFactory: (o) => {
        const s = net.connect({ host: o.host, port: o.port })
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        return s
      },
    })
    // Four concurrent lanes, each with its own keys, so per-key order is each lane's order.
    const messages = Array.from({ length: 3000 }, (_, i) => {
      const key = `L${Math.floor(i / 30) % 4}k${i % 7}`
      return { key, value: `${key}:${i}` }
    })
    await w.writeMessages(messages.slice(0, 30))
    let kills = 0
    const killer = setInterval(() => {
      for (const s of sockets) {
        s.destroy()
        kills++
      }
    }, 25)
    try {
      await Promise.all(
        [0, 1, 2, 3].map(async (lane) => {
          for (let i = 30 + lane * 30; i < messages.length; i += 120) await w.writeMessages(messages.slice(i, i + 30))
        }),
      )
    } finally {
      clearInterval(killer)
    }
    const stats = w.stats()
    expect(kills).toBeGreaterThan(3)
    expect(stats.retries).toBeGreaterThan(0)
    const records = await readAll(target.bootstrap, topic, 3000)
    const check = checkExactlyOnceInOrder(
      records,
      messages.map((m) => m.value as string),
    )
    const dup = records.filter((r) => r.value === check.duplicated[0])
    expect({ ...check, dup, bumps: stats.epochBumps }).toEqual({
      missing: [],
      duplicated: [],
      reordered: [],
      dup: [],
      bumps: 0,
    })
  })

  it('keeps writing while a broker stops mid-stream and comes back: nothing lost, duplicated or reordered', async () => {
    const topic = uniqueTopic('crash')
    await createTopic(target.bootstrap, topic, { partitions: 3, replicationFactor: 3 })
    const w = writer({ topic, balancer: new Hash(), batchSize: 50, requestTimeout: 5000 })
    const messages = keyedMessages(3000, 30)
    const victim = (await leaders(target.bootstrap, topic)).get(0)!
    let stopping: Promise<void> | undefined
    try {
      for (let i = 0; i < messages.length; i += 60) {
        await w.writeMessages(messages.slice(i, i + 60))
        // The broker goes down while writes continue (real Kafka: a controlled shutdown takes seconds).
        if (i === 600) {
          stopping = target.stopBroker(victim)
          stopping.catch(() => {}) // awaited below; no unhandled rejection meanwhile
        }
      }
      await stopping
      // Partition 0 was led by the stopped broker: another replica leads it now.
      expect((await leaders(target.bootstrap, topic)).get(0)).not.toBe(victim)
    } finally {
      await stopping?.catch(() => {})
      await target.startBroker(victim)
    }
    expect(w.stats().errors).toBe(0)
    await w.writeMessages({ key: 'k0', value: 'k0:3000' }) // and after the restart
    const after = await leaders(target.bootstrap, topic)
    expect([...after.values()].every((l) => l >= 0)).toBe(true)
    const records = await readAll(target.bootstrap, topic, 3001)
    expect(checkExactlyOnceInOrder(records, [...messages.map((m) => m.value as string), 'k0:3000'])).toEqual({
      missing: [],
      duplicated: [],
      reordered: [],
    })
  }, 240_000)

  it('follows a leader moved mid-stream', async () => {
    const topic = uniqueTopic('move')
    await createTopic(target.bootstrap, topic, { partitions: 2, replicationFactor: 3 })
    const w = writer({ topic, balancer: new Hash(), batchSize: 25 })
    const messages = keyedMessages(1000, 10)
    const before = (await leaders(target.bootstrap, topic)).get(0)!
    const next = target.brokerIds.find((id) => id !== before)!
    for (let i = 0; i < messages.length; i += 50) {
      await w.writeMessages(messages.slice(i, i + 50))
      if (i === 300) await target.moveLeader(topic, 0, next)
    }
    expect((await leaders(target.bootstrap, topic)).get(0)).toBe(next)
    const records = await readAll(target.bootstrap, topic, 1000)
    expect(
      checkExactlyOnceInOrder(
        records,
        messages.map((m) => m.value as string),
      ),
    ).toEqual({ missing: [], duplicated: [], reordered: [] })
    // The Writer learnt of the move from the old leader's NOT_LEADER_OR_FOLLOWER and retried.
    expect(w.stats().errors).toBe(0)
  }, 120_000)

  it('fails with NOT_ENOUGH_REPLICAS when acks=all cannot be met, and acks=leader still writes', async () => {
    const topic = uniqueTopic('isr')
    await createTopic(target.bootstrap, topic, {
      partitions: 1,
      replicationFactor: 3,
      configs: { 'min.insync.replicas': '3' },
    })
    const leader = (await leaders(target.bootstrap, topic)).get(0)!
    const follower = (await isr(target.bootstrap, topic, 0)).find((id) => id !== leader)!
    // Stop one follower: the 2 replicas left in sync can never satisfy min.insync.replicas=3.
    await target.stopBroker(follower)
    try {
      await waitFor(
        async () => !(await isr(target.bootstrap, topic, 0)).includes(follower),
        60_000,
        `broker ${follower} to leave the ISR`,
      )
      // Idempotent (the default): retried until deliveryTimeout, whatever maxAttempts says.
      const all = writer({ topic, maxAttempts: 3, writeBackoffMin: 20, deliveryTimeout: 1_500 })
      const error = await all.writeMessages({ value: 'needs 3 replicas' }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DeliveryTimeoutError)
      const cause = (error as DeliveryTimeoutError).cause
      expect(cause).toBeInstanceOf(KafkaError)
      expect((cause as KafkaError).errorName).toBe('NOT_ENOUGH_REPLICAS')
      expect((error as DeliveryTimeoutError).maybeWritten).toBe(false)
      // Without idempotence, maxAttempts ends it.
      const counted = writer({ topic, maxAttempts: 3, writeBackoffMin: 20, idempotent: false })
      const exhausted = await counted.writeMessages({ value: 'needs 3 replicas' }).catch((e: unknown) => e)
      expect(exhausted).toBeInstanceOf(RetriesExhaustedError)
      expect((exhausted as RetriesExhaustedError).attempts).toBe(3)
      const one = writer({ topic, requiredAcks: 'leader' })
      await one.writeMessages({ value: 'one replica is enough' })
    } finally {
      await target.startBroker(follower)
    }
    expect((await readAll(target.bootstrap, topic, 1)).map((r) => r.value)).toEqual(['one replica is enough'])
  }, 240_000)

  it('reports a missing topic when auto-creation is off', async () => {
    const topic = uniqueTopic('missing')
    const w = writer({ topic, maxAttempts: 3, writeBackoffMin: 20 })
    const error = await w.writeMessages({ value: 'x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RetriesExhaustedError)
    expect(((error as RetriesExhaustedError).cause as KafkaError).errorName).toBe('UNKNOWN_TOPIC_OR_PARTITION')
  })

  it('creates a missing topic when allowAutoTopicCreation is on', async () => {
    const topic = uniqueTopic('autocreate')
    const w = writer({ topic, allowAutoTopicCreation: true })
    await w.writeMessages({ value: 'created on the fly' })
    expect((await readAll(target.bootstrap, topic, 1)).map((r) => r.value)).toEqual(['created on the fly'])
  })

  it('writes to several topics from one Writer', async () => {
    const a = uniqueTopic('multi-a')
    const b = uniqueTopic('multi-b')
    await createTopic(target.bootstrap, a, { partitions: 2 })
    await createTopic(target.bootstrap, b, { partitions: 2 })
    const w = writer({})
    await w.writeMessages({ topic: a, value: 'to a' }, { topic: b, value: 'to b' }, { topic: a, value: 'to a again' })
    expect((await readAll(target.bootstrap, a, 2)).map((r) => r.value).sort()).toEqual(['to a', 'to a again'])
    expect((await readAll(target.bootstrap, b, 1)).map((r) => r.value)).toEqual(['to b'])
  })

  it('close() flushes what is buffered, then refuses writes', async () => {
    const topic = uniqueTopic('close')
    await createTopic(target.bootstrap, topic, { partitions: 2 })
    const done: Message[] = []
    const w = new Writer({
      brokers: target.bootstrap,
      topic,
      async: true,
      batchTimeout: 60_000,
      completion: (m) => done.push(...m),
    })
    await w.writeMessages(keyedMessages(50))
    const started = Date.now()
    await w.close()
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(done.length).toBe(50)
    await expect(w.writeMessages({ value: 'late' })).rejects.toBeInstanceOf(ClosedError)
    expect((await readAll(target.bootstrap, topic, 50)).length).toBe(50)
  })

  it('stops waiting when the signal aborts', async () => {
    const topic = uniqueTopic('abort')
    const w = writer({ topic, maxAttempts: 1000, writeBackoffMin: 50 }) // the topic does not exist: metadata waits
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const started = Date.now()
    await expect(w.writeMessages([{ value: 'x' }], { signal: controller.signal })).rejects.toBeInstanceOf(AbortError)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  describe('security', () => {
    // Real Kafka: its SASL_PLAINTEXT and SSL listeners (KAFKA_BOOTSTRAP_SASL, KAFKA_BOOTSTRAP_SSL...,
    // required). Reference: a cluster with SASL users and one with mutual TLS, started for these tests.
    // Started by the first test that needs them, so that missing settings fail each test (with
    // startSecureTargets' message) instead of a hook.
    let started: Promise<SecureTargets> | undefined
    const targets = () => (started ??= startSecureTargets())

    afterAll(async () => {
      await (await started?.catch(() => undefined))?.stop()
    })

    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      it(`writes over SASL ${mechanism} and rejects a wrong password`, async () => {
        const secure = await targets()
        const { bootstrap: brokers, username, password } = secure.sasl
        const topic = uniqueTopic(`sasl-${mechanism}`)
        await createTopic(brokers, topic, { partitions: 1, auth: { sasl: { mechanism, username, password } } })
        const good = writer({ brokers, topic, sasl: { mechanism, username, password } })
        await good.writeMessages({ value: mechanism })
        const bad = writer({ brokers, topic, sasl: { mechanism, username, password: 'wrong' } })
        await expect(bad.writeMessages({ value: 'x' })).rejects.toBeInstanceOf(SaslAuthenticationError)
        const unknownUser = writer({ brokers, topic, sasl: { mechanism, username: 'nobody', password } })
        await expect(unknownUser.writeMessages({ value: 'x' })).rejects.toBeInstanceOf(SaslAuthenticationError)
        const records = await readAll(brokers, topic, 1, kcatSasl(secure.sasl))
        expect(records.map((r) => r.value)).toEqual([mechanism])
      })
    }

    it("writes over mutual TLS, verifying the brokers' certificates", async () => {
      const secure = await targets()
      const { bootstrap: brokers, ca, cert, key } = secure.tls
      const topic = uniqueTopic('mtls')
      await createTopic(brokers, topic, { partitions: 1, auth: { tls: { ca, cert, key } } })
      const w = writer({ brokers, topic, tls: { ca, cert, key } })
      await w.writeMessages(keyedMessages(100))
      // A client that does not trust the test CA refuses the brokers' certificates.
      const untrusting = writer({ brokers, topic, tls: { cert, key }, maxAttempts: 2, writeBackoffMin: 10 })
      const error = await untrusting.writeMessages({ value: 'x' }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toMatch(/certificate/)
      const records = await readAll(brokers, topic, 100, kcatTls(secure.tls))
      expect(records.map((r) => r.value).sort()).toEqual(
        keyedMessages(100)
          .map((m) => m.value as string)
          .sort(),
      )
    })
  })

  it('reports kafka-go stats and Java-style rates, reset on each call', async () => {
    const topic = uniqueTopic('stats')
    await createTopic(target.bootstrap, topic, { partitions: 2 })
    const w = writer({ topic, batchSize: 50, clientId: 'stats-test' })
    await w.writeMessages(keyedMessages(200))
    const s = w.stats()
    expect(s.messages).toBe(200)
    expect(s.bytes).toBeGreaterThan(0)
    expect(s.writes).toBeGreaterThanOrEqual(4)
    expect(s.batchSize.max).toBeLessThanOrEqual(50)
    expect(s.writeTime.count).toBeGreaterThan(0)
    expect(s.recordSendRate).toBeGreaterThan(0)
    expect(s.byteRate).toBeGreaterThan(0)
    expect(s.requestLatencyMax).toBeGreaterThanOrEqual(s.requestLatencyAvg)
    expect(s.batchSizeAvg).toBeGreaterThan(0)
    expect(s.dials).toBeGreaterThan(0)
    expect(s.clientId).toBe('stats-test')
    expect(s.topic).toBe(topic)
    const again = w.stats()
    expect(again.messages).toBe(0)
    expect(again.dials).toBe(0)
  })
})
