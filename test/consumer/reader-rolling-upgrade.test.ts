// @integration
// A rolling upgrade of a live group from the classic protocol to the consumer protocol (KIP-848)
// and back, as when a service's instances are redeployed one by one: three Readers with
// `groupProtocol: 'classic'` consume while a Writer writes; each is replaced by one with
// `groupProtocol: 'consumer'` (the first one upgrades the group online, Kafka's
// group.consumer.migration.policy `bidirectional`), then each of those by a classic one again
// (the last consumer-protocol member leaving downgrades the group). Every record is processed and
// committed, no partition is processed by two members at once, and the committed offsets reach
// the end of every partition. Runs on the reference cluster and on real Kafka 4.x.

import { describe, expect, it } from 'vitest'
import type { ReaderConfig } from '../../src/consumer/config.js'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import { Reader } from '../../src/consumer/reader.js'
import { Writer } from '../../src/producer/writer.js'
import { committedOffsets, createTopic, sleep, startTarget, targetName, unique, waitFor } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

const PARTITIONS = 6

interface Interval {
  member: string
  partition: number
  start: number
  end: number
}

/** The group's members processing batches; a batch counts once its commit succeeds. */
class Workload {
  readonly intervals: Interval[] = []
  /** `partition:offset` of every record processed and committed. */
  readonly done = new Set<string>()
  readonly perMember = new Map<string, number>()
  readonly errors: unknown[] = []

  /** Reads, processes (a few ms per batch) and commits until the Reader is closed. */
  async run(name: string, reader: Reader, stop: AbortSignal): Promise<void> {
    for (;;) {
      let batch
      try {
        batch = await reader.fetchBatch({ signal: stop })
      } catch (err) {
        if (stop.aborted) return
        this.errors.push(err)
        return
      }
      const start = Date.now()
      await sleep(5) // the handler
      try {
        await reader.commitMessages(...batch.messages)
      } catch (err) {
        // Revoked meanwhile: the partition's next owner processes these records again.
        if (err instanceof CommitRejectedError) continue
        if (stop.aborted) return
        this.errors.push(err)
        return
      }
      const end = Date.now()
      for (const p of new Set(batch.messages.map((m) => m.partition)))
        this.intervals.push({ member: name, partition: p, start, end })
      for (const m of batch.messages) this.done.add(`${m.partition}:${m.offset}`)
      this.perMember.set(name, (this.perMember.get(name) ?? 0) + batch.messages.length)
    }
  }

  /** Pairs of intervals of one partition processed by two members at once. */
  overlaps(): [Interval, Interval][] {
    const out: [Interval, Interval][] = []
    for (const x of this.intervals)
      for (const y of this.intervals)
        if (x.partition === y.partition && x.member < y.member && x.start < y.end && y.start < x.end) out.push([x, y])
    return out
  }
}

describe(`a rolling upgrade between the classic and the consumer group protocol, against ${targetName}`, () => {
  it('classic → consumer → classic, one member at a time, while a Writer writes', async () => {
    const topic = unique('rolling')
    const groupId = unique('rolling-g')
    await createTopic(target.bootstrap, topic, PARTITIONS)
    const writer = new Writer({ brokers: target.bootstrap, topic, batchSize: 50 })
    const work = new Workload()
    const members = new Map<string, { reader: Reader; stop: AbortController; run: Promise<void> }>()
    const start = (name: string, groupProtocol: 'classic' | 'consumer') => {
      const config: ReaderConfig = {
        brokers: target.bootstrap,
        groupId,
        topic,
        groupProtocol,
        ...(groupProtocol === 'classic'
          ? { sessionTimeout: 10_000, heartbeatInterval: 200, rebalanceTimeout: 20_000 }
          : { rebalanceTimeout: 20_000 }),
      }
      const reader = new Reader(config)
      const stop = new AbortController()
      members.set(name, { reader, stop, run: work.run(name, reader, stop.signal) })
    }
    const stopMember = async (name: string) => {
      const m = members.get(name)!
      members.delete(name)
      m.stop.abort()
      await m.run
      await m.reader.close()
    }
    /** Waits until `name` has processed records (it owns partitions and works). */
    const working = (name: string) =>
      waitFor(() => (work.perMember.get(name) ?? 0) > 0, 60_000, `${name} to process records`)

    let written = 0
    let writing = true
    const produced = (async () => {
      while (writing) {
        const n = 30
        await writer.writeMessages(
          Array.from({ length: n }, (_, i) => ({
            key: Buffer.from(`k${written + i}`),
            value: Buffer.from(`${written + i}`),
          })),
        )
        written += n
        await sleep(50)
      }
    })()
    try {
      for (const name of ['classic-1', 'classic-2', 'classic-3']) start(name, 'classic')
      for (const name of ['classic-1', 'classic-2', 'classic-3']) await working(name)
      expect([...members.values()].map((m) => m.reader.groupProtocol)).toEqual(['classic', 'classic', 'classic'])
      // Upgrade: each classic member is replaced by a consumer-protocol one.
      for (const i of [1, 2, 3]) {
        start(`consumer-${i}`, 'consumer')
        await working(`consumer-${i}`)
        await stopMember(`classic-${i}`)
      }
      expect(members.get('consumer-1')!.reader.groupProtocol).toBe('consumer')
      // Downgrade: and back, one by one.
      for (const i of [1, 2, 3]) {
        start(`classic-again-${i}`, 'classic')
        await working(`classic-again-${i}`)
        await stopMember(`consumer-${i}`)
      }
      writing = false
      await produced
      await waitFor(() => work.done.size >= written, 60_000, `all ${written} records to be processed`)
      expect(work.errors).toEqual([])
      expect(work.done.size).toBe(written)
      expect(work.overlaps()).toEqual([])
      // Offsets are contiguous from 0: a partition's end offset is the number of its records.
      const ends = new Map<number, bigint>()
      for (const key of work.done) {
        const p = Number(key.split(':')[0])
        ends.set(p, (ends.get(p) ?? 0n) + 1n)
      }
      await waitFor(
        async () => {
          const committed = await committedOffsets(target.bootstrap, groupId, topic, PARTITIONS)
          return [...ends].every(([p, end]) => committed.get(p) === end)
        },
        20_000,
        'the committed offsets to reach the end of every partition',
      )
    } finally {
      writing = false
      await produced.catch(() => {})
      for (const name of [...members.keys()]) await stopMember(name)
      await writer.close()
    }
  }, 300_000)
})
