// The store shared by both sides of a stream-stream left or outer join (Kafka Streams'
// "outer-shared-join" store): records that found no partner yet, kept until their join window
// closes, then emitted joined with null. Its layout is Kafka's, so its changelog reads the same:
// key = 8-byte timestamp, 1 byte side (1 = left), key bytes (so entries sort by time, then side,
// then key); value = a list (Kafka's ListSerde, variable-size entries) of 1 byte side + value
// bytes, as several records of one key may share a timestamp.

import { SerdeError } from './errors.js'
import type { Serde } from './serdes.js'

export interface OuterKey<K> {
  timestamp: number
  left: boolean
  key: K
}

/** The records of one key, side and timestamp, in arrival order (each tagged with its side). */
export type OuterValue = { left: boolean; value: unknown }[]

/** Kafka's ListSerializer flag for entries written with their length. */
const VARIABLE_SIZE = 1

export function outerJoinStoreSerdes<K>(
  keySerde: Serde<K>,
  leftSerde: Serde<unknown>,
  rightSerde: Serde<unknown>,
): { key: Serde<OuterKey<K>>; value: Serde<OuterValue> } {
  const key: Serde<OuterKey<K>> = {
    serialize: (k) => {
      const head = Buffer.allocUnsafe(9)
      head.writeBigInt64BE(BigInt(k.timestamp), 0)
      head.writeUInt8(k.left ? 1 : 0, 8)
      return Buffer.concat([head, Buffer.from(keySerde.serialize(k.key))])
    },
    deserialize: (b) => {
      if (b.length < 9) throw new SerdeError(`outer-join store key: needs at least 9 bytes, got ${b.length}`)
      return { timestamp: Number(b.readBigInt64BE(0)), left: b[8] === 1, key: keySerde.deserialize(b.subarray(9)) }
    },
  }
  // Kafka's LeftOrRightValue: 1 byte (1 = left value) then the value's bytes.
  const value: Serde<OuterValue> = {
    serialize: (list) => {
      const parts: Buffer[] = [Buffer.from([VARIABLE_SIZE]), int32(list.length)]
      for (const { left, value: v } of list) {
        const bytes = Buffer.from((left ? leftSerde : rightSerde).serialize(v))
        parts.push(int32(bytes.length + 1), Buffer.from([left ? 1 : 0]), bytes)
      }
      return Buffer.concat(parts)
    },
    deserialize: (b) => {
      const fail = (why: string): never => {
        throw new SerdeError(`outer-join store value: ${why}`)
      }
      if (b.length < 5 || b[0] !== VARIABLE_SIZE) fail('not a variable-size list')
      const count = b.readInt32BE(1)
      const out: OuterValue = []
      let at = 5
      for (let i = 0; i < count; i++) {
        if (at + 4 > b.length) fail('truncated')
        const length = b.readInt32BE(at)
        at += 4
        if (length < 1 || at + length > b.length) fail(`entry ${i} of length ${length} does not fit`)
        const left = b[at] === 1
        out.push({ left, value: (left ? leftSerde : rightSerde).deserialize(b.subarray(at + 1, at + length)) })
        at += length
      }
      return out
    },
  }
  return { key, value }
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeInt32BE(n)
  return b
}

/**
 * What both sides of one task's join share (Kafka's TimeTracker): the stream time across both
 * sides and a lower bound of the timestamps held, so that the store is only scanned when some
 * entry may have closed. `minTime` undefined = unknown (scan), as after a restore.
 */
export class OuterJoinTracker {
  streamTime = -1
  minTime: number | undefined = undefined
}
