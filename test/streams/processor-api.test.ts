// The Processor API for applications (KStream.process / processValues) beyond the Java
// comparison (dsl-vs-java.test.ts 'punctuate'): punctuation schedules, the fixed-key rule of
// processValues, and wall-clock punctuation refused where nothing drives it (the runtime drives
// it: wall-clock.test.ts).

import { describe, expect, it } from 'vitest'

import { ConfigError } from '../../src/errors.js'
import { Serdes, StreamsBuilder, TopologyError, TopologyTestDriver } from '../../src/streams/index.js'
import { PunctuationQueue } from '../../src/streams/punctuation.js'
import { Task } from '../../src/streams/task.js'

const S = Serdes.String
const strings = { key: S, value: S }

describe('punctuation schedules', () => {
  it('run when due, once per call, then at the next multiple of the interval after a gap', () => {
    const q = new PunctuationQueue()
    const runs: string[] = []
    q.add(0, 10, (t) => runs.push(`a${t}`))
    q.add(5, 10, (t) => runs.push(`b${t}`))
    expect(q.due(-1)).toBe(false)
    q.due(7) // a (due 0) then b (due 5)
    q.due(9) // a is due at 10, b at 15
    q.due(44) // a: 10 -> next 50; b: 15 -> next 45 (the next multiple of 10 after 44, counted from 15)
    q.due(50)
    expect(runs).toEqual(['a7', 'b7', 'a44', 'b44', 'b50', 'a50'])
  })

  it('a punctuator may cancel itself or another; bad intervals are refused', () => {
    const q = new PunctuationQueue()
    const runs: number[] = []
    const other = q.add(0, 1, () => runs.push(2))
    const self = q.add(0, 1, (t) => {
      runs.push(1)
      if (t >= 1) self.cancel()
    })
    q.due(0)
    other.cancel()
    q.due(1)
    q.due(2)
    expect(runs).toEqual([2, 1, 1])
    expect(q.size).toBe(0)
    expect(() => q.add(0, 0, () => undefined)).toThrow(ConfigError)
  })
})

describe('KStream.process / processValues', () => {
  it('stream-time punctuators see the stream time; wall-clock ones the driver system time', () => {
    const b = new StreamsBuilder()
    b.stream('in', strings)
      .process<string, string>(() => ({
        init(c) {
          c.schedule(10, 'stream-time', (t) => c.forward({ key: 'st', value: String(t), timestamp: t }))
          c.schedule(100, 'wall-clock-time', (t) => c.forward({ key: 'wc', value: String(t), timestamp: t }))
        },
        process: () => undefined,
      }))
      .to('out', strings)
    const d = new TopologyTestDriver(b.build(), { initialWallClockTime: 1000 })
    d.pipe('in', strings, 'k', 'v', 3)
    d.pipe('in', strings, 'k', 'v', 8)
    d.pipe('in', strings, 'k', 'v', 27)
    d.advanceWallClockTime(99)
    d.advanceWallClockTime(1)
    expect(d.records('out', strings).map((r) => `${r.key}=${r.value}`)).toEqual(['st=3', 'st=27', 'wc=1100'])
    expect(() => d.advanceWallClockTime(-1)).toThrow(ConfigError)
  })

  it('processValues refuses a record forwarded with another key', () => {
    const b = new StreamsBuilder()
    b.stream('in', strings)
      .processValues<string>(() => ({ process: (r, c) => c.forward({ ...r, key: 'other', value: 'x' }) }))
      .to('out', strings)
    const d = new TopologyTestDriver(b.build())
    expect(() => d.pipe('in', strings, 'k', 'v', 1)).toThrow(TopologyError)
  })

  it('process marks the stream for repartitioning, processValues does not', () => {
    const b = new StreamsBuilder()
    const s = b.stream('in', strings)
    expect(s.process(() => ({ process: () => undefined }))._n.repartitionRequired).toBe(true)
    expect(s.processValues(() => ({ process: () => undefined }))._n.repartitionRequired).toBe(false)
  })

  it('wall-clock punctuation is refused where no clock drives it (a Task without wallClock)', () => {
    const b = new StreamsBuilder()
    b.stream('in', strings).process(() => ({
      init: (c) => void c.schedule(10, 'wall-clock-time', () => undefined),
      process: () => undefined,
    }))
    const topology = b.build()
    const make = (): Task =>
      new Task({
        topology,
        subtopology: topology.subtopologies[0]!,
        partition: 0,
        topicName: (n) => n,
        stores: new Map(),
        emit: () => undefined,
        dropped: () => undefined,
      })
    expect(make).toThrow(/wall-clock punctuation needs a clock/)
  })
})
