// Hash throughput of the partitioner hash functions (src/producer/hash.ts) and of a few balancers.
// Run: npx tsx bench/balancers.ts

import { Hash, Murmur2Balancer, Sticky } from '../src/producer/balancers.js'
import { crc32, fnv1a32, murmur2, type HashInput } from '../src/producer/hash.js'
import type { Message } from '../src/message.js'

const N_KEYS = 1024

function keys(size: number): { bytes: Uint8Array[]; strings: string[] } {
  const strings: string[] = []
  for (let i = 0; i < N_KEYS; i++) {
    let s = `key-${i}-`
    while (s.length < size) s += String.fromCharCode(97 + ((i * 7 + s.length * 13) % 26))
    strings.push(s.slice(0, size))
  }
  return { strings, bytes: strings.map((s) => Buffer.from(s)) }
}

let sink = 0

/** Runs `fn` over the keys for about `ms` milliseconds and returns calls per second. */
function measure<T>(inputs: readonly T[], fn: (input: T) => number, ms = 400): number {
  for (let i = 0; i < 20_000; i++) sink ^= fn(inputs[i % inputs.length]!) // warm up
  let calls = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(ms) * 1_000_000n
  let now = start
  while (now < deadline) {
    for (let i = 0; i < inputs.length; i++) sink ^= fn(inputs[i]!)
    calls += inputs.length
    now = process.hrtime.bigint()
  }
  return calls / (Number(now - start) / 1e9)
}

const fmt = (perSec: number, size: number): string =>
  `${(perSec / 1e6).toFixed(2).padStart(7)} M/s ${((perSec * size) / 1e6).toFixed(0).padStart(6)} MB/s`

const hashes: [string, (k: HashInput) => number][] = [
  ['murmur2', murmur2],
  ['fnv1a32', fnv1a32],
  ['crc32', crc32],
]

console.log(`node ${process.version}`)
for (const size of [16, 100]) {
  const { bytes, strings } = keys(size)
  for (const [name, fn] of hashes) {
    console.log(
      `${name.padEnd(8)} ${String(size).padStart(3)}-byte keys  Uint8Array ${fmt(measure(bytes, fn), size)}   string ${fmt(measure(strings, fn), size)}`,
    )
  }
}

// Whole balancer calls (16-byte string keys / keyless), 64 partitions.
const partitions = Array.from({ length: 64 }, (_, i) => i)
const keyed: Message[] = keys(16).strings.map((key) => ({ key, value: 'v' }))
const keyless: Message[] = keyed.map(() => ({ value: 'x'.repeat(100) }))
const balancers: [string, readonly Message[], { balance(m: Message, p: readonly number[]): number }][] = [
  ['Hash (16-byte key)', keyed, new Hash()],
  ['Murmur2Balancer (16-byte key)', keyed, new Murmur2Balancer()],
  ['Sticky (keyless)', keyless, new Sticky()],
]
for (const [name, messages, b] of balancers) {
  console.log(`${name.padEnd(30)} ${(measure(messages, (m) => b.balance(m, partitions)) / 1e6).toFixed(2)} M calls/s`)
}
if (sink === 0.5) console.log(sink)
