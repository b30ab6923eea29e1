// The persistent byte store: LMDB (the optional `lmdb` package, prebuilt binaries in its npm
// packages) in the task's directory, so a restart restores only the changelog records written
// after the task's checkpoint. Reads are synchronous (LMDB reads a memory map), as processing
// is. Writes are held in memory until flush(), which the runtime calls only after a commit
// succeeded: what is on disk is always a state the changelog holds committed, never the
// writes of a transaction that may still abort (README "State stores").

import { createRequire } from 'node:module'
import { join } from 'node:path'

import { StateStoreError } from './errors.js'
import { InMemoryBytesStore, type BytesStore, type BytesStoreSupplier, type StoreContext } from './stores.js'

/** LMDB refuses keys longer than this (lmdb-js' build); one byte goes to our prefix. */
export const MAX_KEY_BYTES = 1977

/** What we use of lmdb-js (structural: tsc never resolves the optional package). */
interface LmdbDatabase {
  getBinary(key: Buffer): Buffer | undefined
  doesExist(key: Buffer): boolean
  getRange(options: object): Iterable<{ key: Buffer; value: Buffer }>
  getCount(): number
  putSync(key: Buffer, value: Buffer): boolean
  removeSync(key: Buffer): boolean
  transactionSync<T>(fn: () => T): T
  close(): Promise<void>
}

interface LmdbModule {
  open(options: object): LmdbDatabase
}

let lmdb: LmdbModule | undefined

function loadLmdb(): LmdbModule {
  if (lmdb !== undefined) return lmdb
  // A literal name, so the package test checks it is a declared dependency.
  const require = createRequire(import.meta.url)
  try {
    lmdb = require('lmdb') as LmdbModule
  } catch (err) {
    throw new StateStoreError(
      "persistent stores need the optional package 'lmdb' (npm install lmdb); it could not be loaded",
      { cause: err },
    )
  }
  return lmdb
}

// LMDB has no empty keys (a null-key-free but empty string key is valid in Kafka): every key is
// stored behind one 0x00 byte, which keeps the byte order.
const PREFIX = Buffer.from([0])

function diskKey(key: Buffer): Buffer {
  if (key.length > MAX_KEY_BYTES) {
    throw new StateStoreError(
      `a key of ${key.length} bytes is over the persistent store's limit of ${MAX_KEY_BYTES} (LMDB's key size)`,
    )
  }
  return Buffer.concat([PREFIX, key])
}

export class PersistentBytesStore implements BytesStore {
  readonly persistent = true
  readonly #db: LmdbDatabase
  /** Writes since the last flush, by key (latin1: string order is byte order); null deletes. */
  #dirty = new Map<string, [Buffer, Buffer | null]>()
  #closed = false

  constructor(readonly directory: string) {
    this.#db = loadLmdb().open({
      path: directory,
      encoding: 'binary',
      keyEncoding: 'binary',
      compression: false,
      // Our own write buffer holds what is not flushed; LMDB's object cache would hold it twice.
      cache: false,
    })
  }

  get(key: Buffer): Buffer | undefined {
    const d = this.#dirty.get(key.toString('latin1'))
    if (d !== undefined) return d[1] ?? undefined
    return this.#db.getBinary(diskKey(key))
  }

  put(key: Buffer, value: Buffer | null): void {
    if (this.#closed) throw new StateStoreError(`store in ${this.directory} is closed`)
    diskKey(key) // the size check, at the write that brings the key, not at the flush
    this.#dirty.set(key.toString('latin1'), [Buffer.from(key), value])
  }

  /** Every entry in key byte order: the disk merged with the writes not yet flushed. */
  *all(): Iterable<[Buffer, Buffer]> {
    const dirty = [...this.#dirty.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    let i = 0
    for (const { key: stored, value } of this.#db.getRange({})) {
      const key = stored.subarray(1)
      const k = key.toString('latin1')
      for (; i < dirty.length && dirty[i]![0] < k; i++) {
        const [dk, dv] = dirty[i]![1]
        if (dv !== null) yield [dk, dv]
      }
      if (i < dirty.length && dirty[i]![0] === k) {
        const dv = dirty[i]![1][1]
        i++
        if (dv !== null) yield [Buffer.from(key), dv]
        continue
      }
      yield [Buffer.from(key), Buffer.from(value)]
    }
    for (; i < dirty.length; i++) {
      const [dk, dv] = dirty[i]![1]
      if (dv !== null) yield [dk, dv]
    }
  }

  get size(): number {
    let n = this.#db.getCount()
    for (const [key, value] of this.#dirty.values()) {
      const onDisk = this.#db.doesExist(diskKey(key))
      if (value === null && onDisk) n--
      else if (value !== null && !onDisk) n++
    }
    return n
  }

  /** Writes the buffered changes in one LMDB transaction (durable when it returns). */
  flush(): void {
    if (this.#dirty.size === 0 || this.#closed) return
    const dirty = this.#dirty
    this.#db.transactionSync(() => {
      for (const [key, value] of dirty.values()) {
        if (value === null) this.#db.removeSync(diskKey(key))
        else this.#db.putSync(diskKey(key), value)
      }
    })
    this.#dirty = new Map()
  }

  /** Closes without flushing: what was not flushed was not committed. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#dirty = new Map()
    await this.#db.close()
  }
}

/** The persistent store's supplier: one LMDB environment per store in the task's directory. */
export const persistentStore: BytesStoreSupplier = Object.assign(
  (storeName: string, taskId: string, context?: StoreContext): BytesStore => {
    if (context === undefined) {
      throw new StateStoreError(
        `store '${storeName}' of task ${taskId} is persistent and needs a state directory (run it in KafkaStreams)`,
      )
    }
    return new PersistentBytesStore(join(context.directory, 'lmdb', storeName))
  },
  { persistent: true as const },
)

/**
 * Store suppliers to choose a store one by one (`Materialized.store`), as Kafka Streams' Stores.
 * Key-value, window and session stores are all byte stores here, so each kind has the same two.
 */
export const Stores = {
  /** On disk (LMDB): a restart restores only what its changelog got after the task's checkpoint. */
  persistentKeyValueStore: (): BytesStoreSupplier => persistentStore,
  persistentWindowStore: (): BytesStoreSupplier => persistentStore,
  persistentSessionStore: (): BytesStoreSupplier => persistentStore,
  /** In memory, whatever `defaultDslStore` says: restored from the whole changelog on start. */
  inMemoryKeyValueStore: (): BytesStoreSupplier => () => new InMemoryBytesStore(),
  inMemoryWindowStore: (): BytesStoreSupplier => () => new InMemoryBytesStore(),
  inMemorySessionStore: (): BytesStoreSupplier => () => new InMemoryBytesStore(),
}
