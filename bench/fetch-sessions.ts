// What fetch sessions (KIP-227, the Reader's `fetchSessions`, on by default) save: one group
// member reads a topic of many partitions with sessions on and off, in three situations:
//   idle     nothing is written: every Fetch is a long poll over all partitions;
//   trickle  a few hundred messages a second spread over all partitions (a typical service);
//   backlog  a filled 6-partition topic read to its end (throughput; sessions should not cost).
// Per run: Fetch requests sent, bytes sent and received per Fetch (the client's network meters,
// Java's outgoing-byte/incoming-byte; they include the few heartbeats, the same for both), and the
// client process's CPU time. The reference cluster runs in a child process (bench/target.ts).
//
// Run: npx tsx bench/fetch-sessions.ts [--partitions 500] [--seconds 10] [--rate 300] [--messages 200000]
// Target: KAFKA_BOOTSTRAP when set (e.g. eval "$(scripts/kafka.sh env)"), else the reference cluster.

import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { FirstOffset, LastOffset, Reader, Writer, type Message } from '../src/index.js'
import type { MetricsSnapshot } from '../src/metrics/registry.js'
import { createTopic, startTarget } from './target.js'

const { values } = parseArgs({
  options: {
    partitions: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string' },
    messages: { type: 'string' },
  },
})
const PARTITIONS = Number(values.partitions ?? 500)
const SECONDS = Number(values.seconds ?? 10)
const RATE = Number(values.rate ?? 300)
const BACKLOG = Number(values.messages ?? 200_000)

interface Run {
  situation: string
  sessions: boolean
  messages: number
  fetches: number
  bytesOut: number
  bytesIn: number
  cpuMs: number
  seconds: number
}

function metric(snapshot: MetricsSnapshot, group: string, name: string): number {
  return snapshot.metrics.find((m) => m.group === group && m.name === name)?.value ?? 0
}

/** Reads with one group member until `done()` returns true; meters only the reading. */
async function read(
  brokers: string[],
  topic: string,
  sessions: boolean,
  from: 'first' | 'last',
  done: (messages: number, elapsed: number) => boolean,
): Promise<Omit<Run, 'situation'>> {
  const reader = new Reader({
    brokers,
    topic,
    groupId: `bench-fs-${randomBytes(4).toString('hex')}`,
    fetchSessions: sessions,
    startOffset: from === 'first' ? FirstOffset : LastOffset,
  })
  const signal = AbortSignal.timeout(600_000)
  // Join and take the first answer before metering: the join is not what sessions change.
  let messages = await poll(reader, signal, 15_000)
  const before = reader.metrics()
  const cpu = process.cpuUsage()
  const started = performance.now()
  while (!done(messages, (performance.now() - started) / 1000)) {
    messages += await poll(reader, signal, 1000)
  }
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const after = reader.metrics()
  await reader.close()
  const delta = (group: string, name: string) => metric(after, group, name) - metric(before, group, name)
  return {
    sessions,
    messages,
    fetches: delta('consumer-fetch-manager-metrics', 'fetch-total'),
    bytesOut: delta('consumer-metrics', 'outgoing-byte-total'),
    bytesIn: delta('consumer-metrics', 'incoming-byte-total'),
    cpuMs: (used.user + used.system) / 1000,
    seconds,
  }
}

/** One fetchBatch that gives up after `ms` (0 messages); an explicit timer, not
 * AbortSignal.timeout inside AbortSignal.any, which Node 20 may collect before it fires. */
async function poll(reader: Reader, signal: AbortSignal, ms: number): Promise<number> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), ms)
  const stop = () => controller.abort()
  signal.addEventListener('abort', stop, { once: true })
  try {
    return (await reader.fetchBatch({ signal: controller.signal })).messages.length
  } catch (err) {
    if (signal.aborted || !controller.signal.aborted) throw err
    return 0
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', stop)
  }
}

/** Writes about `rate` messages a second, keyed over every partition, until stopped. */
function trickle(brokers: string[], topic: string, rate: number): { stop(): Promise<void> } {
  const writer = new Writer({ brokers, topic, batchTimeout: 5 })
  let running = true
  let i = 0
  const loop = (async () => {
    while (running) {
      const messages: Message[] = []
      for (let n = 0; n < rate / 10; n++, i++) messages.push({ key: `k${i}`, value: `v${i}` })
      await writer.writeMessages(messages)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      await writer.close()
    },
  }
}

async function fill(brokers: string[], topic: string, count: number): Promise<void> {
  const writer = new Writer({ brokers, topic, batchSize: 5000, batchBytes: 1024 * 1024 })
  try {
    for (let start = 0; start < count; start += 20_000) {
      const messages: Message[] = []
      for (let i = start; i < Math.min(count, start + 20_000); i++)
        messages.push({ key: `k${i}`, value: 'x'.repeat(100) })
      await writer.writeMessages(messages)
    }
  } finally {
    await writer.close()
  }
}

async function main(): Promise<void> {
  const target = await startTarget({ groupInitialRebalanceDelayMs: 0 })
  console.log(
    `fetch sessions against the ${target.name}; ${PARTITIONS} partitions, ${SECONDS} s per run, ` +
      `trickle ${RATE} msg/s, backlog ${BACKLOG} messages on 6 partitions; node ${process.version}`,
  )
  const runs: Run[] = []
  // Each situation runs off, on, on, off: the first run of a process is slower (JIT), and the
  // machine's load drifts; the table gives the sums per setting.
  const order = [false, true, true, false]
  try {
    const many = `bench-fs-${randomBytes(3).toString('hex')}`
    await createTopic(target.brokers, many, PARTITIONS)
    for (const sessions of order) {
      const run = await read(target.brokers, many, sessions, 'last', (_, s) => s >= SECONDS)
      runs.push({ situation: 'idle', ...run })
    }
    for (const sessions of order) {
      const writes = trickle(target.brokers, many, RATE)
      try {
        const run = await read(target.brokers, many, sessions, 'last', (_, s) => s >= SECONDS)
        runs.push({ situation: 'trickle', ...run })
      } finally {
        await writes.stop()
      }
    }
    const filled = `bench-fs-backlog-${randomBytes(3).toString('hex')}`
    await createTopic(target.brokers, filled, 6)
    await fill(target.brokers, filled, BACKLOG)
    for (const sessions of order) {
      runs.push({
        situation: 'backlog',
        ...(await read(target.brokers, filled, sessions, 'first', (n) => n >= BACKLOG)),
      })
    }
  } finally {
    target.stop()
  }
  const sums: Run[] = []
  for (const r of runs) {
    const sum = sums.find((x) => x.situation === r.situation && x.sessions === r.sessions)
    if (!sum) {
      sums.push({ ...r })
      continue
    }
    for (const k of ['messages', 'fetches', 'bytesOut', 'bytesIn', 'cpuMs', 'seconds'] as const) sum[k] += r[k]
  }
  console.log(
    '\n situation  sessions  messages   fetches  bytes out/fetch  bytes in/fetch  client CPU ms/s   CPU µs/msg',
  )
  for (const r of sums) {
    const per = (n: number) => (r.fetches ? Math.round(n / r.fetches) : 0)
    console.log(
      ` ${r.situation.padEnd(9)}  ${(r.sessions ? 'on' : 'off').padEnd(8)}  ${fmt(r.messages).padStart(8)}  ` +
        `${fmt(r.fetches).padStart(8)}  ${fmt(per(r.bytesOut)).padStart(15)}  ${fmt(per(r.bytesIn)).padStart(14)}  ` +
        `${(r.cpuMs / r.seconds).toFixed(1).padStart(15)}  ${r.messages ? ((r.cpuMs * 1000) / r.messages).toFixed(2).padStart(11) : '          -'}`,
    )
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

await main()
