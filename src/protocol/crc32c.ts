// CRC-32C (Castagnoli), the checksum of Kafka record batches (magic v2). Slicing-by-16: sixteen
// 256-entry tables let the loop fold 16 input bytes per step with independent lookups, several
// times faster in V8 than the byte-at-a-time table (and ~10% faster than slicing-by-8 here).

const POLY = 0x82f63b78 // reflected 0x1EDC6F41

// T[k*256 + b] = CRC of byte b followed by k zero bytes. One flat table (16 KiB, built once at
// load) indexed with constant offsets beats separate subarrays in V8.
const T = new Int32Array(16 * 256)
for (let i = 0; i < 256; i++) {
  let c = i
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
  T[i] = c
}
for (let i = 0; i < 256; i++) {
  let c = T[i]!
  for (let k = 1; k < 16; k++) {
    c = (c >>> 8) ^ T[c & 0xff]!
    T[k * 256 + i] = c
  }
}

/**
 * CRC-32C of `data[start, end)`, as an unsigned 32-bit number. Pass the result of a previous
 * call as `previous` to continue a checksum over data that arrives in pieces:
 * `crc32c(b, 0, b.length, crc32c(a)) === crc32c(concat(a, b))`.
 */
export function crc32c(data: Uint8Array, start = 0, end = data.length, previous = 0): number {
  if (!(start >= 0 && start <= end && end <= data.length)) {
    throw new RangeError(`crc32c range [${start}, ${end}) is outside 0..${data.length}`)
  }
  let crc = ~previous
  let i = start
  const stop16 = end - 16
  while (i <= stop16) {
    const a = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))
    crc =
      T[3840 + (a & 0xff)]! ^
      T[3584 + ((a >>> 8) & 0xff)]! ^
      T[3328 + ((a >>> 16) & 0xff)]! ^
      T[3072 + (a >>> 24)]! ^
      T[2816 + data[i + 4]!]! ^
      T[2560 + data[i + 5]!]! ^
      T[2304 + data[i + 6]!]! ^
      T[2048 + data[i + 7]!]! ^
      T[1792 + data[i + 8]!]! ^
      T[1536 + data[i + 9]!]! ^
      T[1280 + data[i + 10]!]! ^
      T[1024 + data[i + 11]!]! ^
      T[768 + data[i + 12]!]! ^
      T[512 + data[i + 13]!]! ^
      T[256 + data[i + 14]!]! ^
      T[data[i + 15]!]!
    i += 16
  }
  while (i < end) crc = (crc >>> 8) ^ T[(crc ^ data[i++]!) & 0xff]!
  return ~crc >>> 0
}
