// gzip (codec 1) through node:zlib's asynchronous API, which runs on the libuv thread pool.
// Java writes it with GZIPOutputStream, librdkafka with zlib: both plain gzip members.

import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import { constants as bufferConstants } from 'node:buffer'
import { corrupt, tooLarge } from './common.js'

const gzipAsync = promisify(zlib.gzip)
const gunzipAsync = promisify(zlib.gunzip) as (data: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>

export function gzipCompress(data: Buffer): Promise<Buffer> {
  return gzipAsync(data)
}

export async function gzipDecompress(data: Buffer, maxOutputBytes: number): Promise<Buffer> {
  // zlib stops inflating once maxOutputLength is passed, so a bomb never gets allocated.
  // It wants a value in 1..kMaxLength; a budget of 0 is checked after the fact.
  const limit = Math.min(Math.max(maxOutputBytes, 1), bufferConstants.MAX_LENGTH)
  let out: Buffer
  try {
    out = await gunzipAsync(data, { maxOutputLength: limit })
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('gzip', maxOutputBytes)
    throw corrupt('gzip', (err as Error).message, err)
  }
  if (out.length > maxOutputBytes) throw tooLarge('gzip', maxOutputBytes)
  return out
}
