// Every generated message codec, every version, request and response (plus the headers and the
// `data` schemas) against the reference encoder in test/helpers/schema.ts, which interprets
// Kafka's JSON definitions directly. Known-answer frames at the end are assembled by hand from
// the wire-encoding tables of Kafka's protocol guide (https://kafka.apache.org/protocol).

import { describe, expect, it } from 'vitest'

import { KafkaTsError, ProtocolEncodeError } from '../../src/errors.js'
import { requestHeaderVersion, responseHeaderVersion, type ApiDefinition } from '../../src/protocol/api.js'
import { readRequestFrame, readResponseFrame, writeRequestFrame, writeResponseFrame } from '../../src/protocol/frame.js'
import * as messages from '../../src/protocol/messages/index.js'
import { ApiVersions, apis, Metadata } from '../../src/protocol/messages/index.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import {
  buildSample,
  clone,
  containerAt,
  defaultStruct,
  elementType,
  fieldSites,
  loadSpecs,
  parseVersions,
  referenceEncode,
  Rng,
  sampleField,
  Schema,
  seedOf,
  type MessageSpec,
} from '../helpers/schema.js'

type Encode = (w: Writer, v: number, m: never) => void
type Decode = (r: Reader, v: number) => unknown

interface Codec {
  label: string
  schema: Schema
  encode: Encode
  decode: Decode
}

const specs = loadSpecs()
const allSpecs = [...specs.values()]

function specFor(type: 'request' | 'response', apiKey: number): MessageSpec {
  const spec = allSpecs.find((s) => s.type === type && s.apiKey === apiKey)
  if (!spec) throw new Error(`no ${type} schema for API key ${apiKey}`)
  return spec
}

const codecs: Codec[] = []
for (const api of apis) {
  codecs.push({
    label: `${api.name} request`,
    schema: new Schema(specFor('request', api.apiKey)),
    encode: api.encodeRequest as Encode,
    decode: api.decodeRequest,
  })
  codecs.push({
    label: `${api.name} response`,
    schema: new Schema(specFor('response', api.apiKey)),
    encode: api.encodeResponse as Encode,
    decode: api.decodeResponse,
  })
}
const generatedModules = messages as unknown as Record<
  string,
  { encode: Encode; decode: Decode; minVersion: number; maxVersion: number } | undefined
>
for (const spec of allSpecs) {
  if (spec.type !== 'header' && spec.type !== 'data') continue
  const mod = generatedModules[spec.name]
  if (!mod) throw new Error(`no generated codec for ${spec.name}`)
  codecs.push({ label: spec.name, schema: new Schema(spec), encode: mod.encode, decode: mod.decode })
}

function encodeWith(codec: Codec, v: number, value: unknown): Buffer {
  const w = new Writer(16) // small on purpose: every encode also exercises growth
  codec.encode(w, v, value as never)
  return w.toBuffer()
}

function decodeWith(codec: Codec, v: number, bytes: Buffer): unknown {
  const r = new Reader(bytes)
  const out = codec.decode(r, v)
  r.finish(`${codec.label} v${v}`)
  return out
}

function hex(b: Buffer): string {
  return b.toString('hex')
}

const SAMPLES_PER_VERSION = 4

describe('generated API table matches the 4.4.0 schemas', () => {
  it('has exactly the APIs a broker listener serves', () => {
    const expected = allSpecs
      .filter((s) => s.type === 'request' && (s.listeners ?? []).includes('broker') && s.validVersions !== 'none')
      .map((s) => s.apiKey!)
      .sort((a, b) => a - b)
    expect(apis.map((a) => a.apiKey)).toEqual(expected)
  })

  it.each(apis.map((a) => [a.name, a] as const))(
    '%s: name, version range, flexible and stable versions',
    (_name, api) => {
      const req = specFor('request', api.apiKey)
      const res = specFor('response', api.apiKey)
      const valid = parseVersions(req.validVersions)
      const flexible = parseVersions(req.flexibleVersions)
      expect(api.name + 'Request').toBe(req.name)
      expect({ min: api.minVersion, max: api.maxVersion }).toEqual({ min: valid.lo, max: valid.hi })
      expect(parseVersions(res.validVersions)).toEqual(valid)
      expect(api.flexibleFrom).toBe(flexible.lo > flexible.hi ? Infinity : flexible.lo)
      expect(api.maxStableVersion).toBe(req.latestVersionUnstable ? valid.hi - 1 : valid.hi)
      for (let v = valid.lo; v <= valid.hi; v++) {
        const flex = v >= flexible.lo && v <= flexible.hi
        expect(requestHeaderVersion(api, v)).toBe(flex ? 2 : 1)
        // KIP-511: the ApiVersions response header is always v0.
        expect(responseHeaderVersion(api, v)).toBe(api.apiKey === 18 ? 0 : flex ? 1 : 0)
      }
    },
  )
})

describe('every message, every version: generated codec vs the schema-interpreting reference encoder', () => {
  let pairs = 0
  for (const codec of codecs) {
    for (const v of codec.schema.versions()) {
      pairs++
      it(`${codec.label} v${v}: non-default sample encodes like the reference and decodes back`, () => {
        for (let i = 0; i < SAMPLES_PER_VERSION; i++) {
          const rng = new Rng(seedOf(`${codec.label} v${v} #${i}`))
          const { input, expected } = buildSample(codec.schema, v, rng)
          const ref = referenceEncode(codec.schema, v, expected)
          const bytes = encodeWith(codec, v, input)
          expect(hex(bytes), `sample #${i}`).toBe(hex(ref))
          expect(decodeWith(codec, v, bytes), `sample #${i}`).toEqual(expected)
        }
      })

      it(`${codec.label} v${v}: a decoded value (absent fields at their defaults) re-encodes identically`, () => {
        const rng = new Rng(seedOf(`${codec.label} v${v} #0`))
        const { expected } = buildSample(codec.schema, v, rng)
        const bytes = referenceEncode(codec.schema, v, expected)
        expect(hex(encodeWith(codec, v, decodeWith(codec, v, bytes)))).toBe(hex(bytes))
        // The same for an all-default message (nested default structs included).
        const empty = referenceEncode(codec.schema, v, {})
        expect(hex(encodeWith(codec, v, {}))).toBe(hex(empty))
        const decoded = decodeWith(codec, v, empty)
        expect(decoded).toEqual(defaultStruct(codec.schema, codec.schema.spec.fields))
        expect(hex(encodeWith(codec, v, decoded))).toBe(hex(empty))
      })

      if (codec.schema.isFlexible(v)) {
        it(`${codec.label} v${v}: unknown tagged fields in every struct survive decode → encode`, () => {
          const rng = new Rng(seedOf(`${codec.label} v${v} unknown tags`))
          const { input, expected } = buildSample(codec.schema, v, rng, { unknownTags: true, nullChance: 0 })
          // The reference encoder puts the unknown tags in each struct's tag section, in
          // increasing tag order among the known ones.
          const ref = referenceEncode(codec.schema, v, expected)
          expect(hex(encodeWith(codec, v, input))).toBe(hex(ref))
          const decoded = decodeWith(codec, v, ref)
          expect(decoded).toEqual(expected)
          expect(hex(encodeWith(codec, v, decoded))).toBe(hex(ref))
        })
      }
    }
  }
  it('covers every API/version pair, request and response, plus the headers and data schemas', () => {
    const apiPairs = apis.reduce((n, a) => n + 2 * (a.maxVersion - a.minVersion + 1), 0)
    const extras = allSpecs
      .filter((s) => s.type === 'header' || s.type === 'data')
      .reduce((n, s) => n + new Schema(s).versions().length, 0)
    expect(apiPairs).toBe(570) // 79 APIs, 285 versions (Kafka 4.4.0)
    expect(pairs).toBe(apiPairs + extras)
  })
})

describe('encoding a field the target version lacks', () => {
  interface Probe {
    codec: Codec
    v: number
    label: string
    ignorable: boolean
    input: Record<string, unknown>
    base: Buffer
  }

  // Found programmatically: every live field that is absent at some version, set to a non-default
  // value inside an otherwise valid sample of that version.
  const probes: Probe[] = []
  for (const codec of codecs) {
    for (const v of codec.schema.versions()) {
      const rng = new Rng(seedOf(`${codec.label} v${v} absent`))
      const { input } = buildSample(codec.schema, v, rng, { nullChance: 0 })
      const base = referenceEncode(codec.schema, v, input)
      for (const { site, present } of fieldSites(codec.schema, v)) {
        if (present) continue
        const probeInput = clone(input)
        const holder = containerAt(probeInput, site.path)
        if (!holder) continue
        const at = codec.schema.fieldRange(site.field).lo
        holder[site.path[site.path.length - 1] as string] = sampleField(codec.schema, site.field, at, rng, {
          nullChance: 0,
        }).input
        probes.push({ codec, v, label: site.label, ignorable: site.field.ignorable === true, input: probeInput, base })
      }
    }
  }

  it('finds real examples in the schema', () => {
    const strict = probes.filter((p) => !p.ignorable)
    expect(strict.length).toBeGreaterThan(100)
    expect(probes.length - strict.length).toBeGreaterThan(100)
    // One well-known case: Metadata v11 dropped IncludeClusterAuthorizedOperations (not ignorable).
    expect(strict.some((p) => p.label === 'MetadataRequest.includeClusterAuthorizedOperations' && p.v === 11)).toBe(
      true,
    )
    expect(() => Metadata.encodeRequest(new Writer(), 11, { includeClusterAuthorizedOperations: true })).toThrow(
      ProtocolEncodeError,
    )
  })

  it('a non-ignorable field throws ProtocolEncodeError', () => {
    const wrong: string[] = []
    for (const p of probes.filter((x) => !x.ignorable)) {
      try {
        encodeWith(p.codec, p.v, p.input)
        wrong.push(`${p.label} v${p.v}: encoded without error`)
      } catch (e) {
        if (!(e instanceof ProtocolEncodeError)) wrong.push(`${p.label} v${p.v}: threw ${String(e)}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('an ignorable field is dropped silently', () => {
    const wrong: string[] = []
    for (const p of probes.filter((x) => x.ignorable)) {
      try {
        if (!encodeWith(p.codec, p.v, p.input).equals(p.base)) wrong.push(`${p.label} v${p.v}: bytes changed`)
      } catch (e) {
        wrong.push(`${p.label} v${p.v}: threw ${String(e)}`)
      }
    }
    expect(wrong).toEqual([])
  })
})

describe('struct-typed fields holding their default value', () => {
  // Kafka compares a struct field with a fresh default instance (Java `equals`): an absent field
  // holding the default is no error, and a tagged one holding the default is not sent. Decoders
  // fill such fields with default structs, so this decides whether decode → encode round-trips.
  const absent: string[] = []
  const tagged: string[] = []
  let probes = 0
  for (const codec of codecs) {
    for (const v of codec.schema.versions()) {
      const rng = new Rng(seedOf(`${codec.label} v${v} struct defaults`))
      const { input, expected } = buildSample(codec.schema, v, rng, { nullChance: 0 })
      for (const { site, present } of fieldSites(codec.schema, v)) {
        const f = site.field
        if (
          elementType(f.type) !== null ||
          [
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
          ].includes(f.type)
        )
          continue
        if (f.default === 'null') continue
        if (present && !codec.schema.isTagged(f, v)) continue
        const key = site.path[site.path.length - 1] as string
        const probeInput = clone(input)
        const probeExpected = clone(expected)
        const holder = containerAt(probeInput, site.path)
        const holderExpected = containerAt(probeExpected, site.path)
        if (!holder || !holderExpected) continue
        holder[key] = defaultStruct(codec.schema, codec.schema.structFields(f.type))
        holderExpected[key] = defaultStruct(codec.schema, codec.schema.structFields(f.type))
        probes++
        const ref = referenceEncode(codec.schema, v, probeExpected)
        let bytes: Buffer | undefined
        let error = ''
        try {
          bytes = encodeWith(codec, v, probeInput)
        } catch (e) {
          error = String(e)
        }
        const list = present ? tagged : absent
        if (bytes === undefined) list.push(`${site.label} v${v}: ${error}`)
        else if (!bytes.equals(ref))
          list.push(
            `${site.label} v${v}: ${bytes.length - ref.length} bytes more than the reference (tag ${f.tag} sent)`,
          )
      }
    }
  }

  it('finds such fields in the schema', () => {
    expect(probes).toBeGreaterThan(10)
  })

  it('an absent struct field holding its default encodes (no ProtocolEncodeError)', () => {
    expect(absent).toEqual([])
  })

  it('a tagged struct field holding its default is not sent', () => {
    expect(tagged).toEqual([])
  })
})

describe('null where the version does not allow it', () => {
  // Fields of a type that can be null somewhere (string, bytes, uuid, records, arrays, structs)
  // present at version v but not nullable there.
  const probes: {
    codec: Codec
    v: number
    label: string
    type: string
    nullableElsewhere: boolean
    input: Record<string, unknown>
  }[] = []
  for (const codec of codecs) {
    for (const v of codec.schema.versions()) {
      const rng = new Rng(seedOf(`${codec.label} v${v} nulls`))
      const { input } = buildSample(codec.schema, v, rng, { nullChance: 0 })
      for (const { site, present } of fieldSites(codec.schema, v)) {
        // Tagged fields are excluded: null there just means "not sent" (nothing wrong goes on the wire).
        if (!present || codec.schema.isNullable(site.field, v) || codec.schema.isTagged(site.field, v)) continue
        const base = elementType(site.field.type) ?? site.field.type
        if (['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64'].includes(site.field.type))
          continue
        if (base === 'records') continue
        const probeInput = clone(input)
        const holder = containerAt(probeInput, site.path)
        if (!holder) continue
        holder[site.path[site.path.length - 1] as string] = null
        const nr = parseVersions(site.field.nullableVersions)
        probes.push({
          codec,
          v,
          label: site.label,
          type: site.field.type,
          nullableElsewhere: nr.lo <= nr.hi,
          input: probeInput,
        })
      }
    }
  }

  /** What went wrong, grouped: outcome → field labels (with the schema type). */
  function offenders(list: typeof probes): Record<string, string[]> {
    const out: Record<string, Set<string>> = {}
    const add = (what: string, label: string): void => {
      ;(out[what] ??= new Set()).add(label)
    }
    for (const p of list) {
      try {
        encodeWith(p.codec, p.v, p.input)
        add('encoded null without error', `${p.label} (${p.type})`)
      } catch (e) {
        if (!(e instanceof KafkaTsError)) add(`threw ${(e as Error).name}`, `${p.label} (${p.type})`)
      }
    }
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v]]))
  }

  /** Counts and the first few examples, so a failure stays readable. */
  function summary(found: Record<string, string[]>): Record<string, string> {
    return Object.fromEntries(
      Object.entries(found).map(([k, v]) => [k, `${v.length} fields, e.g. ${v.slice(0, 4).join(', ')}`]),
    )
  }

  it('is rejected with ProtocolEncodeError when the field is nullable in other versions', () => {
    const list = probes.filter((p) => p.nullableElsewhere)
    expect(list.length).toBeGreaterThan(10)
    expect(offenders(list)).toEqual({})
  })

  it('is rejected with a KafkaTsError (not written as -1/0, not a TypeError) when the field is never nullable', () => {
    const list = probes.filter((p) => !p.nullableElsewhere)
    expect(list.length).toBeGreaterThan(100)
    expect(summary(offenders(list))).toEqual({})
  })
})

// ---------------------------------------------------------------------------------------------
// Known answers, assembled byte by byte from the README's tables (not from any encoder).

const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')]

function bytesOf(...parts: (number | string | number[] | Buffer)[]): Buffer {
  const out: number[] = []
  for (const p of parts) {
    if (typeof p === 'number') out.push(p)
    else if (typeof p === 'string') out.push(...Buffer.from(p, 'utf8'))
    else out.push(...p)
  }
  return Buffer.from(out)
}

function sizePrefixed(body: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return Buffer.concat([size, body])
}

function requestFrame<Req>(
  api: ApiDefinition<Req, unknown>,
  v: number,
  correlationId: number,
  clientId: string | null,
  body: unknown,
): Buffer {
  const w = new Writer(8)
  writeRequestFrame(w, api, v, correlationId, clientId, body as never)
  return w.toBuffer()
}

function responseFrame<Res>(api: ApiDefinition<unknown, Res>, v: number, correlationId: number, body: unknown): Buffer {
  const w = new Writer(8)
  writeResponseFrame(w, api, v, correlationId, body as never)
  return w.toBuffer()
}

describe('known-answer frames', () => {
  it('ApiVersions v3 request: header v2 (classic client_id) + compact body', () => {
    const body = bytesOf(
      // request header v2
      [0x00, 0x12], // request_api_key 18
      [0x00, 0x03], // request_api_version 3
      [0x00, 0x00, 0x00, 0x2a], // correlation_id 42
      [0x00, 0x07, ...utf8('kafkats')], // client_id: int16 length even though the header is flexible
      0x00, // header tagged fields: none
      // ApiVersionsRequest v3
      [0x08, ...utf8('kafkats')], // client_software_name: compact string, N+1
      [0x06, ...utf8('0.1.0')], // client_software_version
      0x00, // tagged fields
    )
    const frame = sizePrefixed(body)
    expect(
      hex(
        requestFrame(ApiVersions, 3, 42, 'kafkats', { clientSoftwareName: 'kafkats', clientSoftwareVersion: '0.1.0' }),
      ),
    ).toBe(hex(frame))
    const decoded = readRequestFrame(body)
    expect(decoded.header).toEqual({ requestApiKey: 18, requestApiVersion: 3, correlationId: 42, clientId: 'kafkats' })
    expect(decoded.api).toBe(ApiVersions)
    // ClusterId and NodeId (v5+, KIP-1242) take their defaults.
    expect(decoded.body).toEqual({
      clientSoftwareName: 'kafkats',
      clientSoftwareVersion: '0.1.0',
      clusterId: null,
      nodeId: -1,
    })
  })

  it('ApiVersions v0 request with a null client id: header v1, empty body', () => {
    const body = bytesOf([0x00, 0x12, 0x00, 0x00], [0x7f, 0xff, 0xff, 0xff], [0xff, 0xff])
    expect(hex(requestFrame(ApiVersions, 0, 0x7fffffff, null, {}))).toBe(hex(sizePrefixed(body)))
    const decoded = readRequestFrame(body)
    expect(decoded.header).toEqual({
      requestApiKey: 18,
      requestApiVersion: 0,
      correlationId: 0x7fffffff,
      clientId: null,
    })
    expect(decoded.body).toEqual({ clientSoftwareName: '', clientSoftwareVersion: '', clusterId: null, nodeId: -1 })
  })

  it('Metadata v12 request with one topic (id and name)', () => {
    const topicId = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
    const body = bytesOf(
      [0x00, 0x03, 0x00, 0x0c], // Metadata v12
      [0xff, 0xff, 0xff, 0xfe], // correlation_id -2
      [0x00, 0x02, ...utf8('c1')], // client_id
      0x00, // header tags
      0x02, // topics: compact array of 1
      topicId, // topic_id uuid (v10+)
      [0x09, ...utf8('orders¹')], // name: "orders¹" is 8 bytes in UTF-8 (¹ = c2 b9) → compact length 9
      0x00, // topic tags
      0x01, // allow_auto_topic_creation (v4+)
      0x00, // include_topic_authorized_operations (v8+); the cluster one is v8-10 only
      0x00, // body tags
    )
    const message = {
      topics: [{ topicId: 'AAECAwQFBgcICQoLDA0ODw', name: 'orders¹' }],
      allowAutoTopicCreation: true,
      includeTopicAuthorizedOperations: false,
    }
    expect(hex(requestFrame(Metadata, 12, -2, 'c1', message))).toBe(hex(sizePrefixed(body)))
    const decoded = readRequestFrame(body)
    expect(decoded.header).toEqual({ requestApiKey: 3, requestApiVersion: 12, correlationId: -2, clientId: 'c1' })
    expect(decoded.body).toEqual({ ...message, includeClusterAuthorizedOperations: false })
  })

  it('Metadata v0 and v1 requests: classic arrays, v1 null = all topics', () => {
    const v0 = bytesOf([0x00, 0x03, 0x00, 0x00], [0, 0, 0, 1], [0xff, 0xff], [0, 0, 0, 1], [0x00, 0x01], 'a')
    expect(hex(requestFrame(Metadata, 0, 1, null, { topics: [{ name: 'a' }] }))).toBe(hex(sizePrefixed(v0)))
    expect(readRequestFrame(v0).body).toEqual({
      topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'a' }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    })
    const v1 = bytesOf([0x00, 0x03, 0x00, 0x01], [0, 0, 0, 1], [0xff, 0xff], [0xff, 0xff, 0xff, 0xff])
    expect(hex(requestFrame(Metadata, 1, 1, null, { topics: null }))).toBe(hex(sizePrefixed(v1)))
    expect((readRequestFrame(v1).body as { topics: unknown }).topics).toBeNull()
    // v0 has no null topics.
    expect(() => requestFrame(Metadata, 0, 1, null, { topics: null })).toThrow(ProtocolEncodeError)
  })

  it('ApiVersions v0 response with UNSUPPORTED_VERSION (35): the fallback a v4 client must read', () => {
    const body = bytesOf(
      [0x00, 0x00, 0x00, 0x07], // response header v0: correlation_id 7
      [0x00, 0x23], // error_code 35
      [0x00, 0x00, 0x00, 0x01], // api_keys: int32 count 1
      [0x00, 0x12, 0x00, 0x00, 0x00, 0x03], // ApiVersions 0..3
    )
    const message = { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] }
    expect(hex(responseFrame(ApiVersions, 0, 7, message))).toBe(hex(sizePrefixed(body)))
    expect(readResponseFrame(body, ApiVersions, 0)).toEqual({
      correlationId: 7,
      body: {
        ...message,
        throttleTimeMs: 0,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1n,
        finalizedFeatures: [],
        zkMigrationReady: false,
      },
    })
  })

  it('ApiVersions v3 response: header v0 (KIP-511) and tagged fields 0 and 1 in order with sizes', () => {
    // SupportedFeatureKey: name (compact), min_version, max_version, tags: 19 bytes
    const feature = bytesOf([0x0e, ...utf8('kraft.version')], [0x00, 0x00], [0x00, 0x01], 0x00)
    const body = bytesOf(
      [0x00, 0x00, 0x00, 0x09], // response header v0: no tag section even though v3 is flexible
      [0x00, 0x00], // error_code
      0x02, // api_keys: compact array of 1
      [0x00, 0x12, 0x00, 0x00, 0x00, 0x04, 0x00], // ApiVersions 0..4, element tags
      [0x00, 0x00, 0x00, 0x0a], // throttle_time_ms 10
      0x02, // two tagged fields
      [0x00, 0x14, 0x02], // tag 0 (SupportedFeatures), size 20: compact count 1+1, then one element
      feature,
      [0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 5], // tag 1 (FinalizedFeaturesEpoch), size 8, int64 5
    )
    const message = {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 10,
      supportedFeatures: [{ name: 'kraft.version', minVersion: 0, maxVersion: 1 }],
      finalizedFeaturesEpoch: 5n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    }
    expect(hex(responseFrame(ApiVersions, 3, 9, message))).toBe(hex(sizePrefixed(body)))
    expect(readResponseFrame(body, ApiVersions, 3)).toEqual({ correlationId: 9, body: message })
  })

  it('Metadata v9 response: header v1 carries a tag section', () => {
    const body = bytesOf(
      [0x00, 0x00, 0x00, 0x01, 0x00], // response header v1: correlation_id 1, tags
      [0x00, 0x00, 0x00, 0x00], // throttle_time_ms
      0x02, // brokers: compact array of 1
      [0x00, 0x00, 0x00, 0x01], // node_id 1
      [0x02, ...utf8('h')], // host
      [0x00, 0x00, 0x23, 0x84], // port 9092
      [0x00, 0x00], // rack null, broker tags
      0x00, // cluster_id null
      [0x00, 0x00, 0x00, 0x01], // controller_id
      0x01, // topics: empty
      [0x80, 0x00, 0x00, 0x00], // cluster_authorized_operations (v8-10)
      0x00,
    )
    const message = {
      brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
      clusterId: null,
      controllerId: 1,
      topics: [],
      throttleTimeMs: 0,
    }
    expect(hex(responseFrame(Metadata, 9, 1, message))).toBe(hex(sizePrefixed(body)))
    expect(readResponseFrame(body, Metadata, 9).body).toEqual({
      ...message,
      clusterAuthorizedOperations: -2147483648,
      errorCode: 0,
    })
  })

  it('an unknown tag in a header survives a round trip', () => {
    const body = bytesOf([0x00, 0x12, 0x00, 0x03], [0, 0, 0, 1], [0x00, 0x01], 'x', 0x01, 0x05, 0x02, 0xab, 0xcd)
    const r = new Reader(body)
    const header = messages.RequestHeader.decode(r, 2)
    r.finish()
    expect(header._unknownTags).toEqual([{ tag: 5, data: Buffer.from([0xab, 0xcd]) }])
    const w = new Writer()
    messages.RequestHeader.encode(w, 2, header)
    expect(hex(w.toBuffer())).toBe(hex(body))
  })
})
