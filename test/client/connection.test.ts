import * as net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Connection, type ConnectionOptions } from '../../src/net/connection.js'
import { AbortError, ConnectionError, RequestTimeoutError } from '../../src/net/errors.js'
import { isRetriable, ProtocolDecodeError } from '../../src/errors.js'
import { Metadata, Produce } from '../../src/protocol/messages/index.js'
import { FakeBroker, type ReceivedRequest } from './fake-broker.js'

const METADATA_V = 12
const emptyMetadata = { brokers: [], topics: [], clusterId: 'c', controllerId: 1 }

let broker: FakeBroker | undefined
const connections: Connection[] = []

afterEach(async () => {
  for (const c of connections.splice(0)) c.destroy()
  await broker?.stop()
  broker = undefined
})

async function connect(options: Partial<ConnectionOptions> = {}): Promise<Connection> {
  const c = await Connection.connect({ host: '127.0.0.1', port: broker!.port, clientId: 'test', ...options })
  connections.push(c)
  return c
}

function metadata(c: Connection, controllerId?: number, opts?: { signal?: AbortSignal; timeoutMs?: number }) {
  return c.send(
    Metadata,
    METADATA_V,
    { topics: controllerId === undefined ? [] : [{ name: `t${controllerId}` }] },
    opts,
  )
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('Connection framing', () => {
  it('decodes responses delivered a byte at a time and several in one chunk', async () => {
    const held: ReceivedRequest[] = []
    broker = await FakeBroker.start((r) => {
      held.push(r)
      return 'none'
    })
    const c = await connect()
    const a = metadata(c, 1)
    const b = metadata(c, 2)
    const d = metadata(c, 3)
    await until(() => held.length === 3)
    const frames = held.map((r, i) => r.encode({ ...emptyMetadata, controllerId: 10 + i }))
    // First response one byte at a time, then the other two in a single write.
    const socket = held[0]!.socket
    for (const byte of frames[0]!) {
      socket.write(Buffer.from([byte]))
      await new Promise((r) => setImmediate(r))
    }
    socket.write(Buffer.concat([frames[1]!, frames[2]!]))
    expect((await a).controllerId).toBe(10)
    expect((await b).controllerId).toBe(11)
    expect((await d).controllerId).toBe(12)
  })

  it('matches responses by correlation id when answered out of order', async () => {
    const held: ReceivedRequest[] = []
    broker = await FakeBroker.start((r) => {
      held.push(r)
      return 'none'
    })
    const c = await connect()
    const results = [metadata(c), metadata(c), metadata(c)]
    await until(() => held.length === 3)
    for (const [i, r] of [...held.entries()].reverse()) r.respond({ ...emptyMetadata, controllerId: i })
    expect((await Promise.all(results)).map((r) => r.controllerId)).toEqual([0, 1, 2])
  })

  it('wraps correlation ids at 2^31', async () => {
    broker = await FakeBroker.start(() => emptyMetadata)
    const c = await connect({ firstCorrelationId: 0x7ffffffe })
    for (let i = 0; i < 4; i++) await metadata(c)
    expect(broker.received('Metadata').map((r) => r.header.correlationId)).toEqual([0x7ffffffe, 0x7fffffff, 0, 1])
  })

  it('destroys the connection on a frame size out of range', async () => {
    broker = await FakeBroker.start((r) => {
      r.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]))
      return 'none'
    })
    const c = await connect()
    await expect(metadata(c)).rejects.toBeInstanceOf(ProtocolDecodeError)
    expect(c.state).toBe('closed')
  })
})

describe('Connection pipelining', () => {
  it('caps requests in flight and queues the rest in order', async () => {
    const held: ReceivedRequest[] = []
    broker = await FakeBroker.start((r) => {
      held.push(r)
      return 'none'
    })
    const c = await connect({ maxInFlight: 2 })
    const results = Array.from({ length: 5 }, () => metadata(c))
    await until(() => held.length === 2)
    await new Promise((r) => setTimeout(r, 30))
    expect(held.length).toBe(2)
    expect(c.inFlight).toBe(2)
    expect(c.queued).toBe(3)
    let answered = 0
    while (answered < 5) {
      await until(() => held.length > answered)
      held[answered]!.respond({ ...emptyMetadata, controllerId: answered })
      answered++
    }
    expect((await Promise.all(results)).map((r) => r.controllerId)).toEqual([0, 1, 2, 3, 4])
    expect(c.inFlight).toBe(0)
  })

  it('corks requests made in the same tick into one socket write', async () => {
    broker = await FakeBroker.start(() => emptyMetadata)
    let writes = 0
    const c = await connect({
      maxInFlight: 10,
      socketFactory: (o) => {
        const socket = net.connect({ host: o.host, port: o.port })
        const write = socket.write.bind(socket) as (...args: unknown[]) => boolean
        socket.write = ((...args: unknown[]) => {
          writes++
          return write(...args)
        }) as typeof socket.write
        return socket
      },
    })
    writes = 0
    await Promise.all(Array.from({ length: 8 }, () => metadata(c)))
    expect(writes).toBe(1)
    expect(broker.received('Metadata').length).toBe(8)
  })

  it('sends acks=0 produce requests without expecting a response', async () => {
    broker = await FakeBroker.start((r) => (r.api.name === 'Metadata' ? emptyMetadata : 'none'))
    const c = await connect({ maxInFlight: 1 })
    await c.sendNoResponse(Produce, 9, { acks: 0, timeoutMs: 1000, topicData: [] })
    await c.sendNoResponse(Produce, 9, { acks: 0, timeoutMs: 1000, topicData: [] })
    // The slot is free again: a normal request goes through and is answered.
    expect((await metadata(c)).controllerId).toBe(1)
    expect(broker.received('Produce').length).toBe(2)
    expect(c.inFlight).toBe(0)
  })
})

describe('Connection timeouts and aborts', () => {
  it('times out an unanswered request on the coarse timer and drops the connection', async () => {
    broker = await FakeBroker.start(() => 'none')
    const c = await connect()
    const other = metadata(c, undefined, { timeoutMs: 60_000 })
    const started = Date.now()
    const err = await metadata(c, undefined, { timeoutMs: 200 }).catch((e: unknown) => e)
    const elapsed = Date.now() - started
    expect(err).toBeInstanceOf(RequestTimeoutError)
    expect(isRetriable(err)).toBe(true)
    expect(elapsed).toBeGreaterThanOrEqual(195)
    expect(elapsed).toBeLessThan(1000) // 100 ms wheel resolution
    // A broker that did not answer in time is dropped; everything else pending fails retriably.
    const otherErr = await other.catch((e: unknown) => e)
    expect(otherErr).toBeInstanceOf(ConnectionError)
    expect(isRetriable(otherErr)).toBe(true)
    expect(c.state).toBe('closed')
  })

  it('times out a queued request without dropping the connection', async () => {
    const held: ReceivedRequest[] = []
    broker = await FakeBroker.start((r) => {
      held.push(r)
      return 'none'
    })
    const c = await connect({ maxInFlight: 1 })
    const first = metadata(c, undefined, { timeoutMs: 60_000 })
    await expect(metadata(c, undefined, { timeoutMs: 150 })).rejects.toBeInstanceOf(RequestTimeoutError)
    expect(c.state).toBe('ready')
    expect(held.length).toBe(1)
    held[0]!.respond(emptyMetadata)
    await first
  })

  it('aborts a queued request before it is sent', async () => {
    const held: ReceivedRequest[] = []
    broker = await FakeBroker.start((r) => {
      held.push(r)
      return 'none'
    })
    const c = await connect({ maxInFlight: 1 })
    const first = metadata(c)
    const controller = new AbortController()
    const second = metadata(c, undefined, { signal: controller.signal })
    controller.abort(new Error('user gave up'))
    await expect(second).rejects.toBeInstanceOf(AbortError)
    await until(() => held.length === 1)
    held[0]!.respond(emptyMetadata)
    await first
    await new Promise((r) => setTimeout(r, 20))
    expect(held.length).toBe(1) // the aborted one never went out
  })

  it('aborts an in-flight request, drops its late response and frees its slot', async () => {
    const held: ReceivedRequest[] = []
    broker = await FakeBroker.start((r) => {
      held.push(r)
      return 'none'
    })
    const c = await connect({ maxInFlight: 1 })
    const controller = new AbortController()
    const first = metadata(c, undefined, { signal: controller.signal })
    await until(() => held.length === 1)
    const second = metadata(c)
    controller.abort()
    await expect(first).rejects.toBeInstanceOf(AbortError)
    expect(c.inFlight).toBe(1) // still on the wire
    held[0]!.respond({ ...emptyMetadata, controllerId: 99 })
    await until(() => held.length === 2)
    held[1]!.respond({ ...emptyMetadata, controllerId: 7 })
    expect((await second).controllerId).toBe(7)
  })

  it('rejects at once when the signal is already aborted', async () => {
    broker = await FakeBroker.start(() => emptyMetadata)
    const c = await connect()
    await expect(metadata(c, undefined, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError)
  })
})

describe('Connection lifecycle', () => {
  it('fails every pending request with a retriable error when the broker closes the socket', async () => {
    const held: ReceivedRequest[] = []
    broker = await FakeBroker.start((r) => {
      held.push(r)
      return 'none'
    })
    const c = await connect({ maxInFlight: 1 })
    const pending = [metadata(c), metadata(c), metadata(c)]
    await until(() => held.length === 1)
    broker.dropConnections()
    for (const p of pending) {
      const err = await p.catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ConnectionError)
      expect(isRetriable(err)).toBe(true)
    }
    expect(c.state).toBe('closed')
    await expect(metadata(c)).rejects.toBeInstanceOf(ConnectionError)
  })

  it('destroy(err) fails pending requests with that error', async () => {
    broker = await FakeBroker.start(() => 'none')
    const c = await connect()
    const p = metadata(c)
    const boom = new ConnectionError('test teardown')
    c.destroy(boom)
    await expect(p).rejects.toBe(boom)
  })

  it('close() lets in-flight requests finish, refuses new ones, then closes', async () => {
    const held: ReceivedRequest[] = []
    broker = await FakeBroker.start((r) => {
      held.push(r)
      return 'none'
    })
    const c = await connect()
    const p = metadata(c)
    await until(() => held.length === 1)
    const closing = c.close()
    expect(c.state).toBe('closing')
    await expect(metadata(c)).rejects.toBeInstanceOf(ConnectionError)
    held[0]!.respond({ ...emptyMetadata, controllerId: 5 })
    expect((await p).controllerId).toBe(5)
    await closing
    expect(c.state).toBe('closed')
  })

  it('reports a refused connection as a retriable ConnectionError', async () => {
    const server = net.createServer()
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as net.AddressInfo).port
    await new Promise<void>((r) => server.close(() => r()))
    const err = await Connection.connect({ host: '127.0.0.1', port, clientId: null }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(isRetriable(err)).toBe(true)
  })

  it('gives up connecting after connectTimeoutMs', async () => {
    const started = Date.now()
    const err = await Connection.connect({
      host: '127.0.0.1',
      port: 1,
      clientId: null,
      connectTimeoutMs: 150,
      socketFactory: () => {
        const s = new net.Socket()
        ;(s as { connecting: boolean }).connecting = true // never connects
        return s
      },
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as Error).message).toMatch(/timed out/)
    expect(Date.now() - started).toBeLessThan(1000)
  })
})
