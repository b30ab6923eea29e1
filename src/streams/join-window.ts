// One task's window store of one side of a stream-stream join (Kafka's in-memory window store
// with duplicates): the records of the last `retention` ms of the store's clock (its largest
// timestamp), found by key and time range. The byte store holds them in Kafka's layout (key
// bytes, 8-byte timestamp, 4-byte sequence number) for the changelog and restore; an index by
// key over it answers lookups without scanning. Expired records are dropped from memory without
// a changelog record, as Kafka drops expired segments (its changelog's retention removes them).

import { TopologyError } from './errors.js'
import { serializeOrNull, type Serde } from './serdes.js'
import { TypedKeyValueStore, type KeyValueStore } from './stores.js'

export interface Stamped<K> {
  key: K
  timestamp: number
  seq: number
}

interface Entry {
  timestamp: number
  seq: number
  value: unknown
}

export class JoinWindow<K> {
  /** The store's clock: the largest timestamp put (-1: none). */
  observed = -1
  #seq = 0
  readonly #byKey = new Map<string, Entry[]>()
  /** Entries in the order put, for expiry (out-of-order ones may stay a little longer). */
  readonly #order: { key: string; entry: Entry }[] = []
  #head = 0
  readonly #view: TypedKeyValueStore<Stamped<K>, unknown>

  constructor(
    view: KeyValueStore<Stamped<K>, unknown>,
    readonly keySerde: Serde<K>,
    readonly retention: number,
  ) {
    if (!(view instanceof TypedKeyValueStore)) throw new TopologyError('a join window needs a task store')
    this.#view = view as TypedKeyValueStore<Stamped<K>, unknown>
    // Restored records: the clock and the numbering go on from them; indexed in time order so
    // that they expire in order.
    const restored = [...this.#view.all()].sort(([a], [b]) => a.timestamp - b.timestamp || a.seq - b.seq)
    for (const [k, value] of restored) {
      this.observed = Math.max(this.observed, k.timestamp)
      this.#seq = Math.max(this.#seq, k.seq)
      this.#index(this.#keyString(k.key), { timestamp: k.timestamp, seq: k.seq, value })
    }
    this.#expire()
  }

  #keyString(key: K): string {
    return Buffer.from(this.keySerde.serialize(key)).toString('latin1')
  }

  #index(key: string, entry: Entry): void {
    const list = this.#byKey.get(key) ?? []
    // Kept in (timestamp, sequence) order: the order Kafka's fetch returns them in.
    let i = list.length
    while (
      i > 0 &&
      (list[i - 1]!.timestamp > entry.timestamp ||
        (list[i - 1]!.timestamp === entry.timestamp && list[i - 1]!.seq > entry.seq))
    )
      i--
    list.splice(i, 0, entry)
    this.#byKey.set(key, list)
    this.#order.push({ key, entry })
  }

  /** Stores a record (a null value stores nothing but is logged, as Kafka's changelogging store does). */
  put(key: K, value: unknown, timestamp: number): void {
    this.observed = Math.max(this.observed, timestamp)
    // Kafka numbers every put from 1.
    this.#seq = (this.#seq % 0x7fffffff) + 1
    const stamped = { key, timestamp, seq: this.#seq }
    if (value === null || value === undefined || timestamp <= this.observed - this.retention) {
      // Not kept (a null value, or expired already); Kafka's changelogging layer still logs it.
      this.#view.log?.(
        Buffer.from(this.#view.keySerde.serialize(stamped)),
        serializeOrNull(this.#view.valueSerde, value ?? null, `store ${this.#view.name}`),
      )
    } else {
      this.#view.put(stamped, value)
      this.#index(this.#keyString(key), { timestamp, seq: this.#seq, value })
    }
    this.#expire()
  }

  /** The records of `key` with from <= timestamp <= to that have not expired, oldest first. */
  fetch(key: K, from: number, to: number): { timestamp: number; value: unknown }[] {
    const min = Math.max(from, this.observed - this.retention + 1)
    return (this.#byKey.get(this.#keyString(key)) ?? []).filter((e) => e.timestamp >= min && e.timestamp <= to)
  }

  /** Drops expired records from the index and the byte store (no changelog record). */
  #expire(): void {
    const limit = this.observed - this.retention
    while (this.#head < this.#order.length && this.#order[this.#head]!.entry.timestamp <= limit) {
      const { key, entry } = this.#order[this.#head++]!
      const list = this.#byKey.get(key)!
      list.splice(list.indexOf(entry), 1)
      if (list.length === 0) this.#byKey.delete(key)
      const bytes = Buffer.allocUnsafe(12)
      bytes.writeBigInt64BE(BigInt(entry.timestamp), 0)
      bytes.writeInt32BE(entry.seq, 8)
      this.#view.inner.put(Buffer.concat([Buffer.from(key, 'latin1'), bytes]), null)
    }
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order.splice(0, this.#head)
      this.#head = 0
    }
  }

  get size(): number {
    return this.#order.length - this.#head
  }
}
