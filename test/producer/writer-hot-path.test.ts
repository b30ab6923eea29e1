// The per-message produce path (issue 14, item 2c): writeMessages looks the topic up once per
// call rather than once per message, and still asks the balancer about every message.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Writer, type Message } from '../../src/index.js'
import { createTopic, startReferenceCluster, uniqueTopic } from './helpers.js'

let cluster: Awaited<ReturnType<typeof startReferenceCluster>>

beforeAll(async () => {
  cluster = await startReferenceCluster()
})
afterAll(async () => {
  await cluster.stop()
})

describe('Writer hot path', () => {
  it('reads the topic metadata once per call, and balances every message', async () => {
    const topic = uniqueTopic('hot-path')
    await createTopic(cluster.bootstrapServers, topic, { partitions: 4 })
    const chosen: number[] = []
    const writer = new Writer({
      brokers: cluster.bootstrapServers,
      topic,
      balancer: {
        balance: (m: Message, partitions: readonly number[]) => {
          chosen.push(partitions.length)
          return Number(String(m.key)) % partitions.length
        },
      },
    })
    try {
      await writer.writeMessages({ key: '0', value: 'warm-up' })
      chosen.length = 0
      const topicLookups = vi.spyOn(writer.client.metadata, 'topic')
      const messages = Array.from({ length: 500 }, (_, i): Message => ({ key: String(i), value: `v${i}` }))
      const results = await writer.writeMessages(messages)
      const lookupsDuringWrite = topicLookups.mock.calls.length
      expect(chosen).toEqual(Array<number>(500).fill(4))
      expect(results.map((r) => r.partition)).toEqual(messages.map((_, i) => i % 4))
      // Per call and per batch (4 partitions), never per message.
      expect(lookupsDuringWrite).toBeLessThan(50)
      topicLookups.mockRestore()
    } finally {
      await writer.close()
    }
  })

  it('a balancer that picks a partition the topic lacks still gets a typed error', async () => {
    const topic = uniqueTopic('hot-path-bad')
    await createTopic(cluster.bootstrapServers, topic, { partitions: 2 })
    const writer = new Writer({ brokers: cluster.bootstrapServers, topic, balancer: { balance: () => 5 } })
    try {
      await expect(writer.writeMessages({ value: 'x' })).rejects.toMatchObject({ code: 'KAFKATS_BAD_PARTITION' })
    } finally {
      await writer.close()
    }
  })
})
