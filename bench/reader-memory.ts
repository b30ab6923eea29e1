// What a decoded message costs in memory while it waits in the Reader's prefetch queue: live heap
// (JS objects plus Buffer memory, after a forced GC) per message, for a few shapes of key, value
// and headers, with payloads copied out of the response or left as views into it; and decode
// throughput both ways. The queue's per-message charge (src/consumer/fetch-result.ts) comes from
// these numbers.
// Run: node --expose-gc --import tsx bench/reader-memory.ts   (COUNT=<messages>, default 100000)

import { recordsToMessages, type FetchResult } from '../src/consumer/fetch-result.js'
import { encodeRecordBatch, type RecordInput } from '../src/protocol/record-batch.js'

const COUNT = Number(process.env.COUNT ?? 100_000)
const BATCH = 1000
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc')

interface Shape {
  name: string
  key: number | null
  value: number | null
  headers: number
}
const SHAPES: Shape[] = [
  { name: 'no key, null value', key: null, value: null, headers: 0 },
  { name: 'no key, 10 B value', key: null, value: 10, headers: 0 },
  { name: '10 B key, 10 B value', key: 10, value: 10, headers: 0 },
  { name: '10 B key, 10 B value, 2 headers (2 B key, 10 B value)', key: 10, value: 10, headers: 2 },
  { name: 'no key, 100 B value', key: null, value: 100, headers: 0 },
  { name: 'no key, 1000 B value', key: null, value: 1000, headers: 0 },
]

async function live(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

async function response(shape: Shape): Promise<Buffer> {
  const fill = (n: number | null, c: string): Buffer | null => (n === null ? null : Buffer.from(c.repeat(n)))
  const batches: Buffer[] = []
  for (let base = 0; base < COUNT; base += BATCH) {
    const records: RecordInput[] = []
    for (let i = 0; i < BATCH; i++) {
      const headers = Array.from({ length: shape.headers }, (_, h) => ({ key: `h${h}`, value: fill(10, 'h') }))
      records.push({ key: fill(shape.key, 'k'), value: fill(shape.value, 'v'), headers, timestamp: 1_700_000_000_000 })
    }
    batches.push(await encodeRecordBatch({ records, baseOffset: BigInt(base) }))
  }
  return Buffer.concat(batches)
}

const data = (records: Buffer) => ({ records, abortedTransactions: null, highWatermark: -1n, lastStableOffset: -1n })

/** Live bytes per decoded message while only the messages are kept, and decode rate. */
async function measure(shape: Shape, copy: boolean): Promise<{ perMessage: number; payload: number; rate: number }> {
  const before = await live()
  let records: Buffer | null = await response(shape)
  const started = process.hrtime.bigint()
  let result: FetchResult | null = await recordsToMessages('t', 0, data(records), 0n, 'read_uncommitted', { copy })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  records = null // only the messages remain: views pin the response, copies do not
  const after = await live()
  if (result.messages.length !== COUNT) throw new Error('lost messages')
  const payload = result.bytes / COUNT
  result = null
  // Decode rate: best of 3 more runs (the machine is shared).
  let best = ms
  const again = await response(shape)
  for (let i = 0; i < 3; i++) {
    const t = process.hrtime.bigint()
    await recordsToMessages('t', 0, data(again), 0n, 'read_uncommitted', { copy })
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6)
  }
  return { perMessage: (after - before) / COUNT, payload, rate: (COUNT / best) * 1000 }
}

console.log(`${COUNT} messages per shape, Node ${process.version}; live bytes per message kept (payload)`)
for (const shape of SHAPES) {
  const line: string[] = [shape.name.padEnd(56)]
  for (const copy of [false, true]) {
    await live()
    const m = await measure(shape, copy)
    line.push(
      `${copy ? 'copy' : 'view'}: ${m.perMessage.toFixed(0)} B (${m.payload.toFixed(0)}), ${m.rate.toFixed(0)} msg/s`,
    )
  }
  console.log(line.join('  |  '))
}
