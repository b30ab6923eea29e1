// One client, one scenario, in its own process: `npm run bench` (bench/peers/run.ts) spawns this
// once per measurement so every client has its own event loop, heap and CPU account.
//
//   npx tsx bench/peers/client.ts '<Job as JSON>'
//
// Prints one JSON line (a Measurement) on stdout, or exits non-zero with the error on stderr.
// CPU is process.cpuUsage() over the measured window only (connecting, group joins and module
// loading excluded, the same for every client); peak RSS is process.resourceUsage().maxRSS of the
// whole process. kcat runs under /usr/bin/time in run.ts instead (it is not a Node process).

import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type ClientName = 'kafkats' | 'kafkajs' | 'platformatic' | 'confluent'
export type Scenario = 'produce' | 'consume-batches' | 'consume-messages' | 'latency' | 'limit'

export interface Job {
  client: ClientName
  scenario: Scenario
  bootstrap: string
  topic: string
  /** Messages to produce or consume; sends for 'latency'. */
  count: number
  /** Value bytes. */
  size: number
  partitions: number
  groupId: string
  /** Awaited single sends before the measured ones (default LATENCY_WARMUP). */
  warmup?: number
}

export interface Measurement {
  messages: number
  seconds: number
  cpuSeconds: number
  maxRssMiB: number
  /** Awaited single sends, milliseconds. */
  latency?: { p50: number; p99: number; p999: number }
  /** Every send's latency (ms), so the report can pool the rounds' samples for p999. */
  samples?: number[]
}

const HERE = fileURLToPath(new URL('.', import.meta.url))
const peerRequire = createRequire(join(HERE, 'package.json'))

/** What a scenario's body returns: messages and the window it measured (ms). */
interface Window {
  messages: number
  startedMs: number
  endedMs: number
  cpu: NodeJS.CpuUsage
  latencies?: number[]
}

function begin(): { startedMs: number; cpu: NodeJS.CpuUsage } {
  return { startedMs: performance.now(), cpu: process.cpuUsage() }
}

function end(messages: number, b: { startedMs: number; cpu: NodeJS.CpuUsage }, latencies?: number[]): Window {
  const w: Window = { messages, startedMs: b.startedMs, endedMs: performance.now(), cpu: process.cpuUsage(b.cpu) }
  if (latencies !== undefined) w.latencies = latencies
  return w
}

function value(size: number): Buffer {
  // Text like a JSON event; the same bytes for every client.
  let s = ''
  for (let i = 0; s.length < size; i++) s += `{"n":${i},"user":"u${(i * 7919) % 100_000}","ok":true}`
  return Buffer.from(s.slice(0, size))
}

const LANES = 4
const CHUNK = 1000

/** Runs `lanes` loops sending chunks of `chunk` messages until `count` were sent. */
async function lanes(
  count: number,
  sendChunk: (n: number) => Promise<void>,
  lanes = LANES,
  chunk = CHUNK,
): Promise<void> {
  let left = count
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (left > 0) {
        const n = Math.min(chunk, left)
        left -= n
        await sendChunk(n)
      }
    }),
  )
}

/**
 * Sends before the measured ones. After 100, kafkats still ran its send path in V8's lower tiers:
 * its p99 over the next 2000 sends was 2-5 times that of the 2000 after them (bench/latency.ts
 * prints both halves), while librdkafka's work is native code from the start. Every client gets
 * the same warm-up, so the row compares steady states.
 */
export const LATENCY_WARMUP = 2000

let warmup = LATENCY_WARMUP

/** Warms up, then times `count` awaited sends; the measured window (CPU too) starts after the warm-up. */
async function latencyLoop(
  count: number,
  sendOne: () => Promise<void>,
): Promise<{ measured: ReturnType<typeof begin>; samples: number[] }> {
  for (let i = 0; i < warmup; i++) await sendOne()
  const measured = begin()
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    const t = performance.now()
    await sendOne()
    samples.push(performance.now() - t)
  }
  return { measured, samples }
}

/** Resolves once `count` messages were seen (counted by `seen`). */
function counter(count: number): { add(n: number): void; done: Promise<void>; first: () => number } {
  let n = 0
  let firstAt = 0
  let resolve!: () => void
  const done = new Promise<void>((r) => (resolve = r))
  return {
    add(k: number) {
      if (n === 0) firstAt = performance.now()
      n += k
      if (n >= count) resolve()
    },
    done,
    first: () => firstAt,
  }
}

// ---------------------------------------------------------------------------------------------
// kafkats

async function kafkats(job: Job): Promise<Window> {
  const { Writer, Reader } = await import('../../src/index.js')
  const brokers = job.bootstrap.split(',')
  const v = value(job.size)
  if (job.scenario === 'produce' || job.scenario === 'latency') {
    // Defaults: acks=all, idempotent. Batched: chunks of 1000 per writeMessages, 4 in flight.
    const writer = new Writer({ brokers, topic: job.topic, batchSize: CHUNK, batchBytes: 4 * 1024 * 1024 })
    try {
      await writer.writeMessages({ value: v }) // connect, metadata, producer id
      const chunk = Array.from({ length: CHUNK }, () => ({ value: v }))
      const b = begin()
      if (job.scenario === 'latency') {
        const lat = await latencyLoop(job.count, async () => {
          await writer.writeMessages({ value: v })
        })
        return end(job.count, lat.measured, lat.samples)
      }
      await lanes(job.count, async (n) => {
        await writer.writeMessages(n === CHUNK ? chunk : chunk.slice(0, n))
      })
      return end(job.count, b)
    } finally {
      await writer.close()
    }
  }
  if (job.scenario === 'limit') return limit(job)
  const reader = new Reader({ brokers, groupId: job.groupId, topic: job.topic, commitInterval: 1000 })
  try {
    let n = 0
    let b: ReturnType<typeof begin> | undefined
    if (job.scenario === 'consume-batches') {
      for await (const batch of reader.batches()) {
        b ??= begin()
        n += batch.messages.length
        if (n >= job.count) break
      }
    } else {
      for await (const _ of reader.messages()) {
        b ??= begin()
        if (++n >= job.count) break
      }
    }
    return end(n, b!)
  } finally {
    await reader.close()
  }
}

/**
 * The "limit" row: Produce requests encoded once (one 1000-record batch per partition, not
 * idempotent so the same bytes can go again) sent back to back on one connection, 5 in flight.
 * What the broker takes when the client spends almost nothing per message.
 */
async function limit(job: Job): Promise<Window> {
  const net = await import('node:net')
  const { Writer: BufferWriter } = await import('../../src/protocol/writer.js')
  const { readResponseFrame, writeRequestFrame } = await import('../../src/protocol/frame.js')
  const { Produce } = await import('../../src/protocol/messages/index.js')
  const { encodeRecordBatch } = await import('../../src/protocol/record-batch.js')
  const v = value(job.size)
  const now = Date.now()
  const batch = await encodeRecordBatch({
    records: Array.from({ length: CHUNK }, () => ({ key: null, value: v, timestamp: now })),
  })
  const w = new BufferWriter()
  writeRequestFrame(w, Produce, 8, 1, 'bench-limit', {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [
      {
        name: job.topic,
        partitionData: Array.from({ length: job.partitions }, (_, index) => ({ index, records: batch })),
      },
    ],
  })
  const frame = w.toBuffer()
  const perRequest = CHUNK * job.partitions
  const requests = Math.max(1, Math.round(job.count / perRequest))
  const [host, port] = job.bootstrap.split(',')[0]!.split(':')
  const socket = net.connect({ host: host!, port: Number(port), noDelay: true })
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const b = begin()
  let sent = 0
  let answered = 0
  let pending: Buffer = Buffer.alloc(0)
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject)
    const send = (): void => {
      while (sent < requests && sent - answered < 5) {
        socket.write(frame)
        sent++
      }
    }
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0)
        // Every answer is checked: a partition error would make the row meaningless.
        const { body } = readResponseFrame(pending.subarray(4, 4 + size), Produce, 8, { ignoreTrailingBytes: true })
        for (const t of body.responses) {
          for (const p of t.partitionResponses) {
            if (p.errorCode !== 0) return reject(new Error(`Produce ${t.name}/${p.index}: error ${p.errorCode}`))
          }
        }
        pending = pending.subarray(4 + size)
        answered++
      }
      if (answered === requests) resolve()
      else send()
    })
    send()
  })
  const window = end(requests * perRequest, b)
  socket.destroy()
  return window
}

// ---------------------------------------------------------------------------------------------
// The peers' APIs as used here, typed locally: the root typecheck must not need bench/peers'
// node_modules (installed by `npm run bench` only).

interface PeerMessage {
  value: Buffer
}
interface KafkaJsProducer {
  connect(): Promise<void>
  send(r: { topic: string; acks?: number; messages: PeerMessage[] }): Promise<unknown>
  disconnect(): Promise<void>
}
interface KafkaJsConsumer {
  connect(): Promise<void>
  subscribe(s: { topic: string; fromBeginning?: boolean }): Promise<void>
  run(r: {
    partitionsConsumedConcurrently?: number
    eachBatch: (p: { batch: { messages: unknown[] } }) => Promise<void>
  }): Promise<void>
  disconnect(): Promise<void>
}
interface KafkaJsLike {
  Kafka: new (config: Record<string, unknown>) => {
    producer(config?: Record<string, unknown>): KafkaJsProducer
    consumer(config: Record<string, unknown>): KafkaJsConsumer
  }
  logLevel: { NOTHING: number }
}
interface PlatformaticLike {
  Producer: new (o: Record<string, unknown>) => {
    send(r: { messages: { topic: string; value: Buffer }[] }): Promise<unknown>
    close(): Promise<void>
  }
  Consumer: new (o: Record<string, unknown>) => {
    consume(o: Record<string, unknown>): Promise<{
      on(event: 'data', f: (m: unknown) => void): void
      close(): Promise<void>
    }>
    close(force?: boolean): Promise<void>
  }
  MessagesStreamModes: { EARLIEST: string }
}

// ---------------------------------------------------------------------------------------------
// KafkaJS 2.2.4: idempotent, acks=-1; batched = 1000 messages per send(), 4 sends in flight (it
// has no linger: each send() is a request). Consumer: eachBatch, the faster of its two modes.

async function kafkajs(job: Job): Promise<Window> {
  const { Kafka, logLevel } = peerRequire('kafkajs') as KafkaJsLike
  const kafka = new Kafka({ clientId: 'bench', brokers: job.bootstrap.split(','), logLevel: logLevel.NOTHING })
  const v = value(job.size)
  if (job.scenario === 'produce' || job.scenario === 'latency') {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 })
    await producer.connect()
    try {
      await producer.send({ topic: job.topic, acks: -1, messages: [{ value: v }] })
      const b = begin()
      if (job.scenario === 'latency') {
        const lat = await latencyLoop(job.count, async () => {
          await producer.send({ topic: job.topic, acks: -1, messages: [{ value: v }] })
        })
        return end(job.count, lat.measured, lat.samples)
      }
      const chunk = Array.from({ length: CHUNK }, () => ({ value: v }))
      await lanes(job.count, async (n) => {
        await producer.send({ topic: job.topic, acks: -1, messages: n === CHUNK ? chunk : chunk.slice(0, n) })
      })
      return end(job.count, b)
    } finally {
      await producer.disconnect()
    }
  }
  const consumer = kafka.consumer({ groupId: job.groupId, maxBytes: 16 * 1024 * 1024 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic: job.topic, fromBeginning: true })
    const c = counter(job.count)
    let b: ReturnType<typeof begin> | undefined
    await consumer.run({
      partitionsConsumedConcurrently: job.partitions,
      eachBatch: async ({ batch }) => {
        b ??= begin()
        c.add(batch.messages.length)
      },
    })
    await c.done
    return end(job.count, b!)
  } finally {
    await consumer.disconnect()
  }
}

// ---------------------------------------------------------------------------------------------
// @confluentinc/kafka-javascript (librdkafka) through its KafkaJS-style API: idempotent, acks=all,
// linger.ms 5, batch.num.messages 10000; 1000 messages per send(), 4 in flight. Consumer: eachBatch.

async function confluent(job: Job): Promise<Window> {
  const { KafkaJS } = peerRequire('@confluentinc/kafka-javascript') as { KafkaJS: KafkaJsLike }
  const kafka = new KafkaJS.Kafka({
    kafkaJS: { clientId: 'bench', brokers: job.bootstrap.split(','), logLevel: KafkaJS.logLevel.NOTHING },
  })
  const v = value(job.size)
  if (job.scenario === 'produce' || job.scenario === 'latency') {
    const producer = kafka.producer({
      kafkaJS: { idempotent: true, acks: -1 },
      'linger.ms': job.scenario === 'latency' ? 0 : 5,
      'batch.num.messages': 10_000,
    })
    await producer.connect()
    try {
      await producer.send({ topic: job.topic, messages: [{ value: v }] })
      const b = begin()
      if (job.scenario === 'latency') {
        const lat = await latencyLoop(job.count, async () => {
          await producer.send({ topic: job.topic, messages: [{ value: v }] })
        })
        return end(job.count, lat.measured, lat.samples)
      }
      const chunk = Array.from({ length: CHUNK }, () => ({ value: v }))
      await lanes(job.count, async (n) => {
        await producer.send({ topic: job.topic, messages: n === CHUNK ? chunk : chunk.slice(0, n) })
      })
      return end(job.count, b)
    } finally {
      await producer.disconnect()
    }
  }
  const consumer = kafka.consumer({ kafkaJS: { groupId: job.groupId, fromBeginning: true } })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic: job.topic })
    const c = counter(job.count)
    let b: ReturnType<typeof begin> | undefined
    await consumer.run({
      partitionsConsumedConcurrently: job.partitions,
      eachBatch: async ({ batch }) => {
        b ??= begin()
        c.add(batch.messages.length)
      },
    })
    await c.done
    return end(job.count, b!)
  } finally {
    await consumer.disconnect()
  }
}

// ---------------------------------------------------------------------------------------------
// @platformatic/kafka: idempotent, acks=all. Concurrent send() calls of an idempotent producer
// fail with OUT_OF_ORDER_SEQUENCE_NUMBER (1.35.0, on Kafka 4.4 and the reference broker alike),
// so one send() of 4000 messages at a time: the same messages in flight as the others' 4 x 1000.
// Consumer: its stream ('data' per message, the only delivery it has).

async function platformatic(job: Job): Promise<Window> {
  const pk = peerRequire('@platformatic/kafka') as PlatformaticLike
  const bootstrapBrokers = job.bootstrap.split(',')
  const v = value(job.size)
  if (job.scenario === 'produce' || job.scenario === 'latency') {
    const producer = new pk.Producer({ clientId: 'bench', bootstrapBrokers, idempotent: true, acks: -1 })
    try {
      await producer.send({ messages: [{ topic: job.topic, value: v }] })
      const b = begin()
      if (job.scenario === 'latency') {
        const lat = await latencyLoop(job.count, async () => {
          await producer.send({ messages: [{ topic: job.topic, value: v }] })
        })
        return end(job.count, lat.measured, lat.samples)
      }
      const size = LANES * CHUNK
      const chunk = Array.from({ length: size }, () => ({ topic: job.topic, value: v }))
      await lanes(
        job.count,
        async (n) => {
          await producer.send({ messages: n === size ? chunk : chunk.slice(0, n) })
        },
        1,
        size,
      )
      return end(job.count, b)
    } finally {
      await producer.close()
    }
  }
  const consumer = new pk.Consumer({ clientId: 'bench', groupId: job.groupId, bootstrapBrokers })
  try {
    const stream = await consumer.consume({ topics: [job.topic], mode: pk.MessagesStreamModes.EARLIEST })
    const c = counter(job.count)
    let b: ReturnType<typeof begin> | undefined
    stream.on('data', () => {
      b ??= begin()
      c.add(1)
    })
    await c.done
    const w = end(job.count, b!)
    await stream.close()
    return w
  } finally {
    await consumer.close(true)
  }
}

// ---------------------------------------------------------------------------------------------

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN
}

const CLIENTS: Record<ClientName, (job: Job) => Promise<Window>> = { kafkats, kafkajs, confluent, platformatic }

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job
  warmup = job.warmup ?? LATENCY_WARMUP
  const run = CLIENTS[job.client]
  if (run === undefined) throw new Error(`unknown client ${String(job.client)}`)
  const w = await run(job)
  const m: Measurement = {
    messages: w.messages,
    seconds: (w.endedMs - w.startedMs) / 1000,
    cpuSeconds: (w.cpu.user + w.cpu.system) / 1e6,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  }
  if (w.latencies !== undefined) {
    const s = [...w.latencies].sort((a, b) => a - b)
    m.latency = { p50: percentile(s, 0.5), p99: percentile(s, 0.99), p999: percentile(s, 0.999) }
    m.samples = w.latencies.map((x) => Math.round(x * 1000) / 1000)
  }
  process.stdout.write(JSON.stringify(m) + '\n')
  // Some clients keep timers or sockets alive after close; the measurement is out.
  process.exit(0)
}
