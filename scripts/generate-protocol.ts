// Generates src/protocol/messages/*.ts from Apache Kafka's JSON message definitions.
//
//   npm run generate                 (reads the pinned Kafka release's schemas, see below)
//   npm run generate -- --check      (exits 1 when the committed files differ from a fresh run)
//
// One module per API holds the request and the response for every version: encoders and
// decoders branch on the version per field. Only APIs a broker listener serves are generated,
// plus the header and the `data` schemas (consumer-group subscription and assignment bytes).

import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync, rmSync } from 'node:fs'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { kafkaSchemaDir } from './kafka-schemas.js'

function schemaDirOrExit(): string {
  try {
    return kafkaSchemaDir()
  } catch (err) {
    console.error(`generate-protocol: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
// Kafka's common/message/*.json from the kafka-clients jar of KAFKA_SCHEMAS_VERSION, fetched with
// Maven into ~/.cache/kafkats on first use (scripts/kafka-schemas.ts); KAFKA_PROTOCOL_DIR overrides.
const specDir = schemaDirOrExit()
const outDir = join(root, 'src', 'protocol', 'messages')
const check = process.argv.includes('--check')

// ---------------------------------------------------------------------------------------------
// Schema model

interface FieldSpec {
  name: string
  type: string
  versions?: string
  nullableVersions?: string
  taggedVersions?: string
  tag?: number
  default?: string | number | boolean
  ignorable?: boolean
  about?: string
  fields?: FieldSpec[]
  flexibleVersions?: string
}

interface StructSpec {
  name: string
  fields: FieldSpec[]
}

interface MessageSpec {
  apiKey?: number
  type: 'request' | 'response' | 'header' | 'data'
  name: string
  validVersions: string
  flexibleVersions: string
  listeners?: string[]
  latestVersionUnstable?: boolean
  fields: FieldSpec[]
  commonStructs?: StructSpec[]
  comments: string[]
}

interface Range {
  lo: number
  hi: number // Infinity for "N+"
}

const NONE: Range = { lo: 1, hi: 0 }

function parseRange(spec: string | undefined): Range {
  if (spec === undefined || spec === 'none') return NONE
  const plus = /^(\d+)\+$/.exec(spec)
  if (plus) return { lo: Number(plus[1]), hi: Infinity }
  const dash = /^(\d+)-(\d+)$/.exec(spec)
  if (dash) return { lo: Number(dash[1]), hi: Number(dash[2]) }
  if (/^\d+$/.test(spec)) return { lo: Number(spec), hi: Number(spec) }
  throw new Error(`bad version range ${spec}`)
}

function isEmpty(r: Range): boolean {
  return r.lo > r.hi
}

function intersect(a: Range, b: Range): Range {
  return { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) }
}

/** Does `r` cover every version in `within`? */
function covers(r: Range, within: Range): boolean {
  return r.lo <= within.lo && r.hi >= within.hi
}

/** A TypeScript condition on `v` that is true for versions in `r`, simplified within `scope`. */
function cond(r: Range, scope: Range): string {
  const x = intersect(r, scope)
  if (isEmpty(x)) return 'false'
  const parts: string[] = []
  if (x.lo > scope.lo) parts.push(`v >= ${x.lo}`)
  if (x.hi < scope.hi) parts.push(`v <= ${x.hi}`)
  return parts.length === 0 ? 'true' : parts.join(' && ')
}

function readSpec(file: string): MessageSpec {
  const text = readFileSync(file, 'utf8')
  const comments: string[] = []
  const stripped = text
    .split('\n')
    .map((line) => {
      const at = line.indexOf('//')
      if (at < 0) return line
      const comment = line.slice(at + 2).trim()
      if (
        comment &&
        !/Licensed to the Apache|contributor license|NOTICE file|copyright ownership|Apache License|License\.|you may not use|the License|http:\/\/www\.apache|Unless required|distributed under|WITHOUT WARRANTIES|See the License|limitations under/.test(
          comment,
        )
      ) {
        comments.push(comment)
      }
      return line.slice(0, at)
    })
    .join('\n')
  const spec = JSON.parse(stripped) as MessageSpec
  spec.comments = comments
  return spec
}

// ---------------------------------------------------------------------------------------------
// Naming

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

function kebab(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase()
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

// ---------------------------------------------------------------------------------------------
// Generation of one message (request, response, header or data schema)

interface Ctx {
  spec: MessageSpec
  valid: Range
  flexible: Range
  /** Struct name in the schema → generated TypeScript type name. */
  typeNames: Map<string, string>
  structs: Map<string, StructSpec>
  out: string[]
}

function elementType(type: string): string | null {
  return type.startsWith('[]') ? type.slice(2) : null
}

function collectStructs(ctx: Ctx, fields: FieldSpec[]): void {
  for (const f of fields) {
    const base = elementType(f.type) ?? f.type
    if (!PRIMITIVES.has(base) && f.fields) {
      if (!ctx.structs.has(base)) {
        ctx.structs.set(base, { name: base, fields: f.fields })
        ctx.typeNames.set(base, base.startsWith(ctx.spec.name) ? base : ctx.spec.name + base)
      }
      collectStructs(ctx, f.fields)
    }
  }
}

function tsPrimitive(type: string, nullable: boolean): string {
  const n = nullable ? ' | null' : ''
  switch (type) {
    case 'bool':
      return 'boolean'
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
      return 'number'
    case 'int64':
      return 'bigint'
    case 'string':
    case 'uuid':
      return 'string' + n
    case 'bytes':
      return 'Buffer' + n
    case 'records':
      return 'Buffer | null'
    default:
      throw new Error(`not a primitive: ${type}`)
  }
}

/** The versions (within the message's valid range) in which the field exists. */
function fieldRange(ctx: Ctx, f: FieldSpec): Range {
  return intersect(parseRange(f.versions), ctx.valid)
}

function nullableRange(ctx: Ctx, f: FieldSpec): Range {
  return intersect(parseRange(f.nullableVersions), fieldRange(ctx, f))
}

function isNullableSometimes(ctx: Ctx, f: FieldSpec): boolean {
  return f.type === 'records' || !isEmpty(nullableRange(ctx, f))
}

function tsType(ctx: Ctx, f: FieldSpec): string {
  const nullable = isNullableSometimes(ctx, f)
  const elem = elementType(f.type)
  if (elem !== null) {
    const inner = PRIMITIVES.has(elem) ? tsPrimitive(elem, false) : ctx.typeNames.get(elem)!
    return `${inner}[]${nullable ? ' | null' : ''}`
  }
  if (PRIMITIVES.has(f.type)) return tsPrimitive(f.type, nullable)
  const name = ctx.typeNames.get(f.type)
  if (!name) throw new Error(`${ctx.spec.name}: unknown struct ${f.type}`)
  return name + (nullable ? ' | null' : '')
}

function defaultIsNull(f: FieldSpec): boolean {
  return f.default === 'null'
}

/** The default value expression for a field (schema `default` or the implicit one). */
function defaultExpr(ctx: Ctx, f: FieldSpec): string {
  const d = f.default
  if (defaultIsNull(f)) return 'null'
  if (elementType(f.type) !== null) return '[]'
  switch (f.type) {
    case 'bool':
      return d === undefined || d === '' ? 'false' : String(d === true || d === 'true')
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
      return d === undefined || d === '' ? '0' : String(Number(d))
    case 'int64':
      return d === undefined || d === '' ? '0n' : `${BigInt(d)}n`
    case 'string':
      return JSON.stringify(d === undefined ? '' : String(d))
    case 'uuid':
      return 'ZERO_UUID'
    case 'bytes':
      return 'EMPTY_BYTES'
    case 'records':
      return 'null'
    default:
      return `default${ctx.typeNames.get(f.type)}()`
  }
}

/** An expression that is true when the input value `x` differs from the field's default. */
function nonDefault(ctx: Ctx, f: FieldSpec, x: string): string {
  if (elementType(f.type) !== null) return defaultIsNull(f) ? `${x} != null` : `${x} != null && ${x}.length > 0`
  switch (f.type) {
    case 'bytes':
    case 'records':
      return defaultIsNull(f) || f.type === 'records' ? `${x} != null` : `${x} != null && ${x}.length > 0`
    case 'bool':
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
    case 'int64':
    case 'string':
    case 'uuid':
      return `${x} !== undefined && ${x} !== ${defaultExpr(ctx, f)}`
    default:
      // A struct: Kafka compares with a fresh default instance (Java equals), not with null.
      return defaultIsNull(f) ? `${x} != null` : `${x} != null && !isDefaultStruct(${x}, ${defaultExpr(ctx, f)})`
  }
}

/** Is the field written with the flexible encoding in version v? Only RequestHeader.ClientId overrides it. */
function flexExpr(f: FieldSpec): string {
  return f.flexibleVersions === 'none' || neverFlexible ? 'false' : 'flex'
}

/** Set while generating a message that has no flexible version at all (no `flex` local exists). */
let neverFlexible = false

/** Smallest number of bytes one element of this type occupies on the wire (bounds array counts). */
function minSize(type: string): number {
  switch (type) {
    case 'bool':
    case 'int8':
      return 1
    case 'int16':
    case 'uint16':
      return 2
    case 'int32':
    case 'uint32':
      return 4
    case 'int64':
    case 'float64':
      return 8
    case 'uuid':
      return 16
    case 'string':
    case 'bytes':
    case 'records':
      return 1
    default: {
      // A struct: at least its tag section in flexible versions; we stay conservative at 1 when
      // it may be empty, since a zero-size element could otherwise not be bounded at all.
      return 1
    }
  }
}

function writeValue(ctx: Ctx, f: FieldSpec, type: string, x: string, nullable: string, indent: string): string[] {
  const fx = flexExpr(f)
  switch (type) {
    case 'bool':
      return [`${indent}w.bool(${x})`]
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'float64':
      return [`${indent}w.${type}(${x})`]
    case 'string':
      return nullable === 'false'
        ? [`${indent}writeString(w, ${fx}, ${x} as string)`]
        : [`${indent}writeNullableString(w, ${fx}, ${x})`]
    case 'uuid':
      return [`${indent}writeUuid(w, ${x} as string)`]
    case 'bytes':
    case 'records':
      return [`${indent}writeBytes(w, ${fx}, ${x})`]
    default: {
      const name = ctx.typeNames.get(type)!
      if (nullable === 'false') return [`${indent}write${name}(w, v, ${x}!)`]
      return [
        `${indent}if (${x} === null) writeNullMarker(w, false)`,
        `${indent}else {`,
        `${indent}  writeNullMarker(w, true)`,
        `${indent}  write${name}(w, v, ${x})`,
        `${indent}}`,
      ]
    }
  }
}

function readValue(ctx: Ctx, f: FieldSpec, type: string, nullable: string): string {
  const fx = flexExpr(f)
  switch (type) {
    case 'bool':
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'float64':
      return `r.${type}()`
    case 'string':
      if (nullable === 'false') return `readString(r, ${fx})`
      if (nullable === 'true') return `readNullableString(r, ${fx})`
      return `(${nullable} ? readNullableString(r, ${fx}) : readString(r, ${fx}))`
    case 'uuid':
      return `readUuid(r)`
    case 'bytes':
    case 'records':
      if (nullable === 'false') return `readBytes(r, ${fx})`
      if (nullable === 'true') return `readNullableBytes(r, ${fx})`
      return `(${nullable} ? readNullableBytes(r, ${fx}) : readBytes(r, ${fx}))`
    default: {
      const name = ctx.typeNames.get(type)!
      if (nullable === 'false') return `read${name}(r, v)`
      if (nullable === 'true') return `(readNullMarker(r) ? read${name}(r, v) : null)`
      return `(${nullable} ? (readNullMarker(r) ? read${name}(r, v) : null) : read${name}(r, v))`
    }
  }
}

const NUMERIC = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64'])

/** Lines that encode field f from the input expression `x` (already defaulted). */
function encodeField(ctx: Ctx, f: FieldSpec, x: string, indent: string): string[] {
  const nr = nullableRange(ctx, f)
  const nullable = f.type === 'records' ? 'true' : isEmpty(nr) ? 'false' : cond(nr, fieldRange(ctx, f))
  const lines: string[] = []
  if (nullable !== 'false' && nullable !== 'true' && f.type !== 'records') {
    lines.push(
      `${indent}if (${x} === null && !(${nullable})) throw new ProtocolEncodeError('${ctx.spec.name}.${lowerFirst(f.name)} is not nullable in version ' + v)`,
    )
  }
  // Never nullable: a null input (possible from JS or through `as`) must not become a -1/0 length
  // on the wire, nor a TypeError further down.
  if (nullable === 'false' && (elementType(f.type) !== null || !NUMERIC.has(f.type))) {
    lines.push(
      `${indent}if (${x} === null) throw new ProtocolEncodeError('${ctx.spec.name}.${lowerFirst(f.name)} is not nullable')`,
    )
  }
  const elem = elementType(f.type)
  if (elem === null) return [...lines, ...writeValue(ctx, f, f.type, x, nullable, indent)]
  const fx = flexExpr(f)
  if (nullable !== 'false') {
    lines.push(`${indent}if (${x} === null) writeArrayLength(w, ${fx}, -1)`, `${indent}else {`)
  } else {
    lines.push(`${indent}{`)
  }
  lines.push(
    `${indent}  const a = ${x}!`,
    `${indent}  writeArrayLength(w, ${fx}, a.length)`,
    `${indent}  for (const e of a) {`,
  )
  lines.push(...writeValue(ctx, f, elem, 'e', 'false', indent + '    '))
  lines.push(`${indent}  }`, `${indent}}`)
  return lines
}

/** An expression decoding field f. */
function decodeField(ctx: Ctx, f: FieldSpec): string {
  const nr = nullableRange(ctx, f)
  const nullable = f.type === 'records' ? 'true' : isEmpty(nr) ? 'false' : cond(nr, fieldRange(ctx, f))
  const elem = elementType(f.type)
  if (elem === null) return readValue(ctx, f, f.type, nullable)
  return `readArray(r, ${flexExpr(f)}, ${nullable}, ${minSize(elem)}, () => ${readValue(ctx, f, elem, 'false')})`
}

function docComment(text: string | undefined, indent: string): string[] {
  if (!text) return []
  return [`${indent}/** ${text.replace(/\*\//g, '*\\/')} */`]
}

function generateStruct(ctx: Ctx, typeName: string, fields: FieldSpec[], scope: Range, isTop: boolean): void {
  const start = ctx.out.length
  generateStructBody(ctx, typeName, fields, scope, isTop)
  // Versions that a struct never branches on leave `v` unread; name it `_v` then (noUnusedParameters).
  const text = ctx.out.splice(start).join('\n')
  const fixed = text.replace(
    /^(function \w+\((?:w: Writer|r: Reader), )v(: number[^\n]*\{\n)([\s\S]*?)^\}$/gm,
    (all, head: string, tail: string, body: string) => (/\bv\b/.test(body) ? all : `${head}_v${tail}${body}}`),
  )
  ctx.out.push(fixed)
}

function generateStructBody(ctx: Ctx, typeName: string, fields: FieldSpec[], scope: Range, isTop: boolean): void {
  const out = ctx.out
  // Interface
  if (isTop && ctx.spec.comments.length > 0) {
    out.push('/**', ...ctx.spec.comments.map((c) => ` * ${c.replace(/\*\//g, '*\\/')}`), ' */')
  }
  out.push(`export interface ${typeName} {`)
  for (const f of fields) {
    const range = fieldRange(ctx, f)
    if (isEmpty(range)) continue
    const vs = covers(range, ctx.valid)
      ? ''
      : ` (v${range.lo}${range.hi === Infinity ? '+' : range.hi === range.lo ? '' : '-' + range.hi})`
    const tagged = f.tag !== undefined ? ` [tag ${f.tag}]` : ''
    out.push(...docComment((f.about ?? '') + vs + tagged, '  '))
    out.push(`  ${lowerFirst(f.name)}: ${tsType(ctx, f)}`)
  }
  out.push('  /** Tagged fields this codec does not know, kept so they survive a round trip. */')
  out.push('  _unknownTags?: TaggedField[]')
  out.push('}', '')

  const live = fields.filter((f) => !isEmpty(fieldRange(ctx, f)))
  const taggedFields = live.filter((f) => f.tag !== undefined)
  const flexScope = intersect(ctx.flexible, scope)
  const hasFlex = !isEmpty(flexScope)
  const flexCond = cond(ctx.flexible, scope)

  // Default value
  out.push(`export function default${typeName}(): ${typeName} {`)
  out.push(`  return {`)
  for (const f of live) out.push(`    ${lowerFirst(f.name)}: ${defaultExpr(ctx, f)},`)
  out.push(`  }`, `}`, '')

  // Encoder
  out.push(`function write${typeName}(w: Writer, v: number, m: Input<${typeName}>): void {`)
  if (hasFlex) out.push(`  const flex = ${flexCond}`)
  for (const f of live) {
    const name = lowerFirst(f.name)
    const range = fieldRange(ctx, f)
    const taggedRange = f.tag !== undefined ? intersect(parseRange(f.taggedVersions), range) : NONE
    const inVersion = cond(range, scope)
    const x = `(m.${name} === undefined ? ${defaultExpr(ctx, f)} : m.${name})`
    // A field that is absent at this version may only be left out when it holds its default
    // (or is ignorable), as in Kafka's generated Java serializers.
    if (!f.ignorable && inVersion !== 'true') {
      out.push(
        `  if (!(${inVersion}) && ${nonDefault(ctx, f, `m.${name}`)}) throw new ProtocolEncodeError('${ctx.spec.name}.${name} is not supported in version ' + v)`,
      )
    }
    if (f.tag !== undefined) {
      // Tagged-only fields are written in the tag section below; a field both tagged (in some
      // versions) and in sequence (in others) is written in sequence outside its tagged range.
      const seqRange = { ...range }
      if (covers(taggedRange, range)) continue
      const seqCond = `${cond(seqRange, scope)} && !(${cond(taggedRange, scope)})`
      out.push(`  if (${seqCond}) {`, `    const x = ${x}`, ...encodeField(ctx, f, 'x', '    '), '  }')
      continue
    }
    if (inVersion === 'false') continue
    if (inVersion === 'true') {
      out.push(`  {`, `    const x = ${x}`, ...encodeField(ctx, f, 'x', '    '), `  }`)
    } else {
      out.push(`  if (${inVersion}) {`, `    const x = ${x}`, ...encodeField(ctx, f, 'x', '    '), `  }`)
    }
  }
  if (hasFlex) {
    out.push(`  if (flex) {`)
    if (taggedFields.length === 0) {
      out.push(`    if (m._unknownTags === undefined || m._unknownTags.length === 0) w.uint8(0)`)
      out.push(`    else writeTaggedFields(w, [], m._unknownTags)`)
    } else {
      out.push(`    const tags: [number, (w: Writer) => void][] = []`)
      for (const f of taggedFields) {
        const name = lowerFirst(f.name)
        const taggedRange = intersect(parseRange(f.taggedVersions), fieldRange(ctx, f))
        out.push(`    if (${cond(taggedRange, scope)} && (${nonDefault(ctx, f, `m.${name}`)})) {`)
        out.push(`      const x = m.${name}!`)
        out.push(`      tags.push([${f.tag}, (w) => {`)
        out.push(...encodeField(ctx, f, 'x', '        '))
        out.push(`      }])`)
        out.push(`    }`)
      }
      out.push(`    writeTaggedFields(w, tags, m._unknownTags)`)
    }
    out.push(`  }`)
  }
  out.push(`}`, '')

  // Decoder
  out.push(`function read${typeName}(r: Reader, v: number): ${typeName} {`)
  if (hasFlex) out.push(`  const flex = ${flexCond}`)
  for (const f of live) {
    const name = lowerFirst(f.name)
    const range = fieldRange(ctx, f)
    const type = tsType(ctx, f)
    if (f.tag !== undefined) {
      const taggedRange = intersect(parseRange(f.taggedVersions), range)
      if (covers(taggedRange, range)) {
        out.push(`  let ${name}: ${type} = ${defaultExpr(ctx, f)}`)
      } else {
        out.push(
          `  let ${name}: ${type} = ${cond(range, scope)} && !(${cond(taggedRange, scope)}) ? ${decodeField(ctx, f)} : ${defaultExpr(ctx, f)}`,
        )
      }
      continue
    }
    const inVersion = cond(range, scope)
    if (inVersion === 'true') out.push(`  const ${name}: ${type} = ${decodeField(ctx, f)}`)
    else out.push(`  const ${name}: ${type} = ${inVersion} ? ${decodeField(ctx, f)} : ${defaultExpr(ctx, f)}`)
  }
  if (hasFlex) {
    out.push(`  let unknown: TaggedField[] | undefined`)
    out.push(`  if (flex) {`)
    if (taggedFields.length === 0) {
      out.push(`    unknown = readTaggedFields(r, () => false)`)
    } else {
      out.push(`    unknown = readTaggedFields(r, (tag) => {`)
      out.push(`      switch (tag) {`)
      for (const f of taggedFields) {
        const taggedRange = intersect(parseRange(f.taggedVersions), fieldRange(ctx, f))
        out.push(`        case ${f.tag}:`)
        out.push(`          if (!(${cond(taggedRange, scope)})) return false`)
        out.push(`          ${lowerFirst(f.name)} = ${decodeField(ctx, f)}`)
        out.push(`          return true`)
      }
      out.push(`        default:`, `          return false`, `      }`, `    })`)
    }
    out.push(`  }`)
  }
  out.push(`  const out: ${typeName} = {`)
  for (const f of live) out.push(`    ${lowerFirst(f.name)},`)
  out.push(`  }`)
  if (hasFlex) out.push(`  if (unknown !== undefined) out._unknownTags = unknown`)
  out.push(`  return out`, `}`, '')
}

function generateMessage(spec: MessageSpec, out: string[]): { typeName: string } {
  neverFlexible = isEmpty(parseRange(spec.flexibleVersions))
  const ctx: Ctx = {
    spec,
    valid: parseRange(spec.validVersions),
    flexible: parseRange(spec.flexibleVersions),
    typeNames: new Map(),
    structs: new Map(),
    out,
  }
  for (const s of spec.commonStructs ?? []) {
    ctx.structs.set(s.name, s)
    ctx.typeNames.set(s.name, s.name.startsWith(spec.name) ? s.name : spec.name + s.name)
    collectStructs(ctx, s.fields)
  }
  collectStructs(ctx, spec.fields)
  generateStruct(ctx, spec.name, spec.fields, ctx.valid, true)
  for (const [name, s] of ctx.structs) generateStruct(ctx, ctx.typeNames.get(name)!, s.fields, ctx.valid, false)
  return { typeName: spec.name }
}

// ---------------------------------------------------------------------------------------------
// Files

const HEADER = `// Generated by scripts/generate-protocol.ts from Apache Kafka's message definitions
// (clients/src/main/resources/common/message, Apache License 2.0). Do not edit by hand.
/* eslint-disable */
`

function imports(body: string): string {
  const codec = [
    'isDefaultStruct',
    'readArray',
    'readBytes',
    'readNullableBytes',
    'readNullableString',
    'readNullMarker',
    'readString',
    'readTaggedFields',
    'readUuid',
    'writeArrayLength',
    'writeBytes',
    'writeNullableString',
    'writeNullMarker',
    'writeString',
    'writeTaggedFields',
    'writeUuid',
  ].filter((n) => new RegExp(`\\b${n}\\(`).test(body))
  const api = ['EMPTY_BYTES', 'ZERO_UUID'].filter((n) => body.includes(n))
  const lines = [HEADER]
  const apiTypes = ['Input', 'TaggedField', ...(body.includes('ApiDefinition<') ? ['ApiDefinition'] : [])]
  lines.push(`import { ${api.length ? api.join(', ') + ', ' : ''}type ${apiTypes.join(', type ')} } from '../api.js'`)
  if (codec.length) lines.push(`import { ${codec.join(', ')} } from '../codec.js'`)
  if (body.includes('ProtocolEncodeError')) lines.push(`import { ProtocolEncodeError } from '../../errors.js'`)
  lines.push(`import type { Reader } from '../reader.js'`, `import type { Writer } from '../writer.js'`, '')
  return lines.join('\n')
}

function main(): void {
  const files = readdirSync(specDir).filter((f) => f.endsWith('.json'))
  const specs = new Map<string, MessageSpec>()
  for (const f of files) {
    const spec = readSpec(join(specDir, f))
    specs.set(spec.name, spec)
  }
  const generated = new Map<string, string>()
  const index: { key: number; constName: string; module: string; req: string; res: string }[] = []

  for (const spec of specs.values()) {
    if (spec.type !== 'request') continue
    if (!(spec.listeners ?? []).includes('broker')) continue
    if (isEmpty(parseRange(spec.validVersions))) continue
    const base = spec.name.replace(/Request$/, '')
    const resSpec = specs.get(`${base}Response`)
    if (!resSpec) throw new Error(`no response for ${spec.name}`)
    const out: string[] = []
    generateMessage(spec, out)
    generateMessage(resSpec, out)
    const valid = parseRange(spec.validVersions)
    const flexible = parseRange(spec.flexibleVersions)
    const maxStable = spec.latestVersionUnstable ? valid.hi - 1 : valid.hi
    out.push(
      `/** ${base} (API key ${spec.apiKey}): versions ${valid.lo}-${valid.hi}${isEmpty(flexible) ? '' : `, flexible from ${flexible.lo}`}. */`,
      `export const ${base}: ApiDefinition<${spec.name}, ${resSpec.name}> = {`,
      `  apiKey: ${spec.apiKey},`,
      `  name: '${base}',`,
      `  minVersion: ${valid.lo},`,
      `  maxVersion: ${valid.hi},`,
      `  maxStableVersion: ${maxStable},`,
      `  flexibleFrom: ${isEmpty(flexible) ? 'Infinity' : flexible.lo},`,
      `  encodeRequest: write${spec.name},`,
      `  decodeRequest: read${spec.name},`,
      `  encodeResponse: write${resSpec.name},`,
      `  decodeResponse: read${resSpec.name},`,
      `}`,
      '',
    )
    const body = out.join('\n')
    const module = kebab(base)
    generated.set(`${module}.ts`, imports(body) + body)
    index.push({ key: spec.apiKey!, constName: base, module, req: spec.name, res: resSpec.name })
  }

  // Headers and data schemas: plain encode/decode functions with a version.
  const extras: string[] = []
  for (const spec of specs.values()) {
    if (spec.type !== 'header' && spec.type !== 'data') continue
    const out: string[] = []
    generateMessage(spec, out)
    const valid = parseRange(spec.validVersions)
    out.push(
      `/** Versions ${valid.lo}-${valid.hi}. */`,
      `export const ${spec.name} = {`,
      `  minVersion: ${valid.lo},`,
      `  maxVersion: ${valid.hi},`,
      `  encode: write${spec.name} as (w: Writer, version: number, message: Input<${spec.name}>) => void,`,
      `  decode: read${spec.name} as (r: Reader, version: number) => ${spec.name},`,
      `}`,
      '',
    )
    const body = out.join('\n')
    const module = kebab(spec.name)
    generated.set(`${module}.ts`, imports(body) + body)
    extras.push(module)
  }

  index.sort((a, b) => a.key - b.key)
  const idx: string[] = [HEADER]
  idx.push(`import type { ApiDefinition } from '../api.js'`)
  for (const e of index) idx.push(`import { ${e.constName} } from './${e.module}.js'`)
  idx.push('')
  for (const e of index) idx.push(`export * from './${e.module}.js'`)
  for (const m of extras.sort()) idx.push(`export * from './${m}.js'`)
  idx.push('', '/** Every API a Kafka 4.0 broker listener serves, by API key. */')
  idx.push(`export const apis: readonly ApiDefinition<any, any>[] = [${index.map((e) => e.constName).join(', ')}]`)
  idx.push('', 'const byKey = new Map<number, ApiDefinition<any, any>>(apis.map((api) => [api.apiKey, api]))', '')
  idx.push('/** The API with this key, or undefined when no broker listener serves it. */')
  idx.push(
    'export function apiByKey(key: number): ApiDefinition<any, any> | undefined {',
    '  return byKey.get(key)',
    '}',
    '',
  )
  idx.push('/** API keys by name, for readable code and error messages. */')
  idx.push('export const ApiKey = {')
  for (const e of index) idx.push(`  ${e.constName}: ${e.key},`)
  idx.push('} as const', '')
  generated.set('index.ts', idx.join('\n'))

  if (check) {
    let stale = 0
    const existing = existsSync(outDir) ? readdirSync(outDir) : []
    for (const [name, text] of generated) {
      const path = join(outDir, name)
      if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
        console.error(`stale: src/protocol/messages/${name}`)
        stale++
      }
    }
    for (const name of existing) {
      if (!generated.has(name)) {
        console.error(`not generated: src/protocol/messages/${name}`)
        stale++
      }
    }
    if (stale > 0) {
      console.error(`${stale} generated file(s) differ from a fresh generation; run npm run generate`)
      process.exit(1)
    }
    console.log(`${generated.size} generated files are up to date`)
    return
  }
  if (existsSync(outDir)) rmSync(outDir, { recursive: true })
  mkdirSync(outDir, { recursive: true })
  for (const [name, text] of generated) writeFileSync(join(outDir, name), text)
  console.log(`wrote ${generated.size} files to src/protocol/messages (${index.length} APIs)`)
}

main()
