// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// The Reader against a 3-broker reference cluster, or real Kafka when KAFKA_BOOTSTRAP is set:
// direct partition reading, positions (seek, setOffset, setOffsetAt), pause/resume, lag,
// AbortSignal and close, compression, backpressure, and the basics of a group (commits,
// resuming from them, OFFSET_OUT_OF_RANGE). Rebalancing lives in reader-group.test.ts and
// broker faults in reader-faults.test.ts.

import { beforeAll, describe, expect, it } from 'vitest'
import { Reader } from '../../src/consumer/reader.js'
import { FirstOffset, LastOffset } from '../../src/consumer/offsets.js'
import { ReaderStateError } from '../../src/consumer/errors.js'
import { AbortError, ClosedError } from '../../src/net/errors.js'
import { Writer } from '../../src/producer/writer.js'
import {
  commitAsAdmin,
  committedOffsets,
  createTopic,
  produce,
  sleep,
  startTarget,
  targetName,
  unique,
  valueOf,
  readMessages,
} from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

/** Reads `count` messages (bounded by `timeoutMs`). */
describe.sequential(`Reader, direct partition, against ${targetName}`, () => {
  let topic: string

  beforeAll(async () => {
    topic = unique('direct')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 500)
  }, 60_000)

  it('reads one partition in order from FirstOffset, and lag() reaches 0', async () => {
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0 })
    try {
      expect(reader.offset).toBe(FirstOffset)
      const messages = await readMessages(reader, 500, 20_000)
      expect(messages.map((m) => m.offset)).toEqual(Array.from({ length: 500 }, (_, i) => BigInt(i)))
      expect(messages.map(valueOf)).toEqual(Array.from({ length: 500 }, (_, i) => String(i)))
      expect(messages.every((m) => m.topic === topic && m.partition === 0)).toBe(true)
      expect(reader.offset).toBe(500n)
      const [lag] = reader.lag()
      expect(lag).toMatchObject({ topic, partition: 0, position: 500n, highWatermark: 500n, lag: 0n })
      const stats = reader.stats()
      expect(stats.messages).toBe(500)
      expect(stats.offset).toBe(500n)
      expect(stats.partition).toBe('0')
      expect(stats.fetches).toBeGreaterThan(0)
    } finally {
      await reader.close()
    }
  })

  it('starts at the end with LastOffset and only sees new messages', async () => {
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0, startOffset: LastOffset })
    try {
      // Nothing arrives until something is written.
      await expect(reader.fetchMessage({ signal: AbortSignal.timeout(1000) })).rejects.toBeInstanceOf(AbortError)
      expect(reader.offset).toBe(500n)
      await produce(target.bootstrap, topic, 5, { from: 500 })
      const messages = await readMessages(reader, 5, 20_000)
      expect(messages.map((m) => m.offset)).toEqual([500n, 501n, 502n, 503n, 504n])
    } finally {
      await reader.close()
    }
  })

  it('seeks, setOffset and setOffsetAt move the position; what was fetched ahead is dropped', async () => {
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0 })
    try {
      await readMessages(reader, 10, 20_000)
      reader.seek(0, 200n)
      expect((await readMessages(reader, 1, 20_000))[0]!.offset).toBe(200n)
      reader.setOffset(FirstOffset)
      expect((await readMessages(reader, 1, 20_000))[0]!.offset).toBe(0n)
      reader.seek(0, LastOffset)
      await expect(reader.fetchMessage({ signal: AbortSignal.timeout(700) })).rejects.toBeInstanceOf(AbortError)
      expect(reader.offset).toBe(505n)

      // By time: every message written before `mark` is older than it.
      await sleep(20)
      const mark = Date.now()
      await sleep(20)
      await produce(target.bootstrap, topic, 3, { from: 505, prefix: 'late-' })
      await reader.setOffsetAt(new Date(mark), { signal: AbortSignal.timeout(10_000) })
      expect(reader.offset).toBe(505n)
      expect((await readMessages(reader, 3, 20_000)).map(valueOf)).toEqual(['late-505', 'late-506', 'late-507'])
      // A time after everything: the end.
      await reader.setOffsetAt(Date.now() + 60_000)
      expect(reader.offset).toBe(508n)

      expect(() => reader.seek(1, 0n)).toThrow(ReaderStateError)
    } finally {
      await reader.close()
    }
  })

  it('pause stops a partition without losing anything; resume continues from the position', async () => {
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0 })
    try {
      const first = await readMessages(reader, 100, 20_000)
      reader.pause([0])
      expect(reader.paused()).toEqual([{ topic, partition: 0 }])
      await expect(reader.fetchMessage({ signal: AbortSignal.timeout(800) })).rejects.toBeInstanceOf(AbortError)
      reader.resume([0])
      expect(reader.paused()).toEqual([])
      const next = await readMessages(reader, 50, 20_000)
      expect(next[0]!.offset).toBe(first[first.length - 1]!.offset + 1n)
      expect(next.map((m) => m.offset)).toEqual(Array.from({ length: 50 }, (_, i) => 100n + BigInt(i)))
    } finally {
      await reader.close()
    }
  })

  it('honours AbortSignal on every wait, and close() ends pending reads promptly', async () => {
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0, startOffset: LastOffset })
    const controller = new AbortController()
    const started = Date.now()
    const pending = reader.fetchMessage({ signal: controller.signal })
    setTimeout(() => controller.abort(), 200)
    await expect(pending).rejects.toBeInstanceOf(AbortError)
    expect(Date.now() - started).toBeLessThan(2000)
    await expect(reader.fetchMessage({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError)

    const waiting = reader.fetchMessage().catch((err: unknown) => err)
    const closing = Date.now()
    await reader.close()
    expect(await waiting).toBeInstanceOf(ClosedError)
    expect(Date.now() - closing).toBeLessThan(3000)
    await expect(reader.fetchMessage()).rejects.toBeInstanceOf(ClosedError)
    await reader.close() // idempotent
  })

  it('the config signal closes the Reader; a for-await loop ends quietly', async () => {
    const controller = new AbortController()
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0, signal: controller.signal })
    let n = 0
    setTimeout(() => controller.abort(), 1500)
    for await (const m of reader) {
      expect(m.offset).toBe(BigInt(n))
      n++
    }
    expect(n).toBe(508)
    await expect(reader.fetchMessage()).rejects.toBeInstanceOf(ClosedError)
  })

  it('refuses commits without a group', async () => {
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0 })
    try {
      const [m] = await readMessages(reader, 1, 20_000)
      await expect(reader.commitMessages(m!)).rejects.toBeInstanceOf(ReaderStateError)
    } finally {
      await reader.close()
    }
  })

  it('fetchBatch hands out one fetched chunk of a partition', async () => {
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0 })
    try {
      let total = 0
      const signal = AbortSignal.timeout(20_000)
      while (total < 508) {
        const batch = await reader.fetchBatch({ signal })
        expect(batch.partition).toBe(0)
        expect(batch.messages[0]!.offset).toBe(BigInt(total))
        total += batch.messages.length
      }
      expect(total).toBe(508)
    } finally {
      await reader.close()
    }
  })
})

describe.sequential(`Reader data path against ${targetName}`, () => {
  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`reads ${compression}-compressed batches`, async () => {
      const topic = unique(`codec-${compression}`)
      await createTopic(target.bootstrap, topic, 1)
      await produce(target.bootstrap, topic, 2000, { compression, valueBytes: 50 })
      const reader = new Reader({ brokers: target.bootstrap, topic })
      try {
        const messages = await readMessages(reader, 2000, 20_000)
        expect(messages.map((m) => m.offset)).toEqual(Array.from({ length: 2000 }, (_, i) => BigInt(i)))
        expect(valueOf(messages[1999]!)).toBe('1999' + '.'.repeat(50))
      } finally {
        await reader.close()
      }
    })
  }

  it('keeps the prefetch queue within queueCapacityBytes (backpressure) and still reads everything', async () => {
    const topic = unique('backpressure')
    await createTopic(target.bootstrap, topic, 3)
    // Small record batches: a fetch response may exceed what it asked for by one batch (KIP-74).
    await produce(target.bootstrap, topic, 3000, { valueBytes: 1000, batchSize: 10 })
    const capacity = 64 * 1024
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: unique('bp'),
      topic,
      queueCapacityBytes: capacity,
      partitionMaxBytes: 16 * 1024,
      commitInterval: 1000,
    })
    try {
      const seen = new Set<string>()
      let maxQueued = 0
      const signal = AbortSignal.timeout(30_000)
      while (seen.size < 3000) {
        const m = await reader.fetchMessage({ signal })
        seen.add(valueOf(m))
        if (seen.size % 100 === 0) {
          // Let the fetch loops run ahead as far as they may.
          await sleep(5)
          maxQueued = Math.max(maxQueued, reader.stats().queueBytes)
        }
      }
      // Each broker's response may overshoot the room left by one record batch (~10 KB here).
      expect(maxQueued).toBeGreaterThan(0)
      expect(maxQueued).toBeLessThanOrEqual(capacity + 3 * 16 * 1024)
    } finally {
      await reader.close()
    }
  })
})

describe.sequential(`Reader in a group, basics, against ${targetName}`, () => {
  it('commits with commitMessages, and a new Reader resumes from the committed offsets', async () => {
    const topic = unique('resume')
    const groupId = unique('resume-g')
    await createTopic(target.bootstrap, topic, 3)
    await produce(target.bootstrap, topic, 300)
    // The default group protocol: the consumer protocol where the broker has it.
    const config = { brokers: target.bootstrap, groupId, topic }

    const first = new Reader(config)
    const read1 = await readMessages(first, 120, 20_000)
    await first.commitMessages(...read1)
    await first.close()
    const committed = await committedOffsets(target.bootstrap, groupId, topic, 3)
    for (const [partition, offset] of committed) {
      const highest = read1
        .filter((m) => m.partition === partition)
        .reduce((a, m) => (m.offset > a ? m.offset : a), -1n)
      expect(offset).toBe(highest + 1n)
    }

    const second = new Reader(config)
    try {
      const read2 = await readMessages(second, 300 - 120, 20_000)
      const all = [...read1, ...read2].map(valueOf).sort((a, b) => Number(a) - Number(b))
      expect(all).toEqual(Array.from({ length: 300 }, (_, i) => String(i)))
      await expect(second.fetchMessage({ signal: AbortSignal.timeout(500) })).rejects.toBeInstanceOf(AbortError)
    } finally {
      await second.close()
    }
  })

  it('readMessage and the iterator commit; commitInterval batches them and close() flushes', async () => {
    const topic = unique('autocommit')
    const groupId = unique('autocommit-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 50)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, commitInterval: 60_000 })
    const m0 = await reader.readMessage({ signal: AbortSignal.timeout(20_000) })
    expect(m0.offset).toBe(0n)
    let n = 1
    for await (const m of reader.messages({ signal: AbortSignal.timeout(20_000) })) {
      expect(m.offset).toBe(BigInt(n))
      if (++n === 30) break
    }
    // Nothing committed yet (interval 60 s); close() commits what was marked. The loop's last
    // message (29) was not marked: leaving the loop does not commit it.
    expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBeUndefined()
    await reader.close()
    expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(29n)

    const sync = new Reader({ brokers: target.bootstrap, groupId, topic })
    try {
      const m = await sync.readMessage({ signal: AbortSignal.timeout(20_000) })
      expect(m.offset).toBe(29n)
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(30n)
    } finally {
      await sync.close()
    }
  })

  it('never commits an offset below what this member committed', async () => {
    const topic = unique('norewind')
    const groupId = unique('norewind-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 20)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic })
    try {
      const messages = await readMessages(reader, 20, 20_000)
      await reader.commitMessages(messages[15]!)
      // Lower: refused ('rewind'), nothing sent.
      await expect(reader.commitMessages(messages[3]!)).rejects.toMatchObject({ reason: 'rewind' })
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(16n)
      await reader.commitMessages([messages[3]!, messages[19]!], { signal: AbortSignal.timeout(10_000) }) // the highest per partition counts
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(20n)
    } finally {
      await reader.close()
    }
  })

  it('resets by startOffset after OFFSET_OUT_OF_RANGE', async () => {
    const topic = unique('oor')
    const groupId = unique('oor-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 10)
    // A committed offset past the end of the log.
    await commitAsAdmin(target.bootstrap, groupId, topic, new Map([[0, 1_000_000n]]))
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, startOffset: FirstOffset })
    try {
      const messages = await readMessages(reader, 10, 20_000)
      expect(messages.map((m) => m.offset)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)))
    } finally {
      await reader.close()
    }
  })

  it('a new group starting at LastOffset reads only what is written after it joined', async () => {
    const topic = unique('latest')
    await createTopic(target.bootstrap, topic, 3)
    await produce(target.bootstrap, topic, 30, { prefix: 'old-' })
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: unique('latest-g'),
      topic,
      startOffset: LastOffset,
    })
    try {
      // Wait until all three partitions have their positions, then write.
      const deadline = Date.now() + 20_000
      while (reader.lag().filter((l) => l.position >= 0n).length < 3 && Date.now() < deadline) await sleep(50)
      const writer = new Writer({ brokers: target.bootstrap, topic })
      await writer.writeMessages(Array.from({ length: 9 }, (_, i) => ({ value: `new-${i}` })))
      await writer.close()
      const messages = await readMessages(reader, 9, 20_000)
      expect(messages.map(valueOf).sort()).toEqual(Array.from({ length: 9 }, (_, i) => `new-${i}`))
    } finally {
      await reader.close()
    }
  })
})
