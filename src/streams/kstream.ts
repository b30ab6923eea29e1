// KStream: a record stream and its stateless operators. Each operator adds one processor node;
// key-changing operators mark the stream so that a later grouping repartitions it (as Kafka
// Streams does), value-only operators keep the partitioning.

import { TopologyError } from './errors.js'
import { KGroupedStream } from './grouped.js'
import type { KTable } from './ktable.js'
import { JoinWindows, streamStreamJoin, type StreamJoinOptions, type StreamJoinType } from './stream-join.js'
import type { Processor, ProcessorContext, StreamRecord } from './processor.js'
import type { Serde } from './serdes.js'
import type { TopologyGraph } from './topology.js'

export interface KeyValue<K, V> {
  key: K
  value: V
}

/** Serdes an operator's result uses (a changed key or value loses the serde it had). */
export interface Produced<K, V> {
  key?: Serde<K>
  value?: Serde<V>
}

export interface Named {
  /** The processor's name (also used in internal topic names); default a generated one. */
  name?: string
}

export interface GroupedOptions<K, V> extends Produced<K, V>, Named {}

export interface RepartitionOptions<K, V> extends Produced<K, V>, Named {
  /** Partitions of the repartition topic; default: the most any upstream source topic has. */
  partitions?: number
}

/** A stream node: where it hangs in the graph, its serdes, and whether its key changed. */
export interface StreamNode<K, V> {
  graph: TopologyGraph
  node: string
  keySerde: Serde<K> | undefined
  valueSerde: Serde<V> | undefined
  repartitionRequired: boolean
}

type Fn = (record: StreamRecord<unknown, unknown>, context: ProcessorContext) => void

export class KStream<K, V> {
  /** @internal */
  readonly _n: StreamNode<K, V>

  /** @internal Use StreamsBuilder.stream(). */
  constructor(n: StreamNode<K, V>) {
    this._n = n
  }

  /** Adds a stateless processor node below this one. */
  #then<K2, V2>(
    prefix: string,
    fn: Fn,
    options: { name?: string | undefined; key?: Serde<K2> | undefined; value?: Serde<V2> | undefined },
    keyChanged: boolean,
  ): KStream<K2, V2> {
    const g = this._n.graph
    const name = options.name !== undefined ? g.checkName(options.name) : g.newName(`KSTREAM-${prefix}-`)
    g.addProcessor(name, () => ({ process: fn }), [this._n.node])
    return new KStream<K2, V2>({
      graph: g,
      node: name,
      keySerde: options.key,
      valueSerde: options.value,
      repartitionRequired: this._n.repartitionRequired || keyChanged,
    })
  }

  /** Keeps the records `predicate` accepts (a type guard narrows the value type). */
  filter<V2 extends V>(predicate: (key: K, value: V) => value is V2, options?: Named): KStream<K, V2>
  filter(predicate: (key: K, value: V) => boolean, options?: Named): KStream<K, V>
  filter(predicate: (key: K, value: V) => boolean, options: Named = {}): KStream<K, V> {
    return this.#then(
      'FILTER',
      (r, c) => {
        if (predicate(r.key as K, r.value as V)) c.forward(r)
      },
      { ...options, key: this._n.keySerde, value: this._n.valueSerde },
      false,
    )
  }

  /** Drops the records `predicate` accepts. */
  filterNot(predicate: (key: K, value: V) => boolean, options: Named = {}): KStream<K, V> {
    return this.filter((k, v) => !predicate(k, v), options)
  }

  /** A new key and value per record (marks the stream for repartitioning). */
  map<K2, V2>(mapper: (key: K, value: V) => KeyValue<K2, V2>, options: Produced<K2, V2> & Named = {}): KStream<K2, V2> {
    return this.#then<K2, V2>(
      'MAP',
      (r, c) => {
        const out = mapper(r.key as K, r.value as V)
        c.forward({ key: out.key, value: out.value, timestamp: r.timestamp })
      },
      options,
      true,
    )
  }

  /** A new value per record; the key (and partitioning) stays. */
  mapValues<V2>(mapper: (value: V, key: K) => V2, options: { value?: Serde<V2> } & Named = {}): KStream<K, V2> {
    return this.#then<K, V2>(
      'MAPVALUES',
      (r, c) => c.forward({ key: r.key, value: mapper(r.value as V, r.key as K), timestamp: r.timestamp }),
      { ...options, key: this._n.keySerde },
      false,
    )
  }

  /** Zero or more records per record (marks the stream for repartitioning). */
  flatMap<K2, V2>(
    mapper: (key: K, value: V) => Iterable<KeyValue<K2, V2>>,
    options: Produced<K2, V2> & Named = {},
  ): KStream<K2, V2> {
    return this.#then<K2, V2>(
      'FLATMAP',
      (r, c) => {
        for (const out of mapper(r.key as K, r.value as V)) {
          c.forward({ key: out.key, value: out.value, timestamp: r.timestamp })
        }
      },
      options,
      true,
    )
  }

  /** Zero or more values per record, each with the record's key. */
  flatMapValues<V2>(
    mapper: (value: V, key: K) => Iterable<V2>,
    options: { value?: Serde<V2> } & Named = {},
  ): KStream<K, V2> {
    return this.#then<K, V2>(
      'FLATMAPVALUES',
      (r, c) => {
        for (const value of mapper(r.value as V, r.key as K)) c.forward({ key: r.key, value, timestamp: r.timestamp })
      },
      { ...options, key: this._n.keySerde },
      false,
    )
  }

  /** A new key per record (marks the stream for repartitioning). */
  selectKey<K2>(selector: (key: K, value: V) => K2, options: { key?: Serde<K2> } & Named = {}): KStream<K2, V> {
    return this.#then<K2, V>(
      'KEY-SELECT',
      (r, c) => c.forward({ key: selector(r.key as K, r.value as V), value: r.value, timestamp: r.timestamp }),
      { ...options, value: this._n.valueSerde },
      true,
    )
  }

  /** Calls `action` for each record and passes it on unchanged. */
  peek(action: (key: K, value: V) => void, options: Named = {}): KStream<K, V> {
    return this.#then(
      'PEEK',
      (r, c) => {
        action(r.key as K, r.value as V)
        c.forward(r)
      },
      { ...options, key: this._n.keySerde, value: this._n.valueSerde },
      false,
    )
  }

  /** Calls `action` for each record; the end of this branch. */
  foreach(action: (key: K, value: V) => void, options: Named = {}): void {
    this.#then('FOREACH', (r) => action(r.key as K, r.value as V), options, false)
  }

  /** One stream of both streams' records (each keeps its order; no order between them). */
  merge(other: KStream<K, V>, options: Named = {}): KStream<K, V> {
    const g = this._n.graph
    if (other._n.graph !== g) throw new TopologyError('merge: the streams come from different StreamsBuilders')
    const name = options.name !== undefined ? g.checkName(options.name) : g.newName('KSTREAM-MERGE-')
    g.addProcessor(name, () => ({ process: (r, c) => c.forward(r) }), [this._n.node, other._n.node])
    return new KStream<K, V>({
      graph: g,
      node: name,
      keySerde: this._n.keySerde ?? other._n.keySerde,
      valueSerde: this._n.valueSerde ?? other._n.valueSerde,
      repartitionRequired: this._n.repartitionRequired || other._n.repartitionRequired,
    })
  }

  /** Splits the stream by predicates: each record goes to the first branch that accepts it. */
  split(options: Named = {}): BranchedKStream<K, V> {
    const g = this._n.graph
    const generated = g.newName('KSTREAM-BRANCH-')
    return new BranchedKStream(this, options.name !== undefined ? g.checkName(options.name) : generated)
  }

  /** Kafka's older branch(): one stream per predicate, a record going to the first that accepts it. */
  branch(...predicates: ((key: K, value: V) => boolean)[]): KStream<K, V>[] {
    const splitter = this.split()
    for (const p of predicates) splitter.branch(p)
    return Object.values(splitter.noDefaultBranch())
  }

  /**
   * Joins each record with the table's current value for its key (records without one are
   * dropped); table updates produce nothing. The table is materialized, and the stream and
   * table topics must be co-partitioned.
   */
  join<VT, VR>(
    table: KTable<NonNullable<K>, VT>,
    joiner: (value: NonNullable<V>, tableValue: VT) => VR,
    options?: { value?: Serde<VR> } & Named,
  ): KStream<NonNullable<K>, VR>
  /**
   * Joins each record with the other stream's records of the same key whose timestamps differ
   * by at most the window's difference (both directions), in a window store per side.
   */
  join<VO, VR>(
    other: KStream<K, VO>,
    joiner: (value: NonNullable<V>, otherValue: NonNullable<VO>) => VR,
    windows: JoinWindows,
    options?: StreamJoinOptions<NonNullable<K>, V, VO, VR>,
  ): KStream<NonNullable<K>, VR>
  join(
    other: KTable<NonNullable<K>, unknown> | KStream<K, unknown>,
    joiner: (value: never, otherValue: never) => unknown,
    third?: JoinWindows | ({ value?: Serde<unknown> } & Named),
    fourth?: object,
  ): KStream<NonNullable<K>, unknown> {
    const fn = joiner as (value: unknown, otherValue: unknown) => unknown
    if (other instanceof KStream) {
      return this.#streamJoin('inner', other, fn, third, fourth) as KStream<NonNullable<K>, unknown>
    }
    return this.#tableJoin<unknown, unknown>(
      'JOIN',
      other as KTable<NonNullable<K>, unknown>,
      (v, tv) => (tv === undefined ? undefined : { out: fn(v, tv) }),
      (third ?? {}) as { value?: Serde<unknown> } & Named,
    )
  }

  /**
   * Like join, but a record without a table value is joined with null; records with a null
   * key or value are joined with null too rather than dropped (Kafka Streams 3.7+, KIP-962).
   */
  leftJoin<VT, VR>(
    table: KTable<NonNullable<K>, VT>,
    joiner: (value: V, tableValue: VT | null) => VR,
    options?: { value?: Serde<VR> } & Named,
  ): KStream<K, VR>
  /**
   * Like the windowed join, but a record that finds no partner in its window is joined with
   * null once its window has closed (difference + grace after it, in stream time); a record
   * with a null key is joined with null at once.
   */
  leftJoin<VO, VR>(
    other: KStream<K, VO>,
    joiner: (value: NonNullable<V>, otherValue: NonNullable<VO> | null) => VR,
    windows: JoinWindows,
    options?: StreamJoinOptions<NonNullable<K>, V, VO, VR>,
  ): KStream<K, VR>
  leftJoin(
    other: KTable<NonNullable<K>, unknown> | KStream<K, unknown>,
    joiner: (value: never, otherValue: never) => unknown,
    third?: JoinWindows | ({ value?: Serde<unknown> } & Named),
    fourth?: object,
  ): KStream<K, unknown> {
    const fn = joiner as (value: unknown, otherValue: unknown) => unknown
    if (other instanceof KStream) return this.#streamJoin('left', other, fn, third, fourth)
    return this.#tableJoin<unknown, unknown>(
      'LEFTJOIN',
      other as KTable<NonNullable<K>, unknown>,
      (v, tv) => ({ out: fn(v, tv ?? null) }),
      (third ?? {}) as { value?: Serde<unknown> } & Named,
    ) as KStream<K, unknown>
  }

  /**
   * The windowed join of both streams where a record of either side that finds no partner is
   * joined with null once its window has closed; a record with a null key is joined with null
   * at once.
   */
  outerJoin<VO, VR>(
    other: KStream<K, VO>,
    joiner: (value: NonNullable<V> | null, otherValue: NonNullable<VO> | null) => VR,
    windows: JoinWindows,
    options: StreamJoinOptions<NonNullable<K>, V, VO, VR> = {},
  ): KStream<K, VR> {
    const fn = joiner as (value: unknown, otherValue: unknown) => unknown
    return this.#streamJoin('outer', other as KStream<K, unknown>, fn, windows, options) as KStream<K, VR>
  }

  #streamJoin(
    type: StreamJoinType,
    other: KStream<K, unknown>,
    joiner: (value: unknown, otherValue: unknown) => unknown,
    windows: unknown,
    options: object | undefined,
  ): KStream<K, unknown> {
    if (!(windows instanceof JoinWindows)) {
      throw new TopologyError(
        `${type === 'inner' ? 'join' : `${type}Join`}(stream, joiner, windows): JoinWindows are required`,
      )
    }
    return streamStreamJoin<K, unknown, unknown, unknown>(
      type,
      this as KStream<K, unknown>,
      other,
      joiner,
      windows,
      (options ?? {}) as StreamJoinOptions<K, unknown, unknown, unknown>,
      (node, keySerde, valueSerde) =>
        new KStream<K, unknown>({ graph: this._n.graph, node, keySerde, valueSerde, repartitionRequired: false }),
    )
  }

  #tableJoin<VT, VR>(
    kind: 'JOIN' | 'LEFTJOIN',
    table: KTable<NonNullable<K>, VT>,
    join: (value: V, tableValue: VT | undefined) => { out: VR } | undefined,
    options: { value?: Serde<VR> } & Named,
  ): KStream<NonNullable<K>, VR> {
    const g = this._n.graph
    if (table._n.graph !== g) throw new TopologyError('join: the stream and table come from different StreamsBuilders')
    if (table._materialize === undefined) {
      throw new TopologyError('join: the table must be a source table or an aggregation (one kept in a store)')
    }
    const name = options.name !== undefined ? g.checkName(options.name) : g.newName(`KSTREAM-${kind}-`)
    const store = table._materialize()
    let input = this._n
    if (input.repartitionRequired) input = repartitionThrough(input, `${name}-left`, undefined, true)._n
    g.addProcessor(
      name,
      () => ({
        process: (r, c) => {
          const nullKey = r.key === null || r.key === undefined
          // An inner join drops records with a null key or value; a left join joins them with null.
          if (kind === 'JOIN' && (nullKey || r.value === null || r.value === undefined)) {
            c.recordDropped('null-key-or-value')
            return
          }
          const tableValue = nullKey
            ? undefined
            : c.keyValueStore<NonNullable<K>, VT>(store).get(r.key as NonNullable<K>)
          const result = join(r.value as V, tableValue)
          if (result !== undefined) c.forward({ key: r.key, value: result.out, timestamp: r.timestamp })
        },
      }),
      [input.node],
      [store],
    )
    return new KStream<NonNullable<K>, VR>({
      graph: g,
      node: name,
      keySerde: input.keySerde as Serde<NonNullable<K>> | undefined,
      valueSerde: options.value,
      repartitionRequired: false,
    })
  }

  /**
   * Runs an application's Processor on each record: it may forward any number of records with
   * any keys (marking the stream for repartitioning), use the stores it names (added with
   * StreamsBuilder.addStateStore) and schedule punctuators on stream or wall-clock time.
   */
  process<KOut, VOut>(
    supplier: () => Processor<K, V, KOut, VOut>,
    options: { stores?: string[]; key?: Serde<KOut>; value?: Serde<VOut> } & Named = {},
  ): KStream<KOut, VOut> {
    return this.#processNode<KOut, VOut>('PROCESSOR', supplier, options, true)
  }

  /**
   * Like process, but the processor may change values only: every record it forwards while
   * processing a record must keep that record's key (checked), so no repartitioning follows.
   */
  processValues<VOut>(
    supplier: () => Processor<K, V, K, VOut>,
    options: { stores?: string[]; value?: Serde<VOut> } & Named = {},
  ): KStream<K, VOut> {
    const checked = (): Processor<K, V, K, VOut> => {
      const inner = supplier()
      let current: { key: K } | undefined
      const guard = (context: ProcessorContext<K, VOut>): ProcessorContext<K, VOut> => {
        const check = (record: StreamRecord<K, VOut>): void => {
          if (current !== undefined && !Object.is(record.key, current.key)) {
            throw new TopologyError('processValues: a processor forwarded a record with another key (use process())')
          }
        }
        return Object.create(context, {
          forward: { value: (r: StreamRecord<K, VOut>) => (check(r), context.forward(r)) },
          forwardTo: { value: (child: string, r: StreamRecord<K, VOut>) => (check(r), context.forwardTo(child, r)) },
        }) as ProcessorContext<K, VOut>
      }
      const contexts = new WeakMap<object, ProcessorContext<K, VOut>>()
      const wrap = (c: ProcessorContext<K, VOut>): ProcessorContext<K, VOut> => {
        let g = contexts.get(c)
        if (g === undefined) contexts.set(c, (g = guard(c)))
        return g
      }
      return {
        init: (c) => inner.init?.(wrap(c)),
        process: (r, c) => {
          current = r
          try {
            inner.process(r, wrap(c))
          } finally {
            current = undefined
          }
        },
      }
    }
    return this.#processNode<K, VOut>('PROCESSVALUES', checked, { ...options, key: this._n.keySerde }, false)
  }

  #processNode<KOut, VOut>(
    prefix: string,
    supplier: () => Processor<K, V, KOut, VOut>,
    options: { stores?: string[]; key?: Serde<KOut> | undefined; value?: Serde<VOut> } & Named,
    keyChanged: boolean,
  ): KStream<KOut, VOut> {
    const g = this._n.graph
    const name = options.name !== undefined ? g.checkName(options.name) : g.newName(`KSTREAM-${prefix}-`)
    g.addProcessor(name, supplier as () => Processor, [this._n.node], [...(options.stores ?? [])])
    return new KStream<KOut, VOut>({
      graph: g,
      node: name,
      keySerde: options.key,
      valueSerde: options.value,
      repartitionRequired: this._n.repartitionRequired || keyChanged,
    })
  }

  /** Writes the stream to a topic (key partitioning: murmur2 of the key bytes, like Java's producer). */
  to(topic: string, options: Produced<K, V> & Named = {}): void {
    const g = this._n.graph
    const name = options.name !== undefined ? g.checkName(options.name) : g.newName('KSTREAM-SINK-')
    g.addSink(name, topic, [this._n.node], {
      internal: false,
      keySerde: (options.key ?? this._n.keySerde) as Serde<unknown> | undefined,
      valueSerde: (options.value ?? this._n.valueSerde) as Serde<unknown> | undefined,
    })
  }

  /** Writes the stream through an internal topic `<applicationId>-<name>-repartition` and reads it back. */
  repartition(options: RepartitionOptions<K, V> = {}): KStream<K, V> {
    const g = this._n.graph
    const base = options.name ?? g.newName('KSTREAM-REPARTITION-')
    if (options.name !== undefined) g.skipNames(1)
    return repartitionThrough(
      { ...this._n, keySerde: options.key ?? this._n.keySerde, valueSerde: options.value ?? this._n.valueSerde },
      base,
      options.partitions,
      true,
    )
  }

  /** Groups by the current key (repartitioning first if the key was changed upstream). Null keys and values are dropped. */
  groupByKey(options: GroupedOptions<K, V> = {}): KGroupedStream<NonNullable<K>, NonNullable<V>> {
    const n = this._n
    return new KGroupedStream<NonNullable<K>, NonNullable<V>>(
      {
        graph: n.graph,
        node: n.node,
        keySerde: (options.key ?? n.keySerde) as Serde<NonNullable<K>> | undefined,
        valueSerde: (options.value ?? n.valueSerde) as Serde<NonNullable<V>> | undefined,
        repartitionRequired: n.repartitionRequired,
      },
      options.name,
    )
  }

  /** Groups by a new key: a KEY-SELECT node, then a repartition topic at the aggregation. */
  groupBy<K2>(
    selector: (key: K, value: V) => K2,
    options: { key?: Serde<K2>; value?: Serde<V> } & Named = {},
  ): KGroupedStream<NonNullable<K2>, NonNullable<V>> {
    const selected = this.selectKey(selector, options.key !== undefined ? { key: options.key } : {})
    const n = selected._n
    return new KGroupedStream<NonNullable<K2>, NonNullable<V>>(
      {
        graph: n.graph,
        node: n.node,
        keySerde: n.keySerde as Serde<NonNullable<K2>> | undefined,
        valueSerde: (options.value ?? this._n.valueSerde) as Serde<NonNullable<V>> | undefined,
        repartitionRequired: true,
      },
      options.name,
    )
  }
}

/** split(): branches added in order; a record goes to the first whose predicate accepts it. */
export class BranchedKStream<K, V> {
  readonly #stream: KStream<K, V>
  readonly #name: string
  readonly #branches: { name: string; predicate: (key: K, value: V) => boolean }[] = []
  #done = false

  /** @internal */
  constructor(stream: KStream<K, V>, name: string) {
    this.#stream = stream
    this.#name = name
  }

  /** A branch; its stream is in the result under `<split name><branch name or its 1-based index>`. */
  branch(predicate: (key: K, value: V) => boolean, options: Named = {}): this {
    if (this.#done) throw new TopologyError(`split ${this.#name}: branch() after the default branch`)
    this.#branches.push({ name: `${this.#name}${options.name ?? String(this.#branches.length + 1)}`, predicate })
    return this
  }

  /** Records no predicate accepted go to a last branch (named `<split name>0` unless named). */
  defaultBranch(options: Named = {}): Record<string, KStream<K, V>> {
    this.#branches.push({ name: `${this.#name}${options.name ?? '0'}`, predicate: () => true })
    return this.#build()
  }

  /** Records no predicate accepted are dropped. */
  noDefaultBranch(): Record<string, KStream<K, V>> {
    return this.#build()
  }

  #build(): Record<string, KStream<K, V>> {
    if (this.#done) throw new TopologyError(`split ${this.#name} was already completed`)
    this.#done = true
    const n = this.#stream._n
    const g = n.graph
    const children = this.#branches.map((b) => b.name)
    const seen = new Set<string>()
    for (const c of children) {
      if (seen.has(c)) throw new TopologyError(`split ${this.#name}: branch name '${c}' is used twice`)
      seen.add(c)
    }
    const predicates = this.#branches.map((b) => b.predicate)
    // The split node forwards each record to one child only, so it routes itself.
    g.addProcessor(
      this.#name,
      () => ({
        process: (r, c) => {
          const i = predicates.findIndex((p) => p(r.key as K, r.value as V))
          if (i >= 0) c.forwardTo(children[i]!, r)
        },
      }),
      [n.node],
    )
    const out: Record<string, KStream<K, V>> = {}
    // Kafka Streams numbers each branch even when it is named.
    g.skipNames(children.length)
    for (const child of children) {
      g.addProcessor(g.checkName(child), () => ({ process: (r, c) => c.forward(r) }), [this.#name])
      out[child] = new KStream<K, V>({ ...n, node: child })
    }
    return out
  }
}

/**
 * A sink to the internal topic `<base>-repartition` (records with a null key dropped first, as
 * Kafka's repartition filter does) and a source reading it back: a new sub-topology.
 */
export function repartitionThrough<K, V>(
  n: StreamNode<K, V>,
  base: string,
  partitions: number | undefined,
  dropNullKeys: boolean,
): KStream<K, V> {
  const g = n.graph
  if (n.keySerde === undefined || n.valueSerde === undefined) {
    const which = n.keySerde === undefined ? 'key' : 'value'
    throw new TopologyError(`repartition '${base}' needs a ${which} serde: pass { ${which}: Serdes.X }`)
  }
  const topic = `${base}-repartition`
  g.addRepartitionTopic(topic, partitions)
  // Kafka Streams numbers the filter, sink and source although it names them after the topic.
  g.skipNames(3)
  let parent = n.node
  if (dropNullKeys) {
    parent = g.addProcessor(
      g.checkName(`${topic}-filter`),
      () => ({
        process: (r, c) =>
          r.key === null || r.key === undefined ? c.recordDropped('null-key-or-value') : c.forward(r),
      }),
      [n.node],
    )
  }
  g.addSink(g.checkName(`${topic}-sink`), topic, [parent], {
    internal: true,
    keySerde: n.keySerde as Serde<unknown>,
    valueSerde: n.valueSerde as Serde<unknown>,
  })
  const source = g.addSource(g.checkName(`${topic}-source`), [topic], {
    internal: true,
    keySerde: n.keySerde as Serde<unknown>,
    valueSerde: n.valueSerde as Serde<unknown>,
    timestampExtractor: undefined,
  })
  return new KStream<K, V>({ ...n, node: source.name, repartitionRequired: false })
}
