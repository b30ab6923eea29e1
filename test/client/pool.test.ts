import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionPool } from '../../src/net/pool.js'
import { AbortError, ClosedError, ConnectionError } from '../../src/net/errors.js'
import { FakeBroker } from './fake-broker.js'

let broker: FakeBroker | undefined
afterEach(async () => {
  await broker?.stop()
  broker = undefined
})

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
})
