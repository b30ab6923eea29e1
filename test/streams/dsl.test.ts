// DSL rules that need no Java counterpart: clear errors for topologies that cannot run, the
// driver's view of stores and dropped records, and serde failures naming where they happened.

import { describe, expect, it } from 'vitest'

import { Serdes, SerdeError, StreamsBuilder, TopologyError, TopologyTestDriver } from '../../src/streams/index.js'

const S = Serdes.String
const strings = { key: S, value: S }

describe('topology errors', () => {
  it('a sink after a value change without a serde names the missing serde', () => {
    const b = new StreamsBuilder()
    b.stream('in', strings)
      .mapValues((v) => (v ?? '').length)
      .to('out')
    expect(() => b.build()).toThrow(TopologyError)
    expect(() => b.build()).toThrow(/no value serde/)
  })

  it('an aggregation after a key change without a key serde fails at once', () => {
    const b = new StreamsBuilder()
    const grouped = b.stream('in', strings).groupBy((_k, v) => (v ?? '').length)
    expect(() => grouped.count()).toThrow(/key serde/)
  })

  it('a topic read twice, a reused name and an empty topology are refused', () => {
    const b = new StreamsBuilder()
    b.stream('in', strings)
    expect(() => b.stream('in', strings)).toThrow(/read by two sources/)
    expect(() => b.stream('x', { ...strings, name: 'bad name' })).toThrow(/letters, digits/)
    expect(() => new StreamsBuilder().build()).toThrow(/empty/)
  })

  it('a split with two branches of one name is refused', () => {
    const b = new StreamsBuilder()
    const split = b
      .stream('in', strings)
      .split({ name: 's-' })
      .branch(() => true, { name: 'a' })
      .branch(() => true, { name: 'a' })
    expect(() => split.noDefaultBranch()).toThrow(/used twice/)
  })
})

describe('the test driver', () => {
  it('queries a store, counts records dropped for a null key, logs changes to the changelog', () => {
    const b = new StreamsBuilder()
    b.stream('in', strings).groupByKey().count({ storeName: 'counts' })
    const driver = new TopologyTestDriver(b.build(), { applicationId: 'app' })
    driver.pipe('in', strings, 'a', 'x', 5)
    driver.pipe('in', strings, 'a', 'y', 3)
    driver.pipe('in', strings, null, 'z', 7)
    driver.pipe('in', strings, 'b', 'x', 9)
    const store = driver.store<string, number>('counts')!
    expect(store.get('a')).toBe(2)
    expect(store.get('b')).toBe(1)
    expect([...store.all()]).toEqual([
      ['a', 2],
      ['b', 1],
    ])
    expect(driver.dropped('null-key-or-value')).toBe(1)
    // Kafka's timestamped store format on the changelog: 8-byte timestamp, then the Long.
    const changelog = driver.records('app-counts-changelog', { key: S, value: Serdes.Bytes })
    expect(changelog.map((r) => [r.key, Buffer.from(r.value!).toString('hex')])).toEqual([
      ['a', '0000000000000005' + '0000000000000001'],
      ['a', '0000000000000005' + '0000000000000002'],
      ['b', '0000000000000009' + '0000000000000001'],
    ])
  })

  it('a value its serde cannot read stops processing with a SerdeError naming the record', () => {
    const b = new StreamsBuilder()
    b.stream('in', { key: S, value: Serdes.Long }).to('out', { key: S, value: Serdes.Long })
    const driver = new TopologyTestDriver(b.build())
    expect(() => driver.pipe('in', strings, 'k', 'not 8 bytes', 1)).toThrow(SerdeError)
    expect(() => driver.pipe('in', strings, 'k', 'not 8 bytes', 1)).toThrow(/topic in partition 0 offset 1 value/)
  })

  it('branch() sends each record to the first matching predicate only', () => {
    const b = new StreamsBuilder()
    const [small, large] = b.stream('in', { key: S, value: Serdes.Integer }).branch(
      (_k, v) => (v ?? 0) < 10,
      (_k, v) => (v ?? 0) < 100,
    )
    small!.to('small')
    large!.to('large')
    const driver = new TopologyTestDriver(b.build())
    const ints = { key: S, value: Serdes.Integer }
    for (const v of [1, 50, 500, 9]) driver.pipe('in', ints, 'k', v, 1)
    expect(driver.records('small', ints).map((r) => r.value)).toEqual([1, 9])
    expect(driver.records('large', ints).map((r) => r.value)).toEqual([50])
  })
})
