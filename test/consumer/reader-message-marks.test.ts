// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// messages() marks what the loop processed once per partition run rather than once per message
// (issue 14, item 2d): the message held back is marked before every flush (periodic, explicit,
// rebalance, close) and before the application's own commits and seeks, so what is committed
// is what it was when each message was marked on its own.

import { describe, expect, it } from 'vitest'
import { Reader } from '../../src/consumer/reader.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { committedOffsets, createTopic, produce, startTarget, targetName, unique } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

describe(`messages() commit marks, against ${targetName}`, () => {
  it('a flush in the loop commits every message processed before the current one, in each partition', async () => {
    const topic = unique('marks-flush')
    const groupId = unique('marks-flush-g')
    await createTopic(target.bootstrap, topic, 2)
    await produce(target.bootstrap, topic, 30, { partition: 0 })
    await produce(target.bootstrap, topic, 30, { partition: 1 })
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, commitInterval: 60_000 })
    try {
      const seen = new Map<number, bigint>()
      let n = 0
      for await (const m of reader.messages({ signal: AbortSignal.timeout(20_000) })) {
        if (++n === 45) {
          // Processed: everything seen before this message, in both partitions.
          await reader.flushCommits()
          const committed = await committedOffsets(target.bootstrap, groupId, topic, 2)
          for (const [partition, offset] of seen) expect(committed.get(partition)).toBe(offset + 1n)
          expect(committed.get(m.partition) ?? 0n).toBe(seen.has(m.partition) ? m.offset : 0n)
          break
        }
        seen.set(m.partition, m.offset)
      }
    } finally {
      await reader.close()
    }
  })

  it('a rewinding commit in the loop stands: the message held back is marked before it, not after', async () => {
    const topic = unique('marks-rewind')
    const groupId = unique('marks-rewind-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 20)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, commitInterval: 60_000 })
    try {
      let early: FetchedMessage | undefined
      for await (const m of reader.messages({ signal: AbortSignal.timeout(20_000) })) {
        if (m.offset === 2n) early = m
        if (m.offset === 10n) {
          await reader.commitMessages([early!], { allowRewind: true })
          await reader.flushCommits()
          break
        }
      }
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(3n)
    } finally {
      await reader.close()
    }
    // close() committed nothing past the rewind: the loop's last message (10) was not processed.
    expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(3n)
  })

  it('with commitInterval 0, a fetched batch used up is committed before the loop waits for more', async () => {
    const topic = unique('marks-sync')
    const groupId = unique('marks-sync-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 10)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, commitInterval: 0 })
    try {
      let n = 0
      const iterator = reader.messages({ signal: AbortSignal.timeout(20_000) })
      for (;;) {
        const { value } = await iterator.next()
        if (value!.offset === 9n) break
        n++
      }
      expect(n).toBe(9)
      // Message 9 is in hand; 0-8 were processed and are committed by now (one commit per batch).
      const committed = (await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)
      expect(committed === undefined || committed <= 9n).toBe(true)
      // Asking for more (nothing is left to fetch) means 9 was processed too: committed before waiting.
      const more = iterator.next()
      await expect
        .poll(async () => (await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0), { timeout: 10_000 })
        .toBe(10n)
      await reader.close()
      await expect(more).resolves.toMatchObject({ done: true })
    } finally {
      await reader.close()
    }
  })
})
