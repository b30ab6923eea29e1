// KTable.groupBy(...).count/reduce/aggregate (Kafka Streams' KGroupedTable): each update of
// the table is re-keyed by the selector and sent through the repartition topic
// `<store or group name>-repartition` as the pair (new value, old value) in Kafka's Change
// format, so that the aggregation can subtract the row's old value from the group it left and
// add its new value to the group it joined. Results carry the largest timestamp involved.

import { SerdeError, TopologyError } from './errors.js'
import type { Materialized } from './grouped.js'
import { KTable } from './ktable.js'
import type { StreamNode } from './kstream.js'
import type { Change } from './processor.js'
import { Serdes, type Serde } from './serdes.js'
import { inMemoryStore } from './stores.js'

/**
 * Kafka's ChangedSerializer (3.4+): `old + 0x00`, `new + 0x01`, or both as
 * `varint(new length) + new + old + 0x02`; flags 3-5 (versioned tables, an is-latest byte
 * before the flag) are read too.
 */
export function changeSerde<V>(inner: Serde<V>): Serde<Change<V>> {
  return {
    serialize: ({ newValue, oldValue }) => {
      const n = newValue === null ? null : Buffer.from(inner.serialize(newValue))
      const o = oldValue === null ? null : Buffer.from(inner.serialize(oldValue))
      if (n !== null && o !== null) return Buffer.concat([zigzagVarint(n.length), n, o, Buffer.from([2])])
      if (n !== null) return Buffer.concat([n, Buffer.from([1])])
      if (o !== null) return Buffer.concat([o, Buffer.from([0])])
      throw new SerdeError('change serde: both the new and the old value are null')
    },
    deserialize: (b) => {
      if (b.length < 1) throw new SerdeError('change serde: empty')
      const flag = b[b.length - 1]!
      if (flag > 5) throw new SerdeError(`change serde: unknown flag ${flag}`)
      // Flags 3-5 are 0-2 with an is-latest byte before the flag.
      const end = flag >= 3 && flag <= 5 ? b.length - 2 : b.length - 1
      if (end < 0) throw new SerdeError(`change serde: flag ${flag} without data`)
      const body = b.subarray(0, end)
      switch (flag % 3) {
        case 0:
          return { newValue: null, oldValue: inner.deserialize(body) }
        case 1:
          return { newValue: inner.deserialize(body), oldValue: null }
        default: {
          const { value: length, size } = readZigzagVarint(body)
          if (length < 0 || size + length > body.length) throw new SerdeError('change serde: bad new-value length')
          return {
            newValue: inner.deserialize(body.subarray(size, size + length)),
            oldValue: inner.deserialize(body.subarray(size + length)),
          }
        }
      }
    },
  }
}

function zigzagVarint(n: number): Buffer {
  let v = ((n << 1) ^ (n >> 31)) >>> 0
  const out: number[] = []
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v >>>= 7
  }
  out.push(v)
  return Buffer.from(out)
}

function readZigzagVarint(b: Buffer): { value: number; size: number } {
  let v = 0
  for (let i = 0; i < 5 && i < b.length; i++) {
    v |= (b[i]! & 0x7f) << (7 * i)
    if ((b[i]! & 0x80) === 0) {
      const u = v >>> 0
      return { value: (u >>> 1) ^ -(u & 1), size: i + 1 }
    }
  }
  throw new SerdeError('change serde: bad varint')
}

export class KGroupedTable<K, V> {
  /** @internal The node emits Change<V> values keyed by the new key (the KTABLE-SELECT node). */
  readonly _n: StreamNode<K, V> & { keySerde: Serde<K>; valueSerde: Serde<V> }
  readonly #groupName: string | undefined
  /** A named group's repartition source, shared by all its aggregations (as in Kafka Streams). */
  #source: string | undefined

  /** @internal Use KTable.groupBy(). */
  constructor(n: StreamNode<K, V> & { keySerde: Serde<K>; valueSerde: Serde<V> }, groupName: string | undefined) {
    this._n = n
    this.#groupName = groupName
  }

  /** The number of rows per group. */
  count(materialized: Materialized<K, number> = {}): KTable<K, number> {
    return this.#aggregate<number>(
      'AGGREGATE',
      () => 0,
      (_k, _v, agg) => agg + 1,
      (_k, _v, agg) => agg - 1,
      { ...materialized, value: materialized.value ?? Serdes.Long },
    )
  }

  /** Combines the rows per group: `adder` for a row that joins it, `subtractor` for one that leaves. */
  reduce(
    adder: (aggregate: V, value: V) => V,
    subtractor: (aggregate: V, value: V) => V,
    materialized: Materialized<K, V> = {},
  ): KTable<K, V> {
    return this.#aggregate<V>(
      'REDUCE',
      undefined,
      (_k, v, agg) => adder(agg, v),
      (_k, v, agg) => subtractor(agg, v),
      { ...materialized, value: materialized.value ?? this._n.valueSerde },
    )
  }

  /** Folds the rows per group, starting from initializer(). */
  aggregate<VA>(
    initializer: () => VA,
    adder: (key: K, value: V, aggregate: VA) => VA,
    subtractor: (key: K, value: V, aggregate: VA) => VA,
    materialized: Materialized<K, VA> & { value: Serde<VA> },
  ): KTable<K, VA> {
    return this.#aggregate<VA>('AGGREGATE', initializer, adder, subtractor, materialized)
  }

  #aggregate<VA>(
    kind: 'AGGREGATE' | 'REDUCE',
    // undefined: reduce (the first value is the aggregate).
    initializer: (() => VA) | undefined,
    adder: (key: K, value: V, aggregate: VA) => VA,
    subtractor: (key: K, value: V, aggregate: VA) => VA,
    materialized: Materialized<K, VA> & { value: Serde<VA> },
  ): KTable<K, VA> {
    const g = this._n.graph
    const keySerde = materialized.key ?? this._n.keySerde
    // As Kafka Streams: the store (named KTABLE-AGGREGATE-... even for reduce), sink, source, then the processor.
    const storeName = materialized.storeName ?? g.newName('KTABLE-AGGREGATE-STATE-STORE-')
    const sink = g.newName('KSTREAM-SINK-')
    let source = g.newName('KSTREAM-SOURCE-')
    const name = g.newName(`KTABLE-${kind}-`)
    const topic = `${this.#groupName ?? storeName}-repartition`
    if (this.#source !== undefined) {
      source = this.#source
    } else {
      const changes = changeSerde(this._n.valueSerde) as Serde<unknown>
      g.addRepartitionTopic(topic, undefined)
      g.addSink(sink, topic, [this._n.node], {
        internal: true,
        keySerde: keySerde as Serde<unknown>,
        valueSerde: changes,
      })
      g.addSource(source, [topic], {
        internal: true,
        keySerde: keySerde as Serde<unknown>,
        valueSerde: changes,
        timestampExtractor: undefined,
      })
      if (this.#groupName !== undefined) this.#source = source
    }
    g.addStore({
      name: storeName,
      keySerde: keySerde as Serde<unknown>,
      valueSerde: materialized.value as Serde<unknown>,
      supplier: materialized.store ?? inMemoryStore,
      logged: materialized.logging ?? true,
      timestamped: true,
    })
    g.addProcessor(
      name,
      () => ({
        process: (r, c) => {
          if (r.key === null || r.key === undefined) {
            throw new TopologyError(`${name}: a record with a null key in the repartition topic '${topic}'`)
          }
          const key = r.key as K
          const change = r.value as Change<V>
          const store = c.keyValueStore<K, VA>(storeName)
          const old = store.getWithTimestamp(key)
          let agg = old?.value
          let timestamp = r.timestamp
          // The row's old value leaves the group first, then its new value joins it.
          if (change.oldValue !== null && old !== undefined) {
            agg = subtractor(key, change.oldValue, old.value)
            timestamp = Math.max(r.timestamp, old.timestamp)
          }
          if (change.newValue !== null) {
            if (agg !== undefined) agg = adder(key, change.newValue, agg)
            else
              agg =
                initializer === undefined
                  ? (change.newValue as unknown as VA)
                  : adder(key, change.newValue, initializer())
            if (old !== undefined) timestamp = Math.max(r.timestamp, old.timestamp)
          }
          const next = agg ?? null
          store.putWithTimestamp(key, next, timestamp)
          c.forward({ key, value: { newValue: next, oldValue: old?.value ?? null }, timestamp })
        },
      }),
      [source],
      [storeName],
    )
    return new KTable<K, VA>(
      { graph: g, node: name, keySerde, valueSerde: materialized.value, repartitionRequired: false },
      storeName,
      undefined,
      () => {},
    )
  }
}
