// The Writer's Java-named metrics (metrics()) on a one-broker reference cluster, each checked
// against a scenario whose value is known beforehand: records written, records failed or retried
// by injected broker errors, and the bytes counted on the sockets themselves.

import * as net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Writer, metricValue, type MetricsSnapshot, type WriterConfig } from '../../src/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { createTopic, startReferenceCluster, uniqueTopic } from './helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

/** A socketFactory that counts the bytes the client writes and reads on every socket. */
function byteCountingSockets() {
  const counted = { out: 0, in: 0 }
  const socketFactory = (o: { host: string; port: number }): net.Socket => {
    const socket = net.connect({ host: o.host, port: o.port })
    const write = socket.write.bind(socket) as (chunk: Uint8Array, cb?: (err?: Error | null) => void) => boolean
    socket.write = ((chunk: Uint8Array, cb?: (err?: Error | null) => void) => {
      counted.out += chunk.length
      return write(chunk, cb)
    }) as typeof socket.write
    socket.on('data', (chunk: Buffer) => (counted.in += chunk.length))
    return socket
  }
  return { counted, socketFactory }
}

function value(snapshot: MetricsSnapshot, name: string, tags: Record<string, string> = {}): number {
  const v = metricValue(snapshot, name, tags)
  if (v === undefined) throw new Error(`no metric ${name} ${JSON.stringify(tags)}`)
  return v
}

describe.sequential('Writer metrics (Java producer names)', () => {
  let cluster: Cluster
  let bootstrap: string[]
  const writers: Writer[] = []

  beforeAll(async () => {
    cluster = await startReferenceCluster({ brokers: 1 })
    bootstrap = cluster.bootstrapServers
  })

  afterAll(async () => {
    await Promise.allSettled(writers.map((w) => w.close()))
    await cluster?.stop()
  })

  function writer(config: Omit<WriterConfig, 'brokers'>): Writer {
    const w = new Writer({ brokers: bootstrap, ...config })
    writers.push(w)
    return w
  }

  it('counts n records sent as record-send-total n, per client and per topic, and never resets on reading', async () => {
    const topic = uniqueTopic('m-send')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 1 })
    const before = Date.now()
    const w = writer({ topic, clientId: 'metrics-writer' })
    const values = Array.from({ length: 25 }, (_, i) => ({ value: `value-${i}` }))
    await w.writeMessages(values) // one batch, one Produce request
    const snap = w.metrics()
    const elapsed = (Date.now() - before) / 1000
    expect(snap.client).toBe('producer')
    expect(snap.clientId).toBe('metrics-writer')
    expect(value(snap, 'record-send-total')).toBe(25)
    expect(value(snap, 'record-send-total', { topic })).toBe(25)
    expect(value(snap, 'records-per-request-avg')).toBe(25)
    expect(value(snap, 'record-error-total')).toBe(0)
    expect(value(snap, 'record-retry-total')).toBe(0)
    // Java's Rate: the window since the first record, padded to one full 30 s window.
    const rate = value(snap, 'record-send-rate')
    expect(rate).toBeGreaterThanOrEqual(25 / (30 + elapsed))
    expect(rate).toBeLessThanOrEqual(25 / 30)
    expect(value(snap, 'request-latency-avg')).toBeGreaterThanOrEqual(0)
    expect(value(snap, 'request-latency-max')).toBeGreaterThanOrEqual(value(snap, 'request-latency-avg'))
    expect(value(snap, 'compression-rate-avg')).toBe(1) // no compression: Java reports 1
    expect(value(snap, 'batch-size-avg')).toBe(value(snap, 'batch-size-max')) // a single batch
    expect(value(snap, 'byte-total', { topic })).toBe(value(snap, 'batch-size-max'))
    expect(value(snap, 'requests-in-flight')).toBe(0)
    for (const m of snap.metrics) expect(m.tags['client-id']).toBe('metrics-writer')
    // stats() keeps kafka-go's delta view and resets only itself.
    expect(w.stats().messages).toBe(25)
    expect(w.stats().messages).toBe(0)
    expect(value(w.metrics(), 'record-send-total')).toBe(25)
    await w.writeMessages({ value: 'one more' })
    expect(value(w.metrics(), 'record-send-total')).toBe(26)
  })

  it('counts the bytes the sockets carried as outgoing-byte-total and incoming-byte-total', async () => {
    const topic = uniqueTopic('m-bytes')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 1 })
    const { counted, socketFactory } = byteCountingSockets()
    const w = writer({ topic, socketFactory, batchSize: 10 })
    await w.writeMessages(Array.from({ length: 35 }, (_, i) => ({ value: `v${i}` })))
    await w.close()
    const snap = w.metrics()
    expect(value(snap, 'outgoing-byte-total')).toBe(counted.out)
    expect(value(snap, 'incoming-byte-total')).toBe(counted.in)
    expect(value(snap, 'request-total')).toBe(value(snap, 'response-total')) // every request answered
    expect(value(snap, 'request-size-max')).toBeGreaterThanOrEqual(value(snap, 'request-size-avg'))
    expect(value(snap, 'request-size-avg') * value(snap, 'request-total')).toBeCloseTo(counted.out, 6)
    expect(value(snap, 'record-send-total')).toBe(35)
  })

  it('counts a batch failed for good in record-error-total, per topic too', async () => {
    const topic = uniqueTopic('m-error')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 1 })
    const w = writer({ topic })
    await w.writeMessages({ value: 'before' })
    cluster.faults.failNext('Produce', 1, ErrorCode.INVALID_RECORD)
    await expect(w.writeMessages([{ value: 'a' }, { value: 'b' }, { value: 'c' }])).rejects.toThrow()
    const snap = w.metrics()
    expect(value(snap, 'record-error-total')).toBe(3)
    expect(value(snap, 'record-error-total', { topic })).toBe(3)
    expect(value(snap, 'record-error-rate')).toBeGreaterThan(0)
  })

  it('counts records sent again in record-retry-total (and again in record-send-total, as Java)', async () => {
    const topic = uniqueTopic('m-retry')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 1 })
    const w = writer({ topic, writeBackoffMin: 10 })
    await w.writeMessages({ value: 'warm-up' })
    cluster.faults.failNext('Produce', 2, ErrorCode.NOT_ENOUGH_REPLICAS)
    await w.writeMessages([{ value: 'x' }, { value: 'y' }])
    const snap = w.metrics()
    expect(value(snap, 'record-retry-total')).toBe(4) // two records, two retries
    expect(value(snap, 'record-retry-total', { topic })).toBe(4)
    expect(value(snap, 'record-send-total')).toBe(1 + 2 * 3) // three attempts of two records
    expect(value(snap, 'record-error-total')).toBe(0)
  })

  it('reports the compression rate of compressed batches (compressed over uncompressed size)', async () => {
    const topic = uniqueTopic('m-gzip')
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 1 })
    const w = writer({ topic, compression: 'gzip' })
    await w.writeMessages(Array.from({ length: 50 }, () => ({ value: 'a'.repeat(200) })))
    const snap = w.metrics()
    const ratio = value(snap, 'compression-rate-avg')
    expect(ratio).toBeGreaterThan(0)
    expect(ratio).toBeLessThan(0.1) // 10 kB of one letter compresses well
    expect(value(snap, 'compression-rate', { topic })).toBe(ratio)
  })
})
