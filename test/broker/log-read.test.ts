// The partition log serves consecutive batches as one slice of where they are stored, without
// copying them (issue 14, item 4). The batches are librdkafka's (test/fixtures/kcat/none.hex).

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PartitionLog } from '../../src/broker/log.js'
import { readBatchHeader, splitBatches } from '../../src/protocol/record-batch.js'

const kcat = readFileSync(new URL('../fixtures/kcat/none.hex', import.meta.url), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => Buffer.from(line, 'hex'))

function newLog(): PartitionLog {
  return new PartitionLog(() => ({ segmentBytes: 1 << 30, segmentMs: 1 << 30 }))
}

/** Appends `count` copies of kcat's batches, as the Produce handler does; returns what was stored. */
function fill(log: PartitionLog, count: number): Buffer[] {
  const stored: Buffer[] = []
  for (let i = 0; i < count; i++) {
    const data = kcat[i % kcat.length]!
    const owned = log.copyForAppend(data)
    stored.push(log.append(owned, readBatchHeader(owned), 0, 1_700_000_000_000, false).data)
  }
  return stored
}

describe('PartitionLog.read', () => {
  it('serves consecutive batches as one slice of the stored bytes (no copy)', () => {
    const log = newLog()
    const stored = fill(log, 6)
    const read = log.read(0, 1 << 20, log.endOffset, false)
    const records = read.records!
    expect(records.buffer).toBe(stored[0]!.buffer)
    expect(records.byteOffset).toBe(stored[0]!.byteOffset)
    expect(records.equals(Buffer.concat(stored))).toBe(true)
    expect(read.endOffset).toBe(log.endOffset)
    // The batches are kcat's, with the offsets the log assigned: contiguous from 0.
    const batches = splitBatches(records)
    expect(batches).toHaveLength(6)
    let next = 0n
    for (const [i, b] of batches.entries()) {
      const h = readBatchHeader(b)
      expect(h.baseOffset).toBe(next)
      const theirs = kcat[i % kcat.length]!
      expect(b.subarray(61).equals(theirs.subarray(61))).toBe(true)
      next = h.baseOffset + BigInt(h.lastOffsetDelta) + 1n
    }
  })

  it('cuts at the byte limit and starts at the batch holding the offset', () => {
    const log = newLog()
    const stored = fill(log, 4)
    const limit = stored[0]!.length + 10
    const cut = log.read(0, limit, log.endOffset, false)
    expect(cut.records!.length).toBe(limit)
    expect(cut.records!.equals(Buffer.concat(stored).subarray(0, limit))).toBe(true)
    const second = readBatchHeader(stored[1]!)
    const from = log.read(Number(second.baseOffset), 1 << 20, log.endOffset, false)
    expect(from.records!.equals(Buffer.concat(stored.slice(1)))).toBe(true)
  })

  it('copies only when the batches are not side by side (a batch restored from disk)', () => {
    const log = newLog()
    const first = Buffer.from(kcat[0]!)
    log.restore(first, readBatchHeader(first), 1_700_000_000_000)
    const stored = fill(log, 2)
    const read = log.read(0, 1 << 20, log.endOffset, false)
    expect(read.records!.equals(Buffer.concat([first, ...stored]))).toBe(true)
  })
})
