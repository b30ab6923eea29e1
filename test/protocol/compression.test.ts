import { describe, it, expect } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import {
  CompressionCodecId,
  codecFromId,
  compress,
  decompress,
  isCodecAvailable,
  type CompressionCodec,
} from '../../src/protocol/compression/index.js'
import { OptionalPackage } from '../../src/protocol/compression/common.js'
import { xxhash32 } from '../../src/protocol/compression/xxhash32.js'
import { CodecUnavailableError, CorruptRecordError, KafkaTsError, ProtocolDecodeError } from '../../src/errors.js'
import { JAVA_CLIENT_VERSION } from '../../scripts/test-setup.js'
import { javaClientClasspath, peer } from '../helpers/peers.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/compression/', import.meta.url))
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name))
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const MiB = 1 << 20
const CODECS: CompressionCodec[] = ['gzip', 'snappy', 'lz4', 'zstd']

// The plaintexts of the fixtures (make-fixtures.sh builds the same bytes).
function smallText(): Buffer {
  return Buffer.from('Kafka record batch compression, cross-checked against the Java client. '.repeat(6))
}
function multiBlockText(): Buffer {
  let s = ''
  for (let i = 0; s.length < 150_000; i++) s += `kafkats fixture line ${i % 1000}: the quick brown fox\n`
  return Buffer.from(s.slice(0, 150_000))
}

// Deterministic pseudo-random numbers (xorshift32) so fuzz failures reproduce.
function rng(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return x >>> 0
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

async function expectCorrupt(promise: Promise<unknown>, message?: RegExp): Promise<void> {
  const err = await rejection(promise)
  expect(err).toBeInstanceOf(CorruptRecordError)
  expect(err).toBeInstanceOf(KafkaTsError)
  if (message) expect((err as Error).message).toMatch(message)
}

const expectTooLarge = (promise: Promise<unknown>): Promise<void> => expectCorrupt(promise, /exceeds the limit/)

describe('codec ids', () => {
  it('maps record batch attribute ids 0-4 both ways', () => {
    for (const [name, id] of Object.entries(CompressionCodecId)) expect(codecFromId(id)).toBe(name)
    expect(CompressionCodecId).toEqual({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 })
  })

  it('throws a typed error for ids 5-7 and non-ids', () => {
    for (const id of [5, 6, 7, -1, 8, 1.5, Number.NaN]) expect(() => codecFromId(id)).toThrow(ProtocolDecodeError)
  })
})

describe('availability', () => {
  it('has every codec available in this dev install', async () => {
    for (const codec of ['none', ...CODECS] as CompressionCodec[]) expect(await isCodecAvailable(codec)).toBe(true)
  })

  it('reports a missing optional package with a typed error naming what to install', async () => {
    const missing = new OptionalPackage('lz4', 'kafkats-no-such-package-for-tests', 'lz4-napi', () => ({}))
    expect(await missing.available()).toBe(false)
    const err = await rejection(missing.load())
    expect(err).toBeInstanceOf(CodecUnavailableError)
    expect((err as Error).message).toBe("lz4 compression needs the optional package 'lz4-napi' (npm install lz4-napi)")
    // The failed import is remembered rather than retried for every batch.
    expect(missing.load()).toBe(missing.load())
    await rejection(missing.load())
  })

  it('rejects a package that loads but lacks the expected functions', async () => {
    const wrong = new OptionalPackage('snappy', 'node:path', 'snappy', () => undefined)
    expect(await rejection(wrong.load())).toBeInstanceOf(CodecUnavailableError)
  })
})

describe('round trips', () => {
  const inputs: Record<string, Buffer> = {
    empty: Buffer.alloc(0),
    small: smallText(),
    'multi-block text': multiBlockText(),
    '1 MiB random': randomBytes(MiB),
    '1 MiB zeros': Buffer.alloc(MiB),
    '1 MiB + 1 of a byte pattern': Buffer.alloc(MiB + 1, 'abcdefgh'),
  }
  for (const codec of ['none', ...CODECS] as CompressionCodec[]) {
    for (const [name, data] of Object.entries(inputs)) {
      it(`${codec}: ${name}`, async () => {
        const packed = await compress(codec, data)
        if (codec !== 'none' && data.length >= MiB && name !== '1 MiB random')
          expect(packed.length).toBeLessThan(data.length / 10)
        const back = await decompress(codec, packed, data.length)
        expect(back.equals(data)).toBe(true)
      })
    }
  }

  it('frames snappy like the Java producer: xerial header, blocks of at most 32 KiB input', async () => {
    const data = multiBlockText()
    const packed = await compress('snappy', data)
    expect(packed.subarray(0, 16).toString('hex')).toBe('82534e415050590000000001' + '00000001')
    let blocks = 0
    for (let at = 16; at < packed.length; blocks++) at += 4 + packed.readInt32BE(at)
    expect(blocks).toBe(Math.ceil(data.length / 32768))
  })

  it('frames lz4 like the Java producer: independent 64 KiB blocks, no checksums', async () => {
    const data = randomBytes(200_000)
    const packed = await compress('lz4', data)
    // magic, FLG 0x60 (version 1, independent blocks), BD 0x40 (64 KiB), header checksum
    expect(packed.subarray(0, 6).toString('hex')).toBe('04224d186040')
    expect(packed[6]).toBe((xxhash32(packed, 4, 6) >>> 8) & 0xff)
    // Incompressible blocks are stored raw (high bit of the size).
    expect(packed.readUInt32LE(7)).toBe((0x80000000 | 65536) >>> 0)
    expect(packed.subarray(packed.length - 4).toString('hex')).toBe('00000000')
  })

  it('concurrent calls do not interfere (shared native contexts)', async () => {
    const texts = Array.from({ length: 8 }, (_, i) => Buffer.from(`payload ${i} `.repeat(5000 + i * 100)))
    for (const codec of CODECS) {
      const packed = await Promise.all(texts.map((t) => compress(codec, t)))
      const back = await Promise.all(packed.map((p, i) => decompress(codec, p, texts[i]!.length)))
      back.forEach((b, i) => expect(b.equals(texts[i]!)).toBe(true))
    }
  })
})

// Bytes we did not write: produced by the system tools and by the Java client
// (test/fixtures/compression/make-fixtures.sh and KafkaCodecs.java say exactly how).
describe('known-answer decode vectors', () => {
  const small = smallText()
  const multi = multiBlockText()
  const decodesTo = async (codec: CompressionCodec, data: Buffer, expected: Buffer): Promise<void> => {
    const out = await decompress(codec, data, expected.length)
    expect(out.equals(expected)).toBe(true)
  }

  describe('gzip', () => {
    it('gzip -9 -n (GNU gzip)', () =>
      decodesTo(
        'gzip',
        hex(`1f8b0800000000000203edccd10d80300805c055de00ea20760aa4689b2a1820ceef14fe79035ca17d105cd8bc62a3e406b6eb7689e8a613d8
             2d62e6263ca4820eea1a896c82951e029f5d341794bff9ba7901ee3ce064aa010000`),
        small,
      ))
    it('two concatenated gzip members (gzip -n of each half)', () =>
      decodesTo(
        'gzip',
        hex(`1f8b0800000000000003cdcc010d80300c04402b2f0010022acaafb065b092b6413f363801b7c9d105ae342fd8255941bb1fd788666302dd22
             665665d70239a58d486455acf20a78351db960fb55f30113c6ce2bd50000001f8b0800000000000003cdcc010d80300c04402b2f0010022a
             caafb065b092b6413f363801b7c9d105ae342fd8255941bb1fd788666302dd22665665d70239a58d486455acf20a78351db960fb55f30113
             c6ce2bd5000000`),
        small,
      ))
    it('Java client (GZIPOutputStream)', () =>
      decodesTo(
        'gzip',
        hex(`1f8b08000000000000ffedccd10d80300805c055de00ea20760aa4689b2a1820ceef14fe79035ca17d105cd8bc62a3e406b6eb7689e8a613d8
             2d62e6263ca4820eea1a896c82951e029f5d341794bff9ba7901ee3ce064aa010000`),
        small,
      ))
    it('GNU gzip, multi-block input', () => decodesTo('gzip', fixture('multi.gzip-cli.gz'), multi))
  })

  describe('snappy', () => {
    // Hand-assembled from the snappy format description: varint length 28, literal "snappy ",
    // copy-1 (len 11, offset 7), copy-2 (len 9, offset 7), literal "!". snappy-java's
    // SnappyInputStream decodes the xerial-framed versions below to the same text.
    const raw = '1c18736e61707079201d072207000021'
    const header = '82534e41505059000000000100000001'
    const text = Buffer.from('snappy snappy snappy snappy!')
    it('raw snappy block (what librdkafka and KafkaJS write)', () => decodesTo('snappy', hex(raw), text))
    it('xerial framing around a raw block', () => decodesTo('snappy', hex(header + '00000010' + raw), text))
    it('two concatenated xerial streams (snappy-java reads the second header as a new stream)', () =>
      decodesTo('snappy', hex(header + '00000010' + raw + header + '00000010' + raw), Buffer.concat([text, text])))
    it('xerial header alone is empty output', () => decodesTo('snappy', hex(header), Buffer.alloc(0)))
    it('Java client (snappy-java 1.1.10.7 SnappyOutputStream)', () =>
      decodesTo(
        'snappy',
        hex(`82534e415050590000000001000000010000005daa03f0464b61666b61207265636f726420626174636820636f6d7072657373696f6e
             2c2063726f73732d636865636b656420616761696e737420746865204a61766120636c69656e742e20fe4700fe4700fe4700fe4700fe47
             008a4700`),
        small,
      ))
    it('Java client, multi-block input (32 KiB xerial blocks)', () =>
      decodesTo('snappy', fixture('multi.snappy-java.xerial'), multi))
  })

  describe('lz4', () => {
    it('lz4 CLI from stdin (content checksum)', () =>
      decodesTo(
        'lz4',
        hex(`04224d186440a753000000ff384b61666b61207265636f726420626174636820636f6d7072657373696f6e2c2063726f73732d636865
             636b656420616761696e737420746865204a61766120636c69656e742e204700ff4c50656e742e200000000013938c47`),
        small,
      ))
    it('lz4 CLI --content-size -BX --no-frame-crc (content size, block checksums)', () =>
      decodesTo(
        'lz4',
        hex(`04224d187840aa01000000000000e153000000ff384b61666b61207265636f726420626174636820636f6d7072657373696f6e2c2063
             726f73732d636865636b656420616761696e737420746865204a61766120636c69656e742e204700ff4c50656e742e20755324e500000000`),
        small,
      ))
    it('Java client (Lz4BlockOutputStream, magic v2)', () =>
      decodesTo(
        'lz4',
        hex(`04224d1860408253000000ff384b61666b61207265636f726420626174636820636f6d7072657373696f6e2c2063726f73732d636865
             636b656420616761696e737420746865204a61766120636c69656e742e204700ff4c50656e742e2000000000`),
        small,
      ))
    it("Java client at magic v0 (Kafka's old header checksum that covers the magic bytes)", () =>
      decodesTo(
        'lz4',
        hex(`04224d1860401a53000000ff384b61666b61207265636f726420626174636820636f6d7072657373696f6e2c2063726f73732d636865
             636b656420616761696e737420746865204a61766120636c69656e742e204700ff4c50656e742e2000000000`),
        small,
      ))
    it('Java client, multi-block input', () => decodesTo('lz4', fixture('multi.lz4-java.lz4'), multi))
    it('lz4 CLI -BD: linked blocks that refer back into the previous block, content checksum', () =>
      decodesTo('lz4', fixture('multi.lz4-cli-linked.lz4'), multi))
    it('lz4 CLI -BI -BX --content-size, multi-block', () =>
      decodesTo('lz4', fixture('multi.lz4-cli-checksums.lz4'), multi))
    it('skips skippable frames and decodes concatenated frames', async () => {
      const frame = fixture('multi.lz4-java.lz4')
      const skippable = hex('532a4d18' + '05000000' + '0102030405')
      await decodesTo('lz4', Buffer.concat([skippable, frame, frame, skippable]), Buffer.concat([multi, multi]))
    })
  })

  describe('zstd', () => {
    it('zstd -19 (content size, content checksum)', () =>
      decodesTo(
        'zstd',
        hex(`28b52ffd64aa0025020072840e11a0ed00c7ab6bf89796563cbfb82d54710d17d2b1627b9d3ace495eb6538af486d772dad0fde21eb8
             a7ba39c2f6f669a5969bf896e3751d250101000798a28628cf56169c`),
        small,
      ))
    it('zstd --no-check from stdin (no content size: the streaming path)', () =>
      decodesTo(
        'zstd',
        hex(`28b52ffd00583d020072440f16b0351d404a6fe5b676d86d4d6e122fd5f4e8783215012532d501bc1eb868996c623a4edc52e8653e20
             dabd42b283582708d86b9e3e5ace5e5723c44601000798a28628`),
        small,
      ))
    it('two concatenated frames, one with and one without content size', () =>
      decodesTo(
        'zstd',
        hex(`28b52ffd24d53d020072440f16b0351d404a6fe5b676d86d4d6e122fd5f4e8783215012532d501bc1eb868996c623a4edc52e8653e20
             dabd42b283582708d86b9e3e5ace5e5723c4460100c742a14214e846b17728b52ffd04583d020072440f16b0351d404a6fe5b676d86d4d
             6e122fd5f4e8783215012532d501bc1eb868996c623a4edc52e8653e20dabd42b283582708d86b9e3e5ace5e5723c4460100c742a14214
             e846b177`),
        small,
      ))
    it('Java client (zstd-jni ZstdOutputStream: no content size)', () =>
      decodesTo(
        'zstd',
        hex(`28b52ffd00583c020072440f16b0351d404a6fe5b676d86d4d6e122fd5f4e8783215012532d501bc1eb868996c623a4edc52e8653e20
             dabd42b283582708d86b9e3e5ace5e5723c44601000798a28628010000`),
        small,
      ))
    it('Java client, multi-block input', () => decodesTo('zstd', fixture('multi.zstd-java.zst'), multi))
    it('zstd CLI, multi-block input', () => decodesTo('zstd', fixture('multi.zstd-cli.zst'), multi))
    it('skips skippable frames', async () => {
      const skippable = hex('5f2a4d18' + '03000000' + 'aabbcc')
      await decodesTo('zstd', Buffer.concat([skippable, fixture('multi.zstd-java.zst'), skippable]), multi)
    })
    it('hand-built frame of RLE blocks without a content size (1 MiB of 0x2a)', async () => {
      await decodesTo('zstd', rleBomb(8, 0x2a), Buffer.alloc(MiB, 0x2a))
    })
  })
})

/**
 * A zstd frame without a content size whose `blocks` RLE blocks each regenerate 128 KiB of
 * `byte` from 4 bytes of input: frame header 0x00 (no size, no checksum), window 2 MiB (0x58),
 * block header = size << 3 | RLE << 1 | last.
 */
function rleBomb(blocks: number, byte = 0): Buffer {
  const parts = [hex('28b52ffd0058')]
  for (let i = 0; i < blocks; i++) {
    const header = ((128 * 1024) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0)
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, header >> 16, byte]))
  }
  return Buffer.concat(parts)
}

/** An LZ4 frame header with a content size and a correct header checksum. */
function lz4HeaderWithSize(size: bigint): Buffer {
  const h = Buffer.alloc(15)
  h.writeUInt32LE(0x184d2204, 0)
  h[4] = 0x68 // version 1, independent blocks, content size
  h[5] = 0x40
  h.writeBigUInt64LE(size, 6)
  h[14] = (xxhash32(h, 4, 14) >>> 8) & 0xff
  return h
}

describe('output bound', () => {
  it('allows exactly maxOutputBytes and refuses one byte less, for every codec', async () => {
    const data = Buffer.alloc(MiB, 'kafka')
    for (const codec of ['none', ...CODECS] as CompressionCodec[]) {
      const packed = await compress(codec, data)
      expect((await decompress(codec, packed, MiB)).length).toBe(MiB)
      await expectTooLarge(decompress(codec, packed, MiB - 1))
      await expectTooLarge(decompress(codec, packed, 0))
    }
  })

  it('accepts a budget of 0 for empty output', async () => {
    for (const codec of ['none', ...CODECS] as CompressionCodec[]) {
      expect((await decompress(codec, await compress(codec, Buffer.alloc(0)), 0)).length).toBe(0)
    }
  })

  it('stops compression bombs early (64 MiB of zeros, 1 MiB allowed)', async () => {
    const zeros = Buffer.alloc(64 * MiB)
    for (const codec of CODECS) {
      const packed = await compress(codec, zeros)
      expect(packed.length).toBeLessThan(4 * MiB)
      await expectTooLarge(decompress(codec, packed, MiB))
    }
  })

  it('zstd: refuses a frame without content size as it grows past the budget', async () => {
    await expectTooLarge(decompress('zstd', rleBomb(64), MiB)) // 8 MiB
    expect((await decompress('zstd', rleBomb(64), 8 * MiB)).length).toBe(8 * MiB)
  })

  it('refuses declared sizes over the budget before decoding anything', async () => {
    // snappy: a varint claiming 4 GiB - 1, followed by bytes that would not even decode.
    await expectTooLarge(decompress('snappy', hex('ffffffff0f' + '00'.repeat(20)), MiB))
    const header = '82534e41505059000000000100000001'
    await expectTooLarge(decompress('snappy', hex(header + '00000009' + 'ffffffff0f' + '00000000'), MiB))
    // lz4: a frame header declaring 1 TiB of content.
    await expectTooLarge(decompress('lz4', Buffer.concat([lz4HeaderWithSize(1n << 40n), hex('00000000')]), MiB))
    // zstd: a single-segment frame declaring 1 TiB (8-byte size field), then one empty raw block.
    await expectTooLarge(decompress('zstd', hex('28b52ffd' + 'e0' + '0000000000010000' + '010000'), MiB))
  })

  it('rejects an invalid budget as a programming error', async () => {
    await expect(decompress('gzip', Buffer.alloc(0), -1)).rejects.toThrow(RangeError)
    await expect(decompress('gzip', Buffer.alloc(0), 1.5)).rejects.toThrow(RangeError)
  })
})

describe('hostile input', () => {
  const multi = multiBlockText()

  it('rejects every truncation of gzip, lz4 and zstd payloads', async () => {
    const payloads: Array<[CompressionCodec, Buffer]> = [
      ['gzip', await compress('gzip', multi)],
      ['gzip', fixture('multi.gzip-cli.gz')],
      ['lz4', await compress('lz4', multi)],
      ['lz4', fixture('multi.lz4-java.lz4')],
      ['lz4', fixture('multi.lz4-cli-linked.lz4')],
      ['lz4', fixture('multi.lz4-cli-checksums.lz4')],
      ['zstd', await compress('zstd', multi)],
      ['zstd', fixture('multi.zstd-java.zst')],
    ]
    for (const [codec, packed] of payloads) {
      const cuts = new Set([
        0,
        1,
        3,
        4,
        5,
        6,
        7,
        10,
        12,
        16,
        20,
        packed.length >> 1,
        packed.length - 5,
        packed.length - 4,
        packed.length - 1,
      ])
      const next = rng(packed.length)
      for (let i = 0; i < 40; i++) cuts.add(next() % packed.length)
      for (const cut of cuts) await expectCorrupt(decompress(codec, packed.subarray(0, cut), 2 * multi.length))
    }
  })

  it('rejects snappy truncated anywhere but at a xerial block boundary (which the format cannot tell)', async () => {
    for (const packed of [await compress('snappy', multi), fixture('multi.snappy-java.xerial')]) {
      const boundaries = new Set<number>()
      for (let at = 16; at < packed.length; at += 4 + packed.readInt32BE(at)) boundaries.add(at)
      const next = rng(7)
      const cuts = [1, 8, 15, 17, 18, 19, 20, 21, packed.length - 1]
      for (let i = 0; i < 60; i++) cuts.push(next() % packed.length)
      for (const cut of cuts) {
        if (boundaries.has(cut)) continue
        await expectCorrupt(decompress('snappy', packed.subarray(0, cut), 2 * multi.length))
      }
    }
    const raw = hex('1c18736e61707079201d072207000021')
    for (let cut = 0; cut < raw.length; cut++) await expectCorrupt(decompress('snappy', raw.subarray(0, cut), 100))
  })

  it('bit flips either decode within the bound or give CorruptRecordError, never anything else', async () => {
    const next = rng(12345)
    const payloads: Array<[CompressionCodec, Buffer]> = []
    for (const codec of CODECS) payloads.push([codec, await compress(codec, multi)])
    payloads.push(
      ['lz4', fixture('multi.lz4-cli-linked.lz4')],
      ['zstd', fixture('multi.zstd-java.zst')],
      ['snappy', hex('1c18736e61707079201d072207000021')],
    )
    for (const [codec, packed] of payloads) {
      let rejected = 0
      for (let i = 0; i < 150; i++) {
        const flipped = Buffer.from(packed)
        // Half the flips land in the first 64 bytes, where the headers and lengths live.
        const at = i % 2 === 0 ? next() % Math.min(64, flipped.length) : next() % flipped.length
        flipped[at]! ^= 1 << (next() % 8)
        try {
          const out = await decompress(codec, flipped, 2 * multi.length)
          expect(out.length).toBeLessThanOrEqual(2 * multi.length)
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptRecordError)
          rejected++
        }
      }
      expect(rejected).toBeGreaterThan(0)
    }
  })

  it('gzip: a flipped bit in the deflate data fails its CRC-32 or the inflater', async () => {
    const packed = await compress('gzip', multi)
    for (const at of [10, 50, packed.length >> 1, packed.length - 9]) {
      const flipped = Buffer.from(packed)
      flipped[at]! ^= 0x10
      await expectCorrupt(decompress('gzip', flipped, 2 * multi.length))
    }
  })

  it('lz4: checks the header, block and content checksums', async () => {
    // lz4 CLI stdin frame (content checksum): flip a literal byte of the text.
    const withContentChecksum = hex(
      `04224d186440a753000000ff384b61666b61207265636f726420626174636820636f6d7072657373696f6e2c2063726f73732d636865
       636b656420616761696e737420746865204a61766120636c69656e742e204700ff4c50656e742e200000000013938c47`,
    )
    const a = Buffer.from(withContentChecksum)
    a[20]! ^= 0x01
    await expectCorrupt(decompress('lz4', a, 1000), /content checksum/)
    const b = Buffer.from(withContentChecksum)
    b[6]! ^= 0x01 // the header checksum byte itself
    await expectCorrupt(decompress('lz4', b, 1000), /header checksum/)
    // Block checksums (lz4 -BX): flip a byte inside the first block.
    const blocks = Buffer.from(fixture('multi.lz4-cli-checksums.lz4'))
    blocks[40]! ^= 0x01
    await expectCorrupt(decompress('lz4', blocks, 2 * multi.length), /block checksum/)
  })

  it('lz4: refuses dictionaries, bad versions, reserved bits, oversized blocks, trailing junk', async () => {
    const header = (flg: number, bd: number, extra = ''): Buffer => {
      const h = Buffer.concat([hex('04224d18'), Buffer.from([flg, bd]), hex(extra)])
      return Buffer.concat([h, Buffer.from([(xxhash32(h, 4) >>> 8) & 0xff])])
    }
    await expectCorrupt(
      decompress('lz4', Buffer.concat([header(0x61, 0x40, '01020304'), hex('00000000')]), 100),
      /dictionary/,
    )
    await expectCorrupt(decompress('lz4', Buffer.concat([header(0xa0, 0x40), hex('00000000')]), 100), /version/)
    await expectCorrupt(decompress('lz4', Buffer.concat([header(0x62, 0x40), hex('00000000')]), 100), /reserved/)
    await expectCorrupt(decompress('lz4', Buffer.concat([header(0x60, 0x30), hex('00000000')]), 100), /block maximum/)
    // A stored block of 64 KiB + 1 in a 64 KiB frame.
    await expectCorrupt(
      decompress('lz4', Buffer.concat([header(0x60, 0x40), hex('01000180'), Buffer.alloc(65537)]), MiB),
      /maximum/,
    )
    const good = await compress('lz4', Buffer.from('hello'))
    await expectCorrupt(decompress('lz4', Buffer.concat([good, hex('00')]), 100))
    await expectCorrupt(decompress('lz4', Buffer.concat([good, hex('deadbeef')]), 100), /magic/)
    await expectCorrupt(decompress('lz4', Buffer.alloc(0), 100))
    // A content size that does not match the blocks.
    await expectCorrupt(
      decompress(
        'lz4',
        Buffer.concat([lz4HeaderWithSize(6n), hex('05000080'), Buffer.from('hello'), hex('00000000')]),
        100,
      ),
      /declares/,
    )
  })

  it('zstd: content checksum, trailing junk, reserved bits, empty input', async () => {
    const checked = hex(
      `28b52ffd64aa0025020072840e11a0ed00c7ab6bf89796563cbfb82d54710d17d2b1627b9d3ace495eb6538af486d772dad0fde21eb8
       a7ba39c2f6f669a5969bf896e3751d250101000798a28628cf56169c`,
    )
    const flippedChecksum = Buffer.from(checked)
    flippedChecksum[flippedChecksum.length - 1]! ^= 0x01
    await expectCorrupt(decompress('zstd', flippedChecksum, 1000))
    await expectCorrupt(decompress('zstd', Buffer.concat([checked, hex('01020304')]), 1000), /magic/)
    await expectCorrupt(decompress('zstd', Buffer.concat([checked, hex('28b5')]), 1000))
    const reserved = Buffer.from(checked)
    reserved[4]! |= 0x08
    await expectCorrupt(decompress('zstd', reserved, 1000), /reserved/)
    await expectCorrupt(decompress('zstd', Buffer.alloc(0), 1000))
    // A declared content size larger than what the blocks hold.
    await expectCorrupt(decompress('zstd', hex('28b52ffd' + '20' + '06' + '290000' + '68656c6c6f'), 1000))
  })

  it('snappy: bad xerial block lengths and garbage', async () => {
    const header = '82534e41505059000000000100000001'
    await expectCorrupt(decompress('snappy', hex(header + 'ffffffff'), 100), /runs past/)
    await expectCorrupt(decompress('snappy', hex(header + '00000040' + '00'), 100), /runs past/)
    await expectCorrupt(decompress('snappy', hex(header + '000001'), 100), /truncated/)
    await expectCorrupt(decompress('snappy', hex(header + '00000000'), 100))
    await expectCorrupt(decompress('snappy', Buffer.alloc(0), 100))
    await expectCorrupt(decompress('snappy', hex('ffffffffff'), 100), /varint/)
    await expectCorrupt(decompress('snappy', Buffer.from('definitely not snappy data'), 1000))
  })

  it('gzip: not gzip at all, empty input', async () => {
    await expectCorrupt(decompress('gzip', Buffer.from('definitely not gzip data'), 1000))
    await expectCorrupt(decompress('gzip', Buffer.alloc(0), 1000))
  })
})

// What we write must be what other clients read. These peers are part of the test contract, so
// a missing one fails loudly (MissingPeerError, see test/helpers/peers.ts) instead of skipping.
describe('other readers accept our output', () => {
  const inputs = { text: multiBlockText(), random: randomBytes(300_000), empty: Buffer.alloc(0) }

  it(`the Java client (kafka-clients ${JAVA_CLIENT_VERSION} wrapForInput) decodes every codec`, async () => {
    const java = peer('java')
    const classpath = javaClientClasspath()
    const dir = mkdtempSync(join(tmpdir(), 'kafkats-codecs-'))
    try {
      const args: string[] = []
      const expected: Array<[string, Buffer]> = []
      for (const codec of CODECS) {
        for (const [name, data] of Object.entries(inputs)) {
          const input = join(dir, `${codec}-${name}.in`)
          const output = join(dir, `${codec}-${name}.out`)
          writeFileSync(input, await compress(codec, data))
          args.push(codec, '2', input, output)
          expected.push([output, data])
        }
      }
      execFileSync(java, ['-cp', classpath, join(FIXTURES, 'KafkaCodecs.java'), 'decode', ...args], {
        stdio: 'pipe',
      })
      for (const [output, data] of expected) expect(readFileSync(output).equals(data)).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)

  for (const [codec, cmd] of [
    ['gzip', 'gzip'],
    ['lz4', 'lz4'],
    ['zstd', 'zstd'],
  ] as const) {
    it(`the ${cmd} CLI decodes our ${codec}`, async () => {
      const tool = peer(cmd)
      for (const data of Object.values(inputs)) {
        const out = execFileSync(tool, ['-d', '-c'], { input: await compress(codec, data), maxBuffer: 64 * MiB })
        expect(out.equals(data)).toBe(true)
      }
    })
  }
})
