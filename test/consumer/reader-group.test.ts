// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// Consumer groups against a 3-broker reference cluster, or real Kafka when KAFKA_BOOTSTRAP is
// set: restarts resuming from committed offsets (100k messages), members joining and leaving
// with disjoint assignments and no loss, a slow handler keeping its membership, commits from a
// member that lost its partition or was fenced, cooperative rebalancing, partitions added to a
// subscribed topic, static membership, and a member consuming through partition leader moves and
// through a partition leader's broker crashing and coming back (both targets: real Kafka's nodes
// are stopped with scripts/kafka.sh and leaders moved with reassignment + ElectLeaders).

import { describe, expect, it } from 'vitest'
import { CooperativeStickyGroupBalancer } from '../../src/consumer/assignors/index.js'
import type { TopicPartition } from '../../src/consumer/config.js'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { Reader } from '../../src/consumer/reader.js'
import type { ReaderConfig } from '../../src/consumer/config.js'
import { AbortError, ClosedError } from '../../src/net/errors.js'
import {
  addPartitions,
  committedOffsets,
  coordinatorId,
  createTopic,
  isr,
  leaders,
  produce,
  sleep,
  startTarget,
  targetName,
  unique,
  valueOf,
  waitFor,
} from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

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

/**
 * Every read of a group member that commits each batch after processing it. A value read again
 * after one of its reads was committed is a broken promise (`rereadAfterCommit`); one read again
 * whose earlier reads never committed is an allowed duplicate.
 */
class Reads {
  readonly counts: Uint8Array
  private readonly committed: Uint8Array
  readonly rereadAfterCommit: number[] = []
  distinct = 0

  constructor(readonly total: number) {
    this.counts = new Uint8Array(total)
    this.committed = new Uint8Array(total)
  }

  /** Fetches and commits batches until `goal` distinct values are read; `onProgress` after each batch. */
  async consume(reader: Reader, goal: number, signal: AbortSignal, onProgress?: (distinct: number) => void) {
    while (this.distinct < goal) {
      const batch = await reader.fetchBatch({ signal })
      const values = batch.messages.map((m) => Number(valueOf(m)))
      for (const v of values) {
        if (this.committed[v] === 1) this.rereadAfterCommit.push(v)
        if (this.counts[v]!++ === 0) this.distinct++
      }
      try {
        await reader.commitMessages(...batch.messages)
        for (const v of values) this.committed[v] = 1
      } catch (err) {
        if (!(err instanceof CommitRejectedError)) throw err
      }
      onProgress?.(this.distinct)
    }
  }

  check(): { missing: number[]; duplicates: number; rereadAfterCommit: number[] } {
    const missing: number[] = []
    let duplicates = 0
    this.counts.forEach((c, i) => {
      if (c === 0) missing.push(i)
      else duplicates += c - 1
    })
    return { missing: missing.slice(0, 20), duplicates, rereadAfterCommit: this.rereadAfterCommit.slice(0, 20) }
  }
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
          // A listener keeps the timeout signal alive: on Node 20, one held only by
          // AbortSignal.any is collected by GC and never fires (see test/streams/restore.test.ts).
          const drained = last ? AbortSignal.timeout(1000) : undefined
          drained?.addEventListener('abort', () => {}, { once: true })
          try {
            batch = await reader.fetchBatch({
              signal: drained !== undefined ? AbortSignal.any([signal, drained]) : signal,
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

      // B joins; range leaves each member one partition. The rebalance waits until A is done
      // with what it was handed: A gives it up without committing (release).
      b = new Reader(config)
      a.release()
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
      // The eager rebalance took A's other partition away too and gave it back: A restarted it
      // from the committed offset and delivers that message again, so its old copy is refused as
      // well (issue 11), and the copy fetched now commits.
      const keptError = await a.commitMessages(kept.get(1 - moved)!).catch((e: unknown) => e)
      expect(keptError).toBeInstanceOf(CommitRejectedError)
      expect((keptError as CommitRejectedError).reason).toBe('not-owned')
      const fromA = await a.fetchMessage({ signal: AbortSignal.timeout(20_000) })
      expect([fromA.partition, fromA.offset]).toEqual([1 - moved, kept.get(1 - moved)!.offset])
      await a.commitMessages(fromA)
      expect((await committedOffsets(target.bootstrap, groupId, topic, 2)).get(1 - moved)).toBe(fromA.offset + 1n)

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
  it('a group member follows partition leaders moved while it consumes: none lost, nothing committed read again', async () => {
    const topic = unique('moved')
    const groupId = unique('moved-g')
    await createTopic(target.bootstrap, topic, 3, 3)
    const total = 20_000
    const half = total / 2
    await produce(target.bootstrap, topic, half, { batchSize: 50 })
    const before = await leaders(target.bootstrap, topic)
    const ids = target.brokerIds
    const next = (b: number): number => ids[(ids.indexOf(b) + 1) % ids.length]!
    const reads = new Reads(total)
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId,
      topic,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      partitionMaxBytes: 8 * 1024,
    })
    const signal = AbortSignal.timeout(100_000)
    let moving: Promise<unknown> | undefined
    try {
      // A quarter of the way into the first half, every partition's leader moves to the next broker.
      await reads.consume(reader, half, signal, (distinct) => {
        if (moving === undefined && distinct >= half / 4)
          moving = Promise.all([...before].map(([p, leader]) => target.moveLeader(topic, p, next(leader))))
      })
      await moving
      const after = await leaders(target.bootstrap, topic)
      for (const [p, leader] of before) expect(after.get(p)).toBe(next(leader))
      // The second half exists only on the new leaders' watch.
      await produce(target.bootstrap, topic, half, { from: half, batchSize: 50 })
      await reads.consume(reader, total, signal)
    } finally {
      await moving?.catch(() => {})
      await reader.close()
    }
    expect(moving).toBeDefined()
    const result = reads.check()
    expect(result.missing).toEqual([])
    expect(result.rereadAfterCommit).toEqual([])
    // One member committing every batch before the next fetch: nothing uncommitted to read again.
    expect(result.duplicates).toBe(0)
    const committed = await committedOffsets(target.bootstrap, groupId, topic, 3)
    expect([...committed.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(total))
  }, 150_000)

  it("a group member keeps reading when a partition leader's broker crashes, and after it comes back", async () => {
    const topic = unique('crash')
    const groupId = unique('crash-g')
    await createTopic(target.bootstrap, topic, 3, 3)
    const total = 20_000
    const quarter = total / 4
    await produce(target.bootstrap, topic, 2 * quarter, { batchSize: 50 })
    // Crash a broker that leads a partition but does not coordinate the group (the coordinator
    // crashing is reader-faults.test.ts's business).
    const coordinator = await coordinatorId(target.bootstrap, groupId)
    const leading = [...(await leaders(target.bootstrap, topic)).values()].find((b) => b !== coordinator)
    const victim = leading ?? target.brokerIds.find((b) => b !== coordinator)!
    if (leading === undefined) await target.moveLeader(topic, 0, victim)
    const led = [...(await leaders(target.bootstrap, topic))].filter(([, b]) => b === victim).map(([p]) => p)
    const reads = new Reads(total)
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId,
      topic,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      partitionMaxBytes: 8 * 1024,
    })
    const signal = AbortSignal.timeout(150_000)
    let stopping: Promise<void> | undefined
    let restarted = false
    try {
      await reads.consume(reader, 2 * quarter, signal, (distinct) => {
        if (stopping === undefined && distinct >= quarter / 2) stopping = target.stopBroker(victim)
      })
      await stopping
      await waitFor(
        async () => ![...(await leaders(target.bootstrap, topic)).values()].includes(victim),
        30_000,
        `broker ${victim} to lead nothing`,
      )
      // Written and read while the broker is down.
      await produce(target.bootstrap, topic, quarter, { from: 2 * quarter, batchSize: 50 })
      await reads.consume(reader, 3 * quarter, signal)

      await target.startBroker(victim)
      restarted = true
      // Back in sync, it leads its partition again, and the rest is read from it.
      const p = led[0]!
      await waitFor(
        async () => (await isr(target.bootstrap, topic, p)).includes(victim),
        60_000,
        `broker ${victim} back in the ISR of ${topic}-${p}`,
      )
      await target.moveLeader(topic, p, victim)
      await produce(target.bootstrap, topic, quarter, { from: 3 * quarter, batchSize: 50 })
      await reads.consume(reader, total, signal)
    } finally {
      await stopping?.catch(() => {})
      if (stopping !== undefined && !restarted) await target.startBroker(victim).catch(() => {})
      await reader.close()
    }
    const result = reads.check()
    expect(result.missing).toEqual([])
    expect(result.rereadAfterCommit).toEqual([])
    expect(result.duplicates).toBe(0)
    const committed = await committedOffsets(target.bootstrap, groupId, topic, 3)
    expect([...committed.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(total))
  }, 240_000)
})
