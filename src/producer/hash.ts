// The 32-bit hash functions the partitioners of the other Kafka clients use, bit for bit:
//
//   fnv1a32  FNV-1a 32 (Go's hash/fnv New32a): Sarama's and kafka-go's Hash / ReferenceHash, librdkafka's fnv1a.
//   murmur2  The Java client's Utils.murmur2 (seed 0x9747b28c): Java's default partitioner for keyed records,
//            librdkafka's murmur2 / murmur2_random, kafka-go's Murmur2Balancer.
//   crc32    CRC-32 IEEE (zlib, Go's crc32.ChecksumIEEE): librdkafka's consistent / consistent_random,
//            kafka-go's CRC32Balancer.
//
// Each takes the bytes of a key, or a string that is hashed as its UTF-8 encoding (what Buffer.from(s) gives,
// lone surrogates included). Strings are encoded into one module-level scratch buffer that only grows, so no call
// allocates; the functions are synchronous and call no user code, so sharing the scratch is safe.

/** Input of the hash functions: bytes, or a string hashed as its UTF-8 encoding. */
export type HashInput = Uint8Array | string

let scratch: Buffer = Buffer.allocUnsafe(1024)

/** Strings up to this many UTF-16 units are copied by hand when ASCII (faster than a call into C++). */
const ASCII_COPY_MAX = 64

/** Encode `s` as UTF-8 into `scratch` and return the number of bytes written. */
function encodeToScratch(s: string): number {
  const n = s.length
  if (n <= ASCII_COPY_MAX) {
    const buf = scratch // always >= 1024 bytes
    let i = 0
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      buf[i] = c
    }
    if (i === n) return n
  }
  // A UTF-16 unit takes at most 3 bytes of UTF-8 (a surrogate pair: 4 bytes for 2 units).
  if (n * 3 > scratch.length) {
    const needed = Buffer.byteLength(s, 'utf8')
    if (needed > scratch.length) scratch = Buffer.allocUnsafe(Math.max(needed, scratch.length * 2))
  }
  return scratch.write(s, 0, 'utf8')
}

// ---------------------------------------------------------------------------------------------------------------
// FNV-1a 32

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

function fnv1a32Bytes(data: Uint8Array, length: number): number {
  let h = FNV_OFFSET | 0
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ data[i]!, FNV_PRIME)
  }
  return h >>> 0
}

/** FNV-1a 32-bit hash, unsigned (Go's `fnv.New32a().Sum32()`). fnv1a32('') is 0x811c9dc5. */
export function fnv1a32(data: HashInput): number {
  if (typeof data === 'string') {
    const length = encodeToScratch(data) // first: it may replace `scratch`
    return fnv1a32Bytes(scratch, length)
  }
  return fnv1a32Bytes(data, data.length)
}

// ---------------------------------------------------------------------------------------------------------------
// murmur2, as the Java client's org.apache.kafka.common.utils.Utils.murmur2

const MURMUR_SEED = 0x9747b28c
const MURMUR_M = 0x5bd1e995

function murmur2Bytes(data: Uint8Array, length: number): number {
  let h = (MURMUR_SEED ^ length) | 0
  const end4 = length & ~3
  for (let i = 0; i < end4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, MURMUR_M)
    k ^= k >>> 24
    k = Math.imul(k, MURMUR_M)
    h = Math.imul(h, MURMUR_M) ^ k
  }
  // Java's `switch (length % 4)` with fallthrough from case 3 to 2 to 1.
  const extra = length & 3
  if (extra >= 3) h ^= data[end4 + 2]! << 16
  if (extra >= 2) h ^= data[end4 + 1]! << 8
  if (extra >= 1) {
    h ^= data[end4]!
    h = Math.imul(h, MURMUR_M)
  }
  h ^= h >>> 13
  h = Math.imul(h, MURMUR_M)
  h ^= h >>> 15
  return h | 0
}

/**
 * The Java client's murmur2, returned as a signed 32-bit integer exactly as Java's `int`
 * (murmur2('') is 275646681 = 0x106e08d9). The Java partitioner uses `(murmur2(key) & 0x7fffffff) % n`.
 */
export function murmur2(data: HashInput): number {
  if (typeof data === 'string') {
    const length = encodeToScratch(data) // first: it may replace `scratch`
    return murmur2Bytes(scratch, length)
  }
  return murmur2Bytes(data, data.length)
}

// ---------------------------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, reflected polynomial 0xedb88320, init and final xor 0xffffffff), table-driven

const CRC_TABLE = (() => {
  const table = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  return table
})()

function crc32Bytes(data: Uint8Array, length: number): number {
  const table = CRC_TABLE
  let crc = -1
  for (let i = 0; i < length; i++) {
    crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  }
  return ~crc >>> 0
}

/** CRC-32 (IEEE), unsigned, as zlib's crc32 and Go's `crc32.ChecksumIEEE`. crc32('123456789') is 0xcbf43926. */
export function crc32(data: HashInput): number {
  if (typeof data === 'string') {
    const length = encodeToScratch(data) // first: it may replace `scratch`
    return crc32Bytes(scratch, length)
  }
  return crc32Bytes(data, data.length)
}
