// KTable: a changelog stream (each record a Change of one key's value) and its operators.

import { KStream, type Named } from './kstream.js'
import type { Change } from './processor.js'
import type { Serde } from './serdes.js'
import type { StreamNode } from './kstream.js'
import { TopologyError } from './errors.js'
import { inMemoryStore } from './stores.js'
import type { Windowed } from './windows.js'

export class KTable<K, V> {
  /** @internal The node emits Change<V> values. */
  readonly _n: StreamNode<K, V>
  /** @internal Keeps the table in a store (if not yet) and names it; undefined when it cannot be. */
  readonly _materialize: (() => string) | undefined

  /** @internal Grace of the windows when the table is a windowed aggregation (for suppress). */
  readonly _windowGrace: number | undefined

  /** @internal Use StreamsBuilder.table() or an aggregation. */
  constructor(n: StreamNode<K, V>, store: string | (() => string) | undefined, windowGrace?: number) {
    this._n = n
    this._materialize = typeof store === 'string' ? () => store : store
    this._windowGrace = windowGrace
  }

  /**
   * Holds back a windowed table's updates until the window closes (end + grace <= stream
   * time), then emits each window's final value once. The buffer is a changelogged store.
   */
  suppress(_suppressed: { kind: 'untilWindowCloses' }, options: Named = {}): KTable<K, V> {
    const grace = this._windowGrace
    if (grace === undefined) throw new TopologyError('suppress(untilWindowCloses) needs a windowed table (windowedBy)')
    const g = this._n.graph
    const keySerde = this._n.keySerde
    const valueSerde = this._n.valueSerde
    if (keySerde === undefined || valueSerde === undefined)
      throw new TopologyError('suppress needs the table key and value serdes')
    const name = options.name !== undefined ? g.checkName(options.name) : g.newName('KTABLE-SUPPRESS-')
    const storeName = options.name !== undefined ? `${options.name}-store` : g.newName('KTABLE-SUPPRESS-STATE-STORE-')
    g.addStore({
      name: storeName,
      keySerde: keySerde as Serde<unknown>,
      valueSerde: nullable(valueSerde) as Serde<unknown>,
      supplier: inMemoryStore,
      logged: true,
      timestamped: true,
    })
    g.addProcessor(
      name,
      () => {
        let observed = -1
        return {
          process: (r, c) => {
            observed = Math.max(observed, r.timestamp)
            const buffer = c.keyValueStore<Windowed<unknown>, { v: V | null }>(storeName)
            buffer.putWithTimestamp(r.key as Windowed<unknown>, { v: (r.value as Change<V>).newValue }, r.timestamp)
            const expiry = observed - grace
            const due = [...buffer.all()]
              .filter(([k]) => k.window.end <= expiry)
              .map(([k]) => ({ k, bytes: Buffer.from(keySerde.serialize(k as K)) }))
              // Kafka's buffer evicts by time (the window end), then by key bytes.
              .sort((a, b) => a.k.window.end - b.k.window.end || Buffer.compare(a.bytes, b.bytes))
            for (const { k } of due) {
              const entry = buffer.getWithTimestamp(k)!
              buffer.delete(k)
              c.forward({ key: k, value: { newValue: entry.value.v, oldValue: null }, timestamp: entry.timestamp })
            }
          },
        }
      },
      [this._n.node],
      [storeName],
    )
    return new KTable<K, V>({ ...this._n, node: name }, undefined, grace)
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

  /** Joins two tables on their keys: a row where both have a value (updates from either side). */
  join<VO, VR>(
    other: KTable<K, VO>,
    joiner: (value: V, otherValue: VO) => VR,
    options: { value?: Serde<VR> } = {},
  ): KTable<K, VR> {
    return this.#tableJoin<VO, VR>('inner', other, (a, b) => joiner(a!, b!), options)
  }

  /** Every row of this table, joined with the other's value or null. */
  leftJoin<VO, VR>(
    other: KTable<K, VO>,
    joiner: (value: V, otherValue: VO | null) => VR,
    options: { value?: Serde<VR> } = {},
  ): KTable<K, VR> {
    return this.#tableJoin<VO, VR>('left', other, (a, b) => joiner(a!, b), options)
  }

  /** Every key of either table, each side's value or null. */
  outerJoin<VO, VR>(
    other: KTable<K, VO>,
    joiner: (value: V | null, otherValue: VO | null) => VR,
    options: { value?: Serde<VR> } = {},
  ): KTable<K, VR> {
    return this.#tableJoin<VO, VR>('outer', other, joiner, options)
  }

  /**
   * Kafka's KTableKTable*Join without old values: an update on either side looks the key up in
   * the other side's store and emits the joined row (null when the join has no row any more),
   * timestamped with the later of the two; a side whose row the join type needs but that has
   * none emits nothing.
   */
  #tableJoin<VO, VR>(
    type: 'inner' | 'left' | 'outer',
    other: KTable<K, VO>,
    joiner: (value: V | null, otherValue: VO | null) => VR,
    options: { value?: Serde<VR> },
  ): KTable<K, VR> {
    const g = this._n.graph
    if (other._n.graph !== g) throw new TopologyError('join: the tables come from different StreamsBuilders')
    if (this._materialize === undefined || other._materialize === undefined) {
      throw new TopologyError('join: both tables must be source tables or aggregations (kept in a store)')
    }
    const thisStore = this._materialize()
    const otherStore = other._materialize()
    const merge = g.newName('KTABLE-MERGE-')
    const joinThis = g.newName('KTABLE-JOINTHIS-')
    const joinOther = g.newName('KTABLE-JOINOTHER-')
    // Which side must have a row for the join to have one: both (inner), this (left), either (outer).
    const needThis = type !== 'outer'
    const needOther = type === 'inner'
    const side = (name: string, parent: string, lookupStore: string, thisSide: boolean): void => {
      g.addProcessor(
        name,
        () => ({
          process: (r, c) => {
            const change = r.value as Change<unknown>
            const found = c.keyValueStore<K, unknown>(lookupStore).getWithTimestamp(r.key as K)
            const looked = found?.value ?? null
            // The side looked up must exist when the join type needs it.
            if (looked === null && (thisSide ? needOther : needThis)) return
            const mine = change.newValue
            const [a, b] = thisSide ? [mine, looked] : [looked, mine]
            const row =
              (a === null && needThis) || (b === null && needOther) || (a === null && b === null)
                ? null
                : joiner(a as V | null, b as VO | null)
            const timestamp = found === undefined ? r.timestamp : Math.max(r.timestamp, found.timestamp)
            c.forward({ key: r.key, value: { newValue: row, oldValue: null }, timestamp })
          },
        }),
        [parent],
        [lookupStore],
      )
    }
    side(joinThis, this._n.node, otherStore, true)
    side(joinOther, other._n.node, thisStore, false)
    g.addProcessor(merge, () => ({ process: (r, c) => c.forward(r) }), [joinThis, joinOther])
    return new KTable<K, VR>(
      { graph: g, node: merge, keySerde: this._n.keySerde, valueSerde: options.value, repartitionRequired: false },
      undefined,
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
      this._windowGrace,
    )
  }
}

/** A buffered table value: 1 byte (1 = a value follows, 0 = a deletion), then the value. */
function nullable<V>(inner: Serde<V>): Serde<{ v: V | null }> {
  return {
    serialize: ({ v }) => (v === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), inner.serialize(v)])),
    deserialize: (b) => ({ v: b[0] === 1 ? inner.deserialize(b.subarray(1)) : null }),
  }
}

/** How suppress() holds updates back (Kafka's Suppressed). */
export const Suppressed = {
  /** Emit only each window's final result, once it closes (unbounded buffer). */
  untilWindowCloses: (): { kind: 'untilWindowCloses' } => ({ kind: 'untilWindowCloses' }),
}
