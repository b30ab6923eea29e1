// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// The ShareReader (KIP-932 share groups) against real Kafka 4.4 when KAFKA_BOOTSTRAP is set, else
// the reference cluster: what Kafka does with each acknowledgement type (a released record comes
// back with deliveryCount 2, a rejected one never, one past the delivery count limit is archived),
// implicit mode, two readers sharing one partition, records of a reader that closed or died
// coming back to the other, a member joining and leaving while the group reads.

import { describe, expect, it } from 'vitest'
import { ShareReader, ShareReaderStateError, ShareAcknowledgeError } from '../../src/share/share-reader.js'
import type { ShareMessage } from '../../src/share/share-reader.js'
import { createTopic, produce, startTarget, targetName, unique } from '../consumer/helpers.js'
import { useTarget } from '../helpers/use-target.js'
import { forkJsonChild } from '../helpers/json-child.js'
import { fileURLToPath } from 'node:url'
import { configureShareGroup, fetchUntil, text } from './helpers.js'

const target = useTarget(startTarget)

async function setup(partitions: number, count: number, settings: Parameters<typeof configureShareGroup>[2] = {}) {
  const topic = unique('share')
  const groupId = unique('share-g')
  await createTopic(target.bootstrap, topic, partitions)
  await configureShareGroup(target.bootstrap, groupId, settings)
  if (count > 0) await produce(target.bootstrap, topic, count)
  return { topic, groupId }
}

describe.sequential(`ShareReader against ${targetName}`, () => {
  it('accept, release, reject: released records come back with deliveryCount 2, rejected never', async () => {
    const { topic, groupId } = await setup(1, 6)
    const reader = new ShareReader({
      brokers: target.bootstrap,
      groupId,
      topics: [topic],
      acknowledgementMode: 'explicit',
    })
    try {
      const first: ShareMessage[] = []
      await fetchUntil(
        reader,
        (b) => {
          for (const m of b) {
            first.push(m)
            // 0, 3: accept; 1, 4: release; 2, 5: reject.
            const i = Number(m.offset) % 3
            reader.acknowledge(m, i === 0 ? 'accept' : i === 1 ? 'release' : 'reject')
          }
        },
        () => first.length >= 6,
      )
      expect(first.map((m) => [m.offset, m.deliveryCount])).toEqual([0n, 1n, 2n, 3n, 4n, 5n].map((o) => [o, 1]))
      const results = await reader.commit()
      expect(results.every((r) => r.error === null)).toBe(true)
      expect(results.reduce((n, r) => n + r.offsets, 0)).toBe(6)

      const again: ShareMessage[] = []
      await fetchUntil(
        reader,
        (b) => {
          for (const m of b) {
            again.push(m)
            reader.acknowledge(m, 'accept')
          }
        },
        () => again.length >= 2,
      )
      expect(again.map((m) => [m.offset, m.deliveryCount])).toEqual([
        [1n, 2],
        [4n, 2],
      ])
      await reader.commit()
      // Nothing else comes: the rejected records are archived, the accepted ones done.
      expect(await reader.fetchMessages({ timeout: 1500 })).toEqual([])
      expect(reader.stats().acknowledged).toMatchObject({ accept: 4, release: 2, reject: 2 })
    } finally {
      await reader.close()
    }
  })

  it('a record released past the delivery count limit is archived', async () => {
    const { topic, groupId } = await setup(1, 1, { deliveryLimit: 2 })
    const reader = new ShareReader({
      brokers: target.bootstrap,
      groupId,
      topics: [topic],
      acknowledgementMode: 'explicit',
    })
    try {
      const counts: number[] = []
      await fetchUntil(
        reader,
        (b) => {
          for (const m of b) {
            counts.push(m.deliveryCount)
            reader.acknowledge(m, 'release')
          }
        },
        () => counts.length >= 2,
      )
      expect(counts).toEqual([1, 2])
      await reader.commit()
      expect(await reader.fetchMessages({ timeout: 1500 })).toEqual([])
    } finally {
      await reader.close()
    }
  })

  it('implicit mode accepts what was handed out when more is asked for; explicit mode refuses to go on', async () => {
    const { topic, groupId } = await setup(1, 5)
    const reader = new ShareReader({ brokers: target.bootstrap, groupId, topics: [topic], maxRecords: 2 })
    const seen: string[] = []
    try {
      for await (const m of reader) {
        seen.push(text(m))
        if (seen.length === 5) break
      }
      expect(seen.sort()).toEqual(['0', '1', '2', '3', '4'])
      const results = await reader.commit()
      expect(results.every((r) => r.error === null)).toBe(true)
      expect(await reader.fetchMessages({ timeout: 1000 })).toEqual([])
    } finally {
      await reader.close()
    }
    expect(reader.stats().acknowledged.accept).toBe(5)

    const other = await setup(1, 2)
    const explicit = new ShareReader({
      brokers: target.bootstrap,
      groupId: other.groupId,
      topics: [other.topic],
      acknowledgementMode: 'explicit',
    })
    try {
      let batch: ShareMessage[] = []
      await fetchUntil(
        explicit,
        (b) => (batch = b),
        () => batch.length > 0,
      )
      await expect(explicit.fetchMessages()).rejects.toBeInstanceOf(ShareReaderStateError)
      for (const m of batch) explicit.acknowledge(m, 'accept')
      expect(() => explicit.acknowledge(batch[0]!, 'accept')).toThrow(ShareAcknowledgeError)
      expect(() => explicit.acknowledge(batch[0]!, 'done' as never)).toThrow(ShareAcknowledgeError)
    } finally {
      await explicit.close()
    }
    await expect(explicit.fetchMessages()).rejects.toBeInstanceOf(ShareReaderStateError)
  })

  it('two readers on one single-partition topic share it: every record accepted exactly once', async () => {
    const total = 400
    const { topic, groupId } = await setup(1, total)
    const counts = new Uint8Array(total)
    let distinct = 0
    const config = { brokers: target.bootstrap, groupId, topics: [topic], maxRecords: 20 }
    const readers = [new ShareReader(config), new ShareReader(config)]
    const perReader = [0, 0]
    try {
      await Promise.all(
        readers.map((r, i) =>
          fetchUntil(
            r,
            (b) => {
              for (const m of b) {
                perReader[i]!++
                if (counts[Number(text(m))]!++ === 0) distinct++
              }
            },
            () => distinct >= total,
            60_000,
          ),
        ),
      )
      await Promise.all(readers.map((r) => r.commit()))
    } finally {
      await Promise.all(readers.map((r) => r.close()))
    }
    expect(distinct).toBe(total)
    expect([...counts].filter((c) => c !== 1)).toEqual([])
    expect(readers.map((r) => r.stats().acknowledgeErrors)).toEqual([0, 0])
  })

  it('a reader closed without acknowledging: what it held and what it fetched ahead go to the other at once', async () => {
    // A 20 s lock: the records can only come back this fast because close() gave them back.
    const { topic, groupId } = await setup(1, 10, { lockMs: 20_000 })
    const config = { brokers: target.bootstrap, groupId, topics: [topic], acknowledgementMode: 'explicit' as const }
    const first = new ShareReader({ ...config, maxRecords: 3 })
    let held: ShareMessage[] = []
    await fetchUntil(
      first,
      (b) => (held = b),
      () => held.length > 0,
    )
    expect(held.length).toBeLessThanOrEqual(3)
    const fetched = first.stats().messages
    await first.close() // explicit mode: the held ones released; the session close releases the rest
    const second = new ShareReader(config)
    const started = Date.now()
    try {
      const got: ShareMessage[] = []
      await fetchUntil(
        second,
        (b) => {
          for (const m of b) {
            got.push(m)
            second.acknowledge(m, 'accept')
          }
        },
        () => got.length >= 10,
      )
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(got.filter((m) => m.deliveryCount === 2).length).toBe(fetched)
      expect(got.filter((m) => held.some((h) => h.offset === m.offset)).every((m) => m.deliveryCount === 2)).toBe(true)
      await second.commit()
    } finally {
      await second.close()
    }
  })

  it('records of a reader that stops acknowledging come back to another after the acquisition lock', async () => {
    const { topic, groupId } = await setup(1, 5, { lockMs: 2000 })
    const config = { brokers: target.bootstrap, groupId, topics: [topic], acknowledgementMode: 'explicit' as const }
    const stuck = new ShareReader(config)
    const other = new ShareReader(config)
    try {
      let held: ShareMessage[] = []
      await fetchUntil(
        stuck,
        (b) => (held = b),
        () => held.length > 0,
      )
      expect(stuck.stats().acquisitionLockTimeoutMs).toBe(2000)
      const got: ShareMessage[] = []
      const started = Date.now()
      await fetchUntil(
        other,
        (b) => {
          for (const m of b) {
            got.push(m)
            other.acknowledge(m, 'accept')
          }
        },
        () => got.length >= 5,
        30_000,
      )
      const late = got.filter((m) => held.some((h) => h.offset === m.offset))
      expect(late.length).toBe(held.length)
      expect(late.every((m) => m.deliveryCount === 2)).toBe(true)
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
      await other.commit()
      // The stuck reader's acknowledgement comes too late. Kafka 4.4 answers it without an error
      // (measured: the partition's errorCode is 0) and nothing is delivered again.
      for (const m of held) stuck.acknowledge(m, 'accept')
      const results = await stuck.commit()
      expect(results.map((r) => [r.offsets, r.error])).toEqual([[held.length, null]])
      expect(await other.fetchMessages({ timeout: 3000 })).toEqual([])
    } finally {
      await Promise.all([stuck.close(), other.close()])
    }
  })

  it('a reader killed (SIGKILL) while holding records: they come back to another after the acquisition lock', async () => {
    const { topic, groupId } = await setup(1, 8, { lockMs: 2000 })
    let held: number[] = []
    const child = forkJsonChild(
      fileURLToPath(new URL('./share-member-child.ts', import.meta.url)),
      { bootstrap: target.bootstrap, topic, groupId },
      (e) => (held = e.held as number[]),
    )
    const deadline = Date.now() + 60_000
    while (held.length === 0) {
      if (Date.now() > deadline) throw new Error(`the child never read: ${child.stderr()}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    child.child.kill('SIGKILL')
    await child.exited
    const other = new ShareReader({
      brokers: target.bootstrap,
      groupId,
      topics: [topic],
      acknowledgementMode: 'explicit',
    })
    try {
      const got: ShareMessage[] = []
      await fetchUntil(
        other,
        (b) => {
          for (const m of b) {
            got.push(m)
            other.acknowledge(m, 'accept')
          }
        },
        () => got.length >= 8,
      )
      const back = got.filter((m) => held.includes(Number(m.offset)))
      expect(back.length).toBe(held.length)
      expect(back.every((m) => m.deliveryCount === 2)).toBe(true)
      await other.commit()
    } finally {
      await other.close()
    }
  })

  it('members join and leave while the group reads; every record accepted once', async () => {
    const total = 600
    const { topic, groupId } = await setup(3, total / 2)
    const counts = new Uint16Array(total)
    let distinct = 0
    const config = { brokers: target.bootstrap, groupId, topics: [topic], maxRecords: 25 }
    const run = async (reader: ShareReader, stop: AbortSignal) => {
      while (!stop.aborted && distinct < total) {
        for (const m of await reader.fetchMessages({ timeout: 500 })) if (counts[Number(text(m))]!++ === 0) distinct++
      }
      await reader.commit()
    }
    const a = new ShareReader(config)
    const stopA = new AbortController()
    const runA = run(a, stopA.signal)
    // Awaited below; a rejection before then must not go unhandled (it fails the test at its await).
    runA.catch(() => {})
    await new Promise((r) => setTimeout(r, 1500))
    const b = new ShareReader(config)
    const stopB = new AbortController()
    const runB = run(b, stopB.signal)
    runB.catch(() => {})
    await produce(target.bootstrap, topic, total / 2, { from: total / 2 })
    await new Promise((r) => setTimeout(r, 1500))
    stopA.abort()
    await runA
    await a.close()
    const deadline = Date.now() + 60_000
    while (distinct < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    stopB.abort()
    await runB
    await b.close()
    expect(distinct).toBe(total)
    expect([...counts].filter((c) => c !== 1).length).toBe(0)
    expect(b.stats().joins).toBe(1)
  })
})
