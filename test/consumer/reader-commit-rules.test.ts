// @integration
// Commit rules of the Reader on the reference cluster and real Kafka (issue 11, item 6; review W3): a commit
// below this member's last commit is refused unless allowed, and `for await` commits per fetched
// batch rather than one synchronous OffsetCommit per message. Committed offsets are read back
// with a raw OffsetFetch (helpers.committedOffsets), and OffsetCommit requests are counted on the
// wire (API key 8), so neither check goes through the code under test. Commit metadata (Java's
// OffsetAndMetadata) is read back the same way, and the broker's own limit on it is what refuses it.

import { describe, expect, it } from 'vitest'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { Reader } from '../../src/consumer/reader.js'
import { KafkaError, KafkaTsError } from '../../src/errors.js'
import {
  committedOffsets,
  committedWithMetadata,
  createTopic,
  produce,
  startTarget,
  targetName,
  unique,
} from './helpers.js'
import { useTarget } from '../helpers/use-target.js'
import { countingSockets } from '../helpers/counting-sockets.js'

const target = useTarget(startTarget)

const OFFSET_COMMIT = 8

describe.sequential(`Reader commit rules, against ${targetName}`, () => {
  it('refuses a commit below the last one (reason rewind) unless allowRewind is passed', async () => {
    const topic = unique('rewind')
    const groupId = unique('rewind-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 10)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic })
    try {
      const signal = AbortSignal.timeout(30_000)
      const read: FetchedMessage[] = []
      while (read.length < 10) read.push(await reader.fetchMessage({ signal }))
      await reader.commitMessages(read[7]!)
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(8n)

      const error = await reader.commitMessages(read[2]!).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CommitRejectedError)
      expect((error as CommitRejectedError).reason).toBe('rewind')
      expect((error as CommitRejectedError).partitions).toEqual([{ topic, partition: 0, offset: 3n }])
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(8n)

      // The same offset again is no rewind: it is committed already.
      await reader.commitMessages(read[7]!)

      await reader.commitMessages([read[2]!], { allowRewind: true })
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(3n)
      // The floor moved down with it: going forward again works.
      await reader.commitMessages(read[4]!)
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(5n)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('refuses marking below a marked offset with commitInterval > 0 unless allowRewind is passed', async () => {
    const topic = unique('rewind-mark')
    const groupId = unique('rewind-mark-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 5)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, commitInterval: 60_000 })
    try {
      const signal = AbortSignal.timeout(30_000)
      const read: FetchedMessage[] = []
      while (read.length < 5) read.push(await reader.fetchMessage({ signal }))
      await reader.commitMessages(read[3]!)
      const error = await reader.commitMessages(read[1]!).catch((e: unknown) => e)
      expect((error as CommitRejectedError).reason).toBe('rewind')
      await reader.flushCommits()
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(4n)
      await reader.commitMessages([read[1]!], { allowRewind: true })
      await reader.flushCommits()
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(2n)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('for await with commitInterval 0 commits per fetched batch, not per message, and what was processed on break', async () => {
    const topic = unique('per-batch')
    const groupId = unique('per-batch-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 100) // one record batch, so one fetched chunk
    const { keys, socketFactory } = countingSockets()
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, socketFactory })
    try {
      let seen = 0
      for await (const m of reader) {
        expect(m.offset).toBe(BigInt(seen))
        if (++seen === 100) break
      }
      // Message 99 was not processed (the loop left with it); 0..98 were: offset 99.
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(99n)
      // One commit for the batch; the message-per-commit loop sent 99.
      expect(keys.filter((k) => k === OFFSET_COMMIT).length).toBeLessThanOrEqual(2)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('for await commits the end of a batch before it waits for more', async () => {
    const topic = unique('before-wait')
    const groupId = unique('before-wait-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 20)
    const { keys, socketFactory } = countingSockets()
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, socketFactory })
    try {
      let seen = 0
      const loop = (async () => {
        for await (const m of reader) {
          seen++
          void m
        }
      })()
      // The loop processed all 20 and now waits for a 21st: all 20 are committed meanwhile.
      const deadline = Date.now() + 20_000
      while ((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0) !== 20n) {
        if (Date.now() > deadline) throw new Error(`offset 20 not committed (read ${seen})`)
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(keys.filter((k) => k === OFFSET_COMMIT).length).toBeLessThanOrEqual(2)
      await reader.close()
      await loop
    } finally {
      await reader.close()
    }
  }, 60_000)
})

describe.sequential(`commit metadata (Java's OffsetAndMetadata), against ${targetName}`, () => {
  it('commitMessages({ metadata }) stores each partition its metadata; the broker answers it in OffsetFetch', async () => {
    const topic = unique('meta')
    const groupId = unique('meta-g')
    await createTopic(target.bootstrap, topic, 2, Math.min(3, target.brokerIds.length))
    await produce(target.bootstrap, topic, 20)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic })
    try {
      const signal = AbortSignal.timeout(30_000)
      const read: FetchedMessage[] = []
      while (read.length < 20) read.push(await reader.fetchMessage({ signal }))
      const last = (p: number): FetchedMessage => read.filter((m) => m.partition === p).at(-1)!
      await reader.commitMessages([last(0), last(1)], { metadata: (t, p) => `${t}:${p}` })
      const found = await committedWithMetadata(target.bootstrap, groupId, topic, 2)
      for (const p of [0, 1]) expect(found.get(p)).toEqual({ offset: last(p).offset + 1n, metadata: `${topic}:${p}` })

      // Without the option: an empty string, as Java's OffsetAndMetadata(offset).
      const earlier = read.filter((m) => m.partition === 0).at(-2)!
      await reader.commitMessages([earlier], { allowRewind: true })
      expect((await committedWithMetadata(target.bootstrap, groupId, topic, 2)).get(0)).toEqual({
        offset: earlier.offset + 1n,
        metadata: '',
      })
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('with commitInterval > 0 the marked metadata goes with the periodic commit', async () => {
    const topic = unique('meta-mark')
    const groupId = unique('meta-mark-g')
    await createTopic(target.bootstrap, topic, 1, Math.min(3, target.brokerIds.length))
    await produce(target.bootstrap, topic, 3)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, commitInterval: 60_000 })
    try {
      const signal = AbortSignal.timeout(30_000)
      const read: FetchedMessage[] = []
      while (read.length < 3) read.push(await reader.fetchMessage({ signal }))
      await reader.commitMessages([read[1]!], { metadata: () => 'first' })
      await reader.commitMessages([read[2]!], { metadata: () => 'second' })
      expect((await committedWithMetadata(target.bootstrap, groupId, topic, 1)).get(0)).toBeUndefined()
      await reader.flushCommits()
      expect((await committedWithMetadata(target.bootstrap, groupId, topic, 1)).get(0)).toEqual({
        offset: 3n,
        metadata: 'second',
      })
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('metadata over offset.metadata.max.bytes is refused by the broker (OFFSET_METADATA_TOO_LARGE); a non-string is refused before sending', async () => {
    const topic = unique('meta-big')
    const groupId = unique('meta-big-g')
    await createTopic(target.bootstrap, topic, 1, Math.min(3, target.brokerIds.length))
    await produce(target.bootstrap, topic, 2)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic })
    try {
      const signal = AbortSignal.timeout(30_000)
      const read: FetchedMessage[] = []
      while (read.length < 2) read.push(await reader.fetchMessage({ signal }))
      await reader.commitMessages([read[0]!], { metadata: () => 'small' })
      // The broker's default offset.metadata.max.bytes is 4096.
      const big = await reader.commitMessages([read[1]!], { metadata: () => 'x'.repeat(5000) }).catch((e: unknown) => e)
      expect(big).toBeInstanceOf(KafkaError)
      expect((big as KafkaError).errorName).toBe('OFFSET_METADATA_TOO_LARGE')
      const bad = await reader
        .commitMessages([read[1]!], { metadata: (() => 42) as unknown as () => string })
        .catch((e: unknown) => e)
      expect(bad).toBeInstanceOf(KafkaTsError)
      expect((bad as KafkaTsError).code).toBe('KAFKATS_INVALID_ARGUMENT')
      expect((await committedWithMetadata(target.bootstrap, groupId, topic, 1)).get(0)).toEqual({
        offset: 1n,
        metadata: 'small',
      })
    } finally {
      await reader.close()
    }
  }, 60_000)
})
