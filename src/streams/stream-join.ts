// Stream-stream windowed joins (Kafka Streams' KStreamKStreamJoin): each side keeps its records
// for `before + after + grace` in a changelogged window store (key bytes, 8-byte timestamp,
// 4-byte sequence: Kafka's layout with duplicates), and each record is joined with the other
// side's records of the same key whose timestamps are within the join window, oldest first,
// stamped with the later of the two timestamps. A store's records older than its latest
// timestamp minus the retention are expired: no longer stored nor found.
//
// Left and outer joins (Kafka Streams 3.1+ semantics): a record that finds no partner is not
// joined with null at once but kept in a store shared by both sides (`outer-join.ts`) until its
// window closes (its timestamp + difference + grace < the task's stream time across both sides);
// a partner arriving in time removes it. Only then is it emitted, joined with null.

import { ConfigError } from '../errors.js'
import { TopologyError } from './errors.js'
import type { KStream, Named } from './kstream.js'
import type { ProcessorContext, StreamRecord } from './processor.js'
import type { Serde } from './serdes.js'
import { JoinWindow, type Stamped } from './join-window.js'
import { inMemoryStore, type KeyValueStore } from './stores.js'
import { OuterJoinTracker, outerJoinStoreSerdes, type OuterKey, type OuterValue } from './outer-join.js'

export class JoinWindows {
  readonly before: number
  readonly after: number
  readonly grace: number

  private constructor(before: number, after: number, grace: number) {
    this.before = before
    this.after = after
    this.grace = grace
  }

  /** Records join when their timestamps differ by at most `difference` ms; `grace` for late ones. */
  static ofTimeDifferenceAndGrace(difference: number, grace: number): JoinWindows {
    for (const [name, v] of [
      ['difference', difference],
      ['grace', grace],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new ConfigError(name, `must be an integer of ms >= 0, got ${v}`)
    }
    return new JoinWindows(difference, difference, grace)
  }

  static ofTimeDifferenceWithNoGrace(difference: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(difference, 0)
  }

  get retention(): number {
    return this.before + this.after + this.grace
  }
}

function stampedKey<K>(inner: Serde<K>): Serde<Stamped<K>> {
  return {
    serialize: (s) => {
      const t = Buffer.allocUnsafe(12)
      t.writeBigInt64BE(BigInt(s.timestamp), 0)
      t.writeInt32BE(s.seq, 8)
      return Buffer.concat([Buffer.from(inner.serialize(s.key)), t])
    },
    deserialize: (b) => ({
      key: inner.deserialize(b.subarray(0, b.length - 12)),
      timestamp: Number(b.readBigInt64BE(b.length - 12)),
      seq: b.readInt32BE(b.length - 4),
    }),
  }
}

export type StreamJoinType = 'inner' | 'left' | 'outer'

export interface StreamJoinOptions<K, V, VO, VR> extends Named {
  key?: Serde<K>
  value?: Serde<V>
  otherValue?: Serde<VO>
  result?: Serde<VR>
}

/**
 * Adds the join's nodes (Kafka Streams' names: WINDOWED, JOINTHIS or OUTERTHIS, JOINOTHER or
 * OUTEROTHER, MERGE) and stores. `joiner` always gets (left value, right value); a left or outer
 * join passes null for a side without a partner.
 */
export function streamStreamJoin<K, V, VO, VR>(
  type: StreamJoinType,
  left: KStream<K, V>,
  right: KStream<K, VO>,
  joiner: (value: V | null, otherValue: VO | null) => VR,
  windows: JoinWindows,
  options: StreamJoinOptions<K, V, VO, VR>,
  make: (node: string, keySerde: Serde<K>, valueSerde: Serde<VR> | undefined) => KStream<K, VR>,
): KStream<K, VR> {
  const g = left._n.graph
  if (right._n.graph !== g) throw new TopologyError('join: the streams come from different StreamsBuilders')
  const keySerde = options.key ?? left._n.keySerde ?? right._n.keySerde
  const thisSerde = options.value ?? left._n.valueSerde
  const otherSerde = options.otherValue ?? right._n.valueSerde
  if (keySerde === undefined || thisSerde === undefined || otherSerde === undefined) {
    throw new TopologyError(
      'stream-stream join needs key, value and other value serdes: pass { key, value, otherValue }',
    )
  }
  if (left._n.repartitionRequired || right._n.repartitionRequired) {
    throw new TopologyError('stream-stream join after a key change: call repartition() on that side first')
  }
  const leftOuter = type !== 'inner'
  const rightOuter = type === 'outer'
  // As Kafka Streams, a generated name is drawn even for a node the user named.
  const named = (suffix: string, prefix: string): string => {
    const generated = g.newName(prefix)
    return options.name !== undefined ? g.checkName(`${options.name}${suffix}`) : generated
  }
  const windowedThis = named('-this-windowed', 'KSTREAM-WINDOWED-')
  const windowedOther = named('-other-windowed', 'KSTREAM-WINDOWED-')
  // The generated names are drawn even when the user named the join (stores are named after them).
  const thisGenerated = g.newName(rightOuter ? 'KSTREAM-OUTERTHIS-' : 'KSTREAM-JOINTHIS-')
  const otherGenerated = g.newName(leftOuter ? 'KSTREAM-OUTEROTHER-' : 'KSTREAM-JOINOTHER-')
  const joinThis =
    options.name !== undefined
      ? g.checkName(`${options.name}${rightOuter ? '-outer-this-join' : '-this-join'}`)
      : thisGenerated
  const joinOther =
    options.name !== undefined
      ? g.checkName(`${options.name}${leftOuter ? '-outer-other-join' : '-other-join'}`)
      : otherGenerated
  const merge = named('-merge', 'KSTREAM-MERGE-')
  const thisStore = `${thisGenerated}-store`
  const otherStore = `${otherGenerated}-store`
  for (const [name, serde] of [
    [thisStore, thisSerde],
    [otherStore, otherSerde],
  ] as const) {
    g.addStore({
      name,
      keySerde: stampedKey(keySerde) as Serde<unknown>,
      valueSerde: serde as Serde<unknown>,
      supplier: inMemoryStore,
      logged: true,
      timestamped: false,
      windowRetention: windows.retention,
    })
  }
  let outerStore: string | undefined
  if (leftOuter) {
    // KSTREAM-OUTERSHARED-<the number of the this-side join node>-store
    outerStore = `KSTREAM-OUTERSHARED-${thisGenerated.slice(thisGenerated.lastIndexOf('-') + 1)}-store`
    const serdes = outerJoinStoreSerdes(keySerde, thisSerde as Serde<unknown>, otherSerde as Serde<unknown>)
    g.addStore({
      name: outerStore,
      keySerde: serdes.key as Serde<unknown>,
      valueSerde: serdes.value as Serde<unknown>,
      supplier: inMemoryStore,
      logged: true,
      timestamped: false,
    })
  }
  const retention = windows.retention
  // One window per store instance (one per task), built from the store the first time (it may
  // have been restored).
  const joinWindows = new WeakMap<object, JoinWindow<K>>()
  const windowOf = (c: ProcessorContext, store: string): JoinWindow<K> => {
    const view = c.keyValueStore<Stamped<K>, unknown>(store)
    let w = joinWindows.get(view)
    if (w === undefined) joinWindows.set(view, (w = new JoinWindow<K>(view, keySerde, retention)))
    return w
  }
  // One tracker per task, shared by both sides: keyed by the task's outer store.
  const trackers = new WeakMap<object, OuterJoinTracker>()
  const outer = (c: ProcessorContext): { store: KeyValueStore<OuterKey<K>, OuterValue>; tracker: OuterJoinTracker } => {
    const store = c.keyValueStore<OuterKey<K>, OuterValue>(outerStore!)
    let tracker = trackers.get(store)
    if (tracker === undefined) {
      tracker = new OuterJoinTracker()
      trackers.set(store, tracker)
    }
    return { store, tracker }
  }
  // The windowed nodes store each record with a key (a null value is logged only) and pass it on.
  const keep = (store: string) => (r: StreamRecord<unknown, unknown>, c: ProcessorContext) => {
    if (r.key !== null && r.key !== undefined) windowOf(c, store).put(r.key as K, r.value, r.timestamp)
    c.forward(r)
  }
  const pair = (isLeft: boolean, mine: unknown, theirs: unknown): VR =>
    isLeft ? joiner(mine as V | null, theirs as VO | null) : joiner(theirs as V | null, mine as VO | null)
  /** Emits (joined with null) and removes the held records whose window has closed. */
  const emitClosed = (c: ProcessorContext, afterThis: number): void => {
    const { store, tracker } = outer(c)
    if (tracker.minTime !== undefined && tracker.minTime + afterThis + windows.grace >= tracker.streamTime) return
    tracker.minTime = undefined
    let leftOpen = false
    let rightOpen = false
    for (const [k, list] of [...store.all()]) {
      // As Kafka: the bound becomes the last entry looked at (entries are in timestamp order).
      tracker.minTime = k.timestamp
      if (leftOpen && rightOpen) break
      // A left record waits for right ones up to `after` later; a right one, `before`.
      const lookBack = k.left ? windows.after : windows.before
      if (k.timestamp + lookBack + windows.grace >= tracker.streamTime) {
        if (k.left) leftOpen = true
        else rightOpen = true
        continue
      }
      for (const { left: isLeft, value } of list) {
        c.forward({ key: k.key, value: pair(isLeft, value, null), timestamp: k.timestamp })
      }
      store.delete(k)
    }
  }
  const joinSide =
    (isLeft: boolean, otherWindowStore: string, before: number, after: number, isOuter: boolean) =>
    (r: StreamRecord<unknown, unknown>, c: ProcessorContext) => {
      const shared = outerStore === undefined ? undefined : outer(c)
      if (shared !== undefined) shared.tracker.streamTime = Math.max(shared.tracker.streamTime, r.timestamp)
      const nullKey = r.key === null || r.key === undefined
      const nullValue = r.value === null || r.value === undefined
      // KIP-962: an outer side joins a record with a null key with null at once.
      if (isOuter && nullKey && !nullValue) {
        c.forward({ key: r.key, value: pair(isLeft, r.value, null), timestamp: r.timestamp })
        return
      }
      if (nullKey || nullValue) {
        c.recordDropped('null-key-or-value')
        return
      }
      if (shared !== undefined && r.timestamp === shared.tracker.streamTime) emitClosed(c, after)
      const timeFrom = Math.max(0, r.timestamp - before)
      const timeTo = Math.max(0, r.timestamp + after)
      const matches = windowOf(c, otherWindowStore).fetch(r.key as K, timeFrom, timeTo)
      for (const { timestamp, value: v } of matches) {
        // The partner is joined now: it no longer waits for its window to close.
        const held = { timestamp, left: !isLeft, key: r.key as K }
        if (shared?.store.get(held) !== undefined) shared.store.delete(held)
        c.forward({ key: r.key, value: pair(isLeft, r.value, v), timestamp: Math.max(r.timestamp, timestamp) })
      }
      if (!isOuter || matches.length > 0 || shared === undefined) return
      if (timeTo < shared.tracker.streamTime) {
        // Its window closed already (an out-of-order record): nothing can join it any more.
        c.forward({ key: r.key, value: pair(isLeft, r.value, null), timestamp: r.timestamp })
      } else {
        shared.tracker.minTime = Math.min(shared.tracker.minTime ?? Infinity, r.timestamp)
        const key = { timestamp: r.timestamp, left: isLeft, key: r.key as K }
        const held = shared.store.get(key) ?? []
        shared.store.put(key, [...held, { left: isLeft, value: r.value }])
      }
    }
  g.addProcessor(windowedThis, () => ({ process: keep(thisStore) }), [left._n.node], [thisStore])
  g.addProcessor(windowedOther, () => ({ process: keep(otherStore) }), [right._n.node], [otherStore])
  const shared = outerStore === undefined ? [] : [outerStore]
  // A left record at t joins right records in [t - before, t + after]; a right one, the reverse.
  g.addProcessor(
    joinThis,
    () => ({ process: joinSide(true, otherStore, windows.before, windows.after, leftOuter) }),
    [windowedThis],
    [otherStore, ...shared],
  )
  g.addProcessor(
    joinOther,
    () => ({ process: joinSide(false, thisStore, windows.after, windows.before, rightOuter) }),
    [windowedOther],
    [thisStore, ...shared],
  )
  g.addProcessor(merge, () => ({ process: (r, c) => c.forward(r) }), [joinThis, joinOther])
  return make(merge, keySerde, options.result)
}
