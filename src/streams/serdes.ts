// Serdes: how keys and values become bytes. The built-in ones write the bytes Kafka's own
// serializers write (org.apache.kafka.common.serialization), so a kafkats/streams application
// and a Java one read each other's topics. Null is never given to a serde: a null key or value
// stays null on the wire (Kafka's serializers map null to null too).

import { SerdeError } from './errors.js'

/** Turns a `T` into bytes and back. Throw a SerdeError (or any Error) for bytes that do not fit. */
export interface Serde<T> {
  serialize(value: T): Uint8Array
  deserialize(bytes: Buffer): T
}

function exactly(bytes: Buffer, size: number, what: string): void {
  // Kafka's LongDeserializer & co. throw SerializationException on any other size.
  if (bytes.length !== size) {
    throw new SerdeError(`${what}: expected ${size} bytes, got ${bytes.length}`)
  }
}

const StringSerde: Serde<string> = {
  serialize: (value) => {
    if (typeof value !== 'string') throw new SerdeError(`String serde: not a string (${typeof value})`)
    return Buffer.from(value, 'utf8')
  },
  deserialize: (bytes) => bytes.toString('utf8'),
}

/** Kafka's LongSerializer: 8 bytes, big-endian two's complement. JS numbers must be safe integers. */
const LongSerde: Serde<number> = {
  serialize: (value) => {
    if (!Number.isSafeInteger(value)) throw new SerdeError(`Long serde: ${String(value)} is not a safe integer`)
    const out = Buffer.allocUnsafe(8)
    out.writeBigInt64BE(BigInt(value))
    return out
  },
  deserialize: (bytes) => {
    exactly(bytes, 8, 'Long serde')
    const value = bytes.readBigInt64BE(0)
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      // Silently rounding would corrupt counts; use Serdes.BigInt for the full range.
      throw new SerdeError(`Long serde: ${value} is outside the safe integer range (use Serdes.BigInt)`)
    }
    return Number(value)
  },
}

/** The same bytes as LongSerde, for the whole int64 range. */
const BigIntSerde: Serde<bigint> = {
  serialize: (value) => {
    if (typeof value !== 'bigint' || value > 0x7fffffffffffffffn || value < -0x8000000000000000n) {
      throw new SerdeError(`BigInt serde: ${String(value)} is not an int64`)
    }
    const out = Buffer.allocUnsafe(8)
    out.writeBigInt64BE(value)
    return out
  },
  deserialize: (bytes) => {
    exactly(bytes, 8, 'BigInt serde')
    return bytes.readBigInt64BE(0)
  },
}

/** Kafka's IntegerSerializer: 4 bytes, big-endian two's complement. */
const IntegerSerde: Serde<number> = {
  serialize: (value) => {
    if (!Number.isInteger(value) || value > 0x7fffffff || value < -0x80000000) {
      throw new SerdeError(`Integer serde: ${String(value)} is not an int32`)
    }
    const out = Buffer.allocUnsafe(4)
    out.writeInt32BE(value)
    return out
  },
  deserialize: (bytes) => {
    exactly(bytes, 4, 'Integer serde')
    return bytes.readInt32BE(0)
  },
}

/** Kafka's DoubleSerializer: IEEE-754 binary64, big-endian (Double.doubleToLongBits, so NaN is canonical). */
const DoubleSerde: Serde<number> = {
  serialize: (value) => {
    if (typeof value !== 'number') throw new SerdeError(`Double serde: not a number (${typeof value})`)
    const out = Buffer.allocUnsafe(8)
    out.writeDoubleBE(Number.isNaN(value) ? NaN : value)
    return out
  },
  deserialize: (bytes) => {
    exactly(bytes, 8, 'Double serde')
    return bytes.readDoubleBE(0)
  },
}

/** The bytes as they are (Kafka's BytesSerializer / ByteArraySerializer). */
const BytesSerde: Serde<Uint8Array> = {
  serialize: (value) => {
    if (!(value instanceof Uint8Array)) throw new SerdeError('Bytes serde: not a Uint8Array')
    return value
  },
  deserialize: (bytes) => bytes,
}

/** JSON text in UTF-8. `T` is what the application promises the JSON holds; it is not checked. */
function Json<T>(): Serde<T> {
  return {
    serialize: (value) => {
      let text: string | undefined
      try {
        text = JSON.stringify(value)
      } catch (err) {
        throw new SerdeError('Json serde: value cannot be written as JSON', { cause: err })
      }
      if (text === undefined) throw new SerdeError(`Json serde: ${typeof value} has no JSON form`)
      return Buffer.from(text, 'utf8')
    },
    deserialize: (bytes) => {
      try {
        return JSON.parse(bytes.toString('utf8')) as T
      } catch (err) {
        throw new SerdeError('Json serde: bytes are not JSON', { cause: err })
      }
    },
  }
}

/** A serde from two functions (Kafka's Serdes.serdeFrom). */
function from<T>(serialize: (value: T) => Uint8Array, deserialize: (bytes: Buffer) => T): Serde<T> {
  return { serialize, deserialize }
}

export const Serdes = {
  String: StringSerde,
  Long: LongSerde,
  BigInt: BigIntSerde,
  Integer: IntegerSerde,
  Double: DoubleSerde,
  Bytes: BytesSerde,
  Json,
  from,
} as const

/** Serialises with a serde, null staying null; a serde's own failure becomes a SerdeError naming where. */
export function serializeOrNull<T>(serde: Serde<T>, value: T | null, where: string): Buffer | null {
  if (value === null || value === undefined) return null
  try {
    const bytes = serde.serialize(value)
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  } catch (err) {
    if (err instanceof SerdeError) throw new SerdeError(`${where}: ${err.message}`, { cause: err })
    throw new SerdeError(`${where}: the serializer threw`, { cause: err })
  }
}

/** Deserialises with a serde, null staying null; failures become a SerdeError naming where. */
export function deserializeOrNull<T>(serde: Serde<T>, bytes: Buffer | null, where: string): T | null {
  if (bytes === null) return null
  try {
    return serde.deserialize(bytes)
  } catch (err) {
    if (err instanceof SerdeError) throw new SerdeError(`${where}: ${err.message}`, { cause: err })
    throw new SerdeError(`${where}: the deserializer threw`, { cause: err })
  }
}
