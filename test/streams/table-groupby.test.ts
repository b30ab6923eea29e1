// KTable.groupBy beyond the Java comparison (dsl-vs-java.test.ts, which also checks the
// repartition topic's bytes): the Change format's other flags and bad bytes, clear errors, and
// the aggregation's store.

import { describe, expect, it } from 'vitest'

import { SerdeError, Serdes, StreamsBuilder, TopologyError, TopologyTestDriver } from '../../src/streams/index.js'
import { changeSerde } from '../../src/streams/grouped-table.js'

const S = Serdes.String
const strings = { key: S, value: S }

describe('the Change format of the repartition topic', () => {
  const serde = changeSerde(S)

  it('reads the versioned-table flags 3-5 (an is-latest byte before the flag)', () => {
    expect(serde.deserialize(Buffer.from([0x61, 1, 3]))).toEqual({ newValue: null, oldValue: 'a' })
    expect(serde.deserialize(Buffer.from([0x62, 0, 4]))).toEqual({ newValue: 'b', oldValue: null })
    // varint(1) = zigzag 2, 'n', 'o', is-latest, flag 5
    expect(serde.deserialize(Buffer.from([2, 0x6e, 0x6f, 1, 5]))).toEqual({ newValue: 'n', oldValue: 'o' })
  })

  it('refuses bytes that do not fit, and a change without values', () => {
    expect(() => serde.deserialize(Buffer.alloc(0))).toThrow(SerdeError)
    expect(() => serde.deserialize(Buffer.from([0x61, 9]))).toThrow(/unknown flag 9/)
    expect(() => serde.deserialize(Buffer.from([40, 0x6e, 2]))).toThrow(/length/)
    expect(() => serde.deserialize(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 2]))).toThrow(SerdeError)
    expect(() => serde.serialize({ newValue: null, oldValue: null })).toThrow(SerdeError)
  })

  it('a long new value: a multi-byte varint', () => {
    const change = { newValue: 'x'.repeat(300), oldValue: 'y' }
    expect(serde.deserialize(Buffer.from(serde.serialize(change)))).toEqual(change)
  })
})

describe('KTable.groupBy', () => {
  it('needs the new serdes, and a table that can send old values', () => {
    const b = new StreamsBuilder()
    const t = b.table('t', strings)
    expect(() => t.groupBy((k, v) => ({ key: v, value: k }), {} as never)).toThrow(TopologyError)
    const joined = t.join(b.table('u', strings), (x, y) => x + y)
    expect(() => joined.groupBy((k, v) => ({ key: v, value: k }), { key: S, value: S })).toThrow(/old values/)
  })

  it('keeps the groups in a queryable store; a row moving between groups leaves the old one', () => {
    const b = new StreamsBuilder()
    b.table('t', strings)
      .groupBy((_k, v) => ({ key: v, value: v }), { key: S, value: S })
      .count({ storeName: 'per-value' })
    const d = new TopologyTestDriver(b.build())
    d.pipe('t', strings, 'a', 'x', 1)
    d.pipe('t', strings, 'b', 'x', 2)
    d.pipe('t', strings, 'a', 'y', 3)
    d.pipe('t', strings, 'b', null, 4)
    const store = d.store<string, number>('per-value')!
    expect([...store.all()]).toEqual([
      ['x', 0],
      ['y', 1],
    ])
  })
})
