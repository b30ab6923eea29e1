// State stores. A store holds bytes (so any store implementation can be plugged in, and its
// changelog records are exactly what it holds); processors and interactive queries see a typed
// view through the store's serdes. Every write is also logged to the changelog (compacted topic
// `<applicationId>-<store>-changelog`, same partition as the task), which restores the store.

import { SerdeError } from './errors.js'
import { deserializeOrNull, serializeOrNull, type Serde } from './serdes.js'

/** The pluggable part: a byte-level key-value store (keys compared as bytes). */
export interface BytesStore {
  get(key: Buffer): Buffer | undefined
  /** null deletes. */
  put(key: Buffer, value: Buffer | null): void
  /** Every entry, in key byte order. */
  all(): Iterable<[Buffer, Buffer]>
  readonly size: number
  /** Awaited by the runtime; a persistent store drops what it did not flush. */
  close?(): void | Promise<void>
  /** Persistent stores: makes the writes so far durable; the runtime calls it after each commit. */
  flush?(): void
  /** True for a store on disk: the runtime gives it a task directory, a lock and a checkpoint. */
  readonly persistent?: boolean
}

/** What the runtime tells a store supplier about the task (persistent stores). */
export interface StoreContext {
  /** The task's directory: `<stateDir>/<applicationId>/<taskId>`. */
  directory: string
}

/**
 * Creates one store instance per task. A supplier marked `persistent` gets a StoreContext (the
 * runtime locks the task's directory and keeps its checkpoint); others are called without.
 */
export type BytesStoreSupplier = ((storeName: string, taskId: string, context?: StoreContext) => BytesStore) & {
  readonly persistent?: boolean
}

/** The default store: a Map in memory, restored from the changelog on start. */
export class InMemoryBytesStore implements BytesStore {
  // latin1 maps each byte to one char, so the string order is the byte order.
  readonly #map = new Map<string, [Buffer, Buffer]>()

  get(key: Buffer): Buffer | undefined {
    return this.#map.get(key.toString('latin1'))?.[1]
  }

  put(key: Buffer, value: Buffer | null): void {
    const k = key.toString('latin1')
    if (value === null) this.#map.delete(k)
    else this.#map.set(k, [Buffer.from(key), value])
  }

  *all(): Iterable<[Buffer, Buffer]> {
    const keys = [...this.#map.keys()].sort()
    for (const k of keys) yield this.#map.get(k)!
  }

  get size(): number {
    return this.#map.size
  }
}

export const inMemoryStore: BytesStoreSupplier = () => new InMemoryBytesStore()

/** What the typed view reports for each write: the changelog record to send. */
export type ChangeLogger = (key: Buffer, value: Buffer | null) => void

/** A typed key-value store, as processors and interactive queries see it. */
export interface ReadOnlyKeyValueStore<K, V> {
  get(key: K): V | undefined
  all(): Iterable<[K, V]>
  readonly size: number
}

export interface KeyValueStore<K, V> extends ReadOnlyKeyValueStore<K, V> {
  /** null deletes. */
  put(key: K, value: V | null): void
  delete(key: K): void
}

/**
 * A key-value store whose values carry the timestamp of their last update, stored as Kafka's
 * timestamped stores do (8-byte big-endian timestamp, then the value), so that results carry
 * the largest timestamp of the records they come from.
 */
export interface TimestampedKeyValueStore<K, V> extends KeyValueStore<K, V> {
  getWithTimestamp(key: K): { value: V; timestamp: number } | undefined
  putWithTimestamp(key: K, value: V | null, timestamp: number): void
}

export class TypedKeyValueStore<K, V> implements TimestampedKeyValueStore<K, V> {
  constructor(
    readonly name: string,
    readonly inner: BytesStore,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    readonly log: ChangeLogger | undefined,
    readonly timestamped: boolean,
  ) {}

  #key(key: K): Buffer {
    const bytes = serializeOrNull(this.keySerde, key, `store ${this.name} key`)
    if (bytes === null) throw new TypeError(`store ${this.name}: null keys cannot be stored`)
    return bytes
  }

  #value(bytes: Buffer): { value: V; timestamp: number } {
    if (!this.timestamped)
      return { value: deserializeOrNull(this.valueSerde, bytes, `store ${this.name} value`) as V, timestamp: -1 }
    if (bytes.length < 8)
      throw new SerdeError(`store ${this.name}: a timestamped value needs 8 bytes, got ${bytes.length}`)
    const timestamp = Number(bytes.readBigInt64BE(0))
    return { value: deserializeOrNull(this.valueSerde, bytes.subarray(8), `store ${this.name} value`) as V, timestamp }
  }

  get(key: K): V | undefined {
    return this.getWithTimestamp(key)?.value
  }

  getWithTimestamp(key: K): { value: V; timestamp: number } | undefined {
    const bytes = this.inner.get(this.#key(key))
    return bytes === undefined ? undefined : this.#value(bytes)
  }

  put(key: K, value: V | null): void {
    this.putWithTimestamp(key, value, -1)
  }

  putWithTimestamp(key: K, value: V | null, timestamp: number): void {
    const k = this.#key(key)
    let v = serializeOrNull(this.valueSerde, value, `store ${this.name} value`)
    if (v !== null && this.timestamped) {
      const ts = Buffer.allocUnsafe(8)
      ts.writeBigInt64BE(BigInt(timestamp))
      v = Buffer.concat([ts, v])
    }
    this.inner.put(k, v)
    this.log?.(k, v)
  }

  delete(key: K): void {
    this.put(key, null)
  }

  *all(): Iterable<[K, V]> {
    for (const [k, v] of this.inner.all()) {
      yield [deserializeOrNull(this.keySerde, k, `store ${this.name} key`) as K, this.#value(v).value]
    }
  }

  get size(): number {
    return this.inner.size
  }
}
