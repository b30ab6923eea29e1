// Splicing (Writer.spliceMin / chunks): large byte fields are referenced, not copied, and reach
// the socket through one vectored write. The frame must be the very bytes a copying Writer
// makes; the record batches used are librdkafka's own (test/fixtures/kcat/, bytes kcat sent).

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { Input } from '../../src/protocol/api.js'
import { readRequestFrame, writeRequestFrame } from '../../src/protocol/frame.js'
import { Produce, type ProduceRequest } from '../../src/protocol/messages/produce.js'
import { Writer } from '../../src/protocol/writer.js'

function kcatBatches(codec: string): Buffer[] {
  return readFileSync(new URL(`../fixtures/kcat/${codec}.hex`, import.meta.url), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => Buffer.from(line, 'hex'))
}

const batches = [...kcatBatches('none'), ...kcatBatches('lz4'), ...kcatBatches('zstd')]

function produce(records: Buffer[]): Input<ProduceRequest> {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [
      { name: 'a', partitionData: records.slice(0, 2).map((r, i) => ({ index: i, records: r })) },
      { name: 'b', partitionData: records.slice(2).map((r, i) => ({ index: i, records: r })) },
    ],
  }
}

function frames(spliceMin: number, version: number, count: number): Writer {
  const w = new Writer(64)
  w.spliceMin = spliceMin
  for (let i = 0; i < count; i++) writeRequestFrame(w, Produce, version, i, 'splice-test', produce(batches))
  return w
}

describe('Writer splicing', () => {
  it('has librdkafka batches to splice', () => {
    expect(batches.length).toBeGreaterThanOrEqual(3)
  })

  // v3: records is the last field of a partition (a splice can end a frame); v9: flexible.
  for (const version of [3, 9]) {
    it(`Produce v${version}: the chunks of a spliced frame are the copying Writer's bytes`, () => {
      const copied = frames(Infinity, version, 3)
      const spliced = frames(1, version, 3)
      expect(copied.chunks()).toHaveLength(1)
      const chunks = spliced.chunks()
      // Each batch is its own chunk, the very Buffer given (no copy).
      for (const b of batches) expect(chunks.filter((c) => c === b)).toHaveLength(3)
      expect(spliced.length).toBe(copied.length)
      expect(Buffer.concat(chunks).equals(copied.view())).toBe(true)
      expect(spliced.view().equals(copied.view())).toBe(true)
      expect(spliced.toBuffer().equals(copied.toBuffer())).toBe(true)

      // And the frames read back as kcat's batches.
      const bytes = spliced.view()
      let at = 0
      for (let i = 0; i < 3; i++) {
        const size = bytes.readInt32BE(at)
        const decoded = readRequestFrame(bytes.subarray(at + 4, at + 4 + size))
        expect(decoded.header.correlationId).toBe(i)
        const body = decoded.body as ProduceRequest
        const records = body.topicData.flatMap((t) => t.partitionData.map((p) => p.records))
        expect(records.map((r) => r!.toString('hex'))).toEqual(batches.map((b) => b.toString('hex')))
        at += 4 + size
      }
      expect(at).toBe(bytes.length)
    })
  }

  it('splices only arrays of at least spliceMin bytes', () => {
    const w = new Writer()
    w.spliceMin = 4
    const small = Buffer.from([1, 2, 3])
    const large = Buffer.from([4, 5, 6, 7])
    w.int8(0).raw(small).raw(large).int8(9)
    const chunks = w.chunks()
    expect(chunks).toHaveLength(3)
    expect(chunks[1]).toBe(large)
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 9]))
  })

  it('truncate drops a partial frame, splices included, and keeps a splice that ended the frame before', () => {
    const w = new Writer()
    w.spliceMin = 1
    const first = Buffer.from('first')
    const at = w.beginLength()
    w.raw(first)
    w.endLength(at) // a frame whose last bytes are spliced
    const mark = w.mark()
    const lengthBefore = w.length
    const start = w.beginLength()
    w.int16(7).raw(Buffer.from('partial'))
    w.endLength(start)
    w.truncate(mark)
    expect(w.length).toBe(lengthBefore)
    expect(w.view()).toEqual(Buffer.concat([Buffer.from([0, 0, 0, 5]), first]))
    w.reset()
    expect(w.length).toBe(0)
    expect(w.chunks()).toEqual([Buffer.alloc(0)])
  })
})
