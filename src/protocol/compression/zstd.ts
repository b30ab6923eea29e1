// zstd (codec 4). node:zlib has zstd from Node 22.15 / 23.8 on (thread pool, maxOutputLength);
// before that we use the optional package zstd-napi's low-level binding. Its high-level
// decompress() trusts the frame's declared content size for its allocation and returns
// truncated output for a truncated frame, so we drive the DCtx ourselves, and walk the frame
// structure first: that catches truncation for both backends and reads declared sizes early.

import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import { constants as bufferConstants } from 'node:buffer'
import { CorruptRecordError } from '../../errors.js'
import { OptionalPackage, corrupt, tooLarge } from './common.js'

type StreamResult = [remainingHint: number, produced: number, consumed: number]
interface DCtx {
  decompress(dst: Uint8Array, src: Uint8Array): number
  decompressStream(dst: Uint8Array, src: Uint8Array): StreamResult
  reset(directive: number): void
}
interface CCtx {
  compress(dst: Uint8Array, src: Uint8Array, level: number): number
}
interface ZstdBinding {
  DCtx: new () => DCtx
  CCtx: new () => CCtx
  compressBound(size: number): number
  ResetDirective: { sessionOnly: number }
}

// Kafka's default zstd level (compression.zstd.level), also zstd's own default.
const LEVEL = 3

const pkg = new OptionalPackage<ZstdBinding>(
  'zstd',
  'zstd-napi/binding.js',
  'zstd-napi',
  (m) =>
    typeof m.DCtx === 'function' && typeof m.CCtx === 'function' && typeof m.compressBound === 'function'
      ? (m as unknown as ZstdBinding)
      : undefined,
  ', or Node.js >= 22.15 where node:zlib has zstd',
)

interface ZlibZstd {
  zstdCompress(data: Buffer, options: object, cb: (err: Error | null, out: Buffer) => void): void
  zstdDecompress(data: Buffer, options: object, cb: (err: Error | null, out: Buffer) => void): void
}
const zlibZstd: ZlibZstd | undefined =
  typeof (zlib as unknown as Partial<ZlibZstd>).zstdDecompress === 'function'
    ? (zlib as unknown as ZlibZstd)
    : undefined
const zlibCompress =
  zlibZstd && (promisify(zlibZstd.zstdCompress) as (data: Buffer, options: object) => Promise<Buffer>)
const zlibDecompress =
  zlibZstd && (promisify(zlibZstd.zstdDecompress) as (data: Buffer, options: object) => Promise<Buffer>)

export async function zstdAvailable(): Promise<boolean> {
  return zlibZstd !== undefined || pkg.available()
}

let cctx: CCtx | undefined
let dctx: DCtx | undefined

export async function zstdCompress(data: Buffer): Promise<Buffer> {
  if (zlibCompress !== undefined) return zlibCompress(data, {})
  const zstd = await pkg.load()
  cctx ??= new zstd.CCtx()
  const out = Buffer.allocUnsafe(zstd.compressBound(data.length))
  const size = cctx.compress(out, data, LEVEL)
  return trim(out, size)
}

/** `buf[0, size)`, copied out when keeping the view would pin a mostly unused allocation. */
function trim(buf: Buffer, size: number): Buffer {
  return buf.length - size > 64 * 1024 ? Buffer.from(buf.subarray(0, size)) : buf.subarray(0, size)
}

const MAGIC = 0xfd2fb528
const SKIPPABLE_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
const MAX_BLOCK = 128 * 1024

interface FrameScan {
  /** Total content size the frames declare, or -1 when some frame does not say. */
  declared: number
  /** [start, end) of each data frame; skippable frames are left out. */
  frames: [number, number][]
}

/** Walk the frames (and skippable frames) of `data`, checking that each one is complete. */
function scanFrames(data: Buffer): FrameScan {
  const fail = (message: string, at: number): never => {
    throw corrupt('zstd', `${message} at byte ${at}`)
  }
  if (data.length === 0) fail('empty input', 0)
  let at = 0
  let declared = 0
  const frames: [number, number][] = []
  while (at < data.length) {
    if (data.length - at < 4) fail('truncated frame magic', at)
    const magic = data.readUInt32LE(at)
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (data.length - at < 8) fail('truncated skippable frame', at)
      const size = data.readUInt32LE(at + 4)
      if (size > data.length - at - 8) fail('skippable frame runs past the end', at)
      at += 8 + size
      continue
    }
    if (magic !== MAGIC) fail(`bad frame magic 0x${magic.toString(16)}`, at)
    const frameStart = at
    at += 4
    if (at >= data.length) fail('truncated frame header', frameStart)
    const fhd = data[at++]!
    if (fhd & 0x08) fail('reserved bit set in frame header', frameStart)
    const singleSegment = (fhd & 0x20) !== 0
    const fcsFlag = fhd >> 6
    const dictIdSize = [0, 1, 2, 4][fhd & 3]!
    const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!
    const headerRest = (singleSegment ? 0 : 1) + dictIdSize + fcsSize
    if (data.length - at < headerRest) fail('truncated frame header', frameStart)
    at += headerRest
    if (fcsSize === 0 || declared < 0) {
      declared = -1
    } else {
      const p = at - fcsSize
      const size =
        fcsSize === 1
          ? data[p]!
          : fcsSize === 2
            ? data.readUInt16LE(p) + 256
            : fcsSize === 4
              ? data.readUInt32LE(p)
              : Number(data.readBigUInt64LE(p))
      declared += size
    }
    for (;;) {
      if (data.length - at < 3) fail('truncated block header', at)
      const header = data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16)
      at += 3
      const type = (header >> 1) & 3
      const size = header >>> 3
      if (type === 3) fail('reserved block type', at - 3)
      if (size > MAX_BLOCK) fail('block larger than 128 KiB', at - 3)
      const stored = type === 1 ? 1 : size // an RLE block stores one byte
      if (stored > data.length - at) fail('truncated block', at - 3)
      at += stored
      if (header & 1) break // last block
    }
    if (fhd & 0x04) {
      if (data.length - at < 4) fail('truncated content checksum', at)
      at += 4
    }
    frames.push([frameStart, at])
  }
  return { declared, frames }
}

export async function zstdDecompress(data: Buffer, maxOutputBytes: number): Promise<Buffer> {
  const { declared, frames } = scanFrames(data)
  if (declared > maxOutputBytes) throw tooLarge('zstd', maxOutputBytes)
  if (zlibDecompress !== undefined) {
    // node:zlib stops after the first frame, so concatenated frames (and skippable ones between
    // them) are decoded one by one, each within what is left of the budget.
    const parts: Buffer[] = []
    let total = 0
    for (const [start, end] of frames) {
      const budget = maxOutputBytes - total
      const limit = Math.min(Math.max(budget, 1), bufferConstants.MAX_LENGTH)
      let out: Buffer
      try {
        out = await zlibDecompress(data.subarray(start, end), { maxOutputLength: limit })
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('zstd', maxOutputBytes)
        throw corrupt('zstd', (err as Error).message, err)
      }
      if (out.length > budget) throw tooLarge('zstd', maxOutputBytes)
      total += out.length
      parts.push(out)
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total)
  }

  const zstd = await pkg.load()
  dctx ??= new zstd.DCtx()
  // A previous call may have stopped mid-frame on an error; start clean.
  dctx.reset(zstd.ResetDirective.sessionOnly)
  try {
    if (declared >= 0) {
      // Every frame states its size (librdkafka and zstd-napi write it): decode in one pass.
      const out = Buffer.allocUnsafe(declared)
      const size = dctx.decompress(out, data)
      if (size !== declared) throw corrupt('zstd', `frames declare ${declared} bytes but hold ${size}`)
      return out
    }
    return streamDecompress(dctx, data, maxOutputBytes)
  } catch (err) {
    if (err instanceof CorruptRecordError) throw err
    throw corrupt('zstd', (err as Error).message, err)
  }
}

/** Decode frames that do not state their size (Java's ZstdOutputStream), growing the output. */
function streamDecompress(dctx: DCtx, data: Buffer, maxOutputBytes: number): Buffer {
  // One byte past the budget is enough to notice a frame that goes over it.
  const cap = maxOutputBytes + 1
  let out = Buffer.allocUnsafe(Math.min(cap, Math.max(64 * 1024, data.length * 4)))
  let produced = 0
  let consumed = 0
  for (;;) {
    const [hint, wrote, read] = dctx.decompressStream(out.subarray(produced), data.subarray(consumed))
    produced += wrote
    consumed += read
    if (produced > maxOutputBytes) throw tooLarge('zstd', maxOutputBytes)
    if (hint === 0 && consumed === data.length) break
    if (produced === out.length) {
      const grown = Buffer.allocUnsafe(Math.min(cap, out.length * 2))
      out.copy(grown, 0, 0, produced)
      out = grown
    } else if (wrote === 0 && read === 0) {
      throw corrupt('zstd', `decoder stalled at input byte ${consumed}`)
    }
  }
  return trim(out, produced)
}
