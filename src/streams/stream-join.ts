// Stream-stream windowed inner join (Kafka Streams' KStreamKStreamJoin): each side keeps its
// records for `before + after + grace` in a changelogged window store (key bytes, 8-byte
// timestamp, 4-byte sequence: Kafka's layout with duplicates), and each record is joined with
// the other side's records of the same key whose timestamps are within the join window, oldest
// first, stamped with the later of the two timestamps. A store's records older than its latest
// timestamp minus the retention are expired: no longer stored nor found.

import { ConfigError } from '../errors.js'
import { TopologyError } from './errors.js'
import type { KStream, Named } from './kstream.js'
import type { ProcessorContext, StreamRecord } from './processor.js'
import type { Serde } from './serdes.js'
import { inMemoryStore } from './stores.js'

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

interface Stamped<K> {
  key: K
  timestamp: number
  seq: number
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

export function streamStreamJoin<K, V, VO, VR>(
  left: KStream<K, V>,
  right: KStream<K, VO>,
  joiner: (value: V, otherValue: VO) => VR,
  windows: JoinWindows,
  options: { key?: Serde<K>; value?: Serde<V>; otherValue?: Serde<VO>; result?: Serde<VR> } & Named,
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
  const windowedThis = g.newName('KSTREAM-WINDOWED-')
  const windowedOther = g.newName('KSTREAM-WINDOWED-')
  const joinThis =
    options.name !== undefined ? g.checkName(`${options.name}-join-this`) : g.newName('KSTREAM-JOINTHIS-')
  const joinOther =
    options.name !== undefined ? g.checkName(`${options.name}-join-other`) : g.newName('KSTREAM-JOINOTHER-')
  const merge = options.name !== undefined ? g.checkName(`${options.name}-merge`) : g.newName('KSTREAM-MERGE-')
  const thisStore = `${joinThis}-store`
  const otherStore = `${joinOther}-store`
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
    })
  }
  const retention = windows.retention
  // Per store instance (one per task): its latest timestamp (the expiry clock) and the next
  // sequence number, read from the store the first time (it may have been restored).
  const clocks = new WeakMap<object, { observed: number; seq: number }>()
  const clock = (c: ProcessorContext, store: string): { observed: number; seq: number } => {
    const s = c.keyValueStore<Stamped<K>, unknown>(store)
    let entry = clocks.get(s)
    if (entry === undefined) {
      entry = { observed: -1, seq: 0 }
      for (const [k] of s.all()) {
        entry.observed = Math.max(entry.observed, k.timestamp)
        entry.seq = Math.max(entry.seq, k.seq + 1)
      }
      clocks.set(s, entry)
    }
    return entry
  }
  const keep = (store: string) => (r: StreamRecord<unknown, unknown>, c: ProcessorContext) => {
    if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) {
      c.recordDropped('null-key-or-value')
      return
    }
    const state = clock(c, store)
    state.observed = Math.max(state.observed, r.timestamp)
    if (r.timestamp > state.observed - retention) {
      c.keyValueStore<Stamped<K>, unknown>(store).put(
        { key: r.key as K, timestamp: r.timestamp, seq: state.seq++ },
        r.value,
      )
    }
    c.forward(r)
  }
  const lookup =
    (store: string, from: number, to: number, thisSide: boolean) =>
    (r: StreamRecord<unknown, unknown>, c: ProcessorContext) => {
      const state = clock(c, store)
      const min = Math.max(r.timestamp - from, state.observed - retention + 1)
      const max = r.timestamp + to
      const keyBytes = Buffer.from(keySerde.serialize(r.key as K))
      const matches = [...c.keyValueStore<Stamped<K>, unknown>(store).all()]
        .filter(
          ([k]) => k.timestamp >= min && k.timestamp <= max && Buffer.from(keySerde.serialize(k.key)).equals(keyBytes),
        )
        .sort(([a], [b]) => a.timestamp - b.timestamp || a.seq - b.seq)
      for (const [k, v] of matches) {
        const value = thisSide ? joiner(r.value as V, v as VO) : joiner(v as V, r.value as VO)
        c.forward({ key: r.key, value, timestamp: Math.max(r.timestamp, k.timestamp) })
      }
    }
  g.addProcessor(windowedThis, () => ({ process: keep(thisStore) }), [left._n.node], [thisStore])
  g.addProcessor(windowedOther, () => ({ process: keep(otherStore) }), [right._n.node], [otherStore])
  // A left record at t joins right records in [t - before, t + after]; a right one, the reverse.
  g.addProcessor(
    joinThis,
    () => ({ process: lookup(otherStore, windows.before, windows.after, true) }),
    [windowedThis],
    [otherStore],
  )
  g.addProcessor(
    joinOther,
    () => ({ process: lookup(thisStore, windows.after, windows.before, false) }),
    [windowedOther],
    [thisStore],
  )
  g.addProcessor(merge, () => ({ process: (r, c) => c.forward(r) }), [joinThis, joinOther])
  return make(merge, keySerde, options.result)
}
