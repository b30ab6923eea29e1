// @integration
// Consumer introspection (issue 11, item 6): committed(), position(), beginningOffsets(),
// endOffsets() and offsetsForTimes() on the reference cluster. The expected values come from
// outside the Reader: offsets the Writer was acknowledged for, timestamps we wrote, a raw
// OffsetFetch (helpers.committedOffsets), and the broker's log start after DeleteRecords.

import { describe, expect, it } from 'vitest'
import { KafkaClient } from '../../src/cluster/client.js'
import { ReaderStateError } from '../../src/consumer/errors.js'
import { Reader } from '../../src/consumer/reader.js'
import { Writer } from '../../src/producer/writer.js'
import { DeleteRecords } from '../../src/protocol/messages/index.js'
import { committedOffsets, createTopic, produce, startTarget, targetName, unique } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

describe.sequential(`Reader introspection, against ${targetName}`, () => {
  it('beginningOffsets and endOffsets follow the log, including DeleteRecords; offsetsForTimes finds written timestamps', async () => {
    const topic = unique('intro-ends')
    await createTopic(target.bootstrap, topic, 2)
    const writer = new Writer({ brokers: target.bootstrap, topic, balancer: { balance: () => 0 } })
    // Recent: older records would fall to time retention (7 days), as on Kafka.
    const base = Math.floor(Date.now() / 1000) * 1000 - 60_000
    let results
    try {
      results = await writer.writeMessages(
        Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, timestamp: base + i * 1000 })),
      )
    } finally {
      await writer.close()
    }
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)))

    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 1 })
    try {
      expect(await reader.beginningOffsets([0, 1])).toEqual([
        { topic, partition: 0, offset: 0n },
        { topic, partition: 1, offset: 0n },
      ])
      expect(await reader.endOffsets([{ topic, partition: 0 }, 1])).toEqual([
        { topic, partition: 0, offset: 10n },
        { topic, partition: 1, offset: 0n },
      ])

      const at = async (partition: number, timestamp: Date | number) =>
        (await reader.offsetsForTimes([{ topic, partition, timestamp }]))[0]
      expect(await at(0, new Date(base + 3500))).toEqual({
        topic,
        partition: 0,
        offset: 4n,
        timestamp: BigInt(base + 4000),
      })
      expect(await at(0, base)).toEqual({ topic, partition: 0, offset: 0n, timestamp: BigInt(base) })
      expect(await at(0, base + 60_000)).toEqual({ topic, partition: 0, offset: null, timestamp: null })
      expect(
        await reader.offsetsForTimes([
          { topic, partition: 1, timestamp: base },
          { topic, partition: 0, timestamp: base + 9000 },
        ]),
      ).toEqual([
        { topic, partition: 1, offset: null, timestamp: null },
        { topic, partition: 0, offset: 9n, timestamp: BigInt(base + 9000) },
      ])
      await expect(
        reader.offsetsForTimes([
          { topic, partition: 0, timestamp: base },
          { topic, partition: 0, timestamp: base + 1 },
        ]),
      ).rejects.toBeInstanceOf(ReaderStateError)

      // DeleteRecords moves the log start: beginningOffsets follows the broker.
      const admin = new KafkaClient({ brokers: target.bootstrap })
      try {
        await admin.metadata.refresh([topic])
        const leader = admin.metadata.leaderFor(topic, 0)!
        const r = await admin.requestTo(leader, DeleteRecords, {
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 6n }] }],
          timeoutMs: 10_000,
        })
        expect(r.topics[0]!.partitions[0]!.errorCode).toBe(0)
      } finally {
        await admin.close()
      }
      expect(await reader.beginningOffsets([0])).toEqual([{ topic, partition: 0, offset: 6n }])

      await expect(reader.offsetsForTimes([{ topic, partition: 0, timestamp: -5 }])).rejects.toBeInstanceOf(
        ReaderStateError,
      )
      await expect(reader.committed()).rejects.toBeInstanceOf(ReaderStateError)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('committed() agrees with the group coordinator, and position() is the next offset handed out', async () => {
    const topic = unique('intro-group')
    const groupId = unique('intro-group-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 5)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic })
    try {
      const signal = AbortSignal.timeout(30_000)
      const first = await reader.fetchMessage({ signal })
      expect(await reader.committed()).toEqual([{ topic, partition: 0, offset: null }])
      expect(await reader.position(topic, 0)).toBe(first.offset + 1n)
      const second = await reader.fetchMessage({ signal })
      await reader.commitMessages(second)
      const raw = (await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)
      expect(raw).toBe(2n)
      expect(await reader.committed([{ topic, partition: 0 }])).toEqual([{ topic, partition: 0, offset: raw }])
      expect(await reader.position(topic, 0)).toBe(2n)
      reader.seek(topic, 0, 4n)
      expect(await reader.position(topic, 0)).toBe(4n)
      await expect(reader.position(topic, 7)).rejects.toBeInstanceOf(ReaderStateError)
    } finally {
      await reader.close()
    }
  }, 60_000)
})
