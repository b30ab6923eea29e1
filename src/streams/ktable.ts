// KTable: a changelog stream (each record a Change of one key's value) and its operators.

import { KGroupedTable } from './grouped-table.js'
import { KStream, type KeyValue, type Named } from './kstream.js'
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

  /**
   * @internal Makes the node's updates carry the row's old value (a source table is then kept in
   * a store); undefined when the table cannot (a join result, a windowed table).
   */
  readonly _sendOldValues: (() => void) | undefined

  /** @internal Use StreamsBuilder.table() or an aggregation. */
  constructor(
    n: StreamNode<K, V>,
    store: string | (() => string) | undefined,
    windowGrace?: number,
    sendOldValues?: () => void,
  ) {
    this._n = n
    this._materialize = typeof store === 'string' ? () => store : store
    this._windowGrace = windowGrace
    this._sendOldValues = sendOldValues
  }

  /**
   * Groups the rows by a new key and value (Kafka's KGroupedTable): each update goes through a
   * repartition topic as (new, old) so that count/reduce/aggregate can subtract a row's old
   * value from its former group. Rows whose selected key or value is null are left out.
   */
  groupBy<K2, V2>(
    selector: (key: K, value: V) => KeyValue<K2 | null, V2 | null>,
    options: { key: Serde<K2>; value: Serde<V2> } & Named,
  ): KGroupedTable<K2, V2> {
    const g = this._n.graph
    if (this._sendOldValues === undefined) {
      throw new TopologyError('groupBy: this table cannot send old values (a join result or a windowed table)')
    }
    if (options.key === undefined || options.value === undefined) {
      throw new TopologyError('KTable.groupBy needs the new key and value serdes: pass { key, value }')
    }
    // Kafka Streams draws the generated number even when the group is named.
    const generated = g.newName('KTABLE-SELECT-')
    const name = options.name !== undefined ? g.checkName(options.name) : generated
    g.addProcessor(
      name,
      () => ({
        process: (r, c) => {
          const change = r.value as Change<V>
          const pick = (v: V | null): KeyValue<K2, V2> | undefined => {
            if (v === null) return undefined
            const kv = selector(r.key as K, v)
            return kv.key === null || kv.value === null ? undefined : (kv as KeyValue<K2, V2>)
          }
          const next = pick(change.newValue)
          const prev = pick(change.oldValue)
          const k2 = options.key
          if (
            next !== undefined &&
            prev !== undefined &&
            Buffer.from(k2.serialize(next.key)).equals(Buffer.from(k2.serialize(prev.key)))
          ) {
            // The row stays in its group: one update with both values.
            c.forward({ key: next.key, value: { newValue: next.value, oldValue: prev.value }, timestamp: r.timestamp })
            return
          }
          // The row leaves its old group first, then joins the new one.
          if (prev !== undefined)
            c.forward({ key: prev.key, value: { newValue: null, oldValue: prev.value }, timestamp: r.timestamp })
          if (next !== undefined)
            c.forward({ key: next.key, value: { newValue: next.value, oldValue: null }, timestamp: r.timestamp })
        },
      }),
      [this._n.node],
    )
    this._sendOldValues()
    return new KGroupedTable<K2, V2>(
      { graph: g, node: name, keySerde: options.key, valueSerde: options.value, repartitionRequired: false },
      options.name,
    )
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
      true,
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
    dropEmpty = false,
  ): KTable<K, V2> {
    const g = this._n.graph
    const name = options.name !== undefined ? g.checkName(options.name) : g.newName(`KTABLE-${prefix}-`)
    // Set at build time, before any record, when a node below asks for old values.
    let oldValuesSent = false
    g.addProcessor(
      name,
      () => ({
        process: (r, c) => {
          const change = fn(r.key as K, r.value as Change<V>)
          // A row filtered out is a tombstone downstream, as in Kafka Streams; but when old values
          // are sent, an update that was and stays filtered out is not forwarded at all.
          if (dropEmpty && oldValuesSent && change.newValue === null && change.oldValue === null) return
          c.forward({ key: r.key, value: change, timestamp: r.timestamp })
        },
      }),
      [this._n.node],
    )
    const parentSendOld = this._sendOldValues
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
      parentSendOld === undefined
        ? undefined
        : () => {
            oldValuesSent = true
            parentSendOld()
          },
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
