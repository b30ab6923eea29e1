// The README's example of a user's test: a service's producer keeps its promise (every message
// delivered exactly once, in order per key) while the reference cluster loses a broker. The
// README quotes this file; keep the two in step.

import { afterAll, beforeAll, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { Hash, Reader, Writer } from '../../src/index.js'

let cluster: Cluster

beforeAll(async () => {
  // Three brokers on loopback ports chosen by the OS; no group join delay in tests.
  cluster = await Cluster.start({ brokers: 3, groupInitialRebalanceDelayMs: 0 })
  cluster.createTopic('orders', { partitions: 3, replicationFactor: 3 })
})
afterAll(() => cluster.stop())

it('delivers every order exactly once while a broker crashes', async () => {
  const writer = new Writer({ brokers: cluster.bootstrapServers, topic: 'orders', balancer: new Hash() })
  const orders = Array.from({ length: 300 }, (_, i) => ({ key: `customer-${i % 7}`, value: `order-${i}` }))

  await writer.writeMessages(orders.slice(0, 100))
  await cluster.faults.stopBroker(0) // leaders on broker 0 move to the next in-sync replica
  await writer.writeMessages(orders.slice(100, 200))
  await cluster.faults.startBroker(0)
  cluster.faults.failNext('Produce', 1, 7 /* REQUEST_TIMED_OUT: retriable, so the Writer retries */)
  await writer.writeMessages(orders.slice(200))
  await writer.close()

  const reader = new Reader({ brokers: cluster.bootstrapServers, groupId: 'audit', topic: 'orders' })
  const seen: string[] = []
  for await (const message of reader.messages({ signal: AbortSignal.timeout(20_000) })) {
    seen.push(`${message.key}:${message.value}`)
    if (seen.length === orders.length) break
  }
  await reader.close()

  expect(new Set(seen).size).toBe(orders.length) // nothing duplicated, nothing lost
  for (const key of new Set(orders.map((o) => o.key))) {
    const sent = orders.filter((o) => o.key === key).map((o) => `${o.key}:${o.value}`)
    expect(seen.filter((s) => s.startsWith(`${key}:`))).toEqual(sent) // in order per key
  }
})
