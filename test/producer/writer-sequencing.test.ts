// The idempotent Writer when the outcome of a batch is unknown (issue 10, review finding D1): a
// batch whose last attempt may have been written is never renumbered, and what the Writer
// reports for each message matches what the log holds. Runs on a 3-broker reference cluster
// (fault injection); the log is read back with kcat, not with our own decoder.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BalancerFunc, Writer, type Message, type WriterConfig } from '../../src/index.js'
import { DeliveryTimeoutError } from '../../src/producer/errors.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { createTopic, leaders, readAll, startReferenceCluster, uniqueTopic } from './helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

describe.sequential('idempotent Writer with unknown outcomes (reference cluster)', () => {
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

  /** Compares what the Writer reported per value with how often the log holds it. */
  function mismatches(reported: Map<string, Error | null>, log: (string | null)[]): string[] {
    const counts = new Map<string, number>()
    for (const v of log) counts.set(v ?? '', (counts.get(v ?? '') ?? 0) + 1)
    const out: string[] = []
    for (const [v, n] of counts) if (n > 1) out.push(`${v} is in the log ${n} times`)
    for (const [v, error] of reported) {
      const n = counts.get(v) ?? 0
      if (error === null && n === 0) out.push(`${v} reported written but not in the log`)
      const maybe = error instanceof DeliveryTimeoutError && error.maybeWritten
      if (error !== null && n > 0 && !maybe) out.push(`${v} reported failed (${error.message}) but in the log`)
    }
    return out
  }

  it('D1: a batch that gave up while its last attempt was written is not appended again', async () => {
    const topic = uniqueTopic('d1')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 3 })
    const leader = (await leaders(bootstrap, topic)).get(0)!
    const follower = (leader + 1) % 3
    const reported = new Map<string, Error | null>()
    let lifted = false
    const lift = (): void => {
      if (lifted) return
      lifted = true
      cluster.faults.lagReplica(topic, 0, follower, false)
    }
    const w = writer({
      topic,
      async: true,
      batchSize: 1,
      maxAttempts: 3,
      requestTimeout: 600,
      completion: (messages: Message[], error: Error | null) => {
        for (const m of messages) reported.set(m.value as string, error)
        if (error !== null && messages.some((m) => m.value === 'm0')) lift()
      },
    })
    await w.writeMessages({ value: 'warm' })
    await w.flush()
    // The follower stops copying but stays in the ISR: the leader appends, the high watermark
    // stays, acks=all answers never come in time.
    cluster.faults.lagReplica(topic, 0, follower, true)
    const fallback = setTimeout(lift, 4_000)
    try {
      await w.writeMessages(['m0', 'm1', 'm2', 'm3', 'm4'].map((value) => ({ value })))
      await w.flush()
    } finally {
      clearTimeout(fallback)
      lift()
    }
    const log = (await readAll(bootstrap, topic, 6)).map((r) => r.value)
    expect(reported.size).toBe(6)
    expect(mismatches(reported, log)).toEqual([])
    expect(log.filter((v) => v !== 'warm')).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'].filter((v) => log.includes(v)))
  }, 30_000)

  it('a batch out of time with a later batch outstanding is proven written by it, not reported failed', async () => {
    const topic = uniqueTopic('proof')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 3 })
    const follower = ((await leaders(bootstrap, topic)).get(0)! + 1) % 3
    const reported = new Map<string, Message>()
    const failed = new Map<string, Error>()
    const w = writer({
      topic,
      async: true,
      batchSize: 1,
      requestTimeout: 500,
      deliveryTimeout: 2_000,
      writeBackoffMin: 50,
      writeBackoffMax: 200,
      completion: (messages, error) => {
        for (const m of messages) {
          reported.set(m.value as string, m)
          if (error !== null) failed.set(m.value as string, error)
        }
      },
    })
    await w.writeMessages({ value: 'warm' })
    await w.flush()
    cluster.faults.lagReplica(topic, 0, follower, true)
    await w.writeMessages({ value: 'm0' })
    await new Promise((r) => setTimeout(r, 1_000))
    await w.writeMessages({ value: 'm1' })
    // m0 runs out of time at about 2 s with m1 still waiting; the lag ends at 2.6 s.
    await new Promise((r) => setTimeout(r, 1_600))
    cluster.faults.lagReplica(topic, 0, follower, false)
    await w.flush()
    expect([...failed.keys()]).toEqual([])
    expect(reported.get('m0')?.offset).toBeUndefined() // written, but its offset was never answered
    expect(reported.get('m1')?.offset).toBe(2n)
    expect((await readAll(bootstrap, topic, 3)).map((r) => r.value)).toEqual(['warm', 'm0', 'm1'])
  }, 30_000)

  it('batches out of time with nothing after them fail as "maybe written", and later writes go on', async () => {
    const topic = uniqueTopic('dangling')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 3 })
    const follower = ((await leaders(bootstrap, topic)).get(0)! + 1) % 3
    const reported = new Map<string, Error | null>()
    const w = writer({
      topic,
      async: true,
      batchSize: 1,
      requestTimeout: 500,
      deliveryTimeout: 1_500,
      writeBackoffMin: 50,
      writeBackoffMax: 200,
      completion: (messages, error) => {
        for (const m of messages) reported.set(m.value as string, error)
      },
    })
    await w.writeMessages({ value: 'warm' })
    await w.flush()
    cluster.faults.lagReplica(topic, 0, follower, true)
    await w.writeMessages(['m0', 'm1', 'm2'].map((value) => ({ value })))
    await w.flush()
    cluster.faults.lagReplica(topic, 0, follower, false)
    for (const v of ['m0', 'm1', 'm2']) {
      const error = reported.get(v)
      expect(error).toBeInstanceOf(DeliveryTimeoutError)
      expect((error as DeliveryTimeoutError).maybeWritten).toBe(true)
    }
    await w.writeMessages({ value: 'm3' })
    await w.flush()
    expect(reported.get('m3')).toBeNull()
    const log = (await readAll(bootstrap, topic, 2)).map((r) => r.value)
    expect(mismatches(reported, log)).toEqual([])
    // Whichever of m0..m2 the leader appended before the lag ended are there once, in order; m3
    // follows them (under a bumped epoch if the last of them was missing).
    expect(log).toEqual(['warm', 'm0', 'm1', 'm2', 'm3'].filter((v) => log.includes(v)))
    expect(log[log.length - 1]).toBe('m3')
  }, 30_000)

  it('with the defaults, a leader that answers NOT_LEADER_OR_FOLLOWER for 15 s fails no write', async () => {
    const topic = uniqueTopic('election')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 3 })
    const w = writer({ topic })
    await w.writeMessages({ value: 'before' })
    // What a client sees while Kafka moves a leader off a killed node (about 9 s on Kafka 4.4).
    cluster.faults.failNext('Produce', 1_000_000, ErrorCode.NOT_LEADER_OR_FOLLOWER)
    const elected = setTimeout(() => cluster.faults.clear(), 15_000)
    try {
      const started = Date.now()
      const results = await w.writeMessages({ value: 'during' }, { value: 'after' })
      expect(Date.now() - started).toBeGreaterThan(14_000)
      expect(results.map((r) => r.offset)).toEqual([1n, 2n])
    } finally {
      clearTimeout(elected)
      cluster.faults.clear()
    }
    expect(w.stats().retries).toBeGreaterThan(10) // more than maxAttempts (10) would have allowed
    expect((await readAll(bootstrap, topic, 3)).map((r) => r.value)).toEqual(['before', 'during', 'after'])
  }, 60_000)
})

describe.sequential('Writer request pipelining (reference cluster)', () => {
  let cluster: Cluster

  beforeAll(async () => {
    cluster = await startReferenceCluster()
  })

  afterAll(async () => {
    await cluster?.stop()
  })

  it('never queues a Produce request inside the connection, where it could time out behind a later one', async () => {
    const bootstrap = cluster.bootstrapServers
    const topic = uniqueTopic('pipeline')
    await createTopic(bootstrap, topic, { partitions: 6, replicationFactor: 1 })
    const byLeader = new Map<number, number[]>()
    for (const [p, leader] of await leaders(bootstrap, topic))
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p])
    const [leader, partitions] = [...byLeader].find(([, ps]) => ps.length >= 2)!
    const [pa, pb] = partitions as [number, number]
    const w = new Writer({
      brokers: bootstrap,
      topic,
      async: true,
      completion: () => {},
      batchSize: 1,
      maxInFlightRequests: 2,
      balancer: new BalancerFunc((m) => (String(m.value).startsWith('a') ? pa : pb)),
    })
    try {
      await w.writeMessages({ value: 'a-warm' }, { value: 'b-warm' })
      await w.flush()
      const { connection } = await w.client.connection(leader, 'produce')
      cluster.faults.delay('Produce', 100)
      let maxQueued = 0
      const watch = setInterval(() => (maxQueued = Math.max(maxQueued, connection.queued)), 1)
      // Two requests for pa fill the connection; pb's batches must wait in the Writer, not in it.
      await w.writeMessages(['a0', 'a1', 'a2', 'a3'].map((value) => ({ value })))
      await new Promise((r) => setTimeout(r, 10))
      await w.writeMessages(['b0', 'b1', 'b2', 'b3'].map((value) => ({ value })))
      await w.flush()
      clearInterval(watch)
      expect(connection.inFlight).toBe(0)
      expect(maxQueued).toBe(0)
    } finally {
      cluster.faults.clear()
      await w.close()
    }
  }, 30_000)
})
