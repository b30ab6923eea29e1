// Window rules as Kafka Streams documents them: windows aligned to the epoch, hopping windows
// per record, the grace boundary (late when window end + grace <= stream time), late records
// counted, and the windowed key serdes' byte layout (key, then big-endian times).

import { beforeAll, describe, expect, it } from 'vitest'

import { ConfigError } from '../../src/errors.js'
import {
  Serdes,
  SessionWindows,
  StreamsBuilder,
  TimeWindows,
  TopologyTestDriver,
  WindowedSerdes,
} from '../../src/streams/index.js'
import { javaProbe } from './helpers/java-streams.js'

const S = Serdes.String
const strings = { key: S, value: S }

describe('TimeWindows', () => {
  it('aligns tumbling windows to the epoch', () => {
    expect(TimeWindows.ofSizeWithNoGrace(10).windowsFor(17)).toEqual([{ start: 10, end: 20 }])
    expect(TimeWindows.ofSizeWithNoGrace(10).windowsFor(0)).toEqual([{ start: 0, end: 10 }])
  })

  it('gives every hopping window containing the record, earliest first', () => {
    expect(TimeWindows.ofSizeWithNoGrace(10).advanceBy(4).windowsFor(12)).toEqual([
      { start: 4, end: 14 },
      { start: 8, end: 18 },
      { start: 12, end: 22 },
    ])
    // Near the epoch, no window starts before 0.
    expect(TimeWindows.ofSizeWithNoGrace(10).advanceBy(4).windowsFor(3)).toEqual([{ start: 0, end: 10 }])
  })

  it('refuses sizes, advances and graces that cannot be', () => {
    expect(() => TimeWindows.ofSizeWithNoGrace(0)).toThrow(ConfigError)
    expect(() => TimeWindows.ofSizeAndGrace(10, -1)).toThrow(ConfigError)
    expect(() => TimeWindows.ofSizeWithNoGrace(10).advanceBy(11)).toThrow(/at most the window size/)
    expect(() => SessionWindows.ofInactivityGapWithNoGrace(1.5)).toThrow(ConfigError)
  })
})

describe('grace', () => {
  it('a record is late exactly when its window end + grace <= stream time; late records are counted', () => {
    const b = new StreamsBuilder()
    b.stream('in', strings)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 5))
      .count({ storeName: 'w' })
      .toStream()
      .to('out', { value: Serdes.Long })
    const driver = new TopologyTestDriver(b.build())
    driver.pipe('in', strings, 'k', 'a', 2) // window [0,10)
    driver.pipe('in', strings, 'k', 'b', 14) // stream time 14: 10 + 5 > 14, [0,10) still open
    driver.pipe('in', strings, 'k', 'c', 9) // accepted
    driver.pipe('in', strings, 'k', 'd', 15) // stream time 15: 10 + 5 <= 15, [0,10) closed
    driver.pipe('in', strings, 'k', 'e', 9) // late
    const out = driver.records('out', { key: WindowedSerdes.timeWindowed(S, 10), value: Serdes.Long })
    expect(out.map((r) => [r.key!.window.start, r.value, r.timestamp])).toEqual([
      [0, 1, 2],
      [10, 1, 14],
      [0, 2, 9],
      [10, 2, 15],
    ])
    expect(driver.dropped('late')).toBe(1)
  })
})

describe('WindowedSerdes write what Kafka writes', () => {
  let java: string[]
  beforeAll(() => {
    java = javaProbe('StreamsProbe')(['windowed-serde']).trim().split('\n')
  }, 300_000)

  it('time-windowed: key bytes then the 8-byte start (Kafka TimeWindowedSerializer)', () => {
    const serde = WindowedSerdes.timeWindowed(S, 100)
    const bytes = Buffer.from(serde.serialize({ key: 'ab', window: { start: 258, end: 358 } }))
    expect(bytes.toString('hex')).toBe(java[0])
    expect(bytes.toString('hex')).toBe('6162' + '0000000000000102')
    expect(serde.deserialize(bytes)).toEqual({ key: 'ab', window: { start: 258, end: 358 } })
  })

  it('session-windowed: key bytes, 8-byte end, 8-byte start (Kafka SessionKeySchema)', () => {
    const serde = WindowedSerdes.sessionWindowed(S)
    const bytes = Buffer.from(serde.serialize({ key: 'a', window: { start: 1, end: 2 } }))
    expect(bytes.toString('hex')).toBe(java[1])
    expect(bytes.toString('hex')).toBe('61' + '0000000000000002' + '0000000000000001')
    expect(serde.deserialize(bytes)).toEqual({ key: 'a', window: { start: 1, end: 2 } })
    expect(() => serde.deserialize(Buffer.alloc(3))).toThrow(/16 bytes/)
  })
})
