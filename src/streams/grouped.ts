// KGroupedStream: count, reduce and aggregate into a key-value store (changelogged), emitting a
// KTable update per input record (no record cache, as Kafka Streams with caching disabled).
// A grouping after a key change repartitions first, through `<name>-repartition`.

import { TopologyError } from './errors.js'
import { KTable } from './ktable.js'
import { repartitionThrough, type StreamNode } from './kstream.js'
import { Serdes, type Serde } from './serdes.js'
import { inMemoryStore, type BytesStoreSupplier } from './stores.js'
import { SessionWindowedKStream, TimeWindowedKStream } from './windowed.js'
import { TimeWindows, type SessionWindows } from './windows.js'

/** Where an aggregation keeps its state. */
export interface Materialized<K, V> {
  /** The store's name (queryable; its changelog is `<applicationId>-<storeName>-changelog`). */
  storeName?: string
  key?: Serde<K>
  value?: Serde<V>
  /** The store implementation; default in memory. */
  store?: BytesStoreSupplier
  /** Back the store with a changelog topic; default true. */
  logging?: boolean
}

export class KGroupedStream<K, V> {
  /** @internal */
  readonly _n: StreamNode<K, V>
  /** @internal */
  readonly _groupName: string | undefined

  /** @internal Use KStream.groupByKey() or groupBy(). */
  constructor(n: StreamNode<K, V>, groupName: string | undefined) {
    this._n = n
    this._groupName = groupName
  }

  /** Aggregates per key and time window (tumbling or hopping). */
  windowedBy(windows: TimeWindows): TimeWindowedKStream<K, V>
  /** Aggregates per key and session (activity separated by an inactivity gap). */
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>
  windowedBy(windows: TimeWindows | SessionWindows): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    return windows instanceof TimeWindows
      ? new TimeWindowedKStream<K, V>(this, windows)
      : new SessionWindowedKStream<K, V>(this, windows)
  }

  /** The number of records per key (records with a null key or value are dropped). */
  count(materialized: Materialized<K, number> = {}): KTable<K, number> {
    return this.#aggregate<number>('AGGREGATE', (_k, _v, agg) => (agg ?? 0) + 1, {
      ...materialized,
      value: materialized.value ?? Serdes.Long,
    })
  }

  /** Combines the values per key: the first value as is, then reducer(aggregate, value). */
  reduce(reducer: (aggregate: V, value: V) => V, materialized: Materialized<K, V> = {}): KTable<K, V> {
    return this.#aggregate<V>('REDUCE', (_k, v, agg) => (agg === undefined ? v : reducer(agg, v)), {
      ...materialized,
      value: materialized.value ?? this._n.valueSerde,
    })
  }

  /** Folds the values per key, starting from initializer() for a key not seen yet. */
  aggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    materialized: Materialized<K, VA> & { value: Serde<VA> },
  ): KTable<K, VA> {
    return this.#aggregate<VA>(
      'AGGREGATE',
      (k, v, agg) => aggregator(k, v, agg === undefined ? initializer() : agg),
      materialized,
    )
  }

  #aggregate<VA>(
    kind: 'AGGREGATE' | 'REDUCE',
    step: (key: K, value: V, aggregate: VA | undefined) => VA,
    materialized: Omit<Materialized<K, VA>, 'value'> & { value: Serde<VA> | undefined },
  ): KTable<K, VA> {
    const g = this._n.graph
    const keySerde = materialized.key ?? this._n.keySerde
    const valueSerde = materialized.value
    if (keySerde === undefined) throw new TopologyError('aggregation needs a key serde: pass { key: Serdes.X }')
    if (valueSerde === undefined) throw new TopologyError('aggregation needs a value serde: pass { value: Serdes.X }')
    const storeName = materialized.storeName ?? g.newName(`KSTREAM-${kind}-STATE-STORE-`)
    // Named before the repartition nodes, as Kafka Streams numbers them.
    const name = g.newName(`KSTREAM-${kind}-`)
    let input = this._n
    if (input.repartitionRequired) {
      input = repartitionThrough({ ...input, keySerde }, this._groupName ?? storeName, undefined, true)._n
    }
    g.addStore({
      name: storeName,
      keySerde: keySerde as Serde<unknown>,
      valueSerde: valueSerde as Serde<unknown>,
      supplier: materialized.store ?? inMemoryStore,
      logged: materialized.logging ?? true,
      timestamped: true,
    })
    g.addProcessor(
      name,
      () => ({
        process: (r, c) => {
          if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) {
            c.recordDropped('null-key-or-value')
            return
          }
          const store = c.keyValueStore<K, VA>(storeName)
          const old = store.getWithTimestamp(r.key as K)
          const next = step(r.key as K, r.value as V, old?.value)
          // The result's time is the latest of the records it comes from (Kafka Streams 3.x+).
          const timestamp = Math.max(old?.timestamp ?? -1, r.timestamp)
          store.putWithTimestamp(r.key as K, next, timestamp)
          c.forward({ key: r.key, value: { newValue: next, oldValue: old?.value ?? null }, timestamp })
        },
      }),
      [input.node],
      [storeName],
    )
    // Its updates always carry the old value.
    return new KTable<K, VA>(
      { graph: g, node: name, keySerde, valueSerde, repartitionRequired: false },
      storeName,
      undefined,
      () => {},
    )
  }
}
