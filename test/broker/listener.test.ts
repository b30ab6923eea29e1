// Listeners, framing, ApiVersions and Metadata over a raw socket.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ApiVersions } from '../../src/protocol/messages/api-versions.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { Writer } from '../../src/protocol/writer.js'
import { writeRequestFrame } from '../../src/protocol/frame.js'
import { TestClient } from './helpers.js'

describe('listeners and framing', () => {
  let cluster: Cluster
  const logged: string[] = []
  beforeAll(async () => {
    cluster = await Cluster.start({
      brokers: 3,
      maxRequestBytes: 1024 * 1024,
      logger: { warn: (m) => logged.push(m), debug: (m) => logged.push(m) },
    })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('each broker listens on its own loopback port', () => {
    expect(cluster.bootstrapServers).toHaveLength(3)
    const ports = new Set(cluster.bootstrapServers.map((s) => s.split(':')[1]))
    expect(ports.size).toBe(3)
    for (const s of cluster.bootstrapServers) expect(s.startsWith('127.0.0.1:')).toBe(true)
  })

  it('answers pipelined requests in order', async () => {
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        c.send(ApiVersions, i % 5, { clientSoftwareName: 'test', clientSoftwareVersion: '1' }),
      ),
    )
    for (const r of results) expect(r.errorCode).toBe(0)
    c.close()
  })

  it('reads frames split across many small writes', async () => {
    const c = await TestClient.connect(cluster.bootstrapServers[1]!)
    const w = new Writer()
    writeRequestFrame(w, Metadata, 12, 1, 'x', { topics: null })
    const bytes = w.toBuffer()
    const response = new Promise<void>((resolve) => c.socket.once('data', () => resolve()))
    for (let i = 0; i < bytes.length; i++) c.writeRaw(bytes.subarray(i, i + 1))
    await response
    c.close()
  })

  it('closes only the offending connection on an oversized frame', async () => {
    const bad = await TestClient.connect(cluster.bootstrapServers[0]!)
    const good = await TestClient.connect(cluster.bootstrapServers[0]!)
    const header = Buffer.alloc(4)
    header.writeInt32BE(2 * 1024 * 1024)
    bad.writeRaw(header)
    await bad.closed
    expect(logged.some((m) => m.includes('socket.request.max.bytes'))).toBe(true)
    const r = await good.send(ApiVersions, 3, { clientSoftwareName: 'a', clientSoftwareVersion: '1' })
    expect(r.errorCode).toBe(0)
    good.close()
  })

  it('closes the connection on a negative size or garbage frame', async () => {
    const c1 = await TestClient.connect(cluster.bootstrapServers[0]!)
    c1.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xff]))
    await c1.closed
    const c2 = await TestClient.connect(cluster.bootstrapServers[0]!)
    c2.writeRaw(Buffer.from([0, 0, 0, 3, 1, 2, 3]))
    await c2.closed
    const c3 = await TestClient.connect(cluster.bootstrapServers[0]!)
    // Metadata v12 header followed by a truncated body.
    const w = new Writer()
    writeRequestFrame(w, Metadata, 12, 1, 'x', { topics: [{ name: 'abc' }] })
    const frame = w.toBuffer()
    const cut = Buffer.from(frame.subarray(0, frame.length - 3))
    cut.writeInt32BE(cut.length - 4)
    c3.writeRaw(cut)
    await c3.closed
  })
})

describe('ApiVersions', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start()
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('advertises the served APIs with Kafka 4.4 ranges (Produce from v0)', async () => {
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    for (let v = 0; v <= 5; v++) {
      const r = await c.send(ApiVersions, v, { clientSoftwareName: 'kafkats', clientSoftwareVersion: '0.1.0' })
      expect(r.errorCode).toBe(0)
      const byKey = new Map(r.apiKeys.map((k) => [k.apiKey, k]))
      expect(byKey.get(18)).toMatchObject({ minVersion: 0, maxVersion: 5 })
      expect(byKey.get(3)).toMatchObject({ minVersion: 0, maxVersion: 13 })
      if (byKey.has(0)) expect(byKey.get(0)).toMatchObject({ minVersion: 0, maxVersion: 13 })
      // Unserved APIs are absent (e.g. the removed LeaderAndIsr, or controller-only Vote).
      expect(byKey.has(4)).toBe(false)
      expect(byKey.has(52)).toBe(false)
    }
    c.close()
  })

  it('answers an unknown ApiVersions version with a v0 UNSUPPORTED_VERSION body (KIP-511)', async () => {
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    // Build a v9 ApiVersions request by hand (header v2: key, version, correlation, client id, tags).
    const w = new Writer()
    const at = w.beginLength()
    w.int16(18).int16(9).int32(77).string('x').uint8(0).uint8(0).uint8(0).uint8(0)
    w.endLength(at)
    const done = new Promise<Buffer>((resolve) => c.socket.once('data', (d: Buffer) => resolve(d)))
    c.writeRaw(w.toBuffer())
    const data = await done
    // size, correlation id 77, then a v0 body: error 35, [ {18, 0, 5} ]
    expect(data.readInt32BE(4)).toBe(77)
    expect(data.readInt16BE(8)).toBe(35)
    expect(data.readInt32BE(10)).toBe(1)
    expect([data.readInt16BE(14), data.readInt16BE(16), data.readInt16BE(18)]).toEqual([18, 0, 5])
    c.close()
  })

  it('rejects invalid client software names with INVALID_REQUEST', async () => {
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    const r = await c.send(ApiVersions, 3, { clientSoftwareName: '-bad name', clientSoftwareVersion: '1' })
    expect(r.errorCode).toBe(42)
    c.close()
  })

  it('closes the connection for an unsupported version of a served API (Produce v2), like Kafka', async () => {
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    const w = new Writer()
    const at = w.beginLength()
    w.int16(0).int16(2).int32(5).string('x').int16(1).int32(1000).int32(0)
    w.endLength(at)
    c.writeRaw(w.toBuffer())
    await c.closed
    // And a v3 request is still fine on a new connection.
    const c2 = await TestClient.connect(cluster.bootstrapServers[0]!)
    const r = await c2.send(Produce, 3, { acks: 1, timeoutMs: 1000, topicData: [] })
    expect(r.responses).toEqual([])
    c2.close()
  })

  it('closes the connection for an unknown API key', async () => {
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    const w = new Writer()
    const at = w.beginLength()
    w.int16(4).int16(0).int32(5).string('x')
    w.endLength(at)
    c.writeRaw(w.toBuffer())
    await c.closed
  })
})
