// KIP-219 client-side throttling: a response that carries throttleTimeMs > 0, at a version where
// the broker answers before throttling, mutes the connection for that long (Java's NetworkClient
// mutes the channel); at older versions the broker already delayed the response itself.

import { afterEach, describe, expect, it } from 'vitest'
import { Connection } from '../../src/net/connection.js'
import { clientThrottleMs } from '../../src/net/throttle.js'
import { FindCoordinator, Metadata, Produce } from '../../src/protocol/messages/index.js'
import { FakeBroker } from './fake-broker.js'

let broker: FakeBroker | undefined
const connections: Connection[] = []

afterEach(async () => {
  for (const c of connections.splice(0)) c.destroy()
  await broker?.stop()
  broker = undefined
})

/** A broker that answers Metadata with `throttle()` ms of throttle time and records arrival times. */
async function throttlingBroker(throttle: () => number): Promise<number[]> {
  const arrivals: number[] = []
  broker = await FakeBroker.start((r) => {
    if (r.api.name !== 'Metadata') return undefined
    arrivals.push(performance.now())
    return { throttleTimeMs: throttle(), brokers: [], topics: [], clusterId: 'c', controllerId: 1 }
  })
  return arrivals
}

async function connect(): Promise<Connection> {
  const c = await Connection.connect({ host: '127.0.0.1', port: broker!.port, clientId: 'test' })
  connections.push(c)
  return c
}

describe('KIP-219 throttling', () => {
  it('sends nothing more to a broker until the throttle time it answered has passed', async () => {
    let throttle = 300
    const arrivals = await throttlingBroker(() => throttle)
    const c = await connect()
    await c.send(Metadata, 12, { topics: [] })
    throttle = 0
    const answered = performance.now()
    expect(c.throttledUntil).toBeGreaterThan(Date.now() + 200)
    // Both wait: the second queues behind the first rather than skipping the mute.
    await Promise.all([c.send(Metadata, 12, { topics: [] }), c.send(Metadata, 12, { topics: [] })])
    expect(arrivals.length).toBe(3)
    expect(arrivals[1]! - answered).toBeGreaterThanOrEqual(280)
    // No throttle in the last answers: the next request goes out at once.
    const before = performance.now()
    await c.send(Metadata, 12, { topics: [] })
    expect(arrivals[3]! - before).toBeLessThan(100)
  })

  it('does not mute for responses older than KIP-219 (the broker delayed those itself)', async () => {
    const arrivals = await throttlingBroker(() => 300)
    const c = await connect()
    await c.send(Metadata, 5, { topics: [] })
    const answered = performance.now()
    await c.send(Metadata, 5, { topics: [] })
    expect(arrivals[1]! - answered).toBeLessThan(100)
    expect(c.throttledUntil).toBe(0)
  })

  it('lets a request time out while the connection is muted, and keeps the connection', async () => {
    await throttlingBroker(() => 1000)
    const c = await connect()
    await c.send(Metadata, 12, { topics: [] })
    await expect(c.send(Metadata, 12, { topics: [] }, { timeoutMs: 100 })).rejects.toThrow(/timed out/)
    expect(c.isReady).toBe(true)
  })

  it('knows the first KIP-219 version of each API from the Kafka message specs', () => {
    // "Starting in version N, on quota violation brokers send out responses before throttling."
    expect(clientThrottleMs(Metadata, 6, { throttleTimeMs: 50 })).toBe(50)
    expect(clientThrottleMs(Metadata, 5, { throttleTimeMs: 50 })).toBe(0)
    expect(clientThrottleMs(FindCoordinator, 2, { throttleTimeMs: 7 })).toBe(7)
    expect(clientThrottleMs(FindCoordinator, 1, { throttleTimeMs: 7 })).toBe(0)
    // Produce has no such comment; Java's ProduceResponse.shouldClientThrottle is version >= 6.
    expect(clientThrottleMs(Produce, 6, { throttleTimeMs: 9 })).toBe(9)
    expect(clientThrottleMs(Produce, 5, { throttleTimeMs: 9 })).toBe(0)
    // A body without the field, or a nonsense value, is no throttle.
    expect(clientThrottleMs(Metadata, 12, {})).toBe(0)
    expect(clientThrottleMs(Metadata, 12, { throttleTimeMs: -5 })).toBe(0)
  })
})
