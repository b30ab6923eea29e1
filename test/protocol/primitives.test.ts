// Reader and Writer: known answers (Kafka's ByteUtilsTest tables for varints), the sticky error,
// bounds checks that must fail before allocating, Writer growth and back-patched lengths.

import { describe, expect, it } from 'vitest'

import { KafkaTsError, ProtocolDecodeError, ProtocolEncodeError } from '../../src/errors.js'
import { Reader } from '../../src/protocol/reader.js'
import { uvarintSize, varintSize, varlongSize, Writer } from '../../src/protocol/writer.js'

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

function written(fn: (w: Writer) => void): string {
  const w = new Writer(1)
  fn(w)
  return w.toBuffer().toString('hex')
}

// ByteUtilsTest.testVarintSerde (zig-zag int32).
const VARINT: [number, string][] = [
  [0, '00'],
  [-1, '01'],
  [1, '02'],
  [63, '7e'],
  [-64, '7f'],
  [64, '8001'],
  [-65, '8101'],
  [8191, 'fe7f'],
  [-8192, 'ff7f'],
  [8192, '808001'],
  [-8193, '818001'],
  [1048575, 'feff7f'],
  [-1048576, 'ffff7f'],
  [1048576, '80808001'],
  [-1048577, '81808001'],
  [134217727, 'feffff7f'],
  [-134217728, 'ffffff7f'],
  [134217728, '8080808001'],
  [-134217729, '8180808001'],
  [2147483647, 'feffffff0f'],
  [-2147483648, 'ffffffff0f'],
]

// ByteUtilsTest.testUnsignedVarintSerde, Java ints read as unsigned 32-bit values.
const UVARINT: [number, string][] = [
  [0, '00'],
  [1, '01'],
  [63, '3f'],
  [64, '40'],
  [127, '7f'],
  [128, '8001'],
  [300, 'ac02'],
  [8191, 'ff3f'],
  [8192, '8040'],
  [16383, 'ff7f'],
  [16384, '808001'],
  [2147483647, 'ffffffff07'],
  [2147483648, '8080808008'], // Integer.MIN_VALUE
  [4294967295, 'ffffffff0f'], // -1
  [4294967232, 'c0ffffff0f'], // -64
]

// ByteUtilsTest.testVarlongSerde (zig-zag int64).
const VARLONG: [bigint, string][] = [
  [0n, '00'],
  [-1n, '01'],
  [1n, '02'],
  [63n, '7e'],
  [-64n, '7f'],
  [64n, '8001'],
  [-65n, '8101'],
  [2147483647n, 'feffffff0f'],
  [-2147483648n, 'ffffffff0f'],
  [34359738367n, 'feffffffff01'],
  [-34359738368n, 'ffffffffff01'],
  [4503599627370495n, 'feffffffffffff0f'], // 2^52 - 1
  [-4503599627370496n, 'ffffffffffffff0f'], // -2^52
  [4611686018427387903n, 'feffffffffffffff7f'], // 2^62 - 1
  [-4611686018427387904n, 'ffffffffffffffff7f'],
  [4611686018427387904n, '80808080808080808001'], // 2^62
  [-4611686018427387905n, '81808080808080808001'],
  [9223372036854775807n, 'feffffffffffffffff01'], // Long.MAX_VALUE
  [-9223372036854775808n, 'ffffffffffffffffff01'], // Long.MIN_VALUE
]

describe('varints (Kafka ByteUtilsTest known answers)', () => {
  it.each(VARINT)('varint %d ↔ %s', (value, bytes) => {
    expect(written((w) => w.varint(value))).toBe(bytes)
    expect(varintSize(value)).toBe(bytes.length / 2)
    const r = new Reader(h(bytes))
    expect(r.varint()).toBe(value)
    r.finish()
  })

  it.each(UVARINT)('unsigned varint %d ↔ %s', (value, bytes) => {
    expect(written((w) => w.uvarint(value))).toBe(bytes)
    expect(uvarintSize(value)).toBe(bytes.length / 2)
    const r = new Reader(h(bytes))
    expect(r.uvarint()).toBe(value)
    r.finish()
  })

  it.each(VARLONG)('varlongBig %d ↔ %s', (value, bytes) => {
    expect(written((w) => w.varlongBig(value))).toBe(bytes)
    const r = new Reader(h(bytes))
    expect(r.varlongBig()).toBe(value)
    r.finish()
  })

  it('varlong (number form) agrees with varlongBig over ±2^52', () => {
    for (const [big, bytes] of VARLONG) {
      if (big > 2n ** 52n || big < -(2n ** 52n)) continue
      const value = Number(big)
      expect(written((w) => w.varlong(value))).toBe(bytes)
      expect(varlongSize(value)).toBe(bytes.length / 2)
      const r = new Reader(h(bytes))
      expect(r.varlong()).toBe(value)
      r.finish()
    }
  })

  it('varlong (number form) reads back what it writes at the ±2^52 boundary', () => {
    // Writer.varlong documents "values within ±2^52" and Reader.varlong "fails beyond ±2^53";
    // +2^52 (zig-zag 2^53) is written but then refused by the reader.
    for (const value of [2 ** 52, -(2 ** 52), 2 ** 52 - 1, -(2 ** 52) + 1]) {
      const w = new Writer()
      w.varlong(value)
      const r = new Reader(w.toBuffer())
      expect(r.varlong(), `value ${value}`).toBe(value)
      expect(r.error, `value ${value}`).toBeNull()
    }
  })

  it('varlong (number form) refuses values a double cannot hold exactly', () => {
    const r = new Reader(h('feffffffffffffffff01')) // Long.MAX_VALUE
    expect(r.varlong()).toBe(0)
    expect(r.error).toBeInstanceOf(ProtocolDecodeError)
  })

  it('a varint of 6 bytes, or a varlong of 11, is an error', () => {
    for (const read of [(r: Reader) => r.uvarint(), (r: Reader) => r.varint()]) {
      const r = new Reader(h('ffffffffff01'))
      expect(read(r)).toBe(0)
      expect(r.error).toBeInstanceOf(ProtocolDecodeError)
      expect(r.error!.message).toMatch(/longer than 5 bytes/)
    }
    for (const read of [(r: Reader) => r.varlong(), (r: Reader) => r.varlongBig()]) {
      const r = new Reader(h('ffffffffffffffffffff01'))
      read(r)
      expect(r.error).toBeInstanceOf(ProtocolDecodeError)
      expect(r.error!.message).toMatch(/longer than 10 bytes/)
    }
  })

  it('a 5-byte unsigned varint above 2^32 - 1 is an error', () => {
    const r = new Reader(h('ffffffff1f'))
    expect(r.uvarint()).toBe(0)
    expect(r.error).toBeInstanceOf(ProtocolDecodeError)
  })

  it('a varint cut short is an error', () => {
    for (const bytes of ['80', 'ffff', '808080', 'ffffffff']) {
      const r = new Reader(h(bytes))
      r.uvarint()
      expect(r.error).toBeInstanceOf(ProtocolDecodeError)
    }
    const r = new Reader(h('8080'))
    r.varlongBig()
    expect(r.error).toBeInstanceOf(ProtocolDecodeError)
  })

  it('the writer refuses unsigned varints outside [0, 2^32)', () => {
    for (const bad of [-1, 2 ** 32, 1.5, NaN]) expect(() => new Writer().uvarint(bad)).toThrow(ProtocolEncodeError)
  })

  it('uvarintSize boundaries', () => {
    const cases: [number, number][] = [
      [0, 1],
      [127, 1],
      [128, 2],
      [16383, 2],
      [16384, 3],
      [2097151, 3],
      [2097152, 4],
      [268435455, 4],
      [268435456, 5],
      [4294967295, 5],
    ]
    for (const [value, size] of cases) {
      expect(uvarintSize(value)).toBe(size)
      expect(written((w) => w.uvarint(value)).length / 2).toBe(size)
    }
  })
})

describe('fixed-width values', () => {
  it('big-endian integers at their extremes', () => {
    expect(written((w) => w.int8(-128).int8(127).uint8(255))).toBe('807fff')
    expect(written((w) => w.int16(-32768).int16(32767).uint16(65535))).toBe('80007fffffff')
    expect(written((w) => w.int32(-2147483648).int32(2147483647).uint32(4294967295))).toBe('800000007fffffffffffffff')
    expect(written((w) => w.int64(-(2n ** 63n)).int64(2n ** 63n - 1n))).toBe('80000000000000007fffffffffffffff')
    expect(written((w) => w.float64(1.5))).toBe('3ff8000000000000')
    expect(written((w) => w.bool(true).bool(false))).toBe('0100')
    const r = new Reader(
      h('807fff 80007fffffff 800000007fffffffffffffff 80000000000000007fffffffffffffff 3ff8000000000000 0100 ff'),
    )
    expect([r.int8(), r.int8(), r.uint8()]).toEqual([-128, 127, 255])
    expect([r.int16(), r.int16(), r.uint16()]).toEqual([-32768, 32767, 65535])
    expect([r.int32(), r.int32(), r.uint32()]).toEqual([-2147483648, 2147483647, 4294967295])
    expect([r.int64(), r.int64()]).toEqual([-(2n ** 63n), 2n ** 63n - 1n])
    expect(r.float64()).toBe(1.5)
    expect([r.bool(), r.bool(), r.bool()]).toEqual([true, false, true]) // any non-zero byte is true
    r.finish()
  })

  it('strings and bytes, classic and compact, with null', () => {
    expect(written((w) => w.string('héllo'))).toBe('0006' + Buffer.from('héllo').toString('hex'))
    expect(written((w) => w.string(null))).toBe('ffff')
    expect(written((w) => w.compactString('🙂'))).toBe('05f09f9982')
    expect(written((w) => w.compactString(null))).toBe('00')
    expect(written((w) => w.compactString(''))).toBe('01')
    expect(written((w) => w.bytes(Buffer.from([1, 2])))).toBe('000000020102')
    expect(written((w) => w.bytes(null))).toBe('ffffffff')
    expect(written((w) => w.compactBytes(Buffer.from([1, 2])))).toBe('030102')
    expect(written((w) => w.compactBytes(null))).toBe('00')
    const r = new Reader(
      h('0006' + Buffer.from('héllo').toString('hex') + 'ffff 05f09f9982 00 01 000000020102 ffffffff 030102 00'),
    )
    expect(r.string()).toBe('héllo')
    expect(r.nullableString()).toBeNull()
    expect(r.compactString()).toBe('🙂')
    expect(r.compactNullableString()).toBeNull()
    expect(r.compactString()).toBe('')
    expect(r.bytes()).toEqual(Buffer.from([1, 2]))
    expect(r.nullableBytes()).toBeNull()
    expect(r.compactBytes()).toEqual(Buffer.from([1, 2]))
    expect(r.compactNullableBytes()).toBeNull()
    r.finish()
  })

  it('a string longer than the int16 limit is an encode error', () => {
    expect(() => new Writer().string('x'.repeat(0x8000))).toThrow(ProtocolEncodeError)
    expect(written((w) => w.string('x'.repeat(0x7fff))).slice(0, 4)).toBe('7fff')
  })

  it('uuid needs exactly 16 bytes', () => {
    expect(() => new Writer().uuid(new Uint8Array(15))).toThrow(ProtocolEncodeError)
    expect(new Reader(h('00112233445566778899aabbccddeeff')).uuid().toString('hex')).toBe(
      '00112233445566778899aabbccddeeff',
    )
  })
})

describe('sticky errors', () => {
  it('keeps the first failure, returns zero values afterwards and stops at the end', () => {
    const r = new Reader(h('0001 02'))
    expect(r.int16()).toBe(1)
    expect(r.int32()).toBe(0) // 1 byte left: fails
    const first = r.error
    expect(first).toBeInstanceOf(ProtocolDecodeError)
    expect(first).toBeInstanceOf(KafkaTsError)
    expect(r.ok).toBe(false)
    expect(r.offset).toBe(r.end)
    // Every later read is a zero value and leaves the first error in place.
    expect(r.int8()).toBe(0)
    expect(r.uint8()).toBe(0)
    expect(r.bool()).toBe(false)
    expect(r.int64()).toBe(0n)
    expect(r.float64()).toBe(0)
    expect(r.uvarint()).toBe(0)
    expect(r.varint()).toBe(0)
    expect(r.varlong()).toBe(0)
    expect(r.varlongBig()).toBe(0n)
    expect(r.string()).toBe('')
    expect(r.compactNullableString()).toBeNull()
    expect(r.bytes().length).toBe(0)
    expect(r.compactNullableBytes()).toBeNull()
    expect(r.raw(1).length).toBe(0)
    expect(r.arrayLength()).toBe(0)
    expect(r.compactArrayLength()).toBe(0)
    r.fail('a second failure')
    expect(r.error).toBe(first)
    expect(() => r.check()).toThrow(first!)
    expect(() => r.finish()).toThrow(first!)
  })

  it('finish() rejects trailing bytes', () => {
    const r = new Reader(h('000100'))
    r.int16()
    expect(() => r.finish('test message')).toThrow(ProtocolDecodeError)
    expect(() => r.finish('test message')).toThrow(/1 unexpected trailing bytes after test message/)
  })

  it('reads within [offset, end) of a larger buffer', () => {
    const buf = h('ff 0002 ff')
    const r = new Reader(buf, 1, 3)
    expect(r.int16()).toBe(2)
    r.finish()
    const view = new Uint8Array(buf.buffer, buf.byteOffset + 1, 2)
    const r2 = new Reader(view)
    expect(r2.int16()).toBe(2)
    r2.finish()
  })
})

describe('bounds: lengths larger than what remains fail without allocating', () => {
  function failsFast(bytes: string, read: (r: Reader) => unknown, pattern?: RegExp): void {
    const r = new Reader(h(bytes))
    const before = process.memoryUsage().arrayBuffers
    const value = read(r)
    expect(r.error, bytes).toBeInstanceOf(ProtocolDecodeError)
    if (pattern) expect(r.error!.message).toMatch(pattern)
    if (Buffer.isBuffer(value) || typeof value === 'string' || Array.isArray(value)) expect(value.length).toBe(0)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20)
  }

  it('classic string, bytes and array lengths', () => {
    failsFast('7fff 6162', (r) => r.string(), /need 32767 bytes, 2 remain/)
    failsFast('7fffffff 6162', (r) => r.bytes(), /need 2147483647 bytes/)
    failsFast('7fffffff 6162', (r) => r.nullableBytes())
    failsFast('7fffffff 00000000', (r) => r.arrayLength(1), /cannot fit/)
    failsFast('00000002 00000000', (r) => r.arrayLength(4), /array of 2 elements cannot fit in 4 bytes/)
  })

  it('negative lengths other than the null marker', () => {
    failsFast('ffff', (r) => r.string(), /null where a string is required/)
    failsFast('fffe 6162', (r) => r.nullableString(), /negative string length -2/)
    failsFast('8000', (r) => r.nullableString(), /negative/)
    failsFast('ffffffff', (r) => r.bytes(), /null where bytes are required/)
    failsFast('fffffffe 00', (r) => r.nullableBytes(), /negative length -2/)
    failsFast('80000000', (r) => r.nullableBytes(), /negative/)
    failsFast('fffffffe', (r) => r.arrayLength(), /negative array length -2/)
    failsFast('80000000', (r) => r.arrayLength(), /negative array length/)
    failsFast('', (r) => r.raw(-1))
    failsFast('', (r) => r.copy(-1), /negative length -1/)
    failsFast('0102', (r) => r.copy(3), /need 3 bytes, 2 remain/)
  })

  it('compact lengths', () => {
    failsFast('00', (r) => r.compactString(), /null where a compact string is required/)
    failsFast('00', (r) => r.compactBytes(), /null where compact bytes are required/)
    failsFast('ffffffff0f 61', (r) => r.compactNullableString(), /need 4294967294 bytes/)
    failsFast('ffffffff0f 61', (r) => r.compactNullableBytes())
    failsFast('ffffffff0f 00000000', (r) => r.compactArrayLength(1), /cannot fit/)
    failsFast('ffffffff07', (r) => r.compactArrayLength(1))
    failsFast('0a 00', (r) => r.compactArrayLength(1), /array of 9 elements cannot fit in 1 bytes/)
  })

  it('6-byte varints in length position', () => {
    failsFast('8080808080 01', (r) => r.compactString(), /longer than 5 bytes/)
    failsFast('8080808080 01', (r) => r.compactArrayLength(), /longer than 5 bytes/)
  })

  it('null markers and in-range lengths still work', () => {
    const r = new Reader(h('ffff ffffffff ffffffff 00 00 00000002 0102 03 0102'))
    expect(r.nullableString()).toBeNull()
    expect(r.nullableBytes()).toBeNull()
    expect(r.arrayLength()).toBe(-1)
    expect(r.compactArrayLength()).toBe(-1)
    expect(r.compactNullableString()).toBeNull()
    expect(r.arrayLength(1)).toBe(2)
    expect(r.raw(2)).toEqual(Buffer.from([1, 2]))
    expect(r.compactArrayLength(1)).toBe(2)
    r.raw(2)
    r.finish()
  })

  it('copy() returns the bytes detached from the input, short and long alike', () => {
    const long = Buffer.alloc(100, 7)
    const buf = Buffer.concat([h('0102 03'), long])
    const r = new Reader(buf)
    const short = r.copy(3)
    const copied = r.copy(100)
    buf.fill(0)
    expect(short).toEqual(Buffer.from([1, 2, 3]))
    expect(copied).toEqual(long)
    r.finish()
  })

  it('raw() and bytes() return views of the input, not copies', () => {
    const buf = h('00000002 abcd')
    const b = new Reader(buf).bytes()
    buf[4] = 0x11
    expect(b[0]).toBe(0x11)
  })
})

describe('Writer growth and back-patched lengths', () => {
  it('grows from a tiny buffer without losing bytes', () => {
    const w = new Writer(1)
    const expected: number[] = []
    for (let i = 0; i < 10_000; i++) {
      w.int16(i)
      expected.push((i >> 8) & 0xff, i & 0xff)
    }
    w.raw(Buffer.alloc(100_000, 7))
    for (let i = 0; i < 100_000; i++) expected.push(7)
    expect(w.offset).toBe(expected.length)
    expect(w.toBuffer().equals(Buffer.from(expected))).toBe(true)
    expect(w.buffer.length).toBeGreaterThanOrEqual(w.offset)
  })

  it('rawString reserves room for the worst-case UTF-8 size', () => {
    const w = new Writer(1)
    const s = '🙂€é'.repeat(1000)
    expect(w.rawString(s)).toBe(Buffer.byteLength(s))
    expect(w.toBuffer().toString('utf8')).toBe(s)
  })

  it('beginLength/endLength back-patch nested int32 sizes', () => {
    const w = new Writer(2)
    const outer = w.beginLength()
    w.int8(1)
    const inner = w.beginLength()
    w.raw(Buffer.alloc(300, 0xee))
    w.endLength(inner)
    w.int8(2)
    w.endLength(outer)
    const b = w.toBuffer()
    expect(b.readInt32BE(0)).toBe(1 + 4 + 300 + 1)
    expect(b.readInt32BE(5)).toBe(300)
    expect(b[4]).toBe(1)
    expect(b[b.length - 1]).toBe(2)
    expect(b.length).toBe(4 + 306)
  })

  it('an empty length section patches to 0', () => {
    const w = new Writer(0)
    w.endLength(w.beginLength())
    expect(w.toBuffer().toString('hex')).toBe('00000000')
  })

  it('reset() reuses the allocation; view() is a view, toBuffer() a copy', () => {
    const w = new Writer(8)
    w.int32(1)
    const view = w.view()
    const copy = w.toBuffer()
    w.reset()
    w.int32(2)
    expect(view.readInt32BE(0)).toBe(2)
    expect(copy.readInt32BE(0)).toBe(1)
    expect(w.offset).toBe(4)
  })
})
