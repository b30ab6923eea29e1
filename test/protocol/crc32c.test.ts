import { describe, it, expect } from 'vitest'
import { crc32c } from '../../src/protocol/crc32c.js'

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

describe('crc32c', () => {
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
