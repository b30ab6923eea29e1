// The DSL against Java Kafka Streams 4.4.0 itself: the same topologies are built in
// test/streams/java/StreamsProbe.java and here; their descriptions must name the same nodes,
// stores, topics and edges, and the same input records (explicit timestamps, null keys and
// values) piped through Java's TopologyTestDriver (cache disabled) and ours must produce the same
// output records, in the same order per topic, with the same timestamps.

import { beforeAll, describe, expect, it } from 'vitest'

import {
  JoinWindows,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  TopologyTestDriver,
  type Cancellable,
  type KGroupedStream,
  type Serde,
  type KTable,
  type Topology,
  type Windowed,
} from '../../src/streams/index.js'
import { javaProbe } from './helpers/java-streams.js'

const S = Serdes.String
const L = Serdes.Long
const strings = { key: S, value: S }
/** Bytes as hex, to compare internal topics with the bytes Java wrote. */
const Hex: Serde<string> = {
  serialize: (s) => Buffer.from(s, 'hex'),
  deserialize: (b) => b.toString('hex'),
}

let probe: (args: string[], input?: string) => string

beforeAll(() => {
  probe = javaProbe('StreamsProbe')
}, 300_000)

const topologies: Record<string, { build: () => Topology; outputs: Record<string, 'string' | 'long' | 'hex'> }> = {
  wordcount: {
    build: () => {
      const b = new StreamsBuilder()
      b.stream('in', strings)
        .filter((_k, v): v is string => v !== null)
        .flatMapValues((v) => v.toLowerCase().split(/\W+/))
        .groupBy((_k, w) => w, { key: S, value: S })
        .count({ storeName: 'counts-store' })
        .toStream()
        .to('out', { key: S, value: L })
      return b.build()
    },
    outputs: { out: 'long' },
  },
  stateless: {
    build: () => {
      const b = new StreamsBuilder()
      const input = b.stream('in', strings)
      const other = b.stream('in2', strings)
      const branches = input
        .filter((_k, v): v is string => v !== null)
        .filterNot((_k, v) => v.startsWith('#'))
        .mapValues((v) => v.toUpperCase(), { value: S })
        .merge(other.filter((_k, v): v is string => v !== null))
        .split({ name: 'br-' })
        .branch((_k, v) => v.length <= 2, { name: 'short' })
        .branch((_k, v) => v.includes('X'), { name: 'x' })
        .defaultBranch()
      branches['br-short']!.selectKey((_k, v) => v).to('out-short', { key: S, value: S })
      branches['br-x']!.flatMap((k, v) => [
        { key: `${k}1`, value: v },
        { key: `${k}2`, value: v + v },
      ]).to('out-x', { key: S, value: S })
      branches['br-0']!.map((k, v) => ({ key: v, value: k })).to('out-rest', { key: S, value: S })
      return b.build()
    },
    outputs: { 'out-short': 'string', 'out-x': 'string', 'out-rest': 'string' },
  },
  aggregates: {
    build: () => {
      const b = new StreamsBuilder()
      const g = b.stream('in', strings).groupByKey({ key: S, value: S })
      g.reduce((a, v) => `${a},${v}`)
        .toStream()
        .to('out-reduce', { key: S, value: S })
      g.aggregate(
        () => 0,
        (_k, v, a) => a + v.length,
        { value: L },
      )
        .toStream()
        .to('out-agg', { key: S, value: L })
      return b.build()
    },
    outputs: { 'out-reduce': 'string', 'out-agg': 'long' },
  },
  table: {
    build: () => {
      const b = new StreamsBuilder()
      b.table('tin', strings)
        .filter((_k, v) => v !== 'skip')
        .mapValues((v) => `${v}!`, { value: S })
        .toStream()
        .to('out', { key: S, value: S })
      return b.build()
    },
    outputs: { out: 'string' },
  },
  repartition: {
    build: () => {
      const b = new StreamsBuilder()
      b.stream('in', strings)
        .filter((_k, v): v is string => v !== null)
        .selectKey((_k, v) => v.slice(0, 1), { key: S })
        .repartition({ name: 'by-first', key: S, value: S })
        .groupByKey()
        .count()
        .toStream()
        .to('out', { key: S, value: L })
      return b.build()
    },
    outputs: { out: 'long' },
  },
}

/** The windowed topologies: a windowed table written as `key@start-end` -> Long. */
function windowed(make: (g: KGroupedStream<string, string>) => KTable<Windowed<string>, number>): () => Topology {
  return () => {
    const b = new StreamsBuilder()
    make(b.stream('in', strings).groupByKey({ key: S, value: S }))
      .toStream()
      .map((wk, v) => ({ key: `${wk.key}@${wk.window.start}-${wk.window.end}`, value: v }), { key: S, value: L })
      .to('out', { key: S, value: L })
    return b.build()
  }
}

topologies.tumbling = {
  build: windowed((g) => g.windowedBy(TimeWindows.ofSizeAndGrace(10, 5)).count()),
  outputs: { out: 'long' },
}
topologies.hopping = {
  build: windowed((g) =>
    g.windowedBy(TimeWindows.ofSizeWithNoGrace(10).advanceBy(4)).aggregate(
      () => 0,
      (_k, v, a) => a + v.length,
      { value: L },
    ),
  ),
  outputs: { out: 'long' },
}
topologies.suppress = {
  build: windowed((g) =>
    g.windowedBy(TimeWindows.ofSizeAndGrace(10, 3)).count().suppress(Suppressed.untilWindowCloses()),
  ),
  outputs: { out: 'long' },
}
topologies.session = {
  build: windowed((g) => g.windowedBy(SessionWindows.ofInactivityGapAndGrace(5, 2)).count()),
  outputs: { out: 'long' },
}

topologies.streamtable = {
  build: () => {
    const b = new StreamsBuilder()
    const t = b.table('tin', strings)
    const s = b.stream('in', strings)
    s.join(t, (v, tv) => `${v}+${tv}`, { value: S }).to('out-join', { key: S, value: S })
    s.leftJoin(t, (v, tv) => `${v}+${tv}`, { value: S }).to('out-left', { key: S, value: S })
    return b.build()
  },
  outputs: { 'out-join': 'string', 'out-left': 'string' },
}

topologies.tabletable = {
  build: () => {
    const b = new StreamsBuilder()
    const l = b.table('tl', strings)
    const r = b.table('tr', strings)
    l.join(r, (a, c) => `${a}+${c}`)
      .toStream()
      .to('out-join', { key: S, value: S })
    l.leftJoin(r, (a, c) => `${a}+${c}`)
      .toStream()
      .to('out-left', { key: S, value: S })
    l.outerJoin(r, (a, c) => `${a}+${c}`)
      .toStream()
      .to('out-outer', { key: S, value: S })
    return b.build()
  },
  outputs: { 'out-join': 'string', 'out-left': 'string', 'out-outer': 'string' },
}

topologies.streamstream = {
  build: () => {
    const b = new StreamsBuilder()
    const l = b.stream('sl', strings)
    const r = b.stream('sr', strings)
    l.join(r, (a, c) => `${a}+${c}`, JoinWindows.ofTimeDifferenceAndGrace(5, 2), { result: S }).to('out-join', {
      key: S,
      value: S,
    })
    return b.build()
  },
  outputs: { 'out-join': 'string' },
}

topologies.leftjoin = {
  build: () => {
    const b = new StreamsBuilder()
    const l = b.stream('sl', strings)
    const r = b.stream('sr', strings)
    l.leftJoin(r, (a, c) => `${a}+${c}`, JoinWindows.ofTimeDifferenceAndGrace(5, 2), { result: S }).to('out-left', {
      key: S,
      value: S,
    })
    return b.build()
  },
  // The stores' changelogs too: the bytes Kafka's own store layouts write.
  outputs: {
    'out-left': 'string',
    'probe-KSTREAM-OUTERSHARED-0000000004-store-changelog': 'hex',
    'probe-KSTREAM-JOINTHIS-0000000004-store-changelog': 'hex',
    'probe-KSTREAM-OUTEROTHER-0000000005-store-changelog': 'hex',
  },
}

topologies.outerjoin = {
  build: () => {
    const b = new StreamsBuilder()
    const l = b.stream('sl', strings)
    const r = b.stream('sr', strings)
    l.outerJoin(r, (a, c) => `${a}+${c}`, JoinWindows.ofTimeDifferenceWithNoGrace(3), { result: S }).to('out-outer', {
      key: S,
      value: S,
    })
    l.outerJoin(r, (a, c) => `${a}*${c}`, JoinWindows.ofTimeDifferenceAndGrace(5, 4), { result: S, name: 'oj' }).to(
      'out-outer-named',
      { key: S, value: S },
    )
    return b.build()
  },
  outputs: { 'out-outer': 'string', 'out-outer-named': 'string' },
}

topologies.tablegroupby = {
  build: () => {
    const b = new StreamsBuilder()
    const g = b
      .table('tin', strings)
      .filter((_k, v) => !v.startsWith('skip'))
      .groupBy((k, v) => ({ key: v.slice(0, 1), value: `${k}:${v}` }), { key: S, value: S })
    g.count().toStream().to('out-count', { key: S, value: L })
    g.reduce(
      (a, v) => `${a}+${v}`,
      (a, v) => `${a}-${v}`,
    )
      .toStream()
      .to('out-reduce', { key: S, value: S })
    g.aggregate(
      () => 0,
      (_k, v, a) => a + v.length,
      (_k, v, a) => a - v.length,
      { value: L },
    )
      .toStream()
      .to('out-agg', { key: S, value: L })
    return b.build()
  },
  // The repartition topic too: Kafka's (new, old) Change format.
  outputs: {
    'out-count': 'long',
    'out-reduce': 'string',
    'out-agg': 'long',
    'probe-KTABLE-AGGREGATE-STATE-STORE-0000000005-repartition': 'hex',
  },
}

// A named group: one repartition topic (grp-repartition) feeds both aggregations.
topologies.tablegroupbynamed = {
  build: () => {
    const b = new StreamsBuilder()
    const g = b.table('tin', strings).groupBy((k, v) => ({ key: v.slice(0, 1), value: k }), {
      key: S,
      value: S,
      name: 'grp',
    })
    g.count().toStream().to('out-count', { key: S, value: L })
    g.reduce(
      (a, v) => `${a}+${v}`,
      (a, v) => `${a}-${v}`,
    )
      .toStream()
      .to('out-reduce', { key: S, value: S })
    return b.build()
  },
  outputs: { 'out-count': 'long', 'out-reduce': 'string' },
}

// The Processor API: a store, a stream-time and a wall-clock punctuator (cancelled on the way).
topologies.punctuate = {
  build: () => {
    const b = new StreamsBuilder().addStateStore({ name: 'counts', key: S, value: L })
    const input = b.stream('in', strings)
    input
      .process<string, string>(
        () => {
          let wall: Cancellable | undefined
          return {
            init(c) {
              const store = c.keyValueStore<string, number>('counts')
              c.schedule(10, 'stream-time', (ts) => {
                for (const [k, n] of [...store.all()]) {
                  c.forward({ key: k, value: `st@${ts} ${n}`, timestamp: ts })
                  store.delete(k)
                }
              })
              wall = c.schedule(100, 'wall-clock-time', (ts) =>
                c.forward({ key: 'wall', value: `wc@${ts} keys=${store.size}`, timestamp: ts }),
              )
            },
            process(r, c) {
              if (r.key === null) return
              const store = c.keyValueStore<string, number>('counts')
              store.put(r.key, (store.get(r.key) ?? 0) + 1)
              if (r.value === 'cancel') wall?.cancel()
              c.forward({ key: r.key, value: `seen ${r.value}`, timestamp: r.timestamp })
            },
          }
        },
        { stores: ['counts'], key: S, value: S },
      )
      .to('out')
    input
      .processValues<string>(() => ({
        process(r, c) {
          if (r.value !== null) c.forward({ ...r, value: r.value.toUpperCase() })
        },
      }))
      .to('out-values', { value: S })
    return b.build()
  },
  outputs: { out: 'string', 'out-values': 'string', 'probe-counts-changelog': 'hex' },
}

topologies.outerjoinseeded = topologies.outerjoin
topologies.leftjoinseeded = topologies.leftjoin
topologies.tablegroupbyseeded = topologies.tablegroupby

type Input = [topic: string, key: string | null, value: string | null, timestamp: number]

const inputs: Record<string, Input[]> = {
  wordcount: [
    ['in', null, 'Hello world', 10],
    ['in', 'k', 'hello Kafka Streams', 5],
    ['in', null, 'the world, the end', 30],
    ['in', null, null, 31],
  ],
  stateless: [
    ['in', 'a', 'ab', 1],
    ['in', 'b', '#comment', 2],
    ['in', 'c', 'xyz', 3],
    ['in2', 'd', 'Y', 4],
    ['in', null, 'long value', 5],
    ['in2', 'e', 'foo', 6],
    ['in', 'f', null, 7],
    ['in2', 'g', 'Xx', 8],
  ],
  aggregates: [
    ['in', 'k', 'ab', 1],
    ['in', 'k', null, 2],
    ['in', null, 'c', 3],
    ['in', 'k', 'def', 4],
    ['in', 'j', 'x', 3],
  ],
  table: [
    ['tin', 'a', '1', 1],
    ['tin', 'b', 'skip', 2],
    ['tin', 'a', 'skip', 3],
    ['tin', 'a', null, 4],
    ['tin', null, 'x', 5],
    ['tin', 'c', '3', 6],
    ['tin', 'c', null, 7],
  ],
  repartition: [
    ['in', null, 'apple', 1],
    ['in', 'x', 'avocado', 2],
    ['in', 'y', 'banana', 3],
    ['in', null, 'apricot', 1],
  ],
}

// Out-of-order records inside and beyond the grace period, two keys, windows at the epoch.
const windowedInput: Input[] = [
  ['in', 'a', 'x', 1],
  ['in', 'a', 'yy', 4],
  ['in', 'b', 'z', 9],
  ['in', 'a', 'x', 12],
  ['in', 'a', 'late-in-grace', 8],
  ['in', 'b', 'w', 14],
  ['in', 'a', 'x', 19],
  ['in', 'b', 'too-late', 3],
  ['in', 'a', 'x', 16],
  ['in', 'b', 'v', 25],
  ['in', 'a', 'closes-10', 13],
  ['in', 'a', 'x', 40],
  ['in', 'b', 'x', 38],
  ['in', 'b', 'gone', 20],
  ['in', null, 'nokey', 41],
  ['in', 'a', 'x', 60],
]
for (const name of ['tumbling', 'hopping', 'suppress', 'session']) inputs[name] = windowedInput
inputs.tabletable = [
  ['tl', 'a', 'A1', 1],
  ['tr', 'a', 'B1', 2],
  ['tl', 'a', 'A2', 5],
  ['tr', 'b', 'B2', 3],
  ['tr', 'a', null, 6],
  ['tl', 'b', 'A3', 4],
  ['tl', 'c', 'C', 7],
  ['tl', 'c', null, 8],
  ['tr', 'd', 'D', 9],
  ['tr', 'd', null, 10],
  ['tl', null, 'nokey', 11],
]
// Out of order on both sides; records beyond the stores' retention are neither kept nor found.
inputs.streamstream = [
  ['sl', 'a', 'L1', 10],
  ['sr', 'a', 'R1', 12],
  ['sr', 'a', 'R2', 4],
  ['sr', 'a', 'R3', 16],
  ['sl', 'a', 'L2', 20],
  ['sr', 'b', 'R4', 21],
  ['sl', 'a', 'L3', 9],
  ['sl', 'a', 'L4', 14],
  ['sr', 'a', 'R5', 30],
  ['sl', 'a', 'L5', 17],
  ['sl', 'b', 'L6', 22],
  ['sl', null, 'x', 23],
  ['sr', 'a', 'R6', 13],
]
// Records without a partner held until their window closes (then joined with null), partners
// arriving in time (several per key and timestamp), out-of-order records whose window had
// closed already, null keys (joined with null at once on an outer side) and null values.
inputs.leftjoin = [
  ['sl', 'a', 'L1', 10],
  ['sr', 'a', 'R1', 12],
  ['sl', 'b', 'L2', 11],
  ['sr', 'c', 'R2', 13],
  ['sl', 'a', 'L3', 3],
  ['sl', 'd', 'L4', 20],
  ['sr', 'd', 'R3', 24],
  ['sl', null, 'nk', 25],
  ['sr', null, 'nk2', 25],
  ['sl', 'e', 'L5', 26],
  ['sl', 'e', 'L6', 26],
  ['sr', 'e', 'R4', 22],
  ['sl', 'f', 'L7', 27],
  ['sl', 'f', null, 28],
  ['sr', 'g', 'R5', 30],
  ['sr', 'c', 'R6', 29],
  ['sl', 'h', 'L8', 40],
  ['sr', 'a', 'late', 2],
  ['sl', 'b', 'L9', 39],
  ['sr', 'b', 'R7', 41],
  ['sl', 'z', 'end', 60],
]
inputs.outerjoin = inputs.leftjoin
// 400 seeded records: both sides, 6 keys, time moving on by 0-3 ms with a fifth of the records
// up to 15 ms late, a few null keys; the left-join (with its stores' changelogs) and outer-join
// topologies on them.
inputs.outerjoinseeded = (() => {
  let seed = 12345
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const out: Input[] = []
  let time = 0
  for (let i = 0; i < 400; i++) {
    time += next(4)
    const ts = next(5) === 0 ? Math.max(0, time - next(16)) : time
    const key = next(40) === 0 ? null : `k${next(6)}`
    out.push([next(2) === 0 ? 'sl' : 'sr', key, `v${i}`, ts])
  }
  return out
})()
inputs.leftjoinseeded = inputs.outerjoinseeded
// 300 seeded table updates: 8 keys moving between groups, deletions, rows filtered out, time out of order.
inputs.tablegroupbyseeded = (() => {
  let seed = 777
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const words = ['apple', 'avocado', 'banana', 'berry', 'cherry', 'coconut', 'skip', 'date']
  const out: Input[] = []
  for (let i = 0; i < 300; i++) {
    const value = next(8) === 0 ? null : words[next(words.length)]!
    out.push(['tin', `r${next(8)}`, value, i + 20 - next(20)])
  }
  return out
})()
// Rows moving between groups, staying in one, deleted, filtered out (and filtered out again),
// with a null key, and out of order.
inputs.tablegroupby = [
  ['tin', 'a', 'apple', 1],
  ['tin', 'b', 'avocado', 2],
  ['tin', 'c', 'banana', 3],
  ['tin', 'a', 'blueberry', 4],
  ['tin', 'a', 'berry', 5],
  ['tin', 'b', null, 6],
  ['tin', 'c', 'skip', 7],
  ['tin', 'd', 'skip', 8],
  ['tin', 'd', 'skip2', 8],
  ['tin', null, 'x', 9],
  ['tin', 'e', 'cherry', 3],
  ['tin', 'a', 'berry', 10],
  ['tin', 'e', 'cranberry', 2],
  ['tin', 'c', 'coconut', 11],
]
// '@advance' moves the drivers' system time on by the timestamp field (wall-clock punctuation).
inputs.punctuate = [
  ['in', 'a', 'x', 1],
  ['in', 'b', 'y', 5],
  ['@advance', null, null, 150],
  ['in', 'a', 'z', 12],
  ['in', 'c', 'w', 9],
  ['@advance', null, null, 30],
  ['@advance', null, null, 300],
  ['in', 'a', 'cancel', 45],
  ['@advance', null, null, 100],
  ['in', null, 'nokey', 46],
  ['in', 'b', 'v', 50],
]
inputs.tablegroupbynamed = inputs.tablegroupby
inputs.streamtable = [
  ['in', 'a', 'early', 1],
  ['tin', 'a', 'A1', 2],
  ['in', 'a', 'x', 3],
  ['in', 'b', 'y', 4],
  ['tin', 'b', 'B1', 5],
  ['tin', 'a', 'A2', 6],
  ['in', 'a', 'z', 5],
  ['in', null, 'nokey', 7],
  ['tin', 'a', null, 8],
  ['in', 'a', 'after-delete', 9],
  ['in', 'b', 'w', 10],
]

const show = (v: string | number | null): string => (v === null ? '\\N' : String(v))

/** Per sub-topology: each node's header with its sorted successors and predecessors. */
function canonical(description: string): string[][] {
  const subs: string[][] = []
  let node: string[] | undefined
  for (const line of description.split('\n')) {
    const t = line.trim()
    if (t.startsWith('Sub-topology:')) subs.push([])
    else if (/^(Source|Processor|Sink):/.test(t)) {
      // Java lists a processor's stores from a HashSet: their order means nothing.
      node = [
        t.replace(/\(stores: \[(.*)\]\)/, (_m, list: string) => `(stores: [${list.split(', ').sort().join(', ')}])`),
      ]
      subs.at(-1)!.push('')
    } else if ((t.startsWith('-->') || t.startsWith('<--')) && node !== undefined) {
      node.push(`${t.slice(0, 3)} ${t.slice(4).split(', ').sort().join(', ')}`)
    }
    if (node !== undefined && subs.length > 0) subs.at(-1)![subs.at(-1)!.length - 1] = node.join(' | ')
  }
  return subs.map((s) => s.filter((x) => x !== '').sort())
}

describe.each(Object.keys(topologies))('%s, as Java Kafka Streams', (name) => {
  it('describes the same topology', () => {
    const ours = topologies[name]!.build().describe()
    const java = probe([name, 'describe'])
    expect(canonical(ours)).toEqual(canonical(java))
    expect(canonical(ours).length).toBeGreaterThan(0)
  }, 60_000)

  it('produces the same records', () => {
    const { build, outputs } = topologies[name]!
    const records = inputs[name]!
    const java = probe([name, 'run'], records.map((r) => r.map((f) => show(f)).join('\t')).join('\n') + '\n')
    const driver = new TopologyTestDriver(build(), { applicationId: 'probe' })
    for (const [topic, key, value, ts] of records) {
      if (topic === '@advance') driver.advanceWallClockTime(ts)
      else driver.pipe(topic, strings, key, value, ts)
    }
    const ours: string[] = []
    for (const [topic, type] of Object.entries(outputs)) {
      const serdes = type === 'hex' ? { key: Hex, value: Hex } : { key: S, value: type === 'long' ? L : S }
      for (const r of driver.records<string, string | number>(topic, serdes)) {
        ours.push([topic, show(r.key), show(r.value), String(r.timestamp)].join('\t'))
      }
    }
    expect(ours.join('\n') + '\n').toBe(java)
    expect(ours.length).toBeGreaterThan(0)
  }, 60_000)
})
