// Windowed aggregations (Kafka Streams' KStreamWindowAggregate and KStreamSessionWindowAggregate):
// per key and window, kept in a changelogged store, one update per record (no cache). Stream time
// is the largest timestamp the processor has seen; a time window closes when its end + grace <=
// stream time, a session when its end + gap + grace < stream time; records for a closed window
// are dropped and counted as late.

import { TopologyError } from './errors.js'
import type { KGroupedStream, Materialized } from './grouped.js'
import { KTable } from './ktable.js'
import { repartitionThrough, type StreamNode } from './kstream.js'
import type { ProcessorContext, StreamRecord } from './processor.js'
import { Serdes, type Serde } from './serdes.js'
import { inMemoryStore } from './stores.js'
import type { TopologyGraph } from './topology.js'
import { WindowedSerdes, type SessionWindows, type TimeWindows, type Window, type Windowed } from './windows.js'

/** Kafka's window-store key: key bytes, 8-byte window start, 4-byte sequence number (0). */
function windowStoreKey<K>(inner: Serde<K>, size: number): Serde<Windowed<K>> {
  const outer = WindowedSerdes.timeWindowed(inner, size)
  return {
    serialize: (w) => Buffer.concat([outer.serialize(w), Buffer.alloc(4)]),
    deserialize: (b) => outer.deserialize(b.subarray(0, b.length - 4)),
  }
}

interface Prepared<K, V> {
  g: TopologyGraph
  keySerde: Serde<K>
  storeName: string
  name: string
  input: StreamNode<K, V>
}

function prepare<K, V>(
  grouped: KGroupedStream<K, V>,
  kind: 'AGGREGATE' | 'REDUCE',
  materialized: Materialized<K, unknown>,
): Prepared<K, V> {
  const g = grouped._n.graph
  const keySerde = materialized.key ?? grouped._n.keySerde
  if (keySerde === undefined) throw new TopologyError('windowed aggregation needs a key serde: pass { key: Serdes.X }')
  const storeName = materialized.storeName ?? g.newName(`KSTREAM-${kind}-STATE-STORE-`)
  const name = g.newName(`KSTREAM-${kind}-`)
  let input = grouped._n
  if (input.repartitionRequired) {
    input = repartitionThrough({ ...input, keySerde }, grouped._groupName ?? storeName, undefined, true)._n
  }
  return { g, keySerde, storeName, name, input }
}

const isNull = (r: StreamRecord<unknown, unknown>): boolean =>
  r.key === null || r.key === undefined || r.value === null || r.value === undefined

export class TimeWindowedKStream<K, V> {
  readonly #grouped: KGroupedStream<K, V>
  readonly #windows: TimeWindows

  /** @internal Use KGroupedStream.windowedBy(). */
  constructor(grouped: KGroupedStream<K, V>, windows: TimeWindows) {
    this.#grouped = grouped
    this.#windows = windows
  }

  count(materialized: Materialized<K, number> = {}): KTable<Windowed<K>, number> {
    // Kafka Streams numbers one node more for a windowed count than for aggregate().
    this.#grouped._n.graph.skipNames(1)
    return this.#aggregate<number>('AGGREGATE', (_k, _v, agg) => (agg ?? 0) + 1, materialized, Serdes.Long)
  }

  reduce(reducer: (aggregate: V, value: V) => V, materialized: Materialized<K, V> = {}): KTable<Windowed<K>, V> {
    return this.#aggregate<V>(
      'REDUCE',
      (_k, v, agg) => (agg === undefined ? v : reducer(agg, v)),
      materialized,
      this.#grouped._n.valueSerde,
    )
  }

  aggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    materialized: Materialized<K, VA> & { value: Serde<VA> },
  ): KTable<Windowed<K>, VA> {
    return this.#aggregate<VA>(
      'AGGREGATE',
      (k, v, agg) => aggregator(k, v, agg === undefined ? initializer() : agg),
      materialized,
      undefined,
    )
  }

  #aggregate<VA>(
    kind: 'AGGREGATE' | 'REDUCE',
    step: (key: K, value: V, aggregate: VA | undefined) => VA,
    materialized: Materialized<K, VA>,
    defaultValueSerde: Serde<VA> | undefined,
  ): KTable<Windowed<K>, VA> {
    const valueSerde = materialized.value ?? defaultValueSerde
    if (valueSerde === undefined)
      throw new TopologyError('windowed aggregation needs a value serde: pass { value: Serdes.X }')
    const { g, keySerde, storeName, name, input } = prepare(this.#grouped, kind, materialized)
    const windows = this.#windows
    // Kafka's default retention: size + grace; older windows are removed from the store.
    const retention = windows.size + windows.grace
    g.addStore({
      name: storeName,
      keySerde: windowStoreKey(keySerde, windows.size) as Serde<unknown>,
      valueSerde: valueSerde as Serde<unknown>,
      supplier: materialized.store ?? inMemoryStore,
      logged: materialized.logging ?? true,
      timestamped: true,
      windowRetention: retention,
    })
    g.addProcessor(
      name,
      () => {
        let observed = -1
        let sincePurge = 0
        return {
          process: (r: StreamRecord<unknown, unknown>, c: ProcessorContext) => {
            if (isNull(r)) return c.recordDropped('null-key-or-value')
            observed = Math.max(observed, r.timestamp)
            const closeTime = observed - windows.grace
            const store = c.keyValueStore<Windowed<K>, VA>(storeName)
            for (const window of windows.windowsFor(r.timestamp)) {
              if (window.end <= closeTime) {
                c.recordDropped('late')
                continue
              }
              const key = { key: r.key as K, window }
              const old = store.getWithTimestamp(key)
              const next = step(r.key as K, r.value as V, old?.value)
              const timestamp = Math.max(old?.timestamp ?? -1, r.timestamp)
              store.putWithTimestamp(key, next, timestamp)
              c.forward({ key, value: { newValue: next, oldValue: old?.value ?? null }, timestamp })
            }
            if (++sincePurge >= 1000) {
              sincePurge = 0
              purge(store, (w) => w.start < observed - retention)
            }
          },
        }
      },
      [input.node],
      [storeName],
    )
    return new KTable<Windowed<K>, VA>(
      {
        graph: g,
        node: name,
        keySerde: WindowedSerdes.timeWindowed(keySerde, windows.size),
        valueSerde,
        repartitionRequired: false,
      },
      storeName,
      windows.grace,
    )
  }
}

function purge(
  store: { all(): Iterable<[Windowed<unknown>, unknown]>; delete(key: Windowed<unknown>): void },
  expired: (w: Window) => boolean,
): void {
  const old = [...store.all()].filter(([k]) => expired(k.window)).map(([k]) => k)
  for (const k of old) store.delete(k)
}

export class SessionWindowedKStream<K, V> {
  readonly #grouped: KGroupedStream<K, V>
  readonly #windows: SessionWindows

  /** @internal Use KGroupedStream.windowedBy(). */
  constructor(grouped: KGroupedStream<K, V>, windows: SessionWindows) {
    this.#grouped = grouped
    this.#windows = windows
  }

  count(materialized: Materialized<K, number> = {}): KTable<Windowed<K>, number> {
    this.#grouped._n.graph.skipNames(1)
    return this.#aggregate<number>(
      'AGGREGATE',
      () => 0,
      (_k, _v, agg) => agg + 1,
      (_k, a, b) => a + b,
      materialized,
      Serdes.Long,
    )
  }

  /** Folds each session; `merger` combines two sessions that a record joins into one. */
  aggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    merger: (key: K, left: VA, right: VA) => VA,
    materialized: Materialized<K, VA> & { value: Serde<VA> },
  ): KTable<Windowed<K>, VA> {
    return this.#aggregate<VA>('AGGREGATE', initializer, aggregator, merger, materialized, undefined)
  }

  #aggregate<VA>(
    kind: 'AGGREGATE' | 'REDUCE',
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    merger: (key: K, left: VA, right: VA) => VA,
    materialized: Materialized<K, VA>,
    defaultValueSerde: Serde<VA> | undefined,
  ): KTable<Windowed<K>, VA> {
    const valueSerde = materialized.value ?? defaultValueSerde
    if (valueSerde === undefined)
      throw new TopologyError('session aggregation needs a value serde: pass { value: Serdes.X }')
    const { g, keySerde, storeName, name, input } = prepare(this.#grouped, kind, materialized)
    const windows = this.#windows
    const storeKey = WindowedSerdes.sessionWindowed(keySerde)
    g.addStore({
      name: storeName,
      keySerde: storeKey as Serde<unknown>,
      valueSerde: valueSerde as Serde<unknown>,
      supplier: materialized.store ?? inMemoryStore,
      logged: materialized.logging ?? true,
      timestamped: false,
      windowRetention: windows.gap + windows.grace,
    })
    const retention = windows.gap + windows.grace
    g.addProcessor(
      name,
      () => {
        let observed = -1
        // The store's own clock, as Kafka's session stores keep it: the latest session end put.
        // Sessions that ended `retention` before it are expired: never found, never merged.
        let storeTime: number | undefined
        let sincePurge = 0
        return {
          process: (r: StreamRecord<unknown, unknown>, c: ProcessorContext) => {
            if (isNull(r)) return c.recordDropped('null-key-or-value')
            const ts = r.timestamp
            observed = Math.max(observed, ts)
            // A session can still grow for `gap` after its end, so it closes gap + grace later.
            const closeTime = observed - windows.grace - windows.gap
            const store = c.keyValueStore<Windowed<K>, VA>(storeName)
            // After a restore, the clock starts from what the store holds.
            storeTime ??= Math.max(-1, ...[...store.all()].map(([w]) => w.window.end))
            const live = storeTime - retention + 1
            const keyBytes = Buffer.from(keySerde.serialize(r.key as K))
            // Live sessions of this key that end at or after ts - gap and start at or before ts + gap.
            const overlapping = [...store.all()]
              .filter(
                ([w]) =>
                  w.window.end >= live &&
                  w.window.end >= ts - windows.gap &&
                  w.window.start <= ts + windows.gap &&
                  Buffer.from(keySerde.serialize(w.key)).equals(keyBytes),
              )
              .sort(([a], [b]) => a.window.end - b.window.end || a.window.start - b.window.start)
            let merged: Window = { start: ts, end: ts }
            let agg = initializer()
            for (const [w, v] of overlapping) {
              agg = merger(r.key as K, agg, v)
              merged = { start: Math.min(merged.start, w.window.start), end: Math.max(merged.end, w.window.end) }
            }
            // Kafka drops a record whose merged session ended before the close time (strictly).
            if (merged.end < closeTime) return c.recordDropped('late')
            if (merged.start !== ts || merged.end !== ts) {
              for (const [w, v] of overlapping) {
                store.delete(w)
                c.forward({ key: w, value: { newValue: null, oldValue: v }, timestamp: w.window.end })
              }
            }
            agg = aggregator(r.key as K, r.value as V, agg)
            const key = { key: r.key as K, window: merged }
            store.put(key, agg)
            storeTime = Math.max(storeTime, merged.end)
            c.forward({ key, value: { newValue: agg, oldValue: null }, timestamp: merged.end })
            if (++sincePurge >= 1000) {
              sincePurge = 0
              const cutoff = storeTime - retention + 1
              purge(store, (w) => w.end < cutoff)
            }
          },
        }
      },
      [input.node],
      [storeName],
    )
    return new KTable<Windowed<K>, VA>(
      { graph: g, node: name, keySerde: storeKey, valueSerde, repartitionRequired: false },
      storeName,
      windows.grace,
    )
  }
}
