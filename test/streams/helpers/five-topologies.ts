// The five topologies compared with a real Kafka Streams application (test/streams/java/StreamsApp.java,
// built the same way): word count, a tumbling-window count with grace, a hopping-window
// aggregate, a session-window count, a stream-table inner and left join, and a merge of two
// topics reduced by key. Windowed keys are
// written as `key@start-end`, as the Java side writes them.
// Inputs: <in>-words, <in>-win, <in>-table, <in>-stream; outputs <out>-<name> (FIVE_OUTPUTS).

import {
  Serdes,
  SessionWindows,
  StreamsBuilder,
  TimeWindows,
  type KTable,
  type Windowed,
} from '../../../src/streams/index.js'

const S = Serdes.String
const L = Serdes.Long

/** Output topic suffix → its value type. */
export const FIVE_OUTPUTS = {
  wordcount: 'long',
  tumbling: 'long',
  hopping: 'long',
  session: 'long',
  join: 'string',
  left: 'string',
  merge: 'string',
} as const

export const FIVE_INPUTS = ['words', 'win', 'table', 'stream'] as const

/** The merge's two inputs: written once, before the applications start (see MERGE_INPUT). */
export const MERGE_INPUTS = ['mleft', 'mright'] as const

/**
 * The merge's input, on the broker before any application reads it, so a task finds records on
 * both of its partitions and takes them by timestamp (Kafka Streams' PartitionGroup). Every
 * timestamp differs (left ones are 0 or 5 mod 20 after t0, right ones 10 or 3): no tie for either
 * runtime to break its own way. Each side has records out of order.
 */
export function mergeInput(
  t0: number,
): Record<(typeof MERGE_INPUTS)[number], { key: string; value: string; timestamp: number }[]> {
  return {
    mleft: Array.from({ length: 30 }, (_, i) => ({
      key: `m${i % 5}`,
      value: `l${i}`,
      timestamp: t0 + 20 * i - (i % 5 === 4 ? 35 : 0),
    })),
    mright: Array.from({ length: 30 }, (_, i) => ({
      key: `m${i % 5}`,
      value: `r${i}`,
      timestamp: t0 + 20 * i + 10 - (i % 7 === 6 ? 47 : 0),
    })),
  }
}

export function fiveTopologies(input: string, output: string): StreamsBuilder {
  const b = new StreamsBuilder()
  b.stream(`${input}-words`, { key: S, value: S })
    .filter((_k, v): v is string => v !== null)
    .flatMapValues((v) => v.toLowerCase().split(/\W+/))
    .filter((_k, w) => w !== '')
    .groupBy((_k, w) => w, { key: S, value: S })
    .count()
    .toStream()
    .to(`${output}-wordcount`, { key: S, value: L })

  const flat = (t: KTable<Windowed<string>, number>, name: string): void => {
    t.toStream()
      .map((wk, v) => ({ key: `${wk.key}@${wk.window.start}-${wk.window.end}`, value: v }), { key: S, value: L })
      .to(`${output}-${name}`, { key: S, value: L })
  }
  const g = b.stream(`${input}-win`, { key: S, value: S }).groupByKey({ key: S, value: S })
  flat(g.windowedBy(TimeWindows.ofSizeAndGrace(100, 20)).count(), 'tumbling')
  flat(
    g.windowedBy(TimeWindows.ofSizeWithNoGrace(100).advanceBy(40)).aggregate(
      () => 0,
      (_k, v, a) => a + v.length,
      { value: L },
    ),
    'hopping',
  )
  flat(g.windowedBy(SessionWindows.ofInactivityGapAndGrace(30, 10)).count(), 'session')

  const t = b.table(`${input}-table`, { key: S, value: S })
  const s = b.stream(`${input}-stream`, { key: S, value: S })
  s.join(t, (v, tv) => `${v}+${tv}`, { value: S }).to(`${output}-join`, { key: S, value: S })
  s.leftJoin(t, (v, tv) => `${v}+${tv}`, { value: S }).to(`${output}-left`, { key: S, value: S })

  b.stream(`${input}-mleft`, { key: S, value: S })
    .merge(b.stream(`${input}-mright`, { key: S, value: S }))
    .groupByKey({ key: S, value: S })
    .reduce((a, v) => `${a},${v}`)
    .toStream()
    .to(`${output}-merge`, { key: S, value: S })
  return b
}
