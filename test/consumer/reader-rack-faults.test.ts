// Fetch from a follower (KIP-392) under faults, on the reference cluster (racks, the rack-aware
// replica selector and its fault injection): an error from the follower sends the Reader back to
// the leader as Java's consumer does. OFFSET_OUT_OF_RANGE there means the follower lags, not that
// the position is gone: no reset (a reset to the first offset would read records twice), and a
// follower that stops answering is left for the leader. Every record is read exactly once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Cluster } from '../../src/broker/index.js'
import { Reader } from '../../src/consumer/reader.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { fetchWire } from '../helpers/fetch-wire.js'
import { createTopic, produce, readMessages, unique, valueOf, waitFor } from './helpers.js'

const RACKS = ['rack-a', 'rack-b', 'rack-c']
let cluster: Cluster

beforeAll(async () => {
  const { Cluster } = await import('../../src/broker/index.js')
  cluster = await Cluster.start({
    brokers: 3,
    racks: RACKS,
    replicaSelector: 'rack-aware',
    groupInitialRebalanceDelayMs: 0,
  })
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

async function followerReader(): Promise<{
  topic: string
  follower: number
  leader: number
  reader: Reader
  wire: ReturnType<typeof fetchWire>
}> {
  const topic = unique('rackf')
  await createTopic(cluster.bootstrapServers, topic, 1, 3)
  const p = cluster.topics.get(topic)!.partitions[0]!
  const follower = p.replicas.find((r) => r !== p.leader)!
  const wire = fetchWire()
  const reader = new Reader({
    brokers: cluster.bootstrapServers,
    topic,
    partition: 0,
    rack: RACKS[follower]!,
    maxWait: 100,
    socketFactory: wire.socketFactory,
  })
  await produce(cluster.bootstrapServers, topic, 100, { prefix: 'a-' })
  expect(new Set((await readMessages(reader, 100)).map(valueOf)).size).toBe(100)
  const followerAddress = cluster.bootstrapServers[follower]
  expect(wire.fetches.some((f) => f.address === followerAddress)).toBe(true)
  return { topic, follower, leader: p.leader, reader, wire }
}

describe('Reader fetching from a follower, under faults (reference cluster)', () => {
  it('OFFSET_OUT_OF_RANGE at the follower goes back to the leader without a reset', async () => {
    const { topic, follower, leader, reader, wire } = await followerReader()
    try {
      cluster.faults.failPartition(topic, 0, ErrorCode.OFFSET_OUT_OF_RANGE, { api: 'Fetch', broker: follower })
      const at = wire.fetches.length
      await produce(cluster.bootstrapServers, topic, 50, { prefix: 'b-' })
      const got = (await readMessages(reader, 50)).map(valueOf)
      // Exactly the new records: a reset to FirstOffset would hand out a-0.. again.
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `b-${i}`))
      const leaderAddress = cluster.bootstrapServers[leader]
      expect(wire.fetches.slice(at).some((f) => f.address === leaderAddress && f.partitions.length > 0)).toBe(true)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('a follower that stops is left for the leader, and every record is read once', async () => {
    const { topic, follower, reader } = await followerReader()
    try {
      await cluster.faults.stopBroker(follower)
      await produce(cluster.bootstrapServers, topic, 50, { prefix: 'c-' })
      const got = (await readMessages(reader, 50, 60_000)).map(valueOf)
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `c-${i}`))
    } finally {
      await reader.close()
      await cluster.faults.startBroker(follower)
      await waitFor(() => cluster.isAlive(follower), 10_000, 'the follower back')
    }
  }, 90_000)
})
