// highestPerPartition: what a commit of some messages records, per partition and ownership
// (Kafka's committed offset is the next one to read: the highest offset + 1, or past the
// control records that follow it). The one-partition fast path and the general one agree.

import { describe, expect, it } from 'vitest'
import { highestPerPartition } from '../../src/consumer/commit-offsets.js'
import type { Message } from '../../src/message.js'
import { KafkaTsError } from '../../src/errors.js'

const m = (partition: number, offset: bigint, extra: object = {}): Message =>
  ({ topic: 't', partition, offset, key: null, value: null, headers: [], timestamp: 0, ...extra }) as Message

describe('highestPerPartition', () => {
  it('one partition: the highest offset + 1, with that message leader epoch, in any order', () => {
    const batch = [
      m(0, 5n, { leaderEpoch: 1, assignment: 3 }),
      m(0, 9n, { leaderEpoch: 2, assignment: 3 }),
      m(0, 7n, { leaderEpoch: 1, assignment: 3 }),
    ]
    expect(highestPerPartition(batch)).toEqual([
      { topic: 't', partition: 0, offset: 10n, assignment: 3, leaderEpoch: 2 },
    ])
    // Past the control records after the message when it is known (nextOffset).
    expect(highestPerPartition([m(0, 9n, { nextOffset: 12n })])[0]!.offset).toBe(12n)
    expect(highestPerPartition([])).toEqual([])
  })

  it('several partitions or ownerships: one offset each', () => {
    const got = highestPerPartition([
      m(0, 1n, { assignment: 1 }),
      m(1, 4n, { assignment: 1 }),
      m(0, 3n, { assignment: 1 }),
      m(0, 8n, { assignment: 2 }),
    ])
    expect(got.map((o) => [o.partition, o.offset, o.assignment])).toEqual([
      [0, 4n, 1],
      [1, 5n, 1],
      [0, 9n, 2],
    ])
  })

  it('a message without topic, partition and offset is a typed error, first or later', () => {
    expect(() => highestPerPartition([null as unknown as Message])).toThrow(KafkaTsError)
    expect(() => highestPerPartition([m(0, 1n), { topic: 't' } as unknown as Message])).toThrow(
      /message 1 has no topic/,
    )
    expect(() => highestPerPartition([m(0, 1n), m(1, 2n), { topic: 't' } as unknown as Message])).toThrow(/message 2/)
  })
})
