// KTable: a changelog stream (each record a Change of one key's value) and its operators.

import { KStream, type Named } from './kstream.js'
import type { Change } from './processor.js'
import type { Serde } from './serdes.js'
import type { StreamNode } from './kstream.js'

export class KTable<K, V> {
  /** @internal The node emits Change<V> values. */
  readonly _n: StreamNode<K, V>
  /** The store holding the table, when it is materialized (interactive queries use it). */
  readonly queryableStoreName: string | undefined

  /** @internal Use StreamsBuilder.table() or an aggregation. */
  constructor(n: StreamNode<K, V>, storeName: string | undefined) {
    this._n = n
    this.queryableStoreName = storeName
  }

  /** The table's updates as a stream; a deletion is a record with a null value. */
  toStream(options: Named = {}): KStream<K, V | null> {
    const g = this._n.graph
    const name = options.name !== undefined ? g.checkName(options.name) : g.newName('KTABLE-TOSTREAM-')
    g.addProcessor(
      name,
      () => ({
        process: (r, c) => c.forward({ key: r.key, value: (r.value as Change<V>).newValue, timestamp: r.timestamp }),
      }),
      [this._n.node],
    )
    return new KStream<K, V | null>({ ...this._n, node: name })
  }

  /** Keeps the rows `predicate` accepts; a row it rejects is a deletion (tombstone) downstream. */
  filter(predicate: (key: K, value: V) => boolean, options: Named = {}): KTable<K, V> {
    const keep = (k: K, v: V | null): V | null => (v !== null && predicate(k, v) ? v : null)
    return this.#then<V>(
      'FILTER',
      options,
      (k, change) => ({ newValue: keep(k, change.newValue), oldValue: keep(k, change.oldValue) }),
      this._n.valueSerde,
    )
  }

  filterNot(predicate: (key: K, value: V) => boolean, options: Named = {}): KTable<K, V> {
    return this.filter((k, v) => !predicate(k, v), options)
  }

  /** A new value per row. */
  mapValues<V2>(mapper: (value: V, key: K) => V2, options: { value?: Serde<V2> } & Named = {}): KTable<K, V2> {
    const map = (k: K, v: V | null): V2 | null => (v === null ? null : mapper(v, k))
    return this.#then<V2>(
      'MAPVALUES',
      options,
      (k, change) => ({ newValue: map(k, change.newValue), oldValue: map(k, change.oldValue) }),
      options.value,
    )
  }

  #then<V2>(
    prefix: string,
    options: Named,
    fn: (key: K, change: Change<V>) => Change<V2>,
    valueSerde: Serde<V2> | undefined,
  ): KTable<K, V2> {
    const g = this._n.graph
    const name = options.name !== undefined ? g.checkName(options.name) : g.newName(`KTABLE-${prefix}-`)
    g.addProcessor(
      name,
      () => ({
        process: (r, c) => {
          // Forwarded even when both sides are null: a row filtered out is a tombstone downstream,
          // as in Kafka Streams when no old values are requested.
          c.forward({ key: r.key, value: fn(r.key as K, r.value as Change<V>), timestamp: r.timestamp })
        },
      }),
      [this._n.node],
    )
    return new KTable<K, V2>(
      {
        graph: g,
        node: name,
        keySerde: this._n.keySerde,
        valueSerde,
        repartitionRequired: false,
      },
      undefined,
    )
  }
}
