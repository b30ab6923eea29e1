// lz4 (codec 3): the LZ4 frame format. Kafka's Java client (Lz4BlockOutputStream) writes
// standard frames with independent 64 KiB blocks and no content checksum; librdkafka writes
// frames through liblz4's LZ4F API. We frame the blocks ourselves around lz4-napi's block
// codec: lz4-napi's own frame decoder has no output bound, and its encoder picks block sizes
// up to 4 MiB, which makes Java consumers allocate 4 MiB buffers.
//
// Frame: magic 0x184D2204 (LE), FLG, BD, [content size u64][dict id u32], HC,
// then blocks [u32 LE size, high bit = stored uncompressed][data][xxh32 if block checksums],
// end mark u32 0, [xxh32 of the content if content checksum]. All integers little-endian.

import { OptionalPackage, concatParts, corrupt, tooLarge } from './common.js'
import { xxhash32 } from './xxhash32.js'

interface Lz4Api {
  // lz4_flex block format with the uncompressed size prepended as u32 LE. On decode that
  // prefix is only the output capacity: a block decoding to more is an error.
  compress(data: Uint8Array): Promise<Buffer>
  uncompressSync(data: Uint8Array, dict?: Uint8Array): Buffer
}

const pkg = new OptionalPackage<Lz4Api>('lz4', 'lz4-napi', 'lz4-napi', (m) =>
  typeof m.compress === 'function' && typeof m.uncompressSync === 'function' ? (m as unknown as Lz4Api) : undefined,
)

export const lz4Available = (): Promise<boolean> => pkg.available()

const MAGIC = 0x184d2204
const SKIPPABLE_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
const BLOCK_SIZE = 64 * 1024
const FLG_VERSION_MASK = 0xc0
const FLG_VERSION_01 = 0x40
const FLG_BLOCK_INDEPENDENT = 0x20
const FLG_BLOCK_CHECKSUM = 0x10
const FLG_CONTENT_SIZE = 0x08
const FLG_CONTENT_CHECKSUM = 0x04
const FLG_RESERVED = 0x02
const FLG_DICT_ID = 0x01
const UNCOMPRESSED_BIT = 0x80000000
// Linked blocks may refer back this far into earlier output.
const WINDOW = 64 * 1024

// Our header: version 01, independent blocks, no checksums (like Java), 64 KiB blocks.
const HEADER = (() => {
  const h = Buffer.alloc(7)
  h.writeUInt32LE(MAGIC, 0)
  h[4] = FLG_VERSION_01 | FLG_BLOCK_INDEPENDENT
  h[5] = 4 << 4
  h[6] = (xxhash32(h, 4, 6) >>> 8) & 0xff
  return h
})()

export async function lz4Compress(data: Buffer): Promise<Buffer> {
  const lz4 = await pkg.load()
  const chunks: Buffer[] = []
  for (let at = 0; at < data.length; at += BLOCK_SIZE)
    chunks.push(data.subarray(at, Math.min(at + BLOCK_SIZE, data.length)))
  // Blocks are independent, so they compress in parallel on the thread pool (lz4_flex is slow
  // on incompressible input: ~2x on two cores over compressing them one by one inline).
  const packed = await Promise.all(chunks.map((chunk) => lz4.compress(chunk)))
  const parts: Buffer[] = [HEADER]
  let total = HEADER.length
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!
    const block = packed[i]!.subarray(4) // drop lz4_flex's size prefix
    const size = Buffer.allocUnsafe(4)
    // Store a block raw when compression does not shrink it, as liblz4 and Java do.
    const stored = block.length >= chunk.length
    size.writeUInt32LE(stored ? (chunk.length | UNCOMPRESSED_BIT) >>> 0 : block.length, 0)
    parts.push(size, stored ? chunk : block)
    total += 4 + (stored ? chunk.length : block.length)
  }
  parts.push(Buffer.alloc(4)) // end mark
  return Buffer.concat(parts, total + 4)
}

export async function lz4Decompress(data: Buffer, maxOutputBytes: number): Promise<Buffer> {
  const lz4 = await pkg.load()
  const parts: Buffer[] = []
  let total = 0
  let at = 0
  if (data.length === 0) throw corrupt('lz4', 'empty input')
  while (at < data.length) {
    if (data.length - at < 4) throw corrupt('lz4', `truncated frame magic at byte ${at}`)
    const magic = data.readUInt32LE(at)
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (data.length - at < 8) throw corrupt('lz4', `truncated skippable frame at byte ${at}`)
      const size = data.readUInt32LE(at + 4)
      if (size > data.length - at - 8) throw corrupt('lz4', `skippable frame at byte ${at} runs past the end`)
      at += 8 + size
      continue
    }
    if (magic !== MAGIC) throw corrupt('lz4', `bad frame magic 0x${magic.toString(16)} at byte ${at}`)
    at = decodeFrame(lz4, data, at, maxOutputBytes - total, maxOutputBytes, parts)
    total = 0
    for (const p of parts) total += p.length
  }
  return concatParts(parts, total)
}

/**
 * Decode one frame starting at its magic, producing at most `budget` bytes (what `limit`, the
 * caller's bound, leaves after earlier frames); append its output to `parts`; return its end.
 */
function decodeFrame(
  lz4: Lz4Api,
  data: Buffer,
  frameStart: number,
  budget: number,
  limit: number,
  parts: Buffer[],
): number {
  const fail = (message: string): never => {
    throw corrupt('lz4', `${message} (frame at byte ${frameStart})`)
  }
  let at = frameStart + 4
  if (data.length - at < 3) fail('truncated frame header')
  const flg = data[at]!
  const bd = data[at + 1]!
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01) fail(`unsupported frame version in FLG 0x${flg.toString(16)}`)
  if (flg & FLG_RESERVED || bd & 0x8f) fail('reserved bits set in frame descriptor')
  const sizeId = bd >> 4
  if (sizeId < 4) fail(`bad block maximum size id ${sizeId}`)
  const blockMax = 1 << (2 * sizeId + 8) // 4: 64 KiB, 5: 256 KiB, 6: 1 MiB, 7: 4 MiB
  const descriptorEnd = at + 2 + (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0)
  if (data.length - descriptorEnd < 1) fail('truncated frame header')
  const hc = data[descriptorEnd]!
  // Kafka before magic v1 hashed the magic bytes too; Java still accepts that for old data.
  if (
    hc !== ((xxhash32(data, at, descriptorEnd) >>> 8) & 0xff) &&
    hc !== ((xxhash32(data, frameStart, descriptorEnd) >>> 8) & 0xff)
  ) {
    fail('frame header checksum mismatch')
  }
  let contentSize = -1
  if (flg & FLG_CONTENT_SIZE) {
    const size = data.readBigUInt64LE(at + 2)
    if (size > BigInt(budget)) throw tooLarge('lz4', limit)
    contentSize = Number(size)
  }
  if (flg & FLG_DICT_ID) fail('frame needs a dictionary')
  at = descriptorEnd + 1

  const independent = (flg & FLG_BLOCK_INDEPENDENT) !== 0
  const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) !== 0
  const firstPart = parts.length
  let produced = 0
  let scratch: Buffer | undefined
  for (;;) {
    if (data.length - at < 4) fail(`truncated block header at byte ${at}`)
    const word = data.readUInt32LE(at)
    at += 4
    if (word === 0) break // end mark
    const stored = (word & UNCOMPRESSED_BIT) !== 0
    const size = word & 0x7fffffff
    if (size > blockMax) fail(`block of ${size} bytes exceeds the frame's maximum of ${blockMax}`)
    if (size + (blockChecksum ? 4 : 0) > data.length - at) fail(`truncated block at byte ${at - 4}`)
    const blockEnd = at + size
    if (blockChecksum && data.readUInt32LE(blockEnd) !== xxhash32(data, at, blockEnd))
      fail(`block checksum mismatch at byte ${at - 4}`)
    let out: Buffer
    if (stored) {
      if (size > budget - produced) throw tooLarge('lz4', limit)
      out = data.subarray(at, blockEnd)
    } else {
      // The prefix tells lz4_flex how much output to allow: the block maximum, or the rest of
      // the budget when that is smaller, so a bomb fails without allocating past the limit.
      const room = budget - produced
      const capacity = Math.min(blockMax, room)
      if (scratch === undefined || scratch.length < size + 4)
        scratch = Buffer.allocUnsafe(Math.max(size + 4, 4 + 64 * 1024))
      scratch.writeUInt32LE(capacity, 0)
      data.copy(scratch, 4, at, blockEnd)
      const input = scratch.subarray(0, size + 4)
      try {
        out =
          independent || produced === 0
            ? lz4.uncompressSync(input)
            : lz4.uncompressSync(input, lastWindow(parts, firstPart))
      } catch (err) {
        const message = (err as Error).message
        if (capacity < blockMax && /too small/i.test(message)) throw tooLarge('lz4', limit)
        throw corrupt('lz4', `block at byte ${at - 4}: ${message} (frame at byte ${frameStart})`, err)
      }
    }
    parts.push(out)
    produced += out.length
    at = blockEnd + (blockChecksum ? 4 : 0)
  }
  if (contentSize >= 0 && produced !== contentSize)
    fail(`frame declares ${contentSize} content bytes but holds ${produced}`)
  if (flg & FLG_CONTENT_CHECKSUM) {
    if (data.length - at < 4) fail('truncated content checksum')
    const content = concatParts(parts.slice(firstPart), produced)
    parts.length = firstPart
    parts.push(content)
    if (data.readUInt32LE(at) !== xxhash32(content)) fail('content checksum mismatch')
    at += 4
  }
  return at
}

/** The last (up to) 64 KiB of this frame's output so far: the dictionary of a linked block. */
function lastWindow(parts: Buffer[], firstPart: number): Buffer {
  const tail: Buffer[] = []
  let size = 0
  for (let i = parts.length - 1; i >= firstPart && size < WINDOW; i--) {
    tail.unshift(parts[i]!)
    size += parts[i]!.length
  }
  const joined = Buffer.concat(tail, size)
  return size > WINDOW ? joined.subarray(size - WINDOW) : joined
}
