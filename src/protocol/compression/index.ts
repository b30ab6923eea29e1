// Kafka record-batch compression codecs behind one interface. gzip comes from node:zlib; snappy,
// lz4 and (before Node 22.15) zstd come from optional native packages that are imported on
// first use, so an install where they failed to build still works for every other codec.
// Every decoder takes an output budget and fails with a typed error (CorruptRecordError)
// before allocating past it, and on any input it cannot decode.

import { ProtocolDecodeError } from '../../errors.js'
import { checkBudget, tooLarge } from './common.js'
import { gzipCompress, gzipDecompress } from './gzip.js'
import { lz4Available, lz4Compress, lz4Decompress } from './lz4.js'
import { snappyAvailable, snappyCompress, snappyDecompress } from './snappy.js'
import { zstdAvailable, zstdCompress, zstdDecompress } from './zstd.js'

export type CompressionCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** The codec ids of record batch attributes bits 0-2. */
export const CompressionCodecId = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const

const BY_ID: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

/** The codec of a record batch's attributes codec id (bits 0-2); throws for ids 5-7. */
export function codecFromId(id: number): CompressionCodec {
  const codec = Number.isInteger(id) ? BY_ID[id] : undefined
  if (codec === undefined) throw new ProtocolDecodeError(`unknown compression codec id ${id}`)
  return codec
}

/** Compress a record batch's records section the way the Java producer frames each codec. */
export async function compress(codec: CompressionCodec, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case 'none':
      return data
    case 'gzip':
      return gzipCompress(data)
    case 'snappy':
      return snappyCompress(data)
    case 'lz4':
      return lz4Compress(data)
    case 'zstd':
      return zstdCompress(data)
    default:
      throw new TypeError(`unknown compression codec ${String(codec)}`)
  }
}

/**
 * Decompress `data`, producing at most `maxOutputBytes` bytes. Corrupt input, or output that
 * would exceed the limit, rejects with CorruptRecordError; a codec whose optional package is
 * missing rejects with CodecUnavailableError.
 */
export async function decompress(codec: CompressionCodec, data: Buffer, maxOutputBytes: number): Promise<Buffer> {
  checkBudget(maxOutputBytes)
  switch (codec) {
    case 'none':
      if (data.length > maxOutputBytes) throw tooLarge('none', maxOutputBytes)
      return data
    case 'gzip':
      return gzipDecompress(data, maxOutputBytes)
    case 'snappy':
      return snappyDecompress(data, maxOutputBytes)
    case 'lz4':
      return lz4Decompress(data, maxOutputBytes)
    case 'zstd':
      return zstdDecompress(data, maxOutputBytes)
    default:
      throw new TypeError(`unknown compression codec ${String(codec)}`)
  }
}

/** Whether `codec` can run here (its optional package, if it needs one, loads). */
export function isCodecAvailable(codec: CompressionCodec): Promise<boolean> {
  switch (codec) {
    case 'none':
    case 'gzip':
      return Promise.resolve(true)
    case 'snappy':
      return snappyAvailable()
    case 'lz4':
      return lz4Available()
    case 'zstd':
      return zstdAvailable()
    default:
      return Promise.resolve(false)
  }
}
