import * as net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiVersions } from '../../src/protocol/messages/index.js'
import { ConnectionPool } from '../../src/net/pool.js'
import { AbortError, ClosedError, ConnectionError } from '../../src/net/errors.js'
import { FakeBroker } from './fake-broker.js'

let broker: FakeBroker | undefined
afterEach(async () => {
  await broker?.stop()
  broker = undefined
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A socket factory that records when each connection attempt was made. */
function recordingFactory(): { attempts: number[]; factory: (o: { host: string; port: number }) => net.Socket } {
  const attempts: number[] = []
  return { attempts, factory: (o) => (attempts.push(performance.now()), net.connect({ host: o.host, port: o.port })) }
}

describe('ConnectionPool', () => {
  it('opens connections lazily, one per workload, and shares a dial between concurrent callers', async () => {
    broker = await FakeBroker.start()
    const pool = new ConnectionPool({ clientId: 'p' })
    const endpoint = { nodeId: 1, host: '127.0.0.1', port: broker.port }
    expect(broker.sockets.size).toBe(0)
    const [a, b] = await Promise.all([pool.get(endpoint, 'produce'), pool.get(endpoint, 'produce')])
    expect(a).toBe(b)
    const fetch = await pool.get(endpoint, 'fetch')
    const group = await pool.get(endpoint, 'group')
    expect(new Set([a.connection, fetch.connection, group.connection]).size).toBe(3)
    expect(pool.dials).toBe(3)
    expect(broker.received('ApiVersions').length).toBe(3) // negotiated per connection
    await pool.close()
    await expect(pool.get(endpoint, 'produce')).rejects.toBeInstanceOf(ClosedError)
  })

  it('replaces a broken connection on the next get', async () => {
    broker = await FakeBroker.start()
    const pool = new ConnectionPool({ clientId: 'p' })
    const endpoint = { nodeId: 1, host: '127.0.0.1', port: broker.port }
    const first = await pool.get(endpoint, 'produce')
    broker.dropConnections()
    await first.connection.closed
    const second = await pool.get(endpoint, 'produce')
    expect(second.connection).not.toBe(first.connection)
    expect(second.connection.isReady).toBe(true)
    pool.destroy()
  })

  it('reports a dial failure, and lets one caller abort without cancelling the shared dial', async () => {
    broker = await FakeBroker.start()
    const port = broker.port
    const pool = new ConnectionPool({ clientId: 'p' })
    const endpoint = { nodeId: 1, host: '127.0.0.1', port }
    const controller = new AbortController()
    const aborted = pool.get(endpoint, 'admin', controller.signal)
    const other = pool.get(endpoint, 'admin')
    controller.abort()
    await expect(aborted).rejects.toBeInstanceOf(AbortError)
    await expect(other).resolves.toBeDefined()
    await broker.stop()
    broker = undefined
    await expect(pool.get({ nodeId: 2, host: '127.0.0.1', port }, 'fetch')).rejects.toBeInstanceOf(ConnectionError)
    pool.destroy()
  })

  it('backs off between failed dials to a broker, 50 ms doubling to 1 s with jitter, like Java', async () => {
    broker = await FakeBroker.start()
    const port = broker.port
    await broker.stop() // nothing listens: every dial is refused at once
    broker = undefined
    const { attempts, factory } = recordingFactory()
    const pool = new ConnectionPool({ clientId: 'p', socketFactory: factory })
    const endpoint = { nodeId: 1, host: '127.0.0.1', port }
    for (let i = 0; i < 7; i++) await expect(pool.get(endpoint, 'produce')).rejects.toBeInstanceOf(ConnectionError)
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!)
    // Java's reconnect.backoff.ms 50 → reconnect.backoff.max.ms 1000, jitter ±20%.
    const expected = [50, 100, 200, 400, 800, 1000]
    expect(gaps.length).toBe(expected.length)
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(expected[i]! * 0.8 - 2)
      expect(gap).toBeLessThan(expected[i]! * 1.2 + 100)
    })
    // Another workload to the same broker waits out the same backoff.
    const before = attempts.length
    const started = performance.now()
    await expect(pool.get(endpoint, 'fetch')).rejects.toBeInstanceOf(ConnectionError)
    expect(attempts.length).toBe(before + 1)
    expect(attempts[before]! - attempts[before - 1]!).toBeGreaterThanOrEqual(800 - 2)
    expect(performance.now() - started).toBeGreaterThan(100)
    pool.destroy()
  })

  it('ends a dial waiting out its backoff when the pool closes', async () => {
    const pool = new ConnectionPool({ clientId: 'p' })
    const down = { nodeId: 1, host: '127.0.0.1', port: 1 } // nothing listens on port 1
    for (let i = 0; i < 6; i++) await expect(pool.get(down, 'admin')).rejects.toBeInstanceOf(ConnectionError)
    const waiting = pool.get(down, 'admin') // waits ~1 s before dialling
    const started = performance.now()
    await pool.close()
    await expect(waiting).rejects.toBeInstanceOf(ClosedError)
    expect(performance.now() - started).toBeLessThan(200)
  })

  it('keeps the backoff per broker, and forgets it once a dial succeeds', async () => {
    broker = await FakeBroker.start()
    const attempts: number[] = []
    let refuse = 3
    // The first dials go to a port nothing listens on (1), later ones reach the broker.
    const factory = (o: { host: string; port: number }): net.Socket => {
      attempts.push(performance.now())
      return net.connect({ host: o.host, port: refuse-- > 0 ? 1 : o.port })
    }
    const pool = new ConnectionPool({ clientId: 'p', socketFactory: factory })
    const endpoint = { nodeId: 1, host: '127.0.0.1', port: broker.port }
    for (let i = 0; i < 3; i++) await expect(pool.get(endpoint, 'admin')).rejects.toBeInstanceOf(ConnectionError)
    // Another broker is dialled at once (the unreachable one is port 1 through this factory too).
    const other = await FakeBroker.start()
    try {
      const started = performance.now()
      await pool.get({ nodeId: 2, host: '127.0.0.1', port: other.port }, 'admin')
      // Timed to the dial, not to the connected socket: a busy CPU slows the connect, not the wait.
      expect(attempts.at(-1)! - started).toBeLessThan(150)
    } finally {
      await other.stop()
    }
    const first = await pool.get(endpoint, 'admin') // after the 200 ms backoff
    broker.dropConnections()
    await first.connection.closed
    const before = attempts.length
    const started = performance.now()
    await pool.get(endpoint, 'admin') // the last dial succeeded: no backoff
    expect(attempts.length).toBe(before + 1)
    expect(attempts[before]! - started).toBeLessThan(40)
    pool.destroy()
  })

  it('closes a connection idle for connectionsMaxIdleMs, and keeps one in use', async () => {
    broker = await FakeBroker.start()
    const pool = new ConnectionPool({ clientId: 'p', connectionsMaxIdleMs: 200 })
    const endpoint = { nodeId: 1, host: '127.0.0.1', port: broker.port }
    const idle = await pool.get(endpoint, 'admin')
    const busy = await pool.get(endpoint, 'produce')
    for (let i = 0; i < 10; i++) {
      await busy.connection.send(ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })
      await sleep(50)
    }
    // 500 ms: the idle one was closed by us (gracefully, not cut by the broker), the busy one lives.
    expect(idle.connection.state).toBe('closed')
    expect(busy.connection.isReady).toBe(true)
    expect(pool.connections()).toEqual([busy.connection])
    const again = await pool.get(endpoint, 'admin')
    expect(again.connection).not.toBe(idle.connection)
    expect(again.connection.isReady).toBe(true)
    pool.destroy()
  })

  it('keeps idle connections by default (Java closes them after 9 minutes)', async () => {
    broker = await FakeBroker.start()
    const pool = new ConnectionPool({ clientId: 'p' })
    const endpoint = { nodeId: 1, host: '127.0.0.1', port: broker.port }
    const ready = await pool.get(endpoint, 'admin')
    await sleep(300)
    expect(ready.connection.isReady).toBe(true)
    expect(pool.connectionsMaxIdleMs).toBe(540_000)
    pool.destroy()
  })
})
