// Metadata that follows the cluster, on a 3-broker reference cluster (its fault injection has no
// real-Kafka equivalent): a topic deleted and recreated at a lower leader epoch (review S1), and a
// hung broker that must not be asked for metadata again while another one answers.

import * as net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Reader } from '../../src/consumer/reader.js'
import { Writer } from '../../src/producer/writer.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { startReferenceCluster, uniqueTopic } from '../producer/helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

describe.sequential('metadata that follows the cluster (reference cluster)', () => {
  let cluster: Cluster
  let bootstrap: string[]
  const closers: (() => Promise<void>)[] = []

  beforeAll(async () => {
    cluster = await startReferenceCluster()
    bootstrap = cluster.bootstrapServers
  })

  afterAll(async () => {
    await Promise.allSettled(closers.map((close) => close()))
    await cluster?.stop()
  })

  it('follows a topic deleted and recreated with its leader elsewhere at a lower epoch', async () => {
    const topic = uniqueTopic('recreated')
    cluster.createTopic(topic, { assignments: [[1, 2, 0]] })
    // The leader epoch moves up three times and ends on broker 1: 1 → 2 → 0 → 1.
    for (const to of [2, 0, 1]) cluster.faults.moveLeader(topic, 0, to)
    const before = cluster.topics.partition(topic, 0)!
    expect(before.leader).toBe(1)

    const writer = new Writer({ brokers: bootstrap, topic, maxAttempts: 6, writeBackoffMin: 10, writeBackoffMax: 50 })
    closers.push(() => writer.close())
    const reader = new Reader({ brokers: bootstrap, topic, partition: 0, readBackoffMin: 10, readBackoffMax: 50 })
    closers.push(() => reader.close())
    await writer.writeMessages({ value: 'before' })
    const first = await reader.fetchMessage({ signal: AbortSignal.timeout(10_000) })
    expect(first.value?.toString()).toBe('before')

    // The Reader looks again only once the new topic has data (so its old position, offset 1,
    // is inside the new log and no OFFSET_OUT_OF_RANGE would tell it to start over).
    reader.pause([0])
    // Deleted and recreated at once, as the controller would between two metadata refreshes:
    // the new topic's leader is broker 2 at an epoch below the one both clients have seen.
    cluster.topics.delete(cluster.topics.get(topic)!)
    cluster.createTopic(topic, { assignments: [[2, 0, 1]] })
    const after = cluster.topics.partition(topic, 0)!
    expect(after.leader).toBe(2)
    expect(after.leaderEpoch).toBeLessThan(before.leaderEpoch)

    await writer.writeMessages([{ value: 'after-0' }, { value: 'after-1' }])
    reader.resume([0])
    // A new topic, a new log: the Reader starts it from its start offset (FirstOffset).
    const second = await reader.fetchMessage({ signal: AbortSignal.timeout(10_000) })
    expect([second.offset, second.value?.toString()]).toEqual([0n, 'after-0'])
  })

  it('does not ask a hung broker for metadata again while another one answers', async () => {
    const topic = uniqueTopic('hung-meta')
    cluster.createTopic(topic, { assignments: [[0, 1, 2]] })
    const hung = 1
    const hungPort = Number(bootstrap[hung]!.split(':')[1])
    // Counts the requests the Writer sends to the hung broker (ApiVersions on each dial included).
    let toHung = 0
    const socketFactory = (o: { host: string; port: number }): net.Socket => {
      const socket = net.connect({ host: o.host, port: o.port })
      if (o.port === hungPort) {
        const write = socket.write.bind(socket) as (chunk: Uint8Array, cb?: (err?: Error | null) => void) => boolean
        socket.write = ((chunk: Uint8Array, cb?: (err?: Error | null) => void) => {
          toHung += countFrames(Buffer.from(chunk))
          return write(chunk, cb)
        }) as typeof socket.write
      }
      return socket
    }
    const requestTimeout = 500
    const writer = new Writer({
      brokers: [bootstrap[0]!],
      topic,
      requestTimeout,
      writeBackoffMin: 10,
      writeBackoffMax: 20,
      socketFactory,
    })
    closers.push(() => writer.close())
    await writer.writeMessages({ value: 'warm-up' })
    cluster.faults.blackhole(hung)
    toHung = 0
    try {
      const started = Date.now()
      // Each write is told NOT_LEADER_OR_FOLLOWER once, so each refreshes the metadata: nine
      // refreshes rotating over three brokers would start at the hung one three times.
      for (let i = 0; i < 9; i++) {
        cluster.faults.failNext('Produce', 1, ErrorCode.NOT_LEADER_OR_FOLLOWER, { broker: 0 })
        await writer.writeMessages({ value: `m${i}` })
      }
      const elapsed = Date.now() - started
      expect(toHung).toBeLessThanOrEqual(1)
      // One request timeout at most, not one per visit of the rotation.
      expect(elapsed).toBeLessThan(3 * requestTimeout)
    } finally {
      cluster.faults.blackhole(hung, false)
    }
  })

  it('a hung leader delays a write by one request timeout once its partition moves, not more', async () => {
    const topic = uniqueTopic('hung-leader')
    cluster.createTopic(topic, { assignments: [[1, 2, 0]] })
    const hung = 1
    const hungPort = Number(bootstrap[hung]!.split(':')[1])
    const sent: string[] = []
    const socketFactory = (o: { host: string; port: number }): net.Socket => {
      const socket = net.connect({ host: o.host, port: o.port })
      if (o.port === hungPort) {
        const write = socket.write.bind(socket) as (chunk: Uint8Array, cb?: (err?: Error | null) => void) => boolean
        socket.write = ((chunk: Uint8Array, cb?: (err?: Error | null) => void) => {
          sent.push(...apiKeysOf(Buffer.from(chunk)).map(String))
          return write(chunk, cb)
        }) as typeof socket.write
      }
      return socket
    }
    const requestTimeout = 1000
    const writer = new Writer({
      brokers: [bootstrap[0]!],
      topic,
      requestTimeout,
      writeBackoffMin: 10,
      writeBackoffMax: 50,
      socketFactory,
    })
    closers.push(() => writer.close())
    await writer.writeMessages({ value: 'warm-up' })
    // Three rounds, so the metadata rotation would start at the hung broker in one of them.
    for (let round = 0; round < 3; round++) {
      cluster.faults.moveLeader(topic, 0, hung)
      await writer.writeMessages({ value: `before ${round}` })
      cluster.faults.blackhole(hung)
      sent.length = 0
      try {
        const started = Date.now()
        const writing = writer.writeMessages({ value: `during hang ${round}` })
        // The cluster moves the leader away soon after the node hangs (Kafka: once its session expires).
        await new Promise((r) => setTimeout(r, 100))
        cluster.faults.moveLeader(topic, 0, 2)
        await writing
        const elapsed = Date.now() - started
        // The Produce in flight has to time out; after that nothing more goes to the hung broker.
        expect(sent).toEqual(['0'])
        expect(elapsed).toBeLessThan(1.5 * requestTimeout)
      } finally {
        cluster.faults.blackhole(hung, false)
      }
    }
  })

  it('the Reader follows a moved leader from the KIP-951 hint, without asking for metadata', async () => {
    const topic = uniqueTopic('hinted')
    cluster.createTopic(topic, { assignments: [[0, 1, 2]] })
    const keys: number[] = []
    const socketFactory = (o: { host: string; port: number }): net.Socket => {
      const socket = net.connect({ host: o.host, port: o.port })
      const write = socket.write.bind(socket) as (chunk: Uint8Array, cb?: (err?: Error | null) => void) => boolean
      socket.write = ((chunk: Uint8Array, cb?: (err?: Error | null) => void) => {
        keys.push(...apiKeysOf(Buffer.from(chunk)))
        return write(chunk, cb)
      }) as typeof socket.write
      return socket
    }
    const writer = new Writer({ brokers: bootstrap, topic, writeBackoffMin: 10 })
    closers.push(() => writer.close())
    const reader = new Reader({ brokers: bootstrap, topic, partition: 0, socketFactory, readBackoffMin: 10 })
    closers.push(() => reader.close())
    await writer.writeMessages({ value: 'on broker 0' })
    expect((await reader.fetchMessage({ signal: AbortSignal.timeout(10_000) })).value?.toString()).toBe('on broker 0')
    keys.length = 0
    cluster.faults.moveLeader(topic, 0, 1)
    await writer.writeMessages({ value: 'on broker 1' })
    expect((await reader.fetchMessage({ signal: AbortSignal.timeout(10_000) })).value?.toString()).toBe('on broker 1')
    expect(keys.filter((k) => k === 3)).toEqual([]) // no Metadata request
    expect(keys).toContain(1) // Fetch
  })

  it('follows a moved leader from the Produce currentLeader hint, without asking for metadata', async () => {
    const topic = uniqueTopic('writer-hinted')
    cluster.createTopic(topic, { assignments: [[0, 1, 2]] })
    const keys: number[] = []
    const socketFactory = (o: { host: string; port: number }): net.Socket => {
      const socket = net.connect({ host: o.host, port: o.port })
      const write = socket.write.bind(socket) as (chunk: Uint8Array, cb?: (err?: Error | null) => void) => boolean
      socket.write = ((chunk: Uint8Array, cb?: (err?: Error | null) => void) => {
        keys.push(...apiKeysOf(Buffer.from(chunk)))
        return write(chunk, cb)
      }) as typeof socket.write
      return socket
    }
    const writer = new Writer({ brokers: bootstrap, topic, socketFactory, writeBackoffMin: 10 })
    closers.push(() => writer.close())
    const [first] = await writer.writeMessages({ value: 'on broker 0' })
    expect(first).toMatchObject({ partition: 0, offset: 0n })
    keys.length = 0
    cluster.faults.moveLeader(topic, 0, 1)
    const [second] = await writer.writeMessages({ value: 'on broker 1' })
    expect(second).toMatchObject({ partition: 0, offset: 1n })
    expect(keys.filter((k) => k === 0).length).toBe(2) // Produce: refused by broker 0, then on broker 1
    expect(keys.filter((k) => k === 3)).toEqual([]) // no Metadata request
  })
})

/** Request frames (size-prefixed) in one buffer the client wrote. */
function countFrames(bytes: Buffer): number {
  let frames = 0
  for (let at = 0; at + 4 <= bytes.length; at += 4 + bytes.readInt32BE(at)) frames++
  return frames
}

/** The API key of each request frame in one buffer the client wrote. */
function apiKeysOf(bytes: Buffer): number[] {
  const keys: number[] = []
  for (let at = 0; at + 6 <= bytes.length; at += 4 + bytes.readInt32BE(at)) keys.push(bytes.readInt16BE(at + 4))
  return keys
}
