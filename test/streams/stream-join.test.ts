// Stream-stream left and outer joins beyond the Java comparison (dsl-vs-java.test.ts): when a
// record without a partner is emitted, clear errors, and the shared store's bytes refused when
// they do not fit its layout.

import { describe, expect, it } from 'vitest'

import {
  JoinWindows,
  SerdeError,
  Serdes,
  StreamsBuilder,
  TopologyError,
  TopologyTestDriver,
} from '../../src/streams/index.js'
import { outerJoinStoreSerdes } from '../../src/streams/outer-join.js'

const S = Serdes.String
const strings = { key: S, value: S }

function leftJoin(difference: number, grace: number): TopologyTestDriver {
  const b = new StreamsBuilder()
  b.stream('l', strings)
    .leftJoin(b.stream('r', strings), (a, c) => `${a}+${c}`, JoinWindows.ofTimeDifferenceAndGrace(difference, grace), {
      result: S,
    })
    .to('out', strings)
  return new TopologyTestDriver(b.build())
}

const values = (d: TopologyTestDriver): string[] =>
  d.records('out', strings).map((r) => `${r.key}:${r.value}@${r.timestamp}`)

describe('stream-stream left join', () => {
  it('holds a record without a partner until difference + grace have passed in stream time', () => {
    const d = leftJoin(5, 2)
    d.pipe('l', strings, 'a', 'L', 10)
    d.pipe('r', strings, 'b', 'x', 17) // 10 + 5 + 2 = 17: not yet closed
    expect(values(d)).toEqual([])
    d.pipe('r', strings, 'b', 'y', 18) // closed: emitted with its own timestamp
    expect(values(d)).toEqual(['a:L+null@10'])
  })

  it('a partner within the window and the grace period cancels the null result', () => {
    const d = leftJoin(5, 2)
    d.pipe('l', strings, 'a', 'L', 10)
    d.pipe('r', strings, 'b', 'x', 16)
    d.pipe('r', strings, 'a', 'R', 15) // out of order, within the window
    d.pipe('l', strings, 'c', 'z', 40) // closes a's window: nothing is held for it any more
    expect(values(d)).toEqual(['a:L+R@15'])
  })

  it('a record whose window closed already is joined with null at once; a null key too', () => {
    const d = leftJoin(5, 0)
    d.pipe('r', strings, 'b', 'x', 30)
    d.pipe('l', strings, 'a', 'old', 3) // 3 + 5 < 30
    d.pipe('l', strings, null, 'nokey', 31)
    expect(values(d)).toEqual(['a:old+null@3', 'null:nokey+null@31'])
  })

  it('needs JoinWindows', () => {
    const b = new StreamsBuilder()
    const l = b.stream('l', strings)
    const r = b.stream('r', strings)
    expect(() => l.outerJoin(r, (a, c) => `${a}${c}`, undefined as unknown as JoinWindows)).toThrow(TopologyError)
  })
})

describe('the join window stores', () => {
  it('drop what has expired (retention: 2 x difference + grace), so memory stays bounded', () => {
    const b = new StreamsBuilder()
    b.stream('l', strings)
      .join(b.stream('r', strings), (a, c) => `${a}+${c}`, JoinWindows.ofTimeDifferenceAndGrace(5, 2), { result: S })
      .to('out', strings)
    const d = new TopologyTestDriver(b.build())
    for (let i = 0; i < 3000; i++) d.pipe(i % 2 === 0 ? 'l' : 'r', strings, `k${(i >> 1) % 7}`, `v${i}`, i)
    // Each side holds the records of the last 12 ms only (one every 2 ms).
    expect(d.store('KSTREAM-JOINTHIS-0000000004-store')!.size).toBeLessThanOrEqual(6)
    expect(d.store('KSTREAM-JOINOTHER-0000000005-store')!.size).toBeLessThanOrEqual(6)
    // Each right record joins the left one 1 ms before it (the same key recurs only 14 ms later).
    expect(d.records('out', strings).length).toBe(1500)
  })
})

describe('the shared outer-join store layout', () => {
  const serdes = outerJoinStoreSerdes(S, S as never, Serdes.Long as never)

  it('keys sort by timestamp, then side, then key', () => {
    const a = Buffer.from(serdes.key.serialize({ timestamp: 5, left: true, key: 'a' }))
    const b = Buffer.from(serdes.key.serialize({ timestamp: 5, left: false, key: 'z' }))
    const c = Buffer.from(serdes.key.serialize({ timestamp: 6, left: false, key: 'a' }))
    expect(a.toString('hex')).toBe('00000000000000050161')
    expect(Buffer.compare(b, a)).toBeLessThan(0)
    expect(Buffer.compare(a, c)).toBeLessThan(0)
  })

  it('values of both sides, and bytes that do not fit are a SerdeError', () => {
    const list = [
      { left: true, value: 'x' },
      { left: false, value: 7 },
    ]
    const bytes = Buffer.from(serdes.value.serialize(list))
    expect(serdes.value.deserialize(bytes)).toEqual(list)
    expect(() => serdes.value.deserialize(bytes.subarray(0, bytes.length - 3))).toThrow(SerdeError)
    expect(() => serdes.value.deserialize(Buffer.from([0, 0, 0, 0, 1]))).toThrow(SerdeError)
    expect(() => serdes.key.deserialize(Buffer.from([1, 2]))).toThrow(SerdeError)
  })
})
