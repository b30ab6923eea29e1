// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// Consumer groups against a 3-broker reference cluster, or real Kafka when KAFKA_BOOTSTRAP is
// set: restarts resuming from committed offsets (100k messages), members joining and leaving
// with disjoint assignments and no loss, a slow handler keeping its membership, commits from a
// member that lost its partition or was fenced, cooperative rebalancing, partitions added to a
// subscribed topic, and static membership.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CooperativeStickyGroupBalancer } from '../../src/consumer/assignors.js'
import type { TopicPartition } from '../../src/consumer/config.js'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { Reader } from '../../src/consumer/reader.js'
import type { ReaderConfig } from '../../src/consumer/config.js'
import { AbortError, ClosedError } from '../../src/net/errors.js'
import {
  addPartitions,
  committedOffsets,
  createTopic,
  produce,
  sleep,
  startTarget,
  targetName,
  unique,
  valueOf,
  waitFor,
  type Target,
} from './helpers.js'

let target: Target

beforeAll(async () => {
  target = await startTarget()
}, 60_000)

afterAll(async () => {
  await target?.stop()
})

const key = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`

/** True when the members' assignments are pairwise disjoint, each non-empty, and cover `partitions`. */
function coversDisjointly(readers: Reader[], partitions: number): boolean {
  const seen = new Set<string>()
  for (const r of readers) {
    const a = r.assignment()
    if (a.length === 0) return false
    for (const tp of a) {
      if (seen.has(key(tp))) return false
      seen.add(key(tp))
    }
  }
  return seen.size === partitions
}

describe.sequential(`Reader groups against ${targetName}`, () => {
  it('reads 100k messages over 3 partitions across restarts, resuming from committed offsets', async () => {
    const topic = unique('hundredk')
    const groupId = unique('hundredk-g')
    const total = 100_000
    await createTopic(target.bootstrap, topic, 3)
    await produce(target.bootstrap, topic, total)
    const config: ReaderConfig = {
      brokers: target.bootstrap,
      groupId,
      topic,
      sessionTimeout: 10_000,
      partitionMaxBytes: 64 * 1024,
    }

    const counts = new Uint8Array(total)
    let read = 0
    let distinct = 0
    let uncommitted: string[] = []
    const signal = AbortSignal.timeout(90_000)
    // Five runs, each reading about a fifth and committing each fetched batch after processing
    // it; run 2 "crashes" before committing its last batch. The last run drains everything.
    for (let run = 0; run < 5; run++) {
      const reader = new Reader(config)
      const goal = run === 4 ? total : (run + 1) * 20_000
      try {
        for (;;) {
          const last = run === 4 && distinct === total
          let batch
          try {
            batch = await reader.fetchBatch({
              signal: last ? AbortSignal.any([signal, AbortSignal.timeout(1000)]) : signal,
            })
          } catch (err) {
            if (last && err instanceof AbortError && !signal.aborted) break // drained
            throw err
          }
          for (const m of batch.messages) if (counts[Number(valueOf(m))]!++ === 0) distinct++
          read += batch.messages.length
          if (run === 2 && distinct >= goal) {
            uncommitted = batch.messages.map(valueOf)
            break
          }
          await reader.commitMessages(...batch.messages)
          if (run < 4 && distinct >= goal) break
        }
      } finally {
        await reader.close()
      }
    }
    const missing = counts.findIndex((c) => c === 0)
    expect(missing).toBe(-1)
    const duplicated: string[] = []
    counts.forEach((c, i) => {
      if (c > 1) duplicated.push(String(i))
    })
    // Exactly the batch that was not committed is read twice; nothing else.
    expect(duplicated.sort()).toEqual([...uncommitted].sort())
    expect(read).toBe(total + uncommitted.length)
    const committed = await committedOffsets(target.bootstrap, groupId, topic, 3)
    let sum = 0n
    for (const offset of committed.values()) sum += offset
    expect(sum).toBe(BigInt(total))
  }, 120_000)

  it('shares partitions disjointly between three members; one leaves and one joins; nothing is lost', async () => {
    const topic = unique('members')
    const groupId = unique('members-g')
    const partitions = 6
    await createTopic(target.bootstrap, topic, partitions)
    await produce(target.bootstrap, topic, 3000)
    const config: ReaderConfig = {
      brokers: target.bootstrap,
      groupId,
      topic,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    }

    // Every read, in order, with whether its commit was accepted.
    const reads = new Map<string, { member: string; committed: boolean }[]>()
    const members = new Map<string, { reader: Reader; stop: AbortController; loop: Promise<void> }>()
    const start = (name: string): void => {
      const reader = new Reader(config)
      const stop = new AbortController()
      const loop = (async () => {
        for (;;) {
          let m: FetchedMessage
          try {
            m = await reader.fetchMessage({ signal: stop.signal })
          } catch (err) {
            if (err instanceof AbortError || err instanceof ClosedError) return
            throw err
          }
          const record = { member: name, committed: false }
          const list = reads.get(valueOf(m))
          if (list === undefined) reads.set(valueOf(m), [record])
          else list.push(record)
          try {
            await reader.commitMessages(m)
            record.committed = true
          } catch (err) {
            if (!(err instanceof CommitRejectedError)) throw err
          }
        }
      })()
      members.set(name, { reader, stop, loop })
    }
    const stopMember = async (name: string): Promise<void> => {
      const m = members.get(name)!
      m.stop.abort()
      await m.loop
      await m.reader.close()
      members.delete(name)
    }
    const readers = (): Reader[] => [...members.values()].map((m) => m.reader)

    try {
      start('A')
      start('B')
      start('C')
      await waitFor(() => coversDisjointly(readers(), partitions), 30_000, 'A, B and C to share the partitions')
      await waitFor(() => reads.size >= 1000, 30_000, 'some progress')

      await stopMember('B')
      await waitFor(() => coversDisjointly(readers(), partitions), 30_000, 'A and C to take over')
      const more = produce(target.bootstrap, topic, 3000, { from: 3000 })

      start('D')
      await waitFor(() => coversDisjointly(readers(), partitions), 30_000, 'A, C and D to share the partitions')
      await more
      await waitFor(() => reads.size === 6000, 60_000, 'every message to be read')
      expect(coversDisjointly(readers(), partitions)).toBe(true)
    } finally {
      for (const name of [...members.keys()]) await stopMember(name)
    }

    for (let i = 0; i < 6000; i++) expect(reads.has(String(i))).toBe(true)
    // A message read again was never committed before: every read but the last one of a value
    // had its commit refused (it was revoked) or never made.
    let duplicates = 0
    for (const [value, list] of reads) {
      for (const r of list.slice(0, -1)) {
        if (r.committed)
          throw new Error(`message ${value} was committed by ${r.member} and read again by ${list.at(-1)!.member}`)
      }
      duplicates += list.length - 1
    }
    expect(duplicates).toBeLessThan(600)
  }, 150_000)

  it('a slow handler keeps its membership: heartbeats run on their own timer', async () => {
    const topic = unique('slow')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 10)
    const revoked: TopicPartition[][] = []
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: unique('slow-g'),
      topic,
      sessionTimeout: 6000,
      heartbeatInterval: 1000,
      onRevoke: (p) => void revoked.push(p),
    })
    try {
      const first = await reader.fetchMessage({ signal: AbortSignal.timeout(20_000) })
      const generation = reader.generationId
      const memberId = reader.memberId
      let last = first
      // Each message takes longer than half the session timeout to "process".
      for (let i = 0; i < 3; i++) {
        await sleep(3500)
        await reader.commitMessages(last)
        last = await reader.fetchMessage({ signal: AbortSignal.timeout(5000) })
        expect(last.offset).toBe(BigInt(i + 1))
      }
      expect(reader.generationId).toBe(generation)
      expect(reader.memberId).toBe(memberId)
      expect(revoked).toEqual([])
    } finally {
      await reader.close()
    }
  }, 40_000)

  it("rejects a commit for a partition the member no longer owns, and leaves the group's offset alone", async () => {
    const topic = unique('stale')
    const groupId = unique('stale-g')
    await createTopic(target.bootstrap, topic, 2)
    await produce(target.bootstrap, topic, 40)
    const config: ReaderConfig = {
      brokers: target.bootstrap,
      groupId,
      topic,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    }
    const a = new Reader(config)
    let b: Reader | undefined
    try {
      // A alone owns both partitions; keep the first message of each without committing it.
      const kept = new Map<number, FetchedMessage>()
      const signal = AbortSignal.timeout(20_000)
      while (kept.size < 2) {
        const m = await a.fetchMessage({ signal })
        if (!kept.has(m.partition)) kept.set(m.partition, m)
      }
      const before = await committedOffsets(target.bootstrap, groupId, topic, 2)

      // B joins; range leaves each member one partition.
      b = new Reader(config)
      await waitFor(() => a.assignment().length === 1 && b!.assignment().length === 1, 30_000, 'the rebalance')
      const moved = b.assignment()[0]!.partition
      const stale = kept.get(moved)!

      const error = await a.commitMessages(stale).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CommitRejectedError)
      expect((error as CommitRejectedError).reason).toBe('not-owned')
      expect((error as CommitRejectedError).partitions).toEqual([
        { topic, partition: moved, offset: stale.offset + 1n },
      ])
      expect((await committedOffsets(target.bootstrap, groupId, topic, 2)).get(moved)).toBe(before.get(moved))
      // A's message from the partition it kept commits fine.
      await a.commitMessages(kept.get(1 - moved)!)

      // B, the owner now, reads that message again (nobody committed it).
      const fromB = await b.fetchMessage({ signal: AbortSignal.timeout(20_000) })
      expect(fromB.partition).toBe(moved)
      expect(fromB.offset).toBe(stale.offset)
    } finally {
      await b?.close()
      await a.close()
    }
  }, 60_000)

  it('cooperative rebalancing revokes only the partitions that move', async () => {
    const topic = unique('coop')
    const groupId = unique('coop-g')
    await createTopic(target.bootstrap, topic, 4)
    await produce(target.bootstrap, topic, 400)
    const revokedA: TopicPartition[][] = []
    const config: ReaderConfig = {
      brokers: target.bootstrap,
      groupId,
      topic,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      groupBalancers: [new CooperativeStickyGroupBalancer()],
    }
    const a = new Reader({ ...config, onRevoke: (p) => void revokedA.push(p) })
    let b: Reader | undefined
    const seen = new Set<string>()
    const drain = async (r: Reader, ms: number): Promise<void> => {
      const signal = AbortSignal.timeout(ms)
      for (;;) {
        try {
          const m = await r.fetchMessage({ signal })
          seen.add(valueOf(m))
          await r.commitMessages(m).catch((e: unknown) => {
            if (!(e instanceof CommitRejectedError)) throw e
          })
        } catch (err) {
          if (err instanceof AbortError) return
          throw err
        }
      }
    }
    try {
      await waitFor(() => a.assignment().length === 4, 20_000, 'A to own every partition')
      await drain(a, 500)
      const before = a.assignment().map(key)
      b = new Reader(config)
      await waitFor(
        () => a.assignment().length === 2 && b!.assignment().length === 2,
        30_000,
        'the cooperative rebalance',
      )
      // A gave up exactly the two partitions B got, and nothing else, in one revocation.
      expect(revokedA.length).toBe(1)
      expect(revokedA[0]!.map(key).sort()).toEqual(b.assignment().map(key).sort())
      expect(a.assignment().every((tp) => before.includes(key(tp)))).toBe(true)
      await Promise.all([drain(a, 3000), drain(b, 3000)])
      expect(seen.size).toBe(400)
    } finally {
      await b?.close()
      await a.close()
    }
  }, 60_000)

  it('rebalances when a subscribed topic gains partitions, and reads them', async () => {
    const topic = unique('grow')
    await createTopic(target.bootstrap, topic, 1)
    const assigned: TopicPartition[][] = []
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: unique('grow-g'),
      topic,
      partitionWatchInterval: 300,
      onAssign: (p) => void assigned.push(p),
    })
    try {
      await waitFor(() => reader.assignment().length === 1, 20_000, 'the first assignment')
      await addPartitions(target.bootstrap, topic, 3)
      await waitFor(() => reader.assignment().length === 3, 20_000, 'the new partitions to be assigned')
      await produce(target.bootstrap, topic, 5, { partition: 2, prefix: 'p2-' })
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(20_000) })
      expect(m.partition).toBe(2)
      expect(valueOf(m)).toBe('p2-0')
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('a static member (groupInstanceId) restarting within the session causes no rebalance', async () => {
    const topic = unique('static')
    const groupId = unique('static-g')
    await createTopic(target.bootstrap, topic, 2)
    const config: ReaderConfig = {
      brokers: target.bootstrap,
      groupId,
      topic,
      sessionTimeout: 20_000,
      heartbeatInterval: 500,
    }
    const a = new Reader({ ...config, groupInstanceId: 'a' })
    const b = new Reader({ ...config, groupInstanceId: 'b' })
    let a2: Reader | undefined
    try {
      await waitFor(() => a.assignment().length === 1 && b.assignment().length === 1, 30_000, 'both to be assigned')
      const generation = b.generationId
      const aPartitions = a.assignment()
      await a.close() // a static member does not leave the group
      a2 = new Reader({ ...config, groupInstanceId: 'a' })
      await waitFor(() => a2!.assignment().length === 1, 30_000, 'the restarted member to be assigned')
      expect(a2.assignment()).toEqual(aPartitions)
      await sleep(1500) // heartbeats would report a rebalance by now
      expect(b.generationId).toBe(generation)
      expect(b.assignment().length).toBe(1)
    } finally {
      await a2?.close()
      await b.close()
    }
  }, 60_000)
})
