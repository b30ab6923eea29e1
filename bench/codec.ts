// Record batch v2 throughput: records encoded and decoded per second, uncompressed and with every
// codec, for 100-byte and 1 KiB values in batches of 1000 records (16-byte keys, no headers).
// Values are text built from a small vocabulary plus numbers: compressible, like typical JSON/log
// payloads, not all zeros. Decoding includes the CRC-32C check and decompression.
// Run: npm run bench:codec   (BENCH_MS=<ms per measurement>, default 2000, best of 5 rounds)
// A second table compares the CRC-32C implementations in the same run: uncompressed encode and
// decode with the one chosen at load (native @node-rs/crc32 where installed) and with the
// portable code forced.

import { readFileSync } from 'node:fs'
import os from 'node:os'

import { isCodecAvailable, type CompressionCodec } from '../src/protocol/compression/index.js'
import { crc32cBackend, useCrc32cBackend } from '../src/protocol/crc32c.js'
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../src/protocol/record-batch.js'

const BATCH = 1000
const SIZES = [100, 1024]
const CODECS: CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const MS = Number(process.env.BENCH_MS ?? 2000)
const ROUNDS = 5

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'))
    if (line !== undefined) return line.split(':')[1]!.trim()
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown CPU'
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS =
  'user id order status created updated amount currency item price quantity event page session click view error warn info debug region eu us ap true false null name email'.split(
    ' ',
  )

function records(valueSize: number): RecordInput[] {
  const random = rng(valueSize)
  const now = Date.now()
  return Array.from({ length: BATCH }, (_, i) => {
    let text = ''
    while (text.length < valueSize) {
      text += `${WORDS[Math.floor(random() * WORDS.length)]}=${Math.floor(random() * 100_000)} `
    }
    return {
      key: Buffer.from(`key-${String(i).padStart(12, '0')}`),
      value: Buffer.from(text.slice(0, valueSize)),
      timestamp: now + i,
    }
  })
}

/**
 * Calls per second of `fn`: the best of ROUNDS rounds of about MS / ROUNDS milliseconds each, so
 * a GC pause or a busy neighbour on a shared machine does not decide the figure.
 */
async function measure(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await fn() // warm up
  let best = 0
  for (let round = 0; round < ROUNDS; round++) {
    let calls = 0
    const start = process.hrtime.bigint()
    const deadline = start + BigInt(Math.ceil(MS / ROUNDS)) * 1_000_000n
    let now = start
    while (now < deadline) {
      await fn()
      calls++
      now = process.hrtime.bigint()
    }
    best = Math.max(best, calls / (Number(now - start) / 1e9))
  }
  return best
}

const fmtRate = (perSec: number): string =>
  perSec >= 1e6 ? `${(perSec / 1e6).toFixed(2)} M` : `${(perSec / 1e3).toFixed(0)} k`

const rows: string[] = []
for (const size of SIZES) {
  const input = records(size)
  const rawBytes = input.reduce((n, r) => n + r.key!.length + r.value!.length, 0)
  for (const codec of CODECS) {
    if (!(await isCodecAvailable(codec))) {
      rows.push(`| ${size} B | ${codec} | (codec unavailable) | | | | | |`)
      continue
    }
    const batch = await encodeRecordBatch({ records: input, compression: codec })
    const encodes = await measure(() => encodeRecordBatch({ records: input, compression: codec }))
    const decodes = await measure(() => decodeRecordBatch(batch))
    const mb = (batchesPerSec: number): string => ((batchesPerSec * rawBytes) / 1e6).toFixed(0)
    rows.push(
      `| ${size} B | ${codec} | ${batch.length} | ${(rawBytes / batch.length).toFixed(2)} | ${fmtRate(encodes * BATCH)} | ${mb(encodes)} | ${fmtRate(decodes * BATCH)} | ${mb(decodes)} |`,
    )
  }
}

// CRC-32C: the same uncompressed batches, portable code forced vs the implementation loaded.
const crcRows: string[] = []
for (const size of SIZES) {
  const input = records(size)
  const batch = await encodeRecordBatch({ records: input })
  const figures: string[] = []
  for (const backend of ['portable', 'default'] as const) {
    useCrc32cBackend(backend)
    const encodes = await measure(() => encodeRecordBatch({ records: input }))
    const decodes = await measure(() => decodeRecordBatch(batch))
    figures.push(`${crc32cBackend()}: ${fmtRate(encodes * BATCH)} / ${fmtRate(decodes * BATCH)}`)
  }
  useCrc32cBackend('default')
  crcRows.push(`| ${size} B | ${batch.length} | ${figures.join(' | ')} |`)
}

console.log(
  `Machine: ${cpuModel()} (${os.cpus().length} logical CPUs), Node ${process.version}, ${os.platform()} ${os.arch()}`,
)
console.log(
  `Batches of ${BATCH} records (16-byte key + value, no headers); MB/s and ratio count key + value bytes (ratio = those bytes / batch bytes); best of ${ROUNDS} rounds over ~${MS} ms per cell.\n`,
)
console.log('| value | codec | batch bytes | ratio | encode records/s | encode MB/s | decode records/s | decode MB/s |')
console.log('|---|---|---:|---:|---:|---:|---:|---:|')
for (const row of rows) console.log(row)

console.log(`\nCRC-32C implementation, codec none, records/s encode / decode (same run, same measure):\n`)
console.log('| value | batch bytes | forced portable | chosen at load |')
console.log('|---|---:|---:|---:|')
for (const row of crcRows) console.log(row)
