// Fetch sessions (KIP-227) under broker faults, on the reference cluster (its fault injection has
// no real-Kafka equivalent): a broker that evicts its sessions, a request-level session error, a
// leader moved to another broker, dropped connections. Every record is read, and the session the
// broker holds lists exactly the partitions the Reader fetches there.

import { beforeAll, describe, expect, it } from 'vitest'
import type { Cluster } from '../../src/broker/index.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { Reader } from '../../src/consumer/reader.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { fetchWire } from '../helpers/fetch-wire.js'
import { createTopic, produce, readMessages, startTarget, unique, valueOf, waitFor } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(() => startTarget({ reference: true }))
let cluster: Cluster

beforeAll(() => {
  cluster = target.cluster as unknown as Cluster
})

function valuesOf(messages: readonly FetchedMessage[]): Set<string> {
  return new Set(messages.map(valueOf))
}

function expected(prefix: string, count: number): Set<string> {
  return new Set(Array.from({ length: count }, (_, i) => `${prefix}${i}`))
}

/** Partitions of `topic` in broker `id`'s fetch sessions. */
function inSessions(id: number, topic: string): number[] {
  const out: number[] = []
  for (const s of cluster.broker(id).fetchSessions.values())
    for (const p of s.partitions.values()) if (p.topic === topic) out.push(p.partition)
  return out.sort((a, b) => a - b)
}

function ledBy(id: number, topic: string): number[] {
  const t = cluster.topics.get(topic)!
  return t.partitions.flatMap((p, i) => (p.leader === id ? [i] : []))
}

async function setup(prefix: string): Promise<{ topic: string; reader: Reader; wire: ReturnType<typeof fetchWire> }> {
  const topic = unique(prefix)
  await createTopic(target.bootstrap, topic, 6, 3)
  const wire = fetchWire()
  const reader = new Reader({
    brokers: target.bootstrap,
    topic,
    groupId: unique(`${prefix}-g`),
    maxWait: 100,
    socketFactory: wire.socketFactory,
  })
  await waitFor(() => reader.assignment().length === 6, 30_000, 'the assignment')
  await produce(target.bootstrap, topic, 120, { prefix: 'a-' })
  expect(valuesOf(await readMessages(reader, 120))).toEqual(expected('a-', 120))
  return { topic, reader, wire }
}

describe('Reader fetch sessions under faults (reference cluster)', () => {
  it("keeps each broker's session equal to the partitions it leads for the Reader", async () => {
    const { topic, reader } = await setup('fsf-state')
    try {
      for (const id of [0, 1, 2]) expect(inSessions(id, topic)).toEqual(ledBy(id, topic))
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('starts a new session with a full fetch after the broker evicts it', async () => {
    const { topic, reader, wire } = await setup('fsf-evict')
    try {
      for (const id of [0, 1, 2]) cluster.faults.evictFetchSessions(id)
      const at = wire.fetches.length
      await produce(target.bootstrap, topic, 120, { prefix: 'b-' })
      expect(valuesOf(await readMessages(reader, 120))).toEqual(expected('b-', 120))
      // After the eviction each broker saw a full fetch (epoch 0) naming every partition it leads.
      const full = wire.fetches.slice(at).filter((f) => f.sessionEpoch === 0)
      expect(full.length).toBeGreaterThanOrEqual(3)
      expect(full.reduce((n, f) => n + f.partitions.length, 0)).toBeGreaterThanOrEqual(6)
      await waitFor(
        () => [0, 1, 2].every((id) => inSessions(id, topic).join() === ledBy(id, topic).join()),
        5000,
        'sessions rebuilt',
      )
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('starts over after INVALID_FETCH_SESSION_EPOCH and dropped connections', async () => {
    const { topic, reader, wire } = await setup('fsf-epoch')
    try {
      cluster.faults.failNext('Fetch', 2, ErrorCode.INVALID_FETCH_SESSION_EPOCH)
      cluster.faults.dropConnections(1)
      const at = wire.fetches.length
      await produce(target.bootstrap, topic, 120, { prefix: 'c-' })
      expect(valuesOf(await readMessages(reader, 120))).toEqual(expected('c-', 120))
      expect(wire.fetches.slice(at).some((f) => f.sessionEpoch === 0)).toBe(true)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('moves a partition between sessions when its leader moves', async () => {
    const { topic, reader, wire } = await setup('fsf-move')
    try {
      const from = cluster.topics.get(topic)!.partitions[0]!.leader
      const to = (from + 1) % 3
      await target.moveLeader(topic, 0, to)
      await produce(target.bootstrap, topic, 30, { prefix: 'd-', partition: 0 })
      expect(valuesOf(await readMessages(reader, 30))).toEqual(expected('d-', 30))
      await waitFor(
        () => inSessions(to, topic).includes(0) && !inSessions(from, topic).includes(0),
        5000,
        'partition 0 moved between sessions',
      )
      const id = reader.client.metadata.topic(topic)?.topicId
      expect(wire.fetches.some((f) => f.forgotten.includes(`${id}:0`) || f.forgotten.includes(`${topic}:0`))).toBe(true)
    } finally {
      await reader.close()
    }
  }, 60_000)
})
