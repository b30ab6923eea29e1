// An append-only encoder over one growable Buffer. Length prefixes are reserved and back-patched
// (`beginLength` / `endLength`) so a frame is built in one pass without copying bodies around.
// A Writer bound for a socket may also reference large byte arrays instead of copying them
// (`spliceMin`, `chunks()`): a record batch then reaches the socket once, through writev.

import { ProtocolEncodeError } from '../errors.js'

/** A byte array referenced rather than copied: it comes logically before `buffer[at]`. */
interface Splice {
  at: number
  bytes: Uint8Array
}

/** A position to go back to (`Writer.mark`, `Writer.truncate`). */
export interface WriterMark {
  readonly offset: number
  readonly splices: number
}

export class Writer {
  buffer: Buffer
  /** Position in `buffer`; spliced bytes are not in `buffer` and not counted here. */
  offset = 0
  /**
   * `raw` references byte arrays of at least this many bytes instead of copying them (Infinity:
   * never). Only for a Writer whose output is read with `chunks()`, and whose caller leaves
   * those arrays unchanged until the chunks are written.
   */
  spliceMin = Infinity
  #splices: Splice[] = []
  #splicedBytes = 0

  constructor(initialSize = 1024) {
    this.buffer = Buffer.allocUnsafe(initialSize)
  }

  /** Forget what was written but keep the allocation, so a hot path can reuse one Writer. */
  reset(): this {
    this.offset = 0
    this.#clearSplices()
    return this
  }

  /** Bytes written so far, spliced ones included. */
  get length(): number {
    return this.offset + this.#splicedBytes
  }

  /** A view of the bytes written so far (no copy unless something was spliced; valid until the next write or reset). */
  view(): Buffer {
    if (this.#splices.length > 0) return Buffer.concat(this.chunks(), this.length)
    return this.buffer.subarray(0, this.offset)
  }

  /** A copy of the bytes written so far, safe to keep after the Writer is reused. */
  toBuffer(): Buffer {
    if (this.#splices.length > 0) return Buffer.concat(this.chunks(), this.length)
    return Buffer.from(this.buffer.subarray(0, this.offset))
  }

  /**
   * The bytes written so far as views in order: stretches of `buffer` and the spliced arrays,
   * for one vectored socket write (no copy; valid until the next write or reset).
   */
  chunks(): Uint8Array[] {
    const out: Uint8Array[] = []
    let from = 0
    for (const s of this.#splices) {
      if (s.at > from) out.push(this.buffer.subarray(from, s.at))
      out.push(s.bytes)
      from = s.at
    }
    if (this.offset > from || out.length === 0) out.push(this.buffer.subarray(from, this.offset))
    return out
  }

  /** Where the Writer is now, for `truncate`. */
  mark(): WriterMark {
    return { offset: this.offset, splices: this.#splices.length }
  }

  /** Drops everything written after `mark` was taken. */
  truncate(mark: WriterMark): void {
    this.offset = mark.offset
    const splices = this.#splices
    while (splices.length > mark.splices) this.#splicedBytes -= splices.pop()!.bytes.length
  }

  #clearSplices(): void {
    if (this.#splices.length === 0) return
    this.#splices = []
    this.#splicedBytes = 0
  }

  ensure(extra: number): void {
    const needed = this.offset + extra
    if (needed <= this.buffer.length) return
    // Grow by 1.5x (at least to what is needed) to amortise copies.
    let size = Math.max(this.buffer.length + (this.buffer.length >> 1), 64)
    while (size < needed) size += size >> 1
    const next = Buffer.allocUnsafe(size)
    this.buffer.copy(next, 0, 0, this.offset)
    this.buffer = next
  }

  int8(value: number): this {
    this.ensure(1)
    this.buffer.writeInt8(value, this.offset)
    this.offset += 1
    return this
  }

  uint8(value: number): this {
    this.ensure(1)
    this.buffer[this.offset++] = value & 0xff
    return this
  }

  bool(value: boolean): this {
    this.ensure(1)
    this.buffer[this.offset++] = value ? 1 : 0
    return this
  }

  int16(value: number): this {
    this.ensure(2)
    this.buffer.writeInt16BE(value, this.offset)
    this.offset += 2
    return this
  }

  uint16(value: number): this {
    this.ensure(2)
    this.buffer.writeUInt16BE(value, this.offset)
    this.offset += 2
    return this
  }

  int32(value: number): this {
    this.ensure(4)
    this.buffer.writeInt32BE(value, this.offset)
    this.offset += 4
    return this
  }

  uint32(value: number): this {
    this.ensure(4)
    this.buffer.writeUInt32BE(value, this.offset)
    this.offset += 4
    return this
  }

  int64(value: bigint): this {
    this.ensure(8)
    this.buffer.writeBigInt64BE(value, this.offset)
    this.offset += 8
    return this
  }

  float64(value: number): this {
    this.ensure(8)
    this.buffer.writeDoubleBE(value, this.offset)
    this.offset += 8
    return this
  }

  /** Protobuf-style unsigned varint (KIP-482 compact lengths and tags); value in [0, 2^32). */
  uvarint(value: number): this {
    if (value < 0 || value > 0xffffffff || !Number.isInteger(value)) {
      throw new ProtocolEncodeError(`unsigned varint out of range: ${value}`)
    }
    this.ensure(5)
    const buf = this.buffer
    let off = this.offset
    while (value > 0x7f) {
      buf[off++] = (value & 0x7f) | 0x80
      value = Math.floor(value / 128)
    }
    buf[off++] = value
    this.offset = off
    return this
  }

  /** Zig-zag varint (record fields), 32-bit signed. */
  varint(value: number): this {
    return this.uvarint(((value << 1) ^ (value >> 31)) >>> 0)
  }

  /** Zig-zag varlong (record timestamp deltas) for values within ±2^52, as a JS number. */
  varlong(value: number): this {
    let zz = value >= 0 ? value * 2 : -value * 2 - 1
    this.ensure(10)
    const buf = this.buffer
    let off = this.offset
    while (zz > 0x7f) {
      buf[off++] = (zz % 128) | 0x80
      zz = Math.floor(zz / 128)
    }
    buf[off++] = zz
    this.offset = off
    return this
  }

  /** Zig-zag varlong over the full int64 range. */
  varlongBig(value: bigint): this {
    let zz = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n))
    this.ensure(10)
    while (zz > 0x7fn) {
      this.buffer[this.offset++] = Number(zz & 0x7fn) | 0x80
      zz >>= 7n
    }
    this.buffer[this.offset++] = Number(zz)
    return this
  }

  uuid(value: Uint8Array): this {
    if (value.length !== 16) throw new ProtocolEncodeError(`a UUID is 16 bytes, got ${value.length}`)
    return this.raw(value)
  }

  /** Bytes with no length prefix. */
  raw(value: Uint8Array): this {
    if (value.length >= this.spliceMin) {
      this.#splices.push({ at: this.offset, bytes: value })
      this.#splicedBytes += value.length
      return this
    }
    this.ensure(value.length)
    this.buffer.set(value, this.offset)
    this.offset += value.length
    return this
  }

  /** A UTF-8 string with no length prefix; returns its byte length. */
  rawString(value: string): number {
    const max = value.length * 3
    this.ensure(max)
    const written = this.buffer.write(value, this.offset, 'utf8')
    this.offset += written
    return written
  }

  /** int16-length string; null is -1. */
  string(value: string | null): this {
    if (value === null) return this.int16(-1)
    const length = Buffer.byteLength(value, 'utf8')
    if (length > 0x7fff) throw new ProtocolEncodeError(`string of ${length} bytes exceeds the int16 length limit`)
    this.int16(length)
    this.rawString(value)
    return this
  }

  /** Unsigned-varint (N+1) length string; null is 0. */
  compactString(value: string | null): this {
    if (value === null) return this.uvarint(0)
    this.uvarint(Buffer.byteLength(value, 'utf8') + 1)
    this.rawString(value)
    return this
  }

  /** int32-length bytes; null is -1. */
  bytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1)
    this.int32(value.length)
    return this.raw(value)
  }

  /** Unsigned-varint (N+1) length bytes; null is 0. */
  compactBytes(value: Uint8Array | null): this {
    if (value === null) return this.uvarint(0)
    this.uvarint(value.length + 1)
    return this.raw(value)
  }

  /** Reserve an int32 length prefix; `endLength` back-patches it with the bytes written since. */
  beginLength(): number {
    this.ensure(4)
    const at = this.offset
    this.offset += 4
    return at
  }

  endLength(at: number): this {
    let length = this.offset - at - 4
    // Splices made after beginLength sit after its position (those made before, at or before it).
    const splices = this.#splices
    for (let i = splices.length - 1; i >= 0 && splices[i]!.at > at; i--) length += splices[i]!.bytes.length
    this.buffer.writeInt32BE(length, at)
    return this
  }
}

/** Bytes an unsigned varint takes. */
export function uvarintSize(value: number): number {
  if (value < 0x80) return 1
  if (value < 0x4000) return 2
  if (value < 0x200000) return 3
  if (value < 0x10000000) return 4
  return 5
}

/** Bytes a zig-zag varint takes. */
export function varintSize(value: number): number {
  return uvarintSize(((value << 1) ^ (value >> 31)) >>> 0)
}

/** Bytes a zig-zag varlong takes (number form, within ±2^52). */
export function varlongSize(value: number): number {
  let zz = value >= 0 ? value * 2 : -value * 2 - 1
  let size = 1
  while (zz > 0x7f) {
    zz = Math.floor(zz / 128)
    size++
  }
  return size
}

export function utf8Length(value: string): number {
  return Buffer.byteLength(value, 'utf8')
}
