// Hostile input for the frame decoders (fixed seed): truncation at every cut point, random
// byte mutations (flip, overwrite, insert, delete, length-like patterns: negative, huge, 6-byte
// varints), frames decoded as the wrong API, and random garbage, over valid request and
// response frames of every API. Each case must decode or throw a KafkaTsError — never another
// exception type — and nothing decoded may be larger than the input frame.

import { describe, expect, it } from 'vitest'

import { KafkaTsError, ProtocolDecodeError } from '../../src/errors.js'
import type { ApiDefinition } from '../../src/protocol/api.js'
import { readRequestFrame, readResponseFrame, writeRequestFrame, writeResponseFrame } from '../../src/protocol/frame.js'
import { apis } from '../../src/protocol/messages/index.js'
import { Writer } from '../../src/protocol/writer.js'
import { buildSample, loadSpecs, Rng, Schema, seedOf } from '../helpers/schema.js'

type Api = ApiDefinition<unknown, unknown>

interface Frame {
  api: Api
  version: number
  kind: 'request' | 'response'
  /** Without the int32 size prefix, as readRequestFrame/readResponseFrame take it. */
  bytes: Buffer
}

const SEED = 0x5eed_4b7a
const MUTATIONS_PER_FRAME = 300
const GARBAGE_PER_VERSION = 8

const specs = [...loadSpecs().values()]
const schemaFor = (type: 'request' | 'response', apiKey: number): Schema =>
  new Schema(specs.find((s) => s.type === type && s.apiKey === apiKey)!)

/** The versions worth attacking: lowest, last classic, first flexible, highest. */
function versionsOf(api: Api): number[] {
  const vs = new Set([api.minVersion, api.maxVersion])
  if (api.flexibleFrom >= api.minVersion && api.flexibleFrom <= api.maxVersion) {
    vs.add(api.flexibleFrom)
    if (api.flexibleFrom > api.minVersion) vs.add(api.flexibleFrom - 1)
  }
  return [...vs].sort((a, b) => a - b)
}

function framesFor(api: Api): Frame[] {
  const out: Frame[] = []
  const req = schemaFor('request', api.apiKey)
  const res = schemaFor('response', api.apiKey)
  for (const version of versionsOf(api)) {
    const rng = new Rng(seedOf(`hostile ${api.name} v${version}`) ^ SEED)
    const w = new Writer()
    writeRequestFrame(
      w,
      api,
      version,
      rng.int(-2147483648, 2147483647),
      rng.chance(0.5) ? 'client-ü' : null,
      buildSample(req, version, rng, { unknownTags: true }).input as never,
    )
    out.push({ api, version, kind: 'request', bytes: w.toBuffer().subarray(4) })
    const w2 = new Writer()
    writeResponseFrame(
      w2,
      api,
      version,
      rng.int(-2147483648, 2147483647),
      buildSample(res, version, rng, { unknownTags: true }).input as never,
    )
    out.push({ api, version, kind: 'response', bytes: w2.toBuffer().subarray(4) })
  }
  return out
}

/** Length-like values to plant: -1, -2, int16/int32 extremes, huge compact lengths, 6-byte varints. */
const PATTERNS: number[][] = [
  [0xff, 0xff],
  [0xff, 0xfe],
  [0x80, 0x00],
  [0x7f, 0xff],
  [0xff, 0xff, 0xff, 0xff],
  [0xff, 0xff, 0xff, 0xfe],
  [0x80, 0x00, 0x00, 0x00],
  [0x7f, 0xff, 0xff, 0xff],
  [0x00, 0x00, 0xff, 0xff],
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xff, 0xff, 0xff, 0xff, 0x7f],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
  [0xfe, 0xff, 0xff, 0xff, 0x07],
  [0x00],
  [0x01],
]

function mutate(src: Buffer, rng: Rng): Buffer {
  const b = Buffer.from(src)
  const at = rng.int(0, Math.max(0, b.length - 1))
  switch (rng.int(0, 6)) {
    case 0: // flip one bit
      if (b.length > 0) b[at] = b[at]! ^ (1 << rng.int(0, 7))
      return b
    case 1: // overwrite one byte
      if (b.length > 0) b[at] = rng.int(0, 255)
      return b
    case 2: // insert bytes
      return Buffer.concat([b.subarray(0, at), rng.bytes(rng.int(1, 4)), b.subarray(at)])
    case 3: // delete bytes
      return Buffer.concat([b.subarray(0, at), b.subarray(at + rng.int(1, 4))])
    case 4: {
      // plant a length-like pattern
      const p = rng.pick(PATTERNS)
      for (let i = 0; i < p.length && at + i < b.length; i++) b[at + i] = p[i]!
      return b
    }
    case 5: // several random overwrites
      for (let i = rng.int(2, 6); i > 0 && b.length > 0; i--) b[rng.int(0, b.length - 1)] = rng.int(0, 255)
      return b
    default: {
      // duplicate a chunk in place (repeats structures and tag sections)
      const len = rng.int(1, 16)
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)])
    }
  }
}

interface Stats {
  cases: number
  decoded: number
  rejected: number
  failures: string[]
}

/** Largest item and the total of all arrays, strings and buffers in a decoded value. */
function measure(value: unknown, acc = { max: 0, total: 0, nodes: 0 }): { max: number; total: number; nodes: number } {
  acc.nodes++
  if (Buffer.isBuffer(value) || typeof value === 'string') {
    acc.max = Math.max(acc.max, value.length)
    acc.total += value.length
  } else if (Array.isArray(value)) {
    acc.max = Math.max(acc.max, value.length)
    acc.total += value.length
    for (const x of value) measure(x, acc)
  } else if (typeof value === 'object' && value !== null) {
    for (const x of Object.values(value)) measure(x, acc)
  }
  return acc
}

function attempt(stats: Stats, what: string, bytes: Buffer, decode: (b: Buffer) => unknown): void {
  stats.cases++
  let out: unknown
  try {
    out = decode(bytes)
  } catch (e) {
    if (e instanceof KafkaTsError) {
      stats.rejected++
      return
    }
    if (stats.failures.length < 20)
      stats.failures.push(`${what}: ${(e as Error)?.name}: ${(e as Error)?.message} [${bytes.toString('hex')}]`)
    return
  }
  stats.decoded++
  const m = measure(out)
  // Nothing decoded may be longer than the frame, and all of it together stays within a small
  // multiple of the input (each array element, string or byte consumes input).
  if (m.max > bytes.length || m.total > 2 * bytes.length + 16) {
    if (stats.failures.length < 20)
      stats.failures.push(
        `${what}: decoded ${m.max} / ${m.total} items from ${bytes.length} bytes [${bytes.toString('hex')}]`,
      )
  }
}

function decoderFor(frame: Frame, as: Api = frame.api, version = frame.version): (b: Buffer) => unknown {
  // Only what was decoded is measured (not the ApiDefinition a request frame points to).
  return frame.kind === 'request' ? decodeRequest : (b) => readResponseFrame(b, as, version)
}

function decodeRequest(b: Buffer): unknown {
  const { header, body } = readRequestFrame(b)
  return { header, body }
}

let totalCases = 0
const started = Date.now()

describe('hostile frames decode or throw a KafkaTsError, within the input size', () => {
  for (const api of apis as readonly Api[]) {
    it(`${api.name} (v${versionsOf(api).join(', v')})`, () => {
      // One generator per API, so a single API can be rerun (-t) with the same cases.
      const rng = new Rng(seedOf(api.name) ^ SEED)
      const stats: Stats = { cases: 0, decoded: 0, rejected: 0, failures: [] }
      for (const frame of framesFor(api)) {
        const label = `${api.name} v${frame.version} ${frame.kind}`
        const decode = decoderFor(frame)
        // The untouched frame decodes.
        expect(() => decode(frame.bytes), label).not.toThrow()
        // Truncated at every cut point.
        for (let cut = 0; cut < frame.bytes.length; cut++)
          attempt(stats, `${label} cut ${cut}`, frame.bytes.subarray(0, cut), decode)
        // A length-like pattern planted at every position (negative, huge, bad varints).
        for (let at = 0; at < frame.bytes.length; at++) {
          const b = Buffer.from(frame.bytes)
          const p = rng.pick(PATTERNS)
          for (let i = 0; i < p.length && at + i < b.length; i++) b[at + i] = p[i]!
          attempt(stats, `${label} pattern at ${at}`, b, decode)
        }
        // Random mutations.
        for (let i = 0; i < MUTATIONS_PER_FRAME; i++)
          attempt(stats, `${label} mutation ${i}`, mutate(frame.bytes, rng), decode)
        // Mutated twice, then cut.
        for (let i = 0; i < 10; i++) {
          const m = mutate(mutate(frame.bytes, rng), rng)
          attempt(stats, `${label} mutated+cut ${i}`, m.subarray(0, rng.int(0, m.length)), decode)
        }
        // Decoded as another API / version (a confused peer).
        const other = rng.pick(apis as readonly Api[])
        const v = rng.int(other.minVersion, other.maxVersion)
        if (frame.kind === 'response') {
          attempt(stats, `${label} read as ${other.name} v${v}`, frame.bytes, decoderFor(frame, other, v))
        } else {
          const b = Buffer.from(frame.bytes)
          b.writeInt16BE(other.apiKey, 0)
          b.writeInt16BE(v, 2)
          attempt(stats, `${label} relabelled ${other.name} v${v}`, b, decode)
        }
        // Random garbage after a plausible header.
        for (let i = 0; i < GARBAGE_PER_VERSION; i++) {
          const head = frame.kind === 'request' ? frame.bytes.subarray(0, 8) : frame.bytes.subarray(0, 4)
          attempt(stats, `${label} garbage ${i}`, Buffer.concat([head, rng.bytes(rng.int(0, 64))]), decode)
        }
      }
      totalCases += stats.cases
      expect(stats.failures).toEqual([])
      expect(stats.rejected).toBeGreaterThan(0)
    })
  }

  it('unknown API keys and versions still yield the request header', () => {
    const rng = new Rng(SEED)
    const stats: Stats = { cases: 0, decoded: 0, rejected: 0, failures: [] }
    for (let i = 0; i < 2000; i++) {
      const b = rng.bytes(rng.int(0, 40))
      if (b.length >= 4) {
        b.writeInt16BE(rng.pick([-1, 4, 7, 99, 32767, 0, 18]), 0)
        b.writeInt16BE(rng.pick([-1, 0, 4, 99, 32767]), 2)
      }
      if (b.length >= 10) b.writeInt16BE(rng.int(-3, b.length - 10), 8)
      attempt(stats, `random request ${i}`, b, decodeRequest)
    }
    totalCases += stats.cases
    expect(stats.failures).toEqual([])
    expect(stats.decoded).toBeGreaterThan(0)
  })

  it(`ran at least 100,000 decode cases in total`, () => {
    const seconds = (Date.now() - started) / 1000
    console.log(`hostile: ${totalCases} decode cases in ${seconds.toFixed(1)} s`)
    expect(totalCases).toBeGreaterThanOrEqual(100_000)
  })
})

describe('malformed tagged-field sections', () => {
  // An ApiVersions v3 response: header v0 (correlation_id), error_code, api_keys (empty compact
  // array), throttle_time_ms, then the tag section under test.
  const prefix = [0x00, 0x00, 0x00, 0x00, /* header */ 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]
  const decode = (tags: number[]): unknown =>
    readResponseFrame(Buffer.from([...prefix, ...tags]), apis.find((a) => a.apiKey === 18)! as Api, 3)

  it('well-formed: known tag 1 and unknown tag 9', () => {
    expect(decode([0x02, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 7, 0x09, 0x01, 0xaa])).toMatchObject({
      body: { finalizedFeaturesEpoch: 7n, _unknownTags: [{ tag: 9, data: Buffer.from([0xaa]) }] },
    })
  })

  it.each([
    ['a size past the end', [0x01, 0x09, 0x05, 0xaa]],
    ['a count larger than the fields present', [0x03, 0x09, 0x01, 0xaa]],
    ['tags out of order', [0x02, 0x09, 0x00, 0x05, 0x00]],
    ['the same tag twice', [0x02, 0x09, 0x00, 0x09, 0x00]],
    ['a known tag whose value is shorter than its size', [0x01, 0x01, 0x09, 0, 0, 0, 0, 0, 0, 0, 7, 0xff]],
    ['a known tag whose value is longer than its size', [0x01, 0x01, 0x04, 0, 0, 0, 0, 0, 0, 0, 7]],
    ['a 6-byte tag number', [0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00]],
    ['a huge count', [0xff, 0xff, 0xff, 0xff, 0x0f]],
    ['a missing section', []],
  ])('%s is a ProtocolDecodeError', (_what, tags) => {
    expect(() => decode(tags)).toThrow(ProtocolDecodeError)
  })
})
