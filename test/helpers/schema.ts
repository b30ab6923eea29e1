// Test-only view of Apache Kafka's JSON message definitions, independent of the generator:
//   - loads and parses the schemas (the pinned Kafka release's common/message/*.json, fetched from
//     Maven Central into a cache by scripts/kafka-schemas.ts; KAFKA_PROTOCOL_DIR overrides),
//   - builds seeded sample values in the generated code's shape (lowerCamelCase fields, int64 →
//     bigint, uuid → 22-char base64url, bytes → Buffer),
//   - encodes values with a reference encoder that interprets the schema directly, following the
//     wire-encoding rules of Kafka's protocol guide (classic vs compact encodings, nullable
//     markers, tagged-field sections). It shares no code with src/protocol.

import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { kafkaSchemaDir } from '../../scripts/kafka-schemas.js'

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))

// ---------------------------------------------------------------------------------------------
// Schema model

export interface FieldSpec {
  name: string
  type: string
  versions?: string
  nullableVersions?: string
  taggedVersions?: string
  tag?: number
  default?: string | number | boolean
  ignorable?: boolean
  fields?: FieldSpec[]
  flexibleVersions?: string
}

export interface MessageSpec {
  apiKey?: number
  type: 'request' | 'response' | 'header' | 'data'
  name: string
  validVersions: string
  flexibleVersions: string
  listeners?: string[]
  latestVersionUnstable?: boolean
  fields: FieldSpec[]
  commonStructs?: { name: string; fields: FieldSpec[] }[]
}

export interface Range {
  lo: number
  hi: number
}

export const NO_VERSIONS: Range = { lo: 1, hi: 0 }

export function parseVersions(spec: string | undefined): Range {
  if (spec === undefined || spec === 'none') return NO_VERSIONS
  let m = /^(\d+)\+$/.exec(spec)
  if (m) return { lo: Number(m[1]), hi: Infinity }
  m = /^(\d+)-(\d+)$/.exec(spec)
  if (m) return { lo: Number(m[1]), hi: Number(m[2]) }
  if (/^\d+$/.test(spec)) return { lo: Number(spec), hi: Number(spec) }
  throw new Error(`bad version spec ${spec}`)
}

export function inRange(r: Range, v: number): boolean {
  return v >= r.lo && v <= r.hi
}

export function rangeIsEmpty(r: Range): boolean {
  return r.lo > r.hi
}

export function intersect(a: Range, b: Range): Range {
  return { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) }
}

/** Strips `//` line comments (none of the files has `//` inside a string) and parses. */
export function parseSpecText(text: string): MessageSpec {
  const stripped = text
    .split('\n')
    .map((line) => {
      const at = line.indexOf('//')
      return at < 0 ? line : line.slice(0, at)
    })
    .join('\n')
  return JSON.parse(stripped) as MessageSpec
}

let cache: Map<string, MessageSpec> | undefined

/** Every message spec of the pinned Kafka release, by name (e.g. `FetchRequest`). */
export function loadSpecs(): Map<string, MessageSpec> {
  if (cache) return cache
  const specs = new Map<string, MessageSpec>()
  const dir = kafkaSchemaDir()
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json')) continue
    const spec = parseSpecText(readFileSync(join(dir, file), 'utf8'))
    specs.set(spec.name, spec)
  }
  cache = specs
  return specs
}

const PRIMITIVES = new Set([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'records',
  'uuid',
])

export function isPrimitive(type: string): boolean {
  return PRIMITIVES.has(type)
}

export function elementType(type: string): string | null {
  return type.startsWith('[]') ? type.slice(2) : null
}

export function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1)
}

/** One message schema with its struct table resolved. */
export class Schema {
  readonly valid: Range
  readonly flexible: Range
  private readonly structs = new Map<string, FieldSpec[]>()

  constructor(readonly spec: MessageSpec) {
    this.valid = parseVersions(spec.validVersions)
    this.flexible = parseVersions(spec.flexibleVersions)
    for (const s of spec.commonStructs ?? []) this.structs.set(s.name, s.fields)
    const collect = (fields: FieldSpec[]): void => {
      for (const f of fields) {
        const base = elementType(f.type) ?? f.type
        if (f.fields) {
          if (!this.structs.has(base)) this.structs.set(base, f.fields)
          collect(f.fields)
        }
      }
    }
    for (const s of spec.commonStructs ?? []) collect(s.fields)
    collect(spec.fields)
  }

  get name(): string {
    return this.spec.name
  }

  /** Fields of a struct type (inline or a common struct). */
  structFields(type: string): FieldSpec[] {
    const fields = this.structs.get(type)
    if (!fields) throw new Error(`${this.name}: unknown struct ${type}`)
    return fields
  }

  isFlexible(v: number): boolean {
    return inRange(this.flexible, v)
  }

  /** Versions (within validVersions) that carry the field at all. */
  fieldRange(f: FieldSpec): Range {
    return intersect(parseVersions(f.versions), this.valid)
  }

  /** The field exists in the generated TypeScript type (some valid version has it). */
  isLive(f: FieldSpec): boolean {
    return !rangeIsEmpty(this.fieldRange(f))
  }

  hasField(f: FieldSpec, v: number): boolean {
    return inRange(parseVersions(f.versions), v)
  }

  isNullable(f: FieldSpec, v: number): boolean {
    return inRange(parseVersions(f.nullableVersions), v)
  }

  isTagged(f: FieldSpec, v: number): boolean {
    return f.tag !== undefined && inRange(parseVersions(f.taggedVersions), v)
  }

  /** Compact (flexible) encoding for this field? Honours the field-level override (RequestHeader.ClientId). */
  fieldIsFlexible(f: FieldSpec, v: number): boolean {
    if (f.flexibleVersions !== undefined) return inRange(parseVersions(f.flexibleVersions), v)
    return this.isFlexible(v)
  }

  versions(): number[] {
    const out: number[] = []
    for (let v = this.valid.lo; v <= this.valid.hi; v++) out.push(v)
    return out
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults (the generated code's "unset" values, from the schema's `default` keys)

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

export function defaultValue(schema: Schema, f: FieldSpec): unknown {
  const d = f.default
  if (d === 'null') return null
  if (elementType(f.type) !== null) return []
  const blank = d === undefined || d === ''
  switch (f.type) {
    case 'bool':
      return blank ? false : d === true || d === 'true'
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
      return blank ? 0 : Number(d)
    case 'int64':
      return blank ? 0n : BigInt(d)
    case 'string':
      return d === undefined ? '' : String(d)
    case 'uuid':
      return ZERO_UUID
    case 'bytes':
      return Buffer.alloc(0)
    case 'records':
      return null
    default:
      return defaultStruct(schema, schema.structFields(f.type))
  }
}

/** A struct with every live field at its default (what a decoder returns for an absent struct). */
export function defaultStruct(schema: Schema, fields: FieldSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of fields) if (schema.isLive(f)) out[camel(f.name)] = defaultValue(schema, f)
  return out
}

/** Structural equality over the value shapes used here (Buffers, bigints, arrays, plain objects). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b)
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((x, i) => deepEqual(x, b[i]))
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined)
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined)
    if (ka.length !== kb.length) return false
    return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return false
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: small, fast, good enough for test data; fully determined by the seed. */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255)
    return b
  }
}

/** FNV-1a of a string, to derive a stable seed per API/version/direction. */
export function seedOf(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

// Mixed ASCII, 2-, 3- and 4-byte UTF-8 (the last ones are surrogate pairs in JS).
const CHARS = ['a', 'b', 'z', 'K', '0', '9', '-', '_', '.', ' ', 'é', 'ß', 'Ω', 'ж', '€', '日', '本', '語', '🙂', '𝄞']

function randomString(rng: Rng): string {
  const n = rng.int(1, 8)
  let s = ''
  for (let i = 0; i < n; i++) s += rng.pick(CHARS)
  // Always some non-ASCII character.
  if (![...s].some((c) => c.charCodeAt(0) > 0x7f)) s += rng.pick(CHARS.slice(10))
  return s
}

const INT_BOUNDS: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
}

/** A value of a primitive type that differs from `def`. */
export function samplePrimitive(type: string, def: unknown, rng: Rng): unknown {
  for (;;) {
    const x = rawPrimitive(type, def, rng)
    if (!deepEqual(x, def)) return x
  }
}

function rawPrimitive(type: string, def: unknown, rng: Rng): unknown {
  switch (type) {
    case 'bool':
      return def !== true
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32': {
      const [lo, hi] = INT_BOUNDS[type]!
      if (rng.chance(0.15)) return rng.pick([lo, hi, lo < 0 ? -1 : 1])
      return rng.int(lo, hi)
    }
    case 'int64': {
      if (rng.chance(0.15)) return rng.pick([-(2n ** 63n), 2n ** 63n - 1n, -1n, 2n ** 53n + 1n])
      const hi = BigInt(rng.int(0, 0xffffffff))
      const lo = BigInt(rng.int(0, 0xffffffff))
      return BigInt.asIntN(64, (hi << 32n) | lo)
    }
    case 'float64':
      return (rng.next() - 0.5) * 2 ** rng.int(0, 60)
    case 'string':
      return randomString(rng)
    case 'uuid':
      return rng.bytes(16).toString('base64url')
    case 'bytes':
    case 'records':
      return rng.bytes(rng.int(1, 12))
    default:
      throw new Error(`not a primitive: ${type}`)
  }
}

export interface SampleOptions {
  /** Add one or two unknown tagged fields to every struct that is flexible at this version. */
  unknownTags?: boolean
  /** Probability that a nullable field (whose default is not null) is set to null. */
  nullChance?: number
}

export interface TaggedSample {
  tag: number
  data: Buffer
}

/**
 * A sample message at version `v`: every field present in `v` holds a non-default value, absent
 * fields are left out of `input` and hold their defaults in `expected` (what the decoder returns).
 */
export function buildSample(
  schema: Schema,
  v: number,
  rng: Rng,
  opts: SampleOptions = {},
): { input: Record<string, unknown>; expected: Record<string, unknown> } {
  return buildStruct(schema, schema.spec.fields, v, rng, opts)
}

function buildStruct(
  schema: Schema,
  fields: FieldSpec[],
  v: number,
  rng: Rng,
  opts: SampleOptions,
): { input: Record<string, unknown>; expected: Record<string, unknown> } {
  const input: Record<string, unknown> = {}
  const expected: Record<string, unknown> = {}
  for (const f of fields) {
    if (!schema.isLive(f)) continue
    const key = camel(f.name)
    if (!schema.hasField(f, v)) {
      expected[key] = defaultValue(schema, f)
      continue
    }
    const { input: i, expected: e } = sampleField(schema, f, v, rng, opts)
    input[key] = i
    expected[key] = e
  }
  if (opts.unknownTags && schema.isFlexible(v)) {
    const known = new Set(fields.filter((f) => f.tag !== undefined).map((f) => f.tag!))
    const candidates = [0, 1, 2, 3, 4, 5, 6, 7, 9, 31, 127, 128, 300, 16384].filter((t) => !known.has(t))
    const tags = new Set<number>()
    const n = rng.int(1, 2)
    while (tags.size < n) tags.add(rng.pick(candidates))
    const unknown: TaggedSample[] = [...tags]
      .sort((a, b) => a - b)
      .map((tag) => ({ tag, data: rng.bytes(rng.int(0, 5)) }))
    input._unknownTags = unknown
    expected._unknownTags = unknown
  }
  return { input, expected }
}

/** A non-default value for field `f` at version `v` (which must carry the field). */
export function sampleField(
  schema: Schema,
  f: FieldSpec,
  v: number,
  rng: Rng,
  opts: SampleOptions = {},
): { input: unknown; expected: unknown } {
  const def = defaultValue(schema, f)
  const nullable = schema.isNullable(f, v)
  if (nullable && def !== null && rng.chance(opts.nullChance ?? 0.3)) return { input: null, expected: null }
  const elem = elementType(f.type)
  if (elem !== null) {
    const n = rng.int(1, 2)
    const input: unknown[] = []
    const expected: unknown[] = []
    for (let i = 0; i < n; i++) {
      if (isPrimitive(elem)) {
        // Elements have no default of their own; any value will do.
        const x = rawPrimitive(elem, undefined, rng)
        input.push(x)
        expected.push(x)
      } else {
        const s = buildStruct(schema, schema.structFields(elem), v, rng, opts)
        input.push(s.input)
        expected.push(s.expected)
      }
    }
    return { input, expected }
  }
  if (isPrimitive(f.type)) {
    const x = samplePrimitive(f.type, def, rng)
    return { input: x, expected: x }
  }
  return buildStruct(schema, schema.structFields(f.type), v, rng, opts)
}

// ---------------------------------------------------------------------------------------------
// Reference encoder: the README's wire-encoding table, applied to the schema directly.

class Sink {
  private buf = Buffer.alloc(256)
  length = 0

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n))
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }
  byte(b: number): void {
    this.room(1)
    this.buf[this.length++] = b & 0xff
  }
  /** Big-endian two's complement of `bits` width. */
  fixed(value: bigint, bits: number): void {
    const u = BigInt.asUintN(bits, value)
    for (let shift = bits - 8; shift >= 0; shift -= 8) this.byte(Number((u >> BigInt(shift)) & 0xffn))
  }
  /** UNSIGNED_VARINT: 7 bits per byte, low group first, high bit = more follows. */
  uvarint(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`uvarint out of range ${value}`)
    let x = BigInt(value)
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80)
      x >>= 7n
    }
    this.byte(Number(x))
  }
  bytes(data: Uint8Array): void {
    this.room(data.length)
    for (const b of data) this.buf[this.length++] = b
  }
  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length))
  }
}

export class ReferenceEncodeError extends Error {}

/** Encodes `value` (generated-code shape; missing fields = defaults) as message version `v`. */
export function referenceEncode(schema: Schema, v: number, value: Record<string, unknown>): Buffer {
  const sink = new Sink()
  encodeStruct(sink, schema, schema.spec.fields, v, value, schema.name)
  return sink.result()
}

function encodeStruct(
  sink: Sink,
  schema: Schema,
  fields: FieldSpec[],
  v: number,
  value: Record<string, unknown>,
  path: string,
): void {
  const flexible = schema.isFlexible(v)
  const tagged: { tag: number; data: Buffer }[] = []
  for (const f of fields) {
    if (!schema.hasField(f, v)) continue
    const key = camel(f.name)
    const raw = value[key]
    const x = raw === undefined ? defaultValue(schema, f) : raw
    if (schema.isTagged(f, v)) {
      if (!flexible) throw new ReferenceEncodeError(`${path}.${key}: tagged field in a non-flexible version`)
      // Sent only when it differs from the default, in its flexible encoding.
      if (deepEqual(x, defaultValue(schema, f))) continue
      const inner = new Sink()
      encodeField(inner, schema, f, v, x, true, `${path}.${key}`)
      tagged.push({ tag: f.tag!, data: inner.result() })
      continue
    }
    encodeField(sink, schema, f, v, x, schema.fieldIsFlexible(f, v), `${path}.${key}`)
  }
  if (!flexible) return
  const unknown = value._unknownTags as TaggedSample[] | undefined
  for (const u of unknown ?? []) tagged.push({ tag: u.tag, data: Buffer.from(u.data) })
  tagged.sort((a, b) => a.tag - b.tag)
  sink.uvarint(tagged.length)
  for (const t of tagged) {
    sink.uvarint(t.tag)
    sink.uvarint(t.data.length)
    sink.bytes(t.data)
  }
}

function encodeField(
  sink: Sink,
  schema: Schema,
  f: FieldSpec,
  v: number,
  x: unknown,
  flex: boolean,
  path: string,
): void {
  const nullable = schema.isNullable(f, v)
  const elem = elementType(f.type)
  if (elem !== null) {
    if (x === null) {
      if (!nullable) throw new ReferenceEncodeError(`${path}: null array where not nullable`)
      if (flex) sink.uvarint(0)
      else sink.fixed(-1n, 32)
      return
    }
    const items = x as unknown[]
    if (flex) sink.uvarint(items.length + 1)
    else sink.fixed(BigInt(items.length), 32)
    items.forEach((item, i) => encodeType(sink, schema, elem, v, item, false, flex, `${path}[${i}]`))
    return
  }
  encodeType(sink, schema, f.type, v, x, nullable, flex, path)
}

function encodeType(
  sink: Sink,
  schema: Schema,
  type: string,
  v: number,
  x: unknown,
  nullable: boolean,
  flex: boolean,
  path: string,
): void {
  if (x === null && !nullable) throw new ReferenceEncodeError(`${path}: null where not nullable`)
  switch (type) {
    case 'bool':
      sink.byte(x ? 1 : 0)
      return
    case 'int8':
      sink.fixed(BigInt(x as number), 8)
      return
    case 'int16':
    case 'uint16':
      sink.fixed(BigInt(x as number), 16)
      return
    case 'int32':
    case 'uint32':
      sink.fixed(BigInt(x as number), 32)
      return
    case 'int64':
      sink.fixed(x as bigint, 64)
      return
    case 'float64': {
      const b = Buffer.alloc(8)
      b.writeDoubleBE(x as number)
      sink.bytes(b)
      return
    }
    case 'uuid': {
      const b = Buffer.from(x as string, 'base64url')
      if (b.length !== 16) throw new ReferenceEncodeError(`${path}: bad uuid`)
      sink.bytes(b)
      return
    }
    case 'string': {
      if (x === null) {
        if (flex) sink.uvarint(0)
        else sink.fixed(-1n, 16)
        return
      }
      const b = Buffer.from(x as string, 'utf8')
      if (flex) sink.uvarint(b.length + 1)
      else sink.fixed(BigInt(b.length), 16)
      sink.bytes(b)
      return
    }
    case 'bytes':
    case 'records': {
      if (x === null) {
        if (flex) sink.uvarint(0)
        else sink.fixed(-1n, 32)
        return
      }
      const b = x as Uint8Array
      if (flex) sink.uvarint(b.length + 1)
      else sink.fixed(BigInt(b.length), 32)
      sink.bytes(b)
      return
    }
    default: {
      const fields = schema.structFields(type)
      if (nullable) {
        // A nullable struct starts with an int8: -1 null, 1 present.
        if (x === null) {
          sink.byte(0xff)
          return
        }
        sink.byte(1)
      }
      encodeStruct(sink, schema, fields, v, x as Record<string, unknown>, path)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Walking values and schemas

/** Deep copy of a sample value (Buffers copied, bigints and strings shared). */
export function clone<T>(x: T): T {
  if (Buffer.isBuffer(x)) return Buffer.from(x) as T
  if (Array.isArray(x)) return x.map((e) => clone(e)) as T
  if (typeof x === 'object' && x !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, val] of Object.entries(x)) out[k] = clone(val)
    return out as T
  }
  return x
}

export interface FieldSite {
  /** Property path from the message root; array steps are index 0. */
  path: (string | number)[]
  field: FieldSpec
  /** Schema path for messages, e.g. `FetchRequest.topics.partitions.replicaDirectoryId`. */
  label: string
}

/**
 * Every field reachable at version `v` through present structs (first array element), with
 * `present` telling whether `v` carries the field itself.
 */
export function fieldSites(schema: Schema, v: number): { site: FieldSite; present: boolean }[] {
  const out: { site: FieldSite; present: boolean }[] = []
  const walk = (fields: FieldSpec[], path: (string | number)[], label: string): void => {
    for (const f of fields) {
      if (!schema.isLive(f)) continue
      const key = camel(f.name)
      const here = [...path, key]
      const lbl = `${label}.${key}`
      const present = schema.hasField(f, v)
      out.push({ site: { path: here, field: f, label: lbl }, present })
      if (!present) continue
      const elem = elementType(f.type)
      const base = elem ?? f.type
      if (isPrimitive(base)) continue
      walk(schema.structFields(base), elem !== null ? [...here, 0] : here, lbl)
    }
  }
  walk(schema.spec.fields, [], schema.name)
  return out
}

/** The object holding the last path step, or undefined when a step on the way is null/empty/absent. */
export function containerAt(
  root: Record<string, unknown>,
  path: (string | number)[],
): Record<string, unknown> | undefined {
  let cur: unknown = root
  for (const step of path.slice(0, -1)) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined
    cur = (cur as Record<string | number, unknown>)[step]
  }
  if (cur === null || cur === undefined || typeof cur !== 'object' || Array.isArray(cur)) return undefined
  return cur as Record<string, unknown>
}
