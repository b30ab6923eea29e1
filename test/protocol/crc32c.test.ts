import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, it, expect } from 'vitest'
import {
  NATIVE_MIN_BYTES,
  crc32c,
  crc32cBackend,
  crc32cPortable,
  loadNativeCrc32c,
  useCrc32cBackend,
} from '../../src/protocol/crc32c.js'

// Bit-at-a-time CRC-32C straight from the definition, to check the sliced tables against.
function reference(data: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of data) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

// Deterministic pseudo-random bytes (xorshift32), so failures reproduce.
function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

// Every case runs on the implementation chosen at load (native where @node-rs/crc32 is
// installed) and on the portable code forced, so both give Kafka's values.
describe.each(['default', 'portable'] as const)('crc32c (%s backend)', (backend) => {
  beforeAll(() => useCrc32cBackend(backend))
  afterAll(() => useCrc32cBackend('default'))

  it('gives the standard check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
  })

  // RFC 3720 (iSCSI), appendix B.4.
  it('matches the RFC 3720 B.4 vectors', () => {
    expect(crc32c(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa)
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43)
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e)
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)))).toBe(0x113fdb5c)
  })

  it('is 0 for empty input and returns unsigned values', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0)
    expect(crc32c(Buffer.from('123456789'))).toBeGreaterThan(0x7fffffff) // 0xE3069283, not negative
  })

  // A record batch written by the Java client (kafka-clients 4.4.0,
  // MemoryRecords.withRecords(NONE, SimpleRecord(1700000000000, "key", "value"))): its CRC
  // field (bytes 17-20) covers everything from the attributes (byte 21) to the end.
  it('matches the CRC of a record batch the Java client wrote', () => {
    const batch = Buffer.from(
      '000000000000000000000040ffffffff02db5e9cdd0000000000000000018bcfe568000000018bcfe568' +
        '00ffffffffffffffffffffffffffff000000011c000000066b65790a76616c756500',
      'hex',
    )
    expect(crc32c(batch, 21)).toBe(batch.readUInt32BE(17))
  })

  it('agrees with the bitwise definition for every length up to 300 and at every alignment', () => {
    const data = bytes(300 + 16, 7)
    for (let len = 0; len <= 300; len++) {
      const start = len % 16
      expect(crc32c(data, start, start + len)).toBe(reference(data.subarray(start, start + len)))
    }
  })

  it('honours start/end on a plain Uint8Array and on a Buffer view into a larger pool', () => {
    const data = bytes(10_000, 3)
    const view = new Uint8Array(data.buffer, data.byteOffset + 123, 5000)
    expect(crc32c(view)).toBe(reference(view))
    expect(crc32c(data, 123, 5123)).toBe(reference(view))
    expect(crc32c(view, 10, 20)).toBe(reference(view.subarray(10, 20)))
  })

  it('agrees with the bitwise definition around the native threshold and for long ranges', () => {
    const data = bytes(70_000, 5)
    for (const len of [NATIVE_MIN_BYTES - 1, NATIVE_MIN_BYTES, NATIVE_MIN_BYTES + 1, 1024, 1037, 65_536]) {
      for (const start of [0, 1, 13]) {
        expect(crc32c(data, start, start + len)).toBe(reference(data.subarray(start, start + len)))
      }
    }
    expect(crc32c(data)).toBe(reference(data))
  })

  it('matches the CRC field of every record batch kcat (librdkafka) wrote in test/fixtures/kcat', () => {
    let longest = 0
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
      const text = readFileSync(new URL(`../fixtures/kcat/${codec}.hex`, import.meta.url), 'utf8')
      for (const line of text.split('\n')) {
        if (line.trim() === '' || line.startsWith('#')) continue
        const batch = Buffer.from(line.trim(), 'hex')
        expect(crc32c(batch, 21)).toBe(batch.readUInt32BE(17))
        longest = Math.max(longest, batch.length)
      }
    }
    expect(longest).toBeGreaterThan(NATIVE_MIN_BYTES) // so the native path checks one too
  })

  it('continues a checksum across pieces via `previous`', () => {
    const data = bytes(100_000, 11)
    const whole = crc32c(data)
    for (const cut of [0, 1, 7, 8, 15, 16, 17, 4095, 50_000, 99_999, 100_000]) {
      expect(crc32c(data, cut, data.length, crc32c(data, 0, cut))).toBe(whole)
    }
    let crc = 0
    for (let at = 0; at < data.length; at += 333) crc = crc32c(data, at, Math.min(at + 333, data.length), crc)
    expect(crc).toBe(whole)
    expect(whole).toBe(reference(data))
  })

  it('rejects a range outside the data', () => {
    const data = Buffer.alloc(10)
    expect(() => crc32c(data, -1)).toThrow(RangeError)
    expect(() => crc32c(data, 0, 11)).toThrow(RangeError)
    expect(() => crc32c(data, 6, 5)).toThrow(RangeError)
  })
})

describe('crc32c backend choice', () => {
  const require = createRequire(import.meta.url)

  it('loads @node-rs/crc32 where it ships a prebuilt binary, and it agrees with the portable code', () => {
    const prebuilt = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64']
    if (!prebuilt.includes(`${process.platform}-${process.arch}`)) return
    const native = loadNativeCrc32c(() => require('@node-rs/crc32') as unknown)
    expect(native).toBeTypeOf('function')
    expect(crc32cBackend()).toBe('native')
    const data = bytes(5000, 9)
    for (const [start, end, previous] of [
      [0, 5000, 0],
      [21, 4000, 0],
      [3, 600, 0xdeadbeef],
      [0, 9, 0xffffffff],
    ] as const) {
      expect(native!(data.subarray(start, end), previous)).toBe(crc32cPortable(data, start, end, previous))
    }
  })

  it('falls back to the portable code when the package is absent, broken or wrong', () => {
    expect(loadNativeCrc32c(() => require('@node-rs/crc32-not-installed') as unknown)).toBeUndefined()
    expect(loadNativeCrc32c(() => ({}))).toBeUndefined()
    expect(loadNativeCrc32c(() => null)).toBeUndefined()
    expect(loadNativeCrc32c(() => ({ crc32c: () => 42 }))).toBeUndefined()
    expect(loadNativeCrc32c(() => ({ crc32c: () => 0xe3069283 }))).toBeUndefined() // ignores `previous`
    expect(
      loadNativeCrc32c(() => ({
        crc32c: () => {
          throw new Error('no CPU support')
        },
      })),
    ).toBeUndefined()
  })

  it('uses the portable code when forced, and goes back to the loaded one', () => {
    const chosen = crc32cBackend()
    useCrc32cBackend('portable')
    expect(crc32cBackend()).toBe('portable')
    expect(crc32c(bytes(2000, 4))).toBe(reference(bytes(2000, 4)))
    useCrc32cBackend('default')
    expect(crc32cBackend()).toBe(chosen)
  })
})
