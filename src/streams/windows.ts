// Window definitions (Kafka Streams' TimeWindows and SessionWindows) and windowed keys.
// Time windows are aligned to the epoch: [n * advance, n * advance + size). A record is late,
// and dropped, when its window's end + grace <= stream time (the largest timestamp seen).

import { ConfigError } from '../errors.js'
import { SerdeError } from './errors.js'
import type { Serde } from './serdes.js'

export interface Window {
  /** Inclusive start, ms. */
  start: number
  /** Exclusive end for time windows; inclusive for session windows (as in Kafka Streams). */
  end: number
}

/** A key of a windowed aggregation: the record key and its window. */
export interface Windowed<K> {
  key: K
  window: Window
}

function duration(name: string, ms: number, min: number): number {
  if (!Number.isSafeInteger(ms) || ms < min)
    throw new ConfigError(name, `must be an integer of ms >= ${min}, got ${ms}`)
  return ms
}

export class TimeWindows {
  readonly size: number
  readonly advance: number
  readonly grace: number

  private constructor(size: number, advance: number, grace: number) {
    this.size = size
    this.advance = advance
    this.grace = grace
  }

  /** Tumbling windows of `size` ms; records may be up to `grace` ms late. */
  static ofSizeAndGrace(size: number, grace: number): TimeWindows {
    return new TimeWindows(duration('size', size, 1), size, duration('grace', grace, 0))
  }

  /** Tumbling windows of `size` ms; a record for a window already ended is dropped. */
  static ofSizeWithNoGrace(size: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(size, 0)
  }

  /** Hopping windows: a new window every `advance` ms (0 < advance <= size). */
  advanceBy(advance: number): TimeWindows {
    duration('advance', advance, 1)
    if (advance > this.size)
      throw new ConfigError('advance', `must be at most the window size ${this.size}, got ${advance}`)
    return new TimeWindows(this.size, advance, this.grace)
  }

  /** Every window containing `timestamp`, earliest first (Kafka's TimeWindows.windowsFor). */
  windowsFor(timestamp: number): Window[] {
    let start = Math.max(0, timestamp - this.size + this.advance)
    start -= start % this.advance
    const out: Window[] = []
    for (; start <= timestamp; start += this.advance) out.push({ start, end: start + this.size })
    return out
  }
}

export class SessionWindows {
  readonly gap: number
  readonly grace: number

  private constructor(gap: number, grace: number) {
    this.gap = gap
    this.grace = grace
  }

  /** Sessions end after `gap` ms without a record for the key; records may be `grace` ms late. */
  static ofInactivityGapAndGrace(gap: number, grace: number): SessionWindows {
    return new SessionWindows(duration('gap', gap, 1), duration('grace', grace, 0))
  }

  static ofInactivityGapWithNoGrace(gap: number): SessionWindows {
    return SessionWindows.ofInactivityGapAndGrace(gap, 0)
  }
}

function bytes(serde: Serde<unknown>, value: unknown): Buffer {
  const b = serde.serialize(value)
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}

/** Kafka's windowed serdes (WindowedSerdes): the key's bytes, then the window's times, big-endian. */
export const WindowedSerdes = {
  /** TimeWindowedSerializer: key + 8-byte start; the end is start + size. */
  timeWindowed<K>(inner: Serde<K>, size: number): Serde<Windowed<K>> {
    return {
      serialize: (w) => {
        const t = Buffer.allocUnsafe(8)
        t.writeBigInt64BE(BigInt(w.window.start))
        return Buffer.concat([bytes(inner as Serde<unknown>, w.key), t])
      },
      deserialize: (b) => {
        if (b.length < 8) throw new SerdeError(`time-windowed key: needs at least 8 bytes, got ${b.length}`)
        const start = Number(b.readBigInt64BE(b.length - 8))
        return { key: inner.deserialize(b.subarray(0, b.length - 8)), window: { start, end: start + size } }
      },
    }
  },
  /** SessionWindowedSerializer: key + 8-byte end + 8-byte start. */
  sessionWindowed<K>(inner: Serde<K>): Serde<Windowed<K>> {
    return {
      serialize: (w) => {
        const t = Buffer.allocUnsafe(16)
        t.writeBigInt64BE(BigInt(w.window.end), 0)
        t.writeBigInt64BE(BigInt(w.window.start), 8)
        return Buffer.concat([bytes(inner as Serde<unknown>, w.key), t])
      },
      deserialize: (b) => {
        if (b.length < 16) throw new SerdeError(`session-windowed key: needs at least 16 bytes, got ${b.length}`)
        const end = Number(b.readBigInt64BE(b.length - 16))
        const start = Number(b.readBigInt64BE(b.length - 8))
        return { key: inner.deserialize(b.subarray(0, b.length - 16)), window: { start, end } }
      },
    }
  },
}
