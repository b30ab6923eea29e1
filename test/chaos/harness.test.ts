// The chaos harness itself: the schedule is a function of the seed and keeps its promises (one
// broker down at a time, everything undone before the end), and the verifier counts what it
// claims to count on logs written by hand.

import { describe, expect, it } from 'vitest'
import { planFaults, REAL_KAFKA_KINDS, REFERENCE_KINDS, type PlanOptions } from './plan.js'
import { clean, formatFigures, valueOf, verify, type LogRecord, type Outcome } from './verify.js'

describe('chaos schedule', () => {
  const options: PlanOptions = {
    seed: 7,
    messages: 100_000,
    partitions: 6,
    brokerIds: [0, 1, 2],
    kinds: REFERENCE_KINDS,
    every: 1000,
  }

  it('is the same for the same seed and differs for another', () => {
    expect(planFaults(options)).toEqual(planFaults(options))
    expect(planFaults({ ...options, seed: 8 })).not.toEqual(planFaults(options))
  })

  it('draws every kind, crashes one broker at a time and undoes everything before the last 10%', () => {
    const schedule = planFaults(options)
    const kinds = new Set(schedule.map((f) => f.event.kind))
    for (const k of [...REFERENCE_KINDS, 'restart', 'restoreIsr']) expect(kinds).toContain(k)
    let down: number | undefined
    const metadataLag = new Set<number>()
    const shrunk = new Set<number>()
    let last = 0
    for (const { at, event: e } of schedule) {
      expect(at).toBeGreaterThanOrEqual(last) // in order of message count
      last = at
      expect(at).toBeLessThanOrEqual(90_000)
      if (e.kind === 'crash') {
        expect(down).toBeUndefined()
        down = e.broker
      } else if (e.kind === 'restart') {
        expect(e.broker).toBe(down)
        down = undefined
      } else if (e.kind === 'moveLeader' || e.kind === 'dropConnections' || e.kind === 'dropResponse') {
        expect(e.broker).not.toBe(down)
      } else if (e.kind === 'lagMetadata') {
        if (e.on) metadataLag.add(e.broker)
        else metadataLag.delete(e.broker)
      } else if (e.kind === 'shrinkIsr') shrunk.add(e.partition)
      else if (e.kind === 'restoreIsr') shrunk.delete(e.partition)
    }
    expect(down).toBeUndefined()
    expect(metadataLag.size).toBe(0)
    expect(shrunk.size).toBe(0)
  })

  it('on real Kafka only crashes and moves leaders, and never moves one while a node is down', () => {
    const schedule = planFaults({
      ...options,
      brokerIds: [1, 2, 3],
      kinds: REAL_KAFKA_KINDS,
      moveLeaderNeedsAllUp: true,
    })
    expect(new Set(schedule.map((f) => f.event.kind))).toEqual(new Set(['crash', 'restart', 'moveLeader']))
    let down = false
    for (const { event: e } of schedule) {
      if (e.kind === 'crash') down = true
      if (e.kind === 'restart') down = false
      if (e.kind === 'moveLeader') expect(down).toBe(false)
    }
  })
})

describe('chaos verifier', () => {
  const keys = 2
  const rec = (partition: number, offset: number, i: number): LogRecord => ({
    partition,
    offset,
    value: valueOf(i, keys).value,
  })

  it('names message i by key k<i mod K> and its place among its key', () => {
    expect(valueOf(5, 2)).toEqual({ key: 'k1', value: '5:k1:2' })
  })

  it('finds nothing wrong in a clean log', () => {
    const outcomes: Outcome[] = ['acked', 'acked', 'acked', 'acked']
    // k0 (0, 2) on partition 0, k1 (1, 3) on partition 1.
    const f = verify([rec(0, 0, 0), rec(1, 0, 1), rec(0, 1, 2), rec(1, 1, 3)], outcomes, 2)
    expect(clean(f)).toBe(true)
    expect(f).toMatchObject({ acked: 4, lost: 0, duplicated: 0, reordered: 0, failed: 0 })
  })

  it('counts lost, duplicated, reordered, failed, failed-but-written and foreign records', () => {
    const outcomes: Outcome[] = ['acked', 'acked', 'failed', 'acked', 'failed', 'acked', 'unresolved']
    const records: LogRecord[] = [
      rec(0, 0, 2), // k0 #1: failed yet written
      rec(0, 1, 0), // k0 #0 after #1: reordered
      rec(0, 2, 0), // a second copy of message 0
      rec(1, 0, 1), // k1 #0
      rec(1, 1, 5), // k1 #2 (message 3, k1 #1, acked but lost)
      rec(1, 2, 5), // a second copy of message 5
      { partition: 1, offset: 3, value: 'not ours' },
    ]
    const f = verify(records, outcomes, 2)
    expect(f).toMatchObject({
      messages: 7,
      acked: 4,
      failed: 2,
      unresolved: 1,
      lost: 1,
      duplicated: 2,
      reordered: 1,
      failedButWritten: 1,
      foreign: 1,
    })
    expect(f.partitions).toEqual([
      { partition: 0, records: 3, duplicated: 1, reordered: 1 },
      { partition: 1, records: 3, duplicated: 1, reordered: 0 },
    ])
    expect(clean(f)).toBe(false)
    expect(formatFigures(f, 'test').split('\n')[0]).toBe(
      'chaos writer: test: messages=7 acked=4 failed=2 unresolved=1 lost=1 duplicated=2 reordered=1 ' +
        'failed-but-written=1 foreign=1 => NOT CLEAN',
    )
  })

  it('counts a key split over two partitions as out of order', () => {
    const f = verify([rec(0, 0, 0), rec(1, 0, 2)], ['acked', 'unresolved', 'acked'], 2)
    expect(f.reordered).toBe(1)
  })
})
