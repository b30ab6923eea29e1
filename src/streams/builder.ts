// StreamsBuilder: where a topology starts (streams and tables read from topics).

import { KStream } from './kstream.js'
import { KTable } from './ktable.js'
import type { Change } from './processor.js'
import type { Serde } from './serdes.js'
import { inMemoryStore, type BytesStoreSupplier } from './stores.js'
import { TopologyGraph, type TimestampExtractor, type Topology } from './topology.js'

export interface Consumed<K, V> {
  key: Serde<K>
  value: Serde<V>
  /** Event time of each record; default the record's timestamp. */
  timestampExtractor?: TimestampExtractor
  /** The source node's name. */
  name?: string
}

export interface TableOptions<K, V> extends Consumed<K, V> {
  /** Keep the table in a store of this name (queryable, changelogged); default: not kept. */
  storeName?: string
  store?: BytesStoreSupplier
  /** Back the store with a changelog topic; default true. */
  logging?: boolean
}

export class StreamsBuilder {
  /** @internal */
  readonly _graph = new TopologyGraph()

  /**
   * A stream of the records of one or more topics. Keys and values are null where the record's
   * are (keyless records are common), hence the types; `filter` with a type guard narrows them.
   */
  stream<K, V>(topics: string | readonly string[], consumed: Consumed<K, V>): KStream<K | null, V | null> {
    const g = this._graph
    const name = consumed.name !== undefined ? g.checkName(consumed.name) : g.newName('KSTREAM-SOURCE-')
    g.addSource(name, typeof topics === 'string' ? [topics] : topics, {
      internal: false,
      keySerde: consumed.key as Serde<unknown>,
      valueSerde: consumed.value as Serde<unknown>,
      timestampExtractor: consumed.timestampExtractor,
    })
    return new KStream<K | null, V | null>({
      graph: g,
      node: name,
      keySerde: consumed.key,
      valueSerde: consumed.value,
      repartitionRequired: false,
    })
  }

  /**
   * A table of a topic's latest value per key (a null value deletes the key; null keys are
   * dropped), kept in a store with a changelog.
   */
  table<K, V>(topic: string, options: TableOptions<K, V>): KTable<K, V> {
    const g = this._graph
    // Kafka Streams names the store first, even when it does not materialize it.
    const generatedStore = g.newName(`${topic}-STATE-STORE-`)
    const source = options.name !== undefined ? g.checkName(options.name) : g.newName('KSTREAM-SOURCE-')
    g.addSource(source, [topic], {
      internal: false,
      keySerde: options.key as Serde<unknown>,
      valueSerde: options.value as Serde<unknown>,
      timestampExtractor: options.timestampExtractor,
    })
    // As in Kafka Streams, a table is kept in a store only when it is named (queryable) or a
    // join needs it; an unmaterialized table forwards changes without their old values.
    let storeName: string | undefined
    const name = g.newName('KTABLE-SOURCE-')
    const materialize = (given?: string): string => {
      if (storeName !== undefined) return storeName
      storeName = given ?? generatedStore
      g.addStore({
        name: storeName,
        keySerde: options.key as Serde<unknown>,
        valueSerde: options.value as Serde<unknown>,
        supplier: options.store ?? inMemoryStore,
        logged: options.logging ?? true,
        timestamped: true,
      })
      const node = g.nodes.get(name)
      if (node?.kind === 'processor') node.stores.push(storeName)
      return storeName
    }
    g.addProcessor(
      name,
      () => ({
        process: (r, c) => {
          if (r.key === null || r.key === undefined) {
            c.recordDropped('null-key-or-value')
            return
          }
          let old: V | null = null
          if (storeName !== undefined) {
            const store = c.keyValueStore<K, V>(storeName)
            old = store.get(r.key as K) ?? null
            store.putWithTimestamp(r.key as K, r.value as V | null, r.timestamp)
          }
          const change: Change<V> = { newValue: r.value as V | null, oldValue: old }
          c.forward({ key: r.key, value: change, timestamp: r.timestamp })
        },
      }),
      [source],
    )
    if (options.storeName !== undefined) materialize(options.storeName)
    return new KTable<K, V>(
      { graph: g, node: name, keySerde: options.key, valueSerde: options.value, repartitionRequired: false },
      materialize,
      undefined,
      // Old values come from the store, as in Kafka Streams (sending them materializes the table).
      () => void materialize(),
    )
  }

  /**
   * A key-value store for processors added with KStream.process / processValues (name it in
   * their `stores`); backed by the changelog `<applicationId>-<name>-changelog` unless
   * `logging: false`. Values are stored as the value serde writes them (no timestamp).
   */
  addStateStore<K, V>(store: {
    name: string
    key: Serde<K>
    value: Serde<V>
    logging?: boolean
    store?: BytesStoreSupplier
  }): this {
    this._graph.addStore({
      name: store.name,
      keySerde: store.key as Serde<unknown>,
      valueSerde: store.value as Serde<unknown>,
      supplier: store.store ?? inMemoryStore,
      logged: store.logging ?? true,
      timestamped: false,
    })
    return this
  }

  /** The topology built so far (checked: every sink has serdes, stores belong to one sub-topology). */
  build(): Topology {
    return this._graph.build()
  }
}
