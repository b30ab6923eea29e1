import { describe, expect, it } from 'vitest'

import {
  ConfigError,
  CorruptRecordError,
  KafkaTsError,
  ProtocolDecodeError,
  ProtocolEncodeError,
} from '../../src/errors.js'
import type { CompressionCodec } from '../../src/protocol/compression/index.js'
import { crc32c } from '../../src/protocol/crc32c.js'
import {
  decodeControlRecord,
  decodeRecordBatch,
  decodeRecordBatches,
  encodeControlBatch,
  encodeRecordBatch,
  encodeRecordBatchSync,
  readBatchHeader,
  setBatchBaseOffset,
  setBatchLogAppendTime,
  setBatchPartitionLeaderEpoch,
  splitBatches,
  verifyBatchCrc,
  type Record,
  type RecordBatch,
  type RecordInput,
} from '../../src/protocol/record-batch.js'

const CODECS: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const T0 = 1_700_000_000_000

/** Deterministic PRNG (mulberry32) so that failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function sampleRecords(): RecordInput[] {
  return [
    { key: Buffer.from('key-1'), value: Buffer.from('value-1'), timestamp: T0 },
    { key: null, value: Buffer.from('no key'), timestamp: T0 + 5 },
    { key: Buffer.from('tombstone'), value: null, timestamp: T0 + 3 },
    { key: null, value: null, timestamp: T0 - 1000 }, // earlier than the first: negative delta
    { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T0 + 10 }, // empty, not null
    {
      key: Buffer.from('h'),
      value: Buffer.from('with headers'),
      headers: [
        { key: 'content-type', value: Buffer.from('text/plain') },
        { key: 'nullable', value: null },
        { key: 'ünïcödé ✓', value: Buffer.from([0, 1, 2, 255]) },
        { key: '', value: Buffer.alloc(0) },
        { key: 'content-type', value: Buffer.from('dup') }, // duplicates are kept, in order
      ],
      timestamp: T0 + 7,
    },
    { key: Buffer.from('big'), value: Buffer.alloc(200_000, 'abcdefghij'), timestamp: T0 + 1_000_000 }, // > 64 KiB: several lz4 blocks
  ]
}

/** Buffer (or null) equality without vitest's byte-by-byte deep diff, which is slow on large values. */
function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b)
}

function expectRecords(decoded: Record[], input: readonly RecordInput[], baseOffset = 0n): void {
  expect(decoded).toHaveLength(input.length)
  decoded.forEach((r, i) => {
    const want = input[i]!
    expect(r.offset).toBe(baseOffset + BigInt(i))
    expect(r.timestamp).toBe(BigInt(want.timestamp))
    expect(sameBytes(r.key, want.key), `record ${i} key`).toBe(true)
    expect(sameBytes(r.value, want.value), `record ${i} value`).toBe(true)
    const headers = want.headers ?? []
    expect(r.headers.map((h) => h.key)).toEqual(headers.map((h) => h.key))
    r.headers.forEach((h, j) => expect(sameBytes(h.value, headers[j]!.value), `record ${i} header ${j}`).toBe(true))
    expect(r.attributes).toBe(0)
  })
}

/** Expects `fn` to fail with one of kafkats' typed errors (never a RangeError etc.). */
async function expectTyped(
  fn: () => unknown,
  ...types: (abstract new (...args: never[]) => KafkaTsError)[]
): Promise<KafkaTsError> {
  let caught: unknown
  try {
    await fn()
  } catch (err) {
    caught = err
  }
  expect(caught, 'expected a throw').toBeDefined()
  expect(caught).toBeInstanceOf(KafkaTsError)
  if (types.length > 0)
    expect(
      types.some((t) => caught instanceof t),
      String(caught),
    ).toBe(true)
  return caught as KafkaTsError
}

describe('record batch v2 round trips', () => {
  for (const codec of CODECS) {
    it(`${codec}: records, null keys and values, tombstones, headers, timestamps`, async () => {
      const input = sampleRecords()
      const batch = await encodeRecordBatch({ records: input, compression: codec })
      verifyBatchCrc(batch)
      const header = readBatchHeader(batch)
      expect(header.size).toBe(batch.length)
      expect(header.batchLength).toBe(batch.length - 12)
      expect(header.compression).toBe(codec)
      expect(header.attributes).toBe(CODECS.indexOf(codec))
      const decoded = await decodeRecordBatch(batch)
      expect(decoded).toMatchObject({
        baseOffset: 0n,
        partitionLeaderEpoch: -1,
        magic: 2,
        compression: codec,
        timestampType: 'create',
        isTransactional: false,
        isControl: false,
        hasDeleteHorizon: false,
        lastOffsetDelta: input.length - 1,
        baseTimestamp: BigInt(T0),
        maxTimestamp: BigInt(T0 + 1_000_000),
        producerId: -1n,
        producerEpoch: -1,
        baseSequence: -1,
        recordCount: input.length,
        size: batch.length,
      })
      expect(decoded.crc).toBe(crc32c(batch, 21))
      expectRecords(decoded.records, input)
      if (codec !== 'none') expect(batch.length).toBeLessThan(encodeRecordBatchSync({ records: input }).length)
    })
  }

  it('1000 small records with every codec', async () => {
    const random = rng(7)
    const input: RecordInput[] = Array.from({ length: 1000 }, (_, i) => ({
      key: i % 10 === 0 ? null : Buffer.from(`key-${i}`),
      value: Buffer.from(`value ${i} ${'x'.repeat(Math.floor(random() * 200))}`),
      headers: i % 3 === 0 ? [{ key: 'i', value: Buffer.from(String(i)) }] : [],
      timestamp: T0 + Math.floor(random() * 100_000) - 50_000,
    }))
    for (const codec of CODECS) {
      const decoded = await decodeRecordBatch(
        await encodeRecordBatch({ records: input, compression: codec, baseOffset: 1234n }),
      )
      expectRecords(decoded.records, input, 1234n)
      expect(decoded.maxTimestamp).toBe(BigInt(Math.max(...input.map((r) => r.timestamp))))
    }
  })

  it('producer fields, baseOffset, leader epoch, transactional attribute', async () => {
    const input = sampleRecords().slice(0, 3)
    for (const codec of CODECS) {
      const batch = await encodeRecordBatch({
        records: input,
        compression: codec,
        baseOffset: 9_007_199_254_740_993n, // beyond 2^53: stays exact
        partitionLeaderEpoch: 17,
        producerId: 0x7fff_ffff_ffff_fff0n,
        producerEpoch: 32767,
        baseSequence: 2_147_483_000,
        transactional: true,
      })
      const decoded = await decodeRecordBatch(batch)
      expect(decoded).toMatchObject({
        baseOffset: 9_007_199_254_740_993n,
        partitionLeaderEpoch: 17,
        producerId: 0x7fff_ffff_ffff_fff0n,
        producerEpoch: 32767,
        baseSequence: 2_147_483_000,
        isTransactional: true,
        isControl: false,
        attributes: 0x10 | CODECS.indexOf(codec),
      })
      expectRecords(decoded.records, input, 9_007_199_254_740_993n)
    }
  })

  it('encodeRecordBatchSync equals encodeRecordBatch for none, and refuses codecs', async () => {
    const input = sampleRecords()
    expect(encodeRecordBatchSync({ records: input }).equals(await encodeRecordBatch({ records: input }))).toBe(true)
    expect(() => encodeRecordBatchSync({ records: input, compression: 'gzip' })).toThrow(ProtocolEncodeError)
  })

  it('an empty batch: lastOffsetDelta -1, timestamps -1, no records', async () => {
    for (const codec of CODECS) {
      const batch = await encodeRecordBatch({ records: [], compression: codec })
      const decoded = await decodeRecordBatch(batch)
      expect(decoded).toMatchObject({
        recordCount: 0,
        lastOffsetDelta: -1,
        baseTimestamp: -1n,
        maxTimestamp: -1n,
        records: [],
      })
    }
  })

  it('the exact bytes of a small batch (hand-checked layout)', () => {
    const batch = encodeRecordBatchSync({
      records: [
        { key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'h', value: null }], timestamp: 1000 },
      ],
    })
    const record = Buffer.from([
      0x16, // length 11 (zig-zag 22)
      0x00, // attributes
      0x00, // timestampDelta 0
      0x00, // offsetDelta 0
      0x02,
      0x6b, // key length 1, 'k'
      0x02,
      0x76, // value length 1, 'v'
      0x02, // 1 header
      0x02,
      0x68, // header key length 1, 'h'
      0x01, // header value null (-1)
    ])
    const head = Buffer.alloc(61)
    head.writeBigInt64BE(0n, 0)
    head.writeInt32BE(49 + record.length, 8)
    head.writeInt32BE(-1, 12)
    head.writeInt8(2, 16)
    head.writeInt16BE(0, 21)
    head.writeInt32BE(0, 23)
    head.writeBigInt64BE(1000n, 27)
    head.writeBigInt64BE(1000n, 35)
    head.writeBigInt64BE(-1n, 43)
    head.writeInt16BE(-1, 51)
    head.writeInt32BE(-1, 53)
    head.writeInt32BE(1, 57)
    const expected = Buffer.concat([head, record])
    expected.writeUInt32BE(crc32c(expected, 21), 17)
    expect(batch.toString('hex')).toBe(expected.toString('hex'))
  })

  it('varint boundaries in lengths and deltas', async () => {
    const sizes = [0, 1, 63, 64, 127, 128, 8191, 8192, 16383, 16384, 1 << 20]
    const input: RecordInput[] = sizes.map((n, i) => ({
      key: Buffer.alloc(n, 1),
      value: Buffer.alloc(sizes[sizes.length - 1 - i]!, 2),
      headers: [{ key: 'x'.repeat(n % 300), value: Buffer.alloc(n % 200) }],
      timestamp: T0 + (i % 2 === 0 ? 1 : -1) * 2 ** (i * 4), // deltas of growing varlong sizes, both signs
    }))
    const decoded = await decodeRecordBatch(encodeRecordBatchSync({ records: input }))
    expectRecords(decoded.records, input)
  })
})

describe('LogAppendTime', () => {
  it('timestampType log-append: every record takes maxTimestamp', async () => {
    const input = sampleRecords().slice(0, 4)
    for (const codec of CODECS) {
      const decoded = await decodeRecordBatch(
        await encodeRecordBatch({ records: input, compression: codec, timestampType: 'log-append' }),
      )
      expect(decoded.timestampType).toBe('log-append')
      expect(decoded.attributes & 0x08).toBe(0x08)
      for (const r of decoded.records) expect(r.timestamp).toBe(decoded.maxTimestamp)
      expect(decoded.maxTimestamp).toBe(BigInt(T0 + 5))
    }
  })

  it('setBatchLogAppendTime sets bit 3 and maxTimestamp in place and keeps the CRC valid', async () => {
    for (const codec of CODECS) {
      const batch = await encodeRecordBatch({ records: sampleRecords(), compression: codec })
      setBatchLogAppendTime(batch, 0, 1_800_000_000_000n)
      verifyBatchCrc(batch)
      const decoded = await decodeRecordBatch(batch)
      expect(decoded).toMatchObject({
        timestampType: 'log-append',
        maxTimestamp: 1_800_000_000_000n,
        baseTimestamp: BigInt(T0),
        compression: codec,
      })
      for (const r of decoded.records) expect(r.timestamp).toBe(1_800_000_000_000n)
    }
  })
})

describe('in-place header updates (broker)', () => {
  it('setBatchBaseOffset and setBatchPartitionLeaderEpoch are outside the CRC', async () => {
    const records = Buffer.concat([
      encodeRecordBatchSync({ records: sampleRecords().slice(0, 2) }),
      await encodeRecordBatch({ records: sampleRecords().slice(0, 3), compression: 'zstd' }),
    ])
    const [first, second] = splitBatches(records)
    setBatchBaseOffset(records, 0, 100n)
    setBatchPartitionLeaderEpoch(records, 0, 5)
    setBatchBaseOffset(records, first!.length, 102n)
    setBatchPartitionLeaderEpoch(records, first!.length, 5)
    verifyBatchCrc(records, 0)
    verifyBatchCrc(records, first!.length)
    expect(second!.length).toBe(records.length - first!.length)
    const decoded = await decodeRecordBatches(records)
    expect(decoded.map((b) => b.partitionLeaderEpoch)).toEqual([5, 5])
    expect(decoded.flatMap((b) => b.records.map((r) => r.offset))).toEqual([100n, 101n, 102n, 103n, 104n])
  })

  it('refuse offsets outside the buffer and out-of-range values with typed errors', async () => {
    const batch = encodeRecordBatchSync({ records: sampleRecords().slice(0, 1) })
    await expectTyped(() => setBatchBaseOffset(batch, batch.length - 10, 1n), ProtocolDecodeError)
    await expectTyped(() => setBatchBaseOffset(batch, -1, 1n), ProtocolDecodeError)
    await expectTyped(() => setBatchBaseOffset(batch, 0, 2n ** 63n), ProtocolEncodeError)
    await expectTyped(() => setBatchPartitionLeaderEpoch(batch, 0, 2 ** 31), ProtocolEncodeError)
    await expectTyped(() => setBatchLogAppendTime(batch.subarray(0, batch.length - 1), 0, 1n), ProtocolDecodeError)
  })
})

describe('control batches', () => {
  for (const type of ['abort', 'commit'] as const) {
    it(`${type} marker round trip`, async () => {
      const batch = encodeControlBatch({
        type,
        producerId: 42n,
        producerEpoch: 3,
        coordinatorEpoch: 9,
        timestamp: T0,
        baseOffset: 77n,
        partitionLeaderEpoch: 2,
      })
      verifyBatchCrc(batch)
      const decoded = await decodeRecordBatch(batch)
      expect(decoded).toMatchObject({
        isControl: true,
        isTransactional: true,
        attributes: 0x30,
        producerId: 42n,
        producerEpoch: 3,
        baseSequence: -1,
        baseOffset: 77n,
        partitionLeaderEpoch: 2,
        recordCount: 1,
        compression: 'none',
      })
      expect(decoded.records).toHaveLength(1)
      const record = decoded.records[0]!
      expect(record.offset).toBe(77n)
      expect(record.key!.toString('hex')).toBe(`0000000${type === 'abort' ? 0 : 1}`)
      expect(record.value!.toString('hex')).toBe('000000000009')
      expect(decodeControlRecord(record)).toEqual({
        type,
        typeId: type === 'abort' ? 0 : 1,
        version: 0,
        coordinatorEpoch: 9,
      })
    })
  }

  const record = (key: Buffer | null, value: Buffer | null): Record => ({
    offset: 0n,
    timestamp: 0n,
    key,
    value,
    headers: [],
    attributes: 0,
  })

  it('decodeControlRecord: KRaft and unknown types are "other"; malformed keys and values are typed errors', async () => {
    expect(decodeControlRecord(record(Buffer.from('00000003', 'hex'), Buffer.from('whatever')))).toEqual({
      type: 'other',
      typeId: 3,
      version: 0,
    })
    expect(decodeControlRecord(record(Buffer.from('00010063', 'hex'), null))).toEqual({
      type: 'other',
      typeId: 99,
      version: 1,
    })
    // A newer key or value version still parses (Kafka only logs it).
    expect(
      decodeControlRecord(record(Buffer.from('00010001ff', 'hex'), Buffer.from('0001000000070000', 'hex'))),
    ).toEqual({
      type: 'commit',
      typeId: 1,
      version: 1,
      coordinatorEpoch: 7,
    })
    await expectTyped(() => decodeControlRecord(record(null, null)), ProtocolDecodeError)
    await expectTyped(() => decodeControlRecord(record(Buffer.from('000000', 'hex'), null)), ProtocolDecodeError)
    await expectTyped(() => decodeControlRecord(record(Buffer.from('ffff0000', 'hex'), null)), ProtocolDecodeError)
    await expectTyped(() => decodeControlRecord(record(Buffer.from('00000000', 'hex'), null)), ProtocolDecodeError)
    await expectTyped(
      () => decodeControlRecord(record(Buffer.from('00000001', 'hex'), Buffer.from('0000000000', 'hex'))),
      ProtocolDecodeError,
    )
    await expectTyped(
      () => decodeControlRecord(record(Buffer.from('00000001', 'hex'), Buffer.from('ffff00000000', 'hex'))),
      ProtocolDecodeError,
    )
  })
})

describe('splitBatches and decodeRecordBatches', () => {
  it('drops a trailing partial batch (truncated at every length) silently', async () => {
    const a = encodeRecordBatchSync({ records: sampleRecords().slice(0, 2), baseOffset: 0n })
    const b = await encodeRecordBatch({ records: sampleRecords().slice(0, 3), baseOffset: 2n, compression: 'gzip' })
    const c = encodeRecordBatchSync({ records: sampleRecords().slice(3, 5), baseOffset: 5n })
    const all = Buffer.concat([a, b, c])
    expect(splitBatches(all).map((x) => x.length)).toEqual([a.length, b.length, c.length])
    for (let cut = 0; cut < c.length; cut++) {
      const truncated = all.subarray(0, a.length + b.length + cut)
      const parts = splitBatches(truncated)
      expect(parts).toHaveLength(2)
      expect(parts[0]!.buffer).toBe(all.buffer) // views, not copies
      const decoded = await decodeRecordBatches(truncated)
      expect(decoded.flatMap((x) => x.records.map((r) => r.offset))).toEqual([0n, 1n, 2n, 3n, 4n])
    }
    expect(splitBatches(Buffer.alloc(0))).toEqual([])
    expect(await decodeRecordBatches(null)).toEqual([])
    expect(await decodeRecordBatches(Buffer.alloc(0))).toEqual([])
  })

  it('a batchLength below the v2 minimum is a typed error, not a partial batch', async () => {
    const bad = encodeRecordBatchSync({ records: sampleRecords().slice(0, 1) })
    bad.writeInt32BE(10, 8)
    await expectTyped(() => splitBatches(bad), ProtocolDecodeError)
    bad.writeInt32BE(-1, 8)
    await expectTyped(() => splitBatches(bad), ProtocolDecodeError)
    await expectTyped(() => decodeRecordBatches(bad), ProtocolDecodeError)
  })

  it('decodeRecordBatch on a truncated batch is a typed error', async () => {
    const batch = await encodeRecordBatch({ records: sampleRecords(), compression: 'lz4' })
    for (const cut of [0, 1, 16, 17, 60, 61, batch.length - 1]) {
      await expectTyped(() => decodeRecordBatch(batch.subarray(0, cut)), ProtocolDecodeError)
    }
  })
})

describe('corruption', () => {
  it('a CRC mismatch is a CorruptRecordError', async () => {
    for (const codec of CODECS) {
      const batch = await encodeRecordBatch({ records: sampleRecords().slice(0, 3), compression: codec })
      for (const at of [21, 30, 60, 61, batch.length - 1]) {
        const bad = Buffer.from(batch)
        bad[at]! ^= 0x01
        await expectTyped(() => verifyBatchCrc(bad), CorruptRecordError)
        await expectTyped(() => decodeRecordBatch(bad), CorruptRecordError)
      }
      const badCrc = Buffer.from(batch)
      badCrc[17]! ^= 0x80
      await expectTyped(() => decodeRecordBatch(badCrc), CorruptRecordError)
      // Bytes outside the CRC (baseOffset, batchLength aside, leader epoch) do not matter to it.
      const epoch = Buffer.from(batch)
      epoch.writeInt32BE(99, 12)
      verifyBatchCrc(epoch)
    }
  })

  it('magic other than 2 is a typed error', async () => {
    for (const magic of [0, 1, 3, -1]) {
      const batch = encodeRecordBatchSync({ records: sampleRecords().slice(0, 1) })
      batch.writeInt8(magic, 16)
      const err = await expectTyped(() => readBatchHeader(batch), ProtocolDecodeError)
      expect(err.message).toContain('magic')
      await expectTyped(() => decodeRecordBatch(batch, { verifyCrc: false }), ProtocolDecodeError)
    }
  })

  it('codec ids 5-7, negative record counts and impossible counts are typed errors', async () => {
    const base = encodeRecordBatchSync({ records: sampleRecords().slice(0, 2) })
    const withFix = (mutate: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(base)
      mutate(b)
      b.writeUInt32BE(crc32c(b, 21), 17)
      return b
    }
    for (const id of [5, 6, 7])
      await expectTyped(() => decodeRecordBatch(withFix((b) => b.writeInt16BE(id, 21))), ProtocolDecodeError)
    await expectTyped(() => decodeRecordBatch(withFix((b) => b.writeInt32BE(-1, 57))), ProtocolDecodeError)
    await expectTyped(() => decodeRecordBatch(withFix((b) => b.writeInt32BE(0x7fffffff, 57))), ProtocolDecodeError)
    await expectTyped(() => decodeRecordBatch(withFix((b) => b.writeInt32BE(3, 57))), ProtocolDecodeError)
    await expectTyped(() => decodeRecordBatch(withFix((b) => b.writeInt32BE(1, 57))), ProtocolDecodeError) // bytes left over
  })

  it('a compressed payload that does not decompress is a CorruptRecordError', async () => {
    for (const codec of CODECS.filter((c) => c !== 'none')) {
      const batch = await encodeRecordBatch({ records: sampleRecords().slice(0, 3), compression: codec })
      const garbage = Buffer.concat([batch.subarray(0, 61), Buffer.from('definitely not compressed data')])
      garbage.writeInt32BE(garbage.length - 12, 8)
      garbage.writeUInt32BE(crc32c(garbage, 21), 17)
      await expectTyped(() => decodeRecordBatch(garbage), CorruptRecordError)
    }
  })

  it('maxDecompressedBytes bounds decompression (a bomb fails before it is allocated)', async () => {
    const bomb = await encodeRecordBatch({
      records: [{ key: null, value: Buffer.alloc(5_000_000), timestamp: T0 }],
      compression: 'gzip',
    })
    expect(bomb.length).toBeLessThan(10_000)
    await expectTyped(() => decodeRecordBatch(bomb, { maxDecompressedBytes: 1_000_000 }), CorruptRecordError)
    expect((await decodeRecordBatch(bomb, { maxDecompressedBytes: 6_000_000 })).records[0]!.value!.length).toBe(
      5_000_000,
    )
    await expect(decodeRecordBatch(bomb, { maxDecompressedBytes: -1 })).rejects.toThrow(ConfigError)
  })

  it('verifyCrc: false skips the check', async () => {
    const batch = encodeRecordBatchSync({ records: sampleRecords().slice(0, 2) })
    batch[17]! ^= 0xff
    await expectTyped(() => decodeRecordBatch(batch), CorruptRecordError)
    expect((await decodeRecordBatch(batch, { verifyCrc: false })).records).toHaveLength(2)
  })
})

describe('hostile input (seeded mutations)', () => {
  /** Mutations of an encoded batch: flips, overwrites with extreme bytes, truncations, extensions. */
  function mutate(src: Buffer, random: () => number, region: [number, number]): Buffer {
    let b = Buffer.from(src)
    const n = 1 + Math.floor(random() * 4)
    const pick = (): number => region[0] + Math.floor(random() * (region[1] - region[0]))
    for (let i = 0; i < n; i++) {
      const kind = random()
      if (kind < 0.4) b[pick()]! ^= 1 << Math.floor(random() * 8)
      else if (kind < 0.7) b[pick()] = [0x00, 0x7f, 0x80, 0xff, 0x01, 0xfe][Math.floor(random() * 6)]!
      else if (kind < 0.8) {
        const at = pick()
        b.fill(0xff, at, Math.min(b.length, at + 1 + Math.floor(random() * 10)))
      } else if (kind < 0.9) b = b.subarray(0, Math.floor(random() * b.length))
      else
        b = Buffer.concat([
          b,
          Buffer.from(Array.from({ length: 1 + Math.floor(random() * 20) }, () => Math.floor(random() * 256))),
        ])
    }
    return b
  }

  it('thousands of mutated batches: only typed errors or valid decodes', async () => {
    const random = rng(Number(process.env.FUZZ_SEED ?? 20240601))
    const sources: Buffer[] = []
    const small = sampleRecords().slice(0, 6)
    for (const codec of CODECS) {
      sources.push(await encodeRecordBatch({ records: small, compression: codec }))
      sources.push(await encodeRecordBatch({ records: small.slice(5), compression: codec, transactional: true }))
    }
    sources.push(
      encodeControlBatch({ type: 'commit', producerId: 1n, producerEpoch: 0, coordinatorEpoch: 0, timestamp: T0 }),
    )
    const stats = { ok: 0, decodeError: 0, corrupt: 0, other: 0 }
    let iterations = 0
    const total = Number(process.env.FUZZ_ITERATIONS ?? 4000)
    for (let i = 0; i < total; i++) {
      const src = sources[i % sources.length]!
      // Half of the mutations hit the records section and get a fixed-up CRC and length, so the
      // record parser (and the decompressors) see them instead of the CRC check rejecting them.
      const deep = i % 2 === 0
      let bad = mutate(src, random, deep ? [61, src.length] : [0, src.length])
      if (deep && bad.length >= 61) {
        bad = Buffer.from(bad)
        bad.writeInt32BE(bad.length - 12, 8)
        bad.writeUInt32BE(crc32c(bad, 21), 17)
      }
      iterations++
      for (const options of [{}, { verifyCrc: false }]) {
        try {
          const decoded = await decodeRecordBatch(bad, { ...options, maxDecompressedBytes: 1 << 20 })
          for (const r of decoded.records) if (decoded.isControl) void tryControl(r)
          stats.ok++
        } catch (err) {
          if (err instanceof CorruptRecordError) stats.corrupt++
          else if (err instanceof ProtocolDecodeError) stats.decodeError++
          else {
            stats.other++
            throw new Error(
              `mutation ${i} (${bad.toString('hex')}) threw a non-kafkats error: ${String((err as Error).stack ?? err)}`,
            )
          }
        }
      }
      try {
        for (const part of splitBatches(bad)) readBatchHeader(part)
        verifyBatchCrc(bad)
      } catch (err) {
        if (!(err instanceof ProtocolDecodeError || err instanceof CorruptRecordError)) throw err
      }
    }
    expect(iterations).toBe(total)
    if (process.env.FUZZ_ITERATIONS !== undefined) console.log(stats)
    expect(stats.other).toBe(0)
    // The deep mutations really reach the parser: some decode, many fail there.
    expect(stats.decodeError).toBeGreaterThan(500)
    expect(stats.corrupt).toBeGreaterThan(500)
  }, 120_000)

  function tryControl(r: Record): void {
    try {
      decodeControlRecord(r)
    } catch (err) {
      if (!(err instanceof ProtocolDecodeError)) throw err
    }
  }
})

describe('encode validation', () => {
  it('rejects out-of-range fields with ProtocolEncodeError', async () => {
    const records = sampleRecords().slice(0, 1)
    await expectTyped(() => encodeRecordBatch({ records, producerEpoch: 40000 }), ProtocolEncodeError)
    await expectTyped(() => encodeRecordBatch({ records, baseSequence: 2 ** 31 }), ProtocolEncodeError)
    await expectTyped(() => encodeRecordBatch({ records, partitionLeaderEpoch: 1.5 }), ProtocolEncodeError)
    await expectTyped(() => encodeRecordBatch({ records, producerId: 2n ** 63n }), ProtocolEncodeError)
    await expectTyped(() => encodeRecordBatch({ records, baseOffset: -(2n ** 63n) - 1n }), ProtocolEncodeError)
    await expectTyped(
      () => encodeRecordBatch({ records: [{ key: null, value: null, timestamp: 1.5 }] }),
      ProtocolEncodeError,
    )
    await expectTyped(
      () => encodeRecordBatch({ records: [{ key: null, value: null, timestamp: Number.NaN }] }),
      ProtocolEncodeError,
    )
    await expectTyped(
      () =>
        encodeRecordBatch({
          records: [
            { key: null, value: null, timestamp: 0 },
            { key: null, value: null, timestamp: 2 ** 53 - 1 },
          ],
        }),
      ProtocolEncodeError,
    )
    await expectTyped(
      () => encodeRecordBatch({ records, compression: 'brotli' as CompressionCodec }),
      ProtocolEncodeError,
    )
  })

  it('decoded records are views into the batch (documented): no copies of keys and values', async () => {
    const batch = encodeRecordBatchSync({ records: sampleRecords().slice(0, 1) })
    const decoded: RecordBatch = await decodeRecordBatch(batch)
    expect(decoded.records[0]!.key!.buffer).toBe(batch.buffer)
  })
})
