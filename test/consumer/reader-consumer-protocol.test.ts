// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// The Reader with `groupProtocol: 'consumer'` (KIP-848) against a 3-broker reference cluster, or
// real Kafka 4.x when KAFKA_BOOTSTRAP is set: members join and leave while records are consumed
// and committed, and every record is consumed exactly once by the group; the server-side `range`
// assignor; a static member restarting; a regex subscription that picks up a topic created later.

import { describe, expect, it } from 'vitest'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import { Reader } from '../../src/consumer/reader.js'
import type { ReaderConfig } from '../../src/consumer/config.js'
import { createTopic, produce, startTarget, targetName, unique, valueOf, waitFor } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

/** Counts of each value read by the group's members; each member commits every batch after reading it. */
class GroupReads {
  readonly counts: Uint8Array
  distinct = 0
  rejected = 0
  constructor(readonly total: number) {
    this.counts = new Uint8Array(total)
  }

  /** Reads and commits until `stop` aborts (or the Reader closes). */
  async run(reader: Reader, stop: AbortSignal): Promise<void> {
    for (;;) {
      let batch
      try {
        batch = await reader.fetchBatch({ signal: stop })
      } catch (err) {
        if (stop.aborted) return
        throw err
      }
      for (const m of batch.messages) if (this.counts[Number(valueOf(m))]!++ === 0) this.distinct++
      try {
        await reader.commitMessages(...batch.messages)
      } catch (err) {
        if (!(err instanceof CommitRejectedError)) throw err
        this.rejected++
      }
    }
  }

  duplicatesAndMissing(): { duplicates: number; missing: number } {
    let duplicates = 0
    let missing = 0
    for (const c of this.counts) {
      if (c === 0) missing++
      else duplicates += c - 1
    }
    return { duplicates, missing }
  }
}

describe.sequential(`Reader, consumer group protocol (KIP-848), against ${targetName}`, () => {
  it('members join and leave while the group reads; every record is consumed once', async () => {
    const topic = unique('cgp')
    const groupId = unique('cgp-g')
    const total = 1200
    await createTopic(target.bootstrap, topic, 6)
    await produce(target.bootstrap, topic, total / 2)
    const config: ReaderConfig = {
      brokers: target.bootstrap,
      groupId,
      topic,
      groupProtocol: 'consumer',
      maxWait: 200,
      partitionMaxBytes: 2048,
    }
    const reads = new GroupReads(total)
    const members = new Map<string, { reader: Reader; stop: AbortController; done: Promise<void> }>()
    const join = (name: string) => {
      const reader = new Reader(config)
      const stop = new AbortController()
      members.set(name, { reader, stop, done: reads.run(reader, stop.signal) })
      return reader
    }
    const leave = async (name: string) => {
      const m = members.get(name)!
      m.stop.abort()
      await m.done
      await m.reader.close()
      members.delete(name)
    }
    try {
      const a = join('a')
      await waitFor(() => reads.distinct >= 150, 30_000, 'A to read')
      expect(a.groupProtocol).toBe('consumer')
      const b = join('b')
      await waitFor(() => b.assignment().length > 0 && a.assignment().length > 0, 30_000, 'B to receive partitions')
      // Disjoint while both are in the group.
      const keys = [...a.assignment(), ...b.assignment()].map((tp) => tp.partition)
      expect(new Set(keys).size).toBe(keys.length)
      await produce(target.bootstrap, topic, total / 2, { from: total / 2 })
      await waitFor(() => reads.distinct >= 800, 30_000, 'A and B to read')
      await leave('a')
      join('c')
      await waitFor(() => reads.distinct >= total, 60_000, `the group to read all ${total} records`)
    } finally {
      for (const name of [...members.keys()]) await leave(name)
    }
    expect(reads.duplicatesAndMissing()).toEqual({ duplicates: 0, missing: 0 })
    expect(reads.rejected).toBe(0)
  }, 120_000)

  it('uses the server-side range assignor', async () => {
    const topic = unique('cgp-range')
    const groupId = unique('cgp-range-g')
    await createTopic(target.bootstrap, topic, 4)
    const config: ReaderConfig = {
      brokers: target.bootstrap,
      groupId,
      topic,
      groupProtocol: 'consumer',
      groupRemoteAssignor: 'range',
    }
    const a = new Reader(config)
    const b = new Reader(config)
    try {
      const sorted = (r: Reader) =>
        r
          .assignment()
          .map((tp) => tp.partition)
          .sort((x, y) => x - y)
      await waitFor(() => a.assignment().length === 2 && b.assignment().length === 2, 30_000, 'two partitions each')
      // Range hands out contiguous ranges, in member id order.
      const ranges = [sorted(a), sorted(b)].sort((x, y) => x[0]! - y[0]!)
      expect(ranges).toEqual([
        [0, 1],
        [2, 3],
      ])
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  }, 60_000)

  it('a static member that restarts gets its partitions back, the other member keeping its own', async () => {
    const topic = unique('cgp-static')
    const groupId = unique('cgp-static-g')
    await createTopic(target.bootstrap, topic, 2)
    const config: ReaderConfig = { brokers: target.bootstrap, groupId, topic, groupProtocol: 'consumer' }
    const a = new Reader({ ...config, groupInstanceId: 'a' })
    const b = new Reader({ ...config, groupInstanceId: 'b' })
    let again: Reader | undefined
    try {
      await waitFor(() => a.assignment().length === 1 && b.assignment().length === 1, 30_000, 'one partition each')
      const had = a.assignment()
      const kept = b.assignment()
      await a.close() // leaves with epoch -2: the coordinator keeps its partitions for instance 'a'
      again = new Reader({ ...config, groupInstanceId: 'a' })
      await waitFor(() => again!.assignment().length === 1, 30_000, 'the restarted member to get a partition')
      expect(again.assignment()).toEqual(had)
      expect(b.assignment()).toEqual(kept)
    } finally {
      await Promise.all([a.close(), b.close(), again?.close()])
    }
  }, 60_000)

  it('subscribes by regular expression, resolved by the coordinator, including a topic created later', async () => {
    const prefix = unique('cgp-rx')
    await createTopic(target.bootstrap, `${prefix}-one`, 1)
    await produce(target.bootstrap, `${prefix}-one`, 5)
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: unique('cgp-rx-g'),
      topicPattern: `${prefix.replace(/-/g, '\\-')}-.*`,
      groupProtocol: 'consumer',
      maxWait: 200,
    })
    try {
      const signal = AbortSignal.timeout(60_000)
      for (let i = 0; i < 5; i++) expect((await reader.fetchMessage({ signal })).topic).toBe(`${prefix}-one`)
      await createTopic(target.bootstrap, `${prefix}-two`, 1)
      await produce(target.bootstrap, `${prefix}-two`, 3)
      const topics = new Set<string>()
      while (!topics.has(`${prefix}-two`)) topics.add((await reader.fetchMessage({ signal })).topic)
      expect(
        reader
          .assignment()
          .map((tp) => tp.topic)
          .sort(),
      ).toEqual([`${prefix}-one`, `${prefix}-two`])
    } finally {
      await reader.close()
    }
  }, 90_000)
})
