// Small helpers the generated message modules call: each picks the classic or the compact
// (flexible, KIP-482) encoding of one schema type, so generated code stays short.

import { ProtocolEncodeError } from '../errors.js'
import type { TaggedField } from './api.js'
import type { Reader } from './reader.js'
import { Writer } from './writer.js'

export function writeString(w: Writer, flex: boolean, value: string): void {
  if (flex) w.compactString(value)
  else w.string(value)
}

export function writeNullableString(w: Writer, flex: boolean, value: string | null): void {
  if (flex) w.compactString(value)
  else w.string(value)
}

export function readString(r: Reader, flex: boolean): string {
  return flex ? r.compactString() : r.string()
}

export function readNullableString(r: Reader, flex: boolean): string | null {
  return flex ? r.compactNullableString() : r.nullableString()
}

export function writeBytes(w: Writer, flex: boolean, value: Uint8Array | null): void {
  if (flex) w.compactBytes(value)
  else w.bytes(value)
}

export function readBytes(r: Reader, flex: boolean): Buffer {
  return flex ? r.compactBytes() : r.bytes()
}

export function readNullableBytes(r: Reader, flex: boolean): Buffer | null {
  return flex ? r.compactNullableBytes() : r.nullableBytes()
}

/** Array count; -1 writes null. */
export function writeArrayLength(w: Writer, flex: boolean, length: number): void {
  if (flex) w.uvarint(length + 1)
  else w.int32(length)
}

/** Array count, -1 for null, bounded by the bytes that remain (see Reader.arrayLength). */
export function readArrayLength(r: Reader, flex: boolean, nullable: boolean, minElementSize: number): number {
  const n = flex ? r.compactArrayLength(minElementSize) : r.arrayLength(minElementSize)
  if (n < 0 && !nullable) {
    r.fail('null where an array is required')
    return 0
  }
  return n
}

export function writeUuid(w: Writer, value: string): void {
  const bytes = Buffer.from(value, 'base64url')
  if (bytes.length !== 16) throw new ProtocolEncodeError(`not a Kafka UUID (22 base64url characters): ${value}`)
  w.raw(bytes)
}

/** Kafka prints UUIDs as URL-safe base64 without padding (Uuid.toString), so we keep that form. */
export function readUuid(r: Reader): string {
  return r.raw(16).toString('base64url')
}

export function writeNullMarker(w: Writer, present: boolean): void {
  w.int8(present ? 1 : -1)
}

export function readNullMarker(r: Reader): boolean {
  const marker = r.int8()
  return marker >= 0
}

const scratch = new Writer(256)

/**
 * Writes a tagged-field section: `fields` is (tag, encoder) pairs already filtered to the ones
 * to send, sorted with `unknown` by tag. Each value is encoded into a scratch buffer first
 * because its size prefix comes before it.
 */
export function writeTaggedFields(
  w: Writer,
  known: readonly (readonly [number, (w: Writer) => void])[],
  unknown: readonly TaggedField[] | undefined,
): void {
  const total = known.length + (unknown?.length ?? 0)
  w.uvarint(total)
  if (total === 0) return
  const all: { tag: number; write: (w: Writer) => void }[] = known.map(([tag, write]) => ({ tag, write }))
  if (unknown) for (const u of unknown) all.push({ tag: u.tag, write: (x) => x.raw(u.data) })
  all.sort((a, b) => a.tag - b.tag)
  for (let i = 1; i < all.length; i++) {
    if (all[i]!.tag === all[i - 1]!.tag) throw new ProtocolEncodeError(`tagged field ${all[i]!.tag} given twice`)
  }
  for (const field of all) {
    // Nested tagged sections may reuse the scratch writer, so copy out before writing.
    const start = scratch.offset
    field.write(scratch)
    const bytes = Buffer.from(scratch.buffer.subarray(start, scratch.offset))
    scratch.offset = start
    w.uvarint(field.tag)
    w.uvarint(bytes.length)
    w.raw(bytes)
  }
}

/**
 * Reads a tagged-field section; `readKnown(tag)` consumes a known tag's value and returns true,
 * or returns false for unknown tags, which are kept raw. Each value must fill its declared size.
 */
export function readTaggedFields(r: Reader, readKnown: (tag: number) => boolean): TaggedField[] | undefined {
  const count = r.uvarint()
  let unknown: TaggedField[] | undefined
  let lastTag = -1
  for (let i = 0; i < count && r.ok; i++) {
    const tag = r.uvarint()
    const size = r.uvarint()
    if (!r.ok) break
    if (tag <= lastTag) {
      r.fail(`tagged fields out of order (${tag} after ${lastTag})`)
      break
    }
    lastTag = tag
    if (size > r.remaining) {
      r.fail(`tagged field ${tag} of ${size} bytes exceeds the ${r.remaining} that remain`)
      break
    }
    const end = r.offset + size
    if (readKnown(tag)) {
      if (r.ok && r.offset !== end)
        r.fail(`tagged field ${tag} declared ${size} bytes but its value used ${r.offset - (end - size)}`)
    } else {
      ;(unknown ??= []).push({ tag, data: Buffer.from(r.raw(size)) })
    }
  }
  return unknown
}

/** Reads an array of elements with `readElement`; stops early once the reader has failed. */
export function readArray<T>(
  r: Reader,
  flex: boolean,
  nullable: false,
  minElementSize: number,
  readElement: () => T,
): T[]
export function readArray<T>(
  r: Reader,
  flex: boolean,
  nullable: boolean,
  minElementSize: number,
  readElement: () => T,
): T[] | null
export function readArray<T>(
  r: Reader,
  flex: boolean,
  nullable: boolean,
  minElementSize: number,
  readElement: () => T,
): T[] | null {
  const n = readArrayLength(r, flex, nullable, minElementSize)
  if (n < 0) return null
  const out: T[] = []
  for (let i = 0; i < n && r.error === null; i++) out.push(readElement())
  return out
}

/**
 * Kafka's `struct.equals(new Struct())` for an encoder input: true when every field given equals
 * the default (missing fields are defaults) and no unknown tagged fields are carried.
 */
export function isDefaultStruct(value: object, defaults: object): boolean {
  const d = defaults as Record<string, unknown>
  for (const [key, x] of Object.entries(value)) {
    if (x === undefined) continue
    if (key === '_unknownTags') {
      if ((x as unknown[]).length > 0) return false
      continue
    }
    if (!isDefaultValue(x, d[key])) return false
  }
  return true
}

function isDefaultValue(x: unknown, d: unknown): boolean {
  if (x === d) return true
  if (x === null || d === null || typeof x !== 'object' || typeof d !== 'object') return false
  if (x instanceof Uint8Array) return d instanceof Uint8Array && Buffer.compare(x, d) === 0
  if (Array.isArray(x)) return Array.isArray(d) && x.length === 0 && d.length === 0
  return isDefaultStruct(x, d)
}
