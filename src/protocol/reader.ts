// A bounds-checked decoder with a sticky error. Once any read runs short or meets a bad value,
// every later read returns a zero value and `error` keeps the first failure; callers check once
// at the end (`finish()`), so malformed input costs no exception per field and can never make us
// allocate more than the bytes we were given: a length larger than what remains is an error.

import { ProtocolDecodeError } from '../errors.js'

const EMPTY = Buffer.alloc(0)

export class Reader {
  readonly buffer: Buffer
  offset: number
  readonly end: number
  /** The first decode failure, or null while everything read so far was well formed. */
  error: ProtocolDecodeError | null = null

  constructor(buffer: Uint8Array, offset = 0, end = buffer.length) {
    this.buffer = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    this.offset = offset
    this.end = end
  }

  get remaining(): number {
    return this.end - this.offset
  }

  get ok(): boolean {
    return this.error === null
  }

  /** Record a failure (only the first one is kept) and stop consuming input. */
  fail(message: string): void {
    if (this.error === null) this.error = new ProtocolDecodeError(`${message} (at byte ${this.offset})`)
    this.offset = this.end
  }

  /** Throw the sticky error if any read failed. */
  check(): void {
    if (this.error !== null) throw this.error
  }

  /** Throw if a read failed or if bytes remain unread (a frame must be consumed exactly). */
  finish(what = 'message'): void {
    this.check()
    if (this.offset !== this.end)
      throw new ProtocolDecodeError(`${this.end - this.offset} unexpected trailing bytes after ${what}`)
  }

  private take(size: number): number {
    if (this.error !== null) return -1
    if (size > this.end - this.offset) {
      this.fail(`need ${size} bytes, ${this.end - this.offset} remain`)
      return -1
    }
    const at = this.offset
    this.offset += size
    return at
  }

  int8(): number {
    const at = this.take(1)
    return at < 0 ? 0 : this.buffer.readInt8(at)
  }

  uint8(): number {
    const at = this.take(1)
    return at < 0 ? 0 : this.buffer[at]!
  }

  bool(): boolean {
    const at = this.take(1)
    return at < 0 ? false : this.buffer[at] !== 0
  }

  int16(): number {
    const at = this.take(2)
    return at < 0 ? 0 : this.buffer.readInt16BE(at)
  }

  uint16(): number {
    const at = this.take(2)
    return at < 0 ? 0 : this.buffer.readUInt16BE(at)
  }

  int32(): number {
    const at = this.take(4)
    return at < 0 ? 0 : this.buffer.readInt32BE(at)
  }

  uint32(): number {
    const at = this.take(4)
    return at < 0 ? 0 : this.buffer.readUInt32BE(at)
  }

  int64(): bigint {
    const at = this.take(8)
    return at < 0 ? 0n : this.buffer.readBigInt64BE(at)
  }

  float64(): number {
    const at = this.take(8)
    return at < 0 ? 0 : this.buffer.readDoubleBE(at)
  }

  /** Unsigned varint of at most 5 bytes whose value fits in 32 bits. */
  uvarint(): number {
    if (this.error !== null) return 0
    const buf = this.buffer
    let value = 0
    let multiplier = 1
    for (let i = 0; i < 5; i++) {
      if (this.offset >= this.end) {
        this.fail('varint runs past the end')
        return 0
      }
      const byte = buf[this.offset++]!
      value += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffff) {
          this.fail('varint exceeds 32 bits')
          return 0
        }
        return value
      }
      multiplier *= 128
    }
    this.fail('varint longer than 5 bytes')
    return 0
  }

  /** Zig-zag varint (32-bit signed). */
  varint(): number {
    const zz = this.uvarint()
    return (zz >>> 1) ^ -(zz & 1)
  }

  /** Zig-zag varlong as a JS number; fails when the value is beyond ±2^53 (use varlongBig). */
  varlong(): number {
    if (this.error !== null) return 0
    const start = this.offset
    const buf = this.buffer
    let zz = 0
    let multiplier = 1
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.end) {
        this.fail('varlong runs past the end')
        return 0
      }
      const byte = buf[this.offset++]!
      zz += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) {
        if (zz > Number.MAX_SAFE_INTEGER) {
          // The float sum may have rounded past 2^53: decode exactly, keep safe integers only.
          this.offset = start
          const exact = this.varlongBig()
          if (
            this.error === null &&
            exact <= BigInt(Number.MAX_SAFE_INTEGER) &&
            exact >= -BigInt(Number.MAX_SAFE_INTEGER)
          )
            return Number(exact)
          this.fail('varlong exceeds the safe integer range')
          return 0
        }
        return zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2
      }
      multiplier *= 128
    }
    this.fail('varlong longer than 10 bytes')
    return 0
  }

  /** Zig-zag varlong over the full int64 range. */
  varlongBig(): bigint {
    if (this.error !== null) return 0n
    let zz = 0n
    let shift = 0n
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.end) {
        this.fail('varlong runs past the end')
        return 0n
      }
      const byte = this.buffer[this.offset++]!
      zz |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) {
        zz = BigInt.asUintN(64, zz)
        return BigInt.asIntN(64, (zz >> 1n) ^ -(zz & 1n))
      }
      shift += 7n
    }
    this.fail('varlong longer than 10 bytes')
    return 0n
  }

  uuid(): Buffer {
    return this.raw(16)
  }

  /** `size` bytes as a view into the input (no copy). */
  raw(size: number): Buffer {
    if (size < 0) {
      this.fail(`negative length ${size}`)
      return EMPTY
    }
    const at = this.take(size)
    return at < 0 ? EMPTY : this.buffer.subarray(at, at + size)
  }

  /**
   * `size` bytes copied out of the input, so keeping them does not keep the input alive. Small
   * copies come from Node's Buffer pool and are copied byte by byte (cheaper than a view).
   */
  copy(size: number): Buffer {
    if (size < 0) {
      this.fail(`negative length ${size}`)
      return EMPTY
    }
    const at = this.take(size)
    if (at < 0) return EMPTY
    const out = Buffer.allocUnsafe(size)
    const input = this.buffer
    if (size <= 64) for (let i = 0; i < size; i++) out[i] = input[at + i]!
    else input.copy(out, 0, at, at + size)
    return out
  }

  private utf8(size: number): string {
    if (size < 0) {
      this.fail(`negative string length ${size}`)
      return ''
    }
    const at = this.take(size)
    return at < 0 ? '' : this.buffer.toString('utf8', at, at + size)
  }

  /** int16-length string; fails on null (-1). */
  string(): string {
    const length = this.int16()
    if (length < 0) {
      this.fail(`null where a string is required (length ${length})`)
      return ''
    }
    return this.utf8(length)
  }

  /** int16-length string; -1 is null. */
  nullableString(): string | null {
    const length = this.int16()
    if (length === -1) return null
    return this.utf8(length)
  }

  compactString(): string {
    const length = this.uvarint()
    if (length === 0) {
      this.fail('null where a compact string is required')
      return ''
    }
    return this.utf8(length - 1)
  }

  compactNullableString(): string | null {
    const length = this.uvarint()
    if (this.error !== null) return null
    return length === 0 ? null : this.utf8(length - 1)
  }

  bytes(): Buffer {
    const length = this.int32()
    if (length < 0) {
      this.fail(`null where bytes are required (length ${length})`)
      return EMPTY
    }
    return this.raw(length)
  }

  nullableBytes(): Buffer | null {
    const length = this.int32()
    if (length === -1) return null
    return this.raw(length)
  }

  compactBytes(): Buffer {
    const length = this.uvarint()
    if (length === 0) {
      this.fail('null where compact bytes are required')
      return EMPTY
    }
    return this.raw(length - 1)
  }

  compactNullableBytes(): Buffer | null {
    const length = this.uvarint()
    if (this.error !== null) return null
    return length === 0 ? null : this.raw(length - 1)
  }

  /**
   * An array count (int32, -1 = null) checked against the bytes left: every element takes at
   * least `minElementSize` bytes, so a count beyond `remaining / minElementSize` is malformed and
   * must not size an allocation. Returns -1 for null.
   */
  arrayLength(minElementSize = 1): number {
    return this.checkCount(this.int32(), minElementSize)
  }

  /** A compact array count (unsigned varint N+1, 0 = null), bounded like `arrayLength`. Returns -1 for null. */
  compactArrayLength(minElementSize = 1): number {
    const raw = this.uvarint()
    if (this.error !== null) return 0
    return this.checkCount(raw - 1, minElementSize)
  }

  private checkCount(count: number, minElementSize: number): number {
    if (this.error !== null) return 0
    if (count < -1) {
      this.fail(`negative array length ${count}`)
      return 0
    }
    if (count > 0 && count * minElementSize > this.end - this.offset) {
      this.fail(`array of ${count} elements cannot fit in ${this.end - this.offset} bytes`)
      return 0
    }
    return count
  }
}
