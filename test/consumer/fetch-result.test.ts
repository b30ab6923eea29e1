// recordsToMessages against batches built with the record-batch encoder. The expected results
// follow the Java consumer's CompletedFetch (apache/kafka clients/src/main/java/org/apache/kafka/
// clients/consumer/internals/CompletedFetch.java): aborted producer ids are collected from the
// AbortedTransactions list by first offset, a producer's ABORT marker ends its aborted range,
// control records are skipped but advance the position, and the position ends after the last
// batch's last offset.

import { describe, expect, it } from 'vitest'
import {
  MESSAGE_OVERHEAD,
  recordsToMessages,
  type FetchPartitionData,
  type IsolationLevel,
} from '../../src/consumer/fetch-result.js'
import { FirstOffset, LastOffset, ListOffsetsTimestamp, startOffsetTimestamp } from '../../src/consumer/offsets.js'
import { ConfigError, CorruptRecordError } from '../../src/errors.js'
import { isCodecAvailable, type CompressionCodec } from '../../src/protocol/compression/index.js'
import { crc32c } from '../../src/protocol/crc32c.js'
import {
  encodeControlBatch,
  encodeRecordBatch,
  setBatchLogAppendTime,
  setBatchPartitionLeaderEpoch,
  type EncodeBatchOptions,
  type RecordInput,
} from '../../src/protocol/record-batch.js'

const T0 = 1_700_000_000_000

/** `count` records "v<offset>" with keys "k<offset>" (every third key null). */
function records(first: number, count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => {
    const offset = first + i
    return {
      key: offset % 3 === 2 ? null : Buffer.from(`k${offset}`),
      value: Buffer.from(`v${offset}`),
      headers: offset % 2 === 0 ? [{ key: 'h', value: Buffer.from(String(offset)) }] : [],
      timestamp: T0 + offset,
    }
  })
}

async function batch(baseOffset: number, count: number, extra: Partial<EncodeBatchOptions> = {}): Promise<Buffer> {
  return encodeRecordBatch({ records: records(baseOffset, count), baseOffset: BigInt(baseOffset), ...extra })
}

/** A batch of transaction `producerId` (transactional, epoch 0). */
function txn(baseOffset: number, count: number, producerId: number): Promise<Buffer> {
  return batch(baseOffset, count, { producerId: BigInt(producerId), producerEpoch: 0, transactional: true })
}

function marker(type: 'abort' | 'commit', baseOffset: number, producerId: number): Buffer {
  return encodeControlBatch({
    type,
    producerId: BigInt(producerId),
    producerEpoch: 0,
    coordinatorEpoch: 3,
    timestamp: T0 + baseOffset,
    baseOffset: BigInt(baseOffset),
  })
}

function partition(
  batches: Buffer[] | Buffer | null,
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null = null,
): FetchPartitionData {
  return {
    records: batches === null ? null : Array.isArray(batches) ? Buffer.concat(batches) : batches,
    abortedTransactions,
    highWatermark: 100n,
    lastStableOffset: 100n,
  }
}

async function read(
  data: FetchPartitionData,
  fetchOffset: number | bigint,
  isolation: IsolationLevel = 'read_uncommitted',
) {
  return recordsToMessages('events', 3, data, BigInt(fetchOffset), isolation)
}

const offsets = (r: { messages: { offset: bigint }[] }): number[] => r.messages.map((m) => Number(m.offset))

describe('recordsToMessages', () => {
  it('no records: nothing, the position stays', async () => {
    for (const data of [partition(null), partition(Buffer.alloc(0))]) {
      const r = await read(data, 42)
      expect(r).toEqual({ messages: [], nextOffset: 42n, bytes: 0, memory: 0, lastEpoch: null })
    }
  })

  it('turns records into messages with every field set', async () => {
    const r = await read(partition(await batch(0, 3)), 0)
    expect(r.nextOffset).toBe(3n)
    expect(r.messages).toEqual([
      {
        topic: 'events',
        partition: 3,
        offset: 0n,
        key: Buffer.from('k0'),
        value: Buffer.from('v0'),
        headers: [{ key: 'h', value: Buffer.from('0') }],
        timestamp: T0,
        leaderEpoch: -1,
        assignment: 0,
      },
      {
        topic: 'events',
        partition: 3,
        offset: 1n,
        key: Buffer.from('k1'),
        value: Buffer.from('v1'),
        headers: [],
        timestamp: T0 + 1,
        leaderEpoch: -1,
        assignment: 0,
      },
      {
        topic: 'events',
        partition: 3,
        offset: 2n,
        key: null,
        value: Buffer.from('v2'),
        headers: [{ key: 'h', value: Buffer.from('2') }],
        timestamp: T0 + 2,
        leaderEpoch: -1,
        assignment: 0,
      },
    ])
    // keys 2+2, values 2+2+2, headers (1+1)+(1+1)
    expect(r.bytes).toBe(4 + 6 + 4)
  })

  it("gives each message its batch's partitionLeaderEpoch (bytes 12-15, outside the CRC)", async () => {
    const first = await batch(0, 2)
    const second = await batch(2, 1)
    // The broker stamps the epoch in place, as Kafka's leader does; the CRC starts at byte 21.
    first.writeInt32BE(4, 12)
    second.writeInt32BE(7, 12)
    const r = await read(partition([first, second]), 0)
    expect(r.messages.map((m) => [m.offset, m.leaderEpoch])).toEqual([
      [0n, 4],
      [1n, 4],
      [2n, 7],
    ])
    expect(r.lastEpoch).toBe(7)
  })

  it('null values (tombstones), null header values and LogAppendTime', async () => {
    const b = await encodeRecordBatch({
      records: [{ key: Buffer.from('k'), value: null, headers: [{ key: 'é', value: null }], timestamp: T0 }],
      baseOffset: 5n,
    })
    setBatchLogAppendTime(b, 0, BigInt(T0 + 999))
    const r = await read(partition(b), 5)
    expect(r.messages[0]).toMatchObject({
      offset: 5n,
      key: Buffer.from('k'),
      value: null,
      headers: [{ key: 'é', value: null }],
      timestamp: T0 + 999,
    })
    expect(r.bytes).toBe(1 + 2)
  })

  // Timestamps are added as numbers (no BigInt per record); a base timestamp past 2^53 (never a
  // real clock, but the wire allows any int64) still gives Number(base + delta), as before.
  it('timestamps: base + delta per record, exact or through BigInt past 2^53', async () => {
    const plain = await read(partition(await batch(0, 3)), 0)
    expect(plain.messages.map((m) => m.timestamp)).toEqual([T0, T0 + 1, T0 + 2])
    const b = await batch(0, 3)
    const base = 2n ** 53n + 1n // Number(base) + 1 would round to 2^53; Number(base + 1n) is 2^53 + 2
    b.writeBigInt64BE(base, 27) // baseTimestamp (firstTimestamp): after attributes and lastOffsetDelta
    b.writeUInt32BE(crc32c(b, 21, b.length), 17) // the CRC covers attributes to the end
    const huge = await read(partition(b), 0)
    expect(huge.messages.map((m) => m.timestamp)).toEqual([0n, 1n, 2n].map((d) => Number(base + d)))
  })

  it('decompresses every codec available here', async () => {
    const codecs: CompressionCodec[] = ['gzip', 'snappy', 'lz4', 'zstd']
    const expected = await read(partition([await batch(0, 4), await batch(4, 4)]), 0)
    let tested = 0
    for (const compression of codecs) {
      if (!(await isCodecAvailable(compression))) continue
      tested++
      const data = partition([await batch(0, 4, { compression }), await batch(4, 4, { compression })])
      const r = await read(data, 0)
      expect(r.messages, compression).toEqual(expected.messages)
      expect(r.nextOffset).toBe(8n)
      expect(r.bytes).toBe(expected.bytes)
    }
    expect(tested).toBeGreaterThanOrEqual(1) // gzip is built in
  })

  it('skips records below the fetch offset, in a batch that starts before it', async () => {
    const r = await read(partition([await batch(10, 5), await batch(15, 2)]), 12)
    expect(offsets(r)).toEqual([12, 13, 14, 15, 16])
    expect(r.nextOffset).toBe(17n)
  })

  it('skips whole batches below the fetch offset (also compressed ones)', async () => {
    const r = await read(partition([await batch(0, 5, { compression: 'gzip' }), await batch(5, 3)]), 5)
    expect(offsets(r)).toEqual([5, 6, 7])
    expect(r.nextOffset).toBe(8n)
  })

  it('never returns control records but moves past them (read_uncommitted)', async () => {
    let r = await read(partition([await txn(0, 3, 7), marker('commit', 3, 7)]), 0)
    expect(offsets(r)).toEqual([0, 1, 2])
    expect(r.nextOffset).toBe(4n)
    // Only a marker: no messages, but the position moves past it.
    r = await read(partition(marker('commit', 3, 7)), 3)
    expect(r.messages).toEqual([])
    expect(r.nextOffset).toBe(4n)
    r = await read(partition([marker('abort', 3, 7), await batch(4, 1)]), 3, 'read_committed')
    expect(offsets(r)).toEqual([4])
    expect(r.nextOffset).toBe(5n)
  })

  describe('an aborted transaction interleaved with a committed one', () => {
    // offsets: 0-1 pid 1 (aborted)   2-3 pid 2 (committed)   4 pid 1 (aborted)   5 ABORT pid 1
    //          6 COMMIT pid 2         7-8 pid 1 (a new transaction, committed)    9 COMMIT pid 1
    //          10 plain (non-transactional) batch
    async function log(): Promise<Buffer[]> {
      return [
        await txn(0, 2, 1),
        await txn(2, 2, 2),
        await txn(4, 1, 1),
        marker('abort', 5, 1),
        marker('commit', 6, 2),
        await txn(7, 2, 1),
        marker('commit', 9, 1),
        await batch(10, 1),
      ]
    }
    const abortedList = [{ producerId: 1n, firstOffset: 0n }]

    it('read_committed drops the aborted records only', async () => {
      const r = await read(partition(await log(), abortedList), 0, 'read_committed')
      expect(offsets(r)).toEqual([2, 3, 7, 8, 10])
      expect(r.nextOffset).toBe(11n)
    })

    it('read_uncommitted returns every data record', async () => {
      const r = await read(partition(await log(), abortedList), 0, 'read_uncommitted')
      expect(offsets(r)).toEqual([0, 1, 2, 3, 4, 7, 8, 10])
      expect(r.nextOffset).toBe(11n)
    })

    it('read_committed from the middle: the aborted range started before the fetch offset', async () => {
      const r = await read(partition((await log()).slice(1), abortedList), 2, 'read_committed')
      expect(offsets(r)).toEqual([2, 3, 7, 8, 10])
    })

    it('read_committed with compressed batches', async () => {
      const data = [
        await batch(0, 2, { producerId: 1n, producerEpoch: 0, transactional: true, compression: 'gzip' }),
        await batch(2, 2, { producerId: 2n, producerEpoch: 0, transactional: true, compression: 'gzip' }),
        marker('abort', 4, 1),
        marker('commit', 5, 2),
      ]
      const r = await read(partition(data, abortedList), 0, 'read_committed')
      expect(offsets(r)).toEqual([2, 3])
      expect(r.nextOffset).toBe(6n)
    })

    it('two aborted transactions of one producer', async () => {
      const data = [
        await txn(0, 2, 1),
        marker('abort', 2, 1),
        await txn(3, 2, 1),
        marker('abort', 5, 1),
        await txn(6, 1, 1),
        marker('commit', 7, 1),
      ]
      const r = await read(
        partition(data, [
          { producerId: 1n, firstOffset: 3n },
          { producerId: 1n, firstOffset: 0n },
        ]),
        0,
        'read_committed',
      )
      expect(offsets(r)).toEqual([6])
      expect(r.nextOffset).toBe(8n)
    })

    it("an aborted producer's non-transactional (idempotent) batch is not dropped", async () => {
      const data = [
        await txn(0, 1, 1),
        await batch(1, 1, { producerId: 1n, producerEpoch: 0, baseSequence: 0 }),
        marker('abort', 2, 1),
      ]
      const r = await read(partition(data, abortedList), 0, 'read_committed')
      expect(offsets(r)).toEqual([1])
      expect(r.nextOffset).toBe(3n)
    })

    it('nextOffset: a message followed by markers or aborted data commits past them, never past data', async () => {
      const next = (r: { messages: { offset: bigint; nextOffset?: bigint }[] }) =>
        r.messages.map((m) => [Number(m.offset), m.nextOffset === undefined ? null : Number(m.nextOffset)])
      // read_committed: 3 is followed by aborted 4, ABORT 5 and COMMIT 6, so it commits 7; 8 by
      // COMMIT 9 (commits 10); the last record ends the response (nothing to skip).
      const committed = await read(partition(await log(), abortedList), 0, 'read_committed')
      expect(next(committed)).toEqual([
        [2, null],
        [3, 7],
        [7, null],
        [8, 10],
        [10, null],
      ])
      // read_uncommitted: the markers only.
      const uncommitted = await read(partition(await log(), abortedList), 0, 'read_uncommitted')
      expect(next(uncommitted)).toEqual([
        [0, null],
        [1, null],
        [2, null],
        [3, null],
        [4, 7],
        [7, null],
        [8, 10],
        [10, null],
      ])
      // Cut by maxMemory before 7: 3 still covers the aborted record and markers before it, and
      // the next fetch starts at 7.
      const firstTwo = await read(partition((await log()).slice(0, 2), abortedList), 0, 'read_committed')
      const budget = await recordsToMessages('events', 3, partition(await log(), abortedList), 0n, 'read_committed', {
        maxMemory: firstTwo.memory,
      })
      expect(offsets(budget)).toEqual([2, 3])
      expect(budget.nextOffset).toBe(7n)
      expect(next(budget)).toEqual([
        [2, null],
        [3, 7],
      ])
    })

    it('an aborted batch at the end still moves the position past it', async () => {
      const r = await read(
        partition(
          [await txn(0, 2, 2), marker('commit', 2, 2), await txn(3, 2, 1)],
          [{ producerId: 1n, firstOffset: 3n }],
        ),
        0,
        'read_committed',
      )
      expect(offsets(r)).toEqual([0, 1])
      expect(r.nextOffset).toBe(5n)
    })
  })

  it('ignores a truncated trailing batch; the position stays before it', async () => {
    const first = await batch(0, 3)
    const second = await batch(3, 3, { compression: 'gzip' })
    for (const cut of [1, 20, 61, second.length - 1]) {
      const r = await read(partition(Buffer.concat([first, second.subarray(0, cut)])), 0)
      expect(offsets(r), `cut at ${cut}`).toEqual([0, 1, 2])
      expect(r.nextOffset).toBe(3n)
    }
    // Only a partial batch (a record larger than the fetch size): nothing, position unchanged.
    const r = await read(partition(second.subarray(0, second.length - 5)), 3)
    expect(r).toEqual({ messages: [], nextOffset: 3n, bytes: 0, memory: 0, lastEpoch: null })
  })

  it("continues after the batch's last offset when compaction removed its last records", async () => {
    const b = await batch(20, 2)
    // lastOffsetDelta 1 → 5 (offsets 22-25 compacted away), CRC recomputed.
    b.writeInt32BE(5, 23)
    b.writeUInt32BE(crc32c(b, 21), 17)
    const r = await read(partition(b), 20)
    expect(offsets(r)).toEqual([20, 21])
    expect(r.nextOffset).toBe(26n)
  })

  it('a corrupt batch throws when nothing precedes it, else ends the result before it', async () => {
    const good = await batch(0, 2)
    const bad = await batch(2, 2)
    bad[bad.length - 2]! ^= 0x01 // the last value's last byte: '3' → '2'
    await expect(read(partition(bad), 2)).rejects.toThrow(CorruptRecordError)
    const r = await read(partition([good, bad]), 0)
    expect(offsets(r)).toEqual([0, 1])
    expect(r.nextOffset).toBe(2n)
    // The next fetch starts at the corrupt batch and reports it.
    await expect(read(partition(bad), r.nextOffset)).rejects.toThrow(CorruptRecordError)
    // verifyCrc: false skips the check.
    const unchecked = await recordsToMessages('events', 3, partition(bad), 2n, 'read_uncommitted', { verifyCrc: false })
    expect(unchecked.messages.map((m) => m.value!.toString())).toEqual(['v2', 'v2'])
  })

  it('copy: true detaches keys, values and header values from the response buffer', async () => {
    const b = await batch(0, 1)
    const views = await read(partition(b), 0)
    const copies = await recordsToMessages('events', 3, partition(b), 0n, 'read_uncommitted', { copy: true })
    expect(copies.messages).toEqual(views.messages)
    b.fill(0)
    expect(copies.messages[0]!.value).toEqual(Buffer.from('v0'))
    expect(copies.messages[0]!.key).toEqual(Buffer.from('k0'))
    expect(copies.messages[0]!.headers[0]!.value).toEqual(Buffer.from('0'))
    expect(views.messages[0]!.value).not.toEqual(Buffer.from('v0'))
  })

  it('maxMemory stops inside a batch; fetching again from nextOffset returns the rest, once', async () => {
    // Two data batches with a commit marker between them (control records cost nothing).
    const data = partition([await batch(0, 10), marker('commit', 10, 9), await batch(11, 10)])
    const all = await read(data, 0)
    expect(all.memory).toBeGreaterThan(all.bytes + 20 * MESSAGE_OVERHEAD)
    const budget = Math.ceil(all.memory / 7)
    const seen: number[] = []
    let at = 0n
    for (let rounds = 0; at < all.nextOffset; rounds++) {
      expect(rounds).toBeLessThan(20)
      const r = await recordsToMessages('events', 3, data, at, 'read_uncommitted', { maxMemory: budget })
      expect(r.messages.length).toBeGreaterThan(0)
      expect(r.memory).toBeLessThanOrEqual(budget)
      seen.push(...offsets(r))
      at = r.nextOffset
    }
    expect(seen).toEqual(offsets(all))
    expect(at).toBe(21n)
  })

  it('maxMemory returns one message even when it alone is over budget, and none at 0', async () => {
    const data = partition(await batch(0, 3))
    const one = await recordsToMessages('events', 3, data, 0n, 'read_uncommitted', { maxMemory: 1 })
    expect(offsets(one)).toEqual([0])
    expect(one.nextOffset).toBe(1n)
    const none = await recordsToMessages('events', 3, data, 1n, 'read_uncommitted', { maxMemory: 0 })
    expect(offsets(none)).toEqual([])
    expect(none.nextOffset).toBe(1n)
  })

  it('reports the leader epoch of the last batch read', async () => {
    const a = await batch(0, 1)
    const b = await batch(1, 1)
    setBatchPartitionLeaderEpoch(a, 0, 4)
    setBatchPartitionLeaderEpoch(b, 0, 5)
    expect((await read(partition([a, b]), 0)).lastEpoch).toBe(5)
    expect((await read(partition(await batch(0, 1)), 0)).lastEpoch).toBeNull()
  })
})

// src/consumer/offsets.ts is small enough to be covered here.
describe('startOffsetTimestamp', () => {
  it('maps FirstOffset / LastOffset to the ListOffsets sentinels (kafka-go -2 / -1)', () => {
    expect(FirstOffset).toBe(-2n)
    expect(LastOffset).toBe(-1n)
    expect(startOffsetTimestamp(FirstOffset)).toBe(ListOffsetsTimestamp.EARLIEST)
    expect(startOffsetTimestamp(LastOffset)).toBe(ListOffsetsTimestamp.LATEST)
    expect(startOffsetTimestamp(-2)).toBe(-2n)
    expect(startOffsetTimestamp(-1)).toBe(-1n)
  })

  it('maps a Date or milliseconds to that timestamp', () => {
    expect(startOffsetTimestamp(new Date(T0))).toBe(BigInt(T0))
    expect(startOffsetTimestamp(T0)).toBe(BigInt(T0))
    expect(startOffsetTimestamp(0)).toBe(0n)
  })

  it('rejects anything else with a ConfigError naming startOffset', () => {
    for (const bad of [5n, -3n, -3, 1.5, Number.NaN, new Date(Number.NaN), new Date(-1000), '0' as unknown as number]) {
      expect(() => startOffsetTimestamp(bad)).toThrow(ConfigError)
    }
    try {
      startOffsetTimestamp(7n)
    } catch (err) {
      expect((err as ConfigError).option).toBe('startOffset')
    }
  })
})
