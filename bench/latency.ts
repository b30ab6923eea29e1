// Awaited single sends in detail (issue 14, item 2g): the latency distribution of one awaited
// send for kafkats and its peers against one broker, and with --why, where kafkats's tail comes
// from. The same sends as the "awaited single send" row of `npm run bench` (bench/peers/client.ts),
// without the rest of the run.
//
//   npx tsx bench/latency.ts [--broker reference|kafka] [--bootstrap host:port] [--clients kafkats,confluent]
//                            [--rounds 3] [--count 2000] [--why]
//
// --clients   kafkats, kafkajs, platformatic, confluent (bench/peers/client.ts, each run in a child process),
//             raw (pre-encoded Produce requests on a raw socket, in this process: the broker's and the kernel's share)
// --broker    start that broker as `npm run bench` does (default: reference); --bootstrap uses a running one
// --why       also run kafkats in this process and split each send into phases: before the request
//             reaches the socket, the round trip (socket write to first response byte), and after it;
//             with the event loop's delay and the GC pauses that overlapped the slowest sends
// --warmup N  sends before the measured ones (default: bench/peers/client.ts LATENCY_WARMUP)
// --one-partition  with --why: every send to partition 0 (the default RoundRobin moves on at each send)
// --writer    JSON of Writer options for --why (e.g. '{"idempotent":false}'); --topic an existing topic for it

import { spawn } from 'node:child_process'
import { Socket } from 'node:net'
import { join } from 'node:path'
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runningBroker, startBrokers, type Broker } from './peers/brokers.js'
import { LATENCY_WARMUP, percentile, type ClientName, type Job, type Measurement } from './peers/client.js'

const HERE = fileURLToPath(new URL('.', import.meta.url))

const { values: opts } = parseArgs({
  options: {
    broker: { type: 'string', default: 'reference' },
    bootstrap: { type: 'string' },
    clients: { type: 'string', default: 'kafkats,confluent' },
    rounds: { type: 'string', default: '3' },
    count: { type: 'string', default: '2000' },
    why: { type: 'boolean', default: false },
    writer: { type: 'string', default: '{}' },
    warmup: { type: 'string' },
    'one-partition': { type: 'boolean', default: false },
    topic: { type: 'string' },
  },
})
const rounds = Number(opts.rounds)
const count = Number(opts.count)
const PARTITIONS = 6
const warmup = Number(opts.warmup ?? LATENCY_WARMUP)

function summary(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b)
  const f = (p: number): string => percentile(s, p).toFixed(2)
  return `p50 ${f(0.5)}  p90 ${f(0.9)}  p99 ${f(0.99)}  p999 ${f(0.999)}  max ${f(1)} ms  (${s.length} sends)`
}

function runJob(job: Job): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'peers', 'client.ts'), JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Measurement) : reject(new Error(`${job.client} exited with ${code}`)),
    )
  })
}

/**
 * The floor for any Node client: one Produce (one 100-byte record, acks=all, encoded once) on a
 * raw socket, awaited, repeated. What is left is the broker, the kernel and Node's socket I/O.
 */
async function raw(bootstrap: string, topic: string): Promise<number[]> {
  const net = await import('node:net')
  const { Writer: BufferWriter } = await import('../src/protocol/writer.js')
  const { readResponseFrame, writeRequestFrame } = await import('../src/protocol/frame.js')
  const { Produce } = await import('../src/protocol/messages/index.js')
  const { encodeRecordBatch } = await import('../src/protocol/record-batch.js')
  const batch = await encodeRecordBatch({
    records: [{ key: null, value: Buffer.alloc(100, 'x'), timestamp: Date.now() }],
  })
  const w = new BufferWriter()
  writeRequestFrame(w, Produce, 8, 1, 'bench-raw', {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  })
  const frame = w.toBuffer()
  const [host, port] = bootstrap.split(',')[0]!.split(':')
  const socket = net.connect({ host: host!, port: Number(port), noDelay: true })
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  let pending: Buffer = Buffer.alloc(0)
  let answered: ((code: number | undefined) => void) | null = null
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    if (pending.length < 4 || pending.length < 4 + pending.readInt32BE(0)) return
    const size = pending.readInt32BE(0)
    const { body } = readResponseFrame(pending.subarray(4, 4 + size), Produce, 8, { ignoreTrailingBytes: true })
    pending = pending.subarray(4 + size)
    answered?.(body.responses[0]?.partitionResponses[0]?.errorCode)
  })
  const once = (): Promise<number | undefined> =>
    new Promise((resolve) => {
      answered = resolve
      socket.write(frame)
    })
  // Warm up; a new topic's leader may need a moment (NOT_LEADER_OR_FOLLOWER).
  for (let i = 0, tries = 0; i < warmup; i++) {
    if ((await once()) === 0) continue
    if (++tries > 100) throw new Error('raw Produce keeps failing')
    await new Promise((r) => setTimeout(r, 50))
  }
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    const t = performance.now()
    const code = await once()
    out.push(performance.now() - t)
    if (code !== 0) throw new Error(`raw Produce failed with error ${code}`)
  }
  socket.destroy()
  return out
}

/** kafkats in this process, each send split into phases, with loop delay and GC alongside. */
async function why(bootstrap: string, topic: string): Promise<void> {
  const { Writer } = await import('../src/index.js')
  // The socket write of the send in progress, and its first response bytes, seen from net.Socket.
  let wroteAt = 0
  let answeredAt = 0
  const write = Socket.prototype.write
  Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
    if (wroteAt === 0) wroteAt = performance.now()
    return (write as (...a: unknown[]) => boolean).apply(this, args)
  } as Socket['write']
  const emit = Socket.prototype.emit
  Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
    if (event === 'data' && answeredAt === 0 && wroteAt !== 0) answeredAt = performance.now()
    return (emit as (...a: unknown[]) => boolean).call(this, event, ...args)
  } as Socket['emit']
  const gcs: { start: number; end: number }[] = []
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, end: e.startTime + e.duration })
  })
  observer.observe({ entryTypes: ['gc'] })
  const loop = monitorEventLoopDelay({ resolution: 1 })

  const extra = JSON.parse(opts.writer) as Record<string, unknown>
  // --one-partition: every send to the topic's first partition (RoundRobin, the default, moves on at each send).
  const oneBalancer = { balance: (_m: unknown, partitions: readonly number[]) => partitions[0]! }
  const balancer = opts['one-partition'] ? { balancer: oneBalancer } : {}
  const writer = new Writer({ ...extra, ...balancer, brokers: bootstrap.split(','), topic })
  const v = Buffer.alloc(100, 'x')
  await writer.writeMessages({ value: v })
  for (let i = 0; i < warmup; i++) await writer.writeMessages({ value: v })
  const sends: { start: number; total: number; before: number; trip: number; after: number }[] = []
  loop.enable()
  const cpu = process.cpuUsage()
  for (let i = 0; i < count; i++) {
    wroteAt = answeredAt = 0
    const t = performance.now()
    await writer.writeMessages({ value: v })
    const end = performance.now()
    sends.push({ start: t, total: end - t, before: wroteAt - t, trip: answeredAt - wroteAt, after: end - answeredAt })
  }
  const used = process.cpuUsage(cpu)
  loop.disable()
  observer.disconnect()
  await writer.close()
  Socket.prototype.write = write
  Socket.prototype.emit = emit

  const perSend = `${((used.user + used.system) / count).toFixed(0)} (user ${(used.user / count).toFixed(0)}, system ${(used.system / count).toFixed(0)})`
  console.log(`\nkafkats in-process: ${summary(sends.map((s) => s.total))}, CPU ${perSend} µs/send`)
  for (const phase of ['before', 'trip', 'after'] as const)
    console.log(`  ${phase.padEnd(6)} ${summary(sends.map((s) => s[phase]))}`)
  const ms = (ns: number): string => (ns / 1e6).toFixed(2)
  console.log(
    `  event loop delay: p50 ${ms(loop.percentile(50))}  p99 ${ms(loop.percentile(99))}  max ${ms(loop.max)} ms`,
  )
  const gcTotal = gcs.reduce((a, g) => a + g.end - g.start, 0)
  console.log(`  GC: ${gcs.length} pauses, ${gcTotal.toFixed(1)} ms in all`)
  const slow = [...sends].sort((a, b) => b.total - a.total).slice(0, Math.max(5, Math.ceil(sends.length / 100)))
  const withGc = slow.filter((s) => gcs.some((g) => g.end > s.start && g.start < s.start + s.total))
  console.log(`  slowest 1%: ${slow.length} sends, ${withGc.length} overlapped a GC pause; phases of the 5 slowest:`)
  for (const s of slow.slice(0, 5))
    console.log(
      `    ${s.total.toFixed(2)} ms = before ${s.before.toFixed(2)} + trip ${s.trip.toFixed(2)} + after ${s.after.toFixed(2)}`,
    )
}

let broker: Broker
let stop: () => Promise<void>
if (opts.bootstrap !== undefined) {
  const running = runningBroker(opts.bootstrap)
  broker = running
  stop = () => running.stop()
} else {
  const started = await startBrokers([opts.broker], (l) => console.error(l))
  if (started.started[0] === undefined)
    throw new Error(`broker ${opts.broker} did not start: ${started.errors.join('; ')}`)
  broker = started.started[0]
  stop = () => started.stop()
}
const bootstrap = broker.bootstrap
try {
  const clients = opts.clients.split(',') as (ClientName | 'raw')[]
  const pooled = new Map<string, number[]>(clients.map((c) => [c, []]))
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round, as the bench does.
    for (let i = 0; i < clients.length; i++) {
      const client = clients[(i + r) % clients.length]!
      const topic = `lat-${client}-${r}-${Date.now()}`
      await broker.createTopic(topic, PARTITIONS)
      if (client === 'raw') {
        const samples = await raw(bootstrap, topic)
        pooled.get(client)!.push(...samples)
        console.log(`round ${r + 1} ${client.padEnd(10)} ${summary(samples)}`)
        continue
      }
      const job: Job = {
        client,
        scenario: 'latency',
        bootstrap,
        topic,
        count,
        size: 100,
        partitions: PARTITIONS,
        groupId: '',
      }
      if (opts.warmup !== undefined) job.warmup = Number(opts.warmup)
      const m = await runJob(job)
      pooled.get(client)!.push(...(m.samples ?? []))
      const cpu = ((m.cpuSeconds / m.messages) * 1e6).toFixed(0)
      console.log(`round ${r + 1} ${client.padEnd(10)} ${summary(m.samples ?? [])}, CPU ${cpu} µs/send`)
      const all = m.samples ?? []
      const half = Math.floor(all.length / 2)
      // JIT warm-up shows as a slower first half.
      console.log(`  first half ${summary(all.slice(0, half))}\n  second half ${summary(all.slice(half))}`)
    }
  }
  console.log('\npooled:')
  for (const [client, samples] of pooled) console.log(`  ${client.padEnd(10)} ${summary(samples)}`)
  if (opts.why) {
    const topic = opts.topic ?? `lat-why-${Date.now()}`
    if (opts.topic === undefined) await broker.createTopic(topic, PARTITIONS)
    await why(bootstrap, topic)
  }
} finally {
  await stop()
}
