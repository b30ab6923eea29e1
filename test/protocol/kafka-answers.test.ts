// The codec against bytes real Kafka 4.4.0 sent: its answers to one request of each API whose
// newest version changed since 4.0.0, at that version (Produce v13, Fetch v18, ListOffsets v11,
// OffsetCommit/OffsetFetch v10, DeleteGroups v3, TxnOffsetCommit v6, ApiVersions v5), captured
// by test/fixtures/kafka-answers/capture.ts; Kafka 3.9.2's answers to the same requests at its
// own newest versions are decoded and re-encoded too. Each answer decodes exactly (no byte left over),
// says what the requests asked for, and encodes back to Kafka's bytes.

import { describe, expect, it } from 'vitest'

import { decodeRecordBatches } from '../../src/protocol/record-batch.js'
import { readRequestFrame, readResponseFrame, writeResponseFrame } from '../../src/protocol/frame.js'
import {
  apis,
  ApiVersions,
  DeleteGroups,
  Fetch,
  ListOffsets,
  OffsetCommit,
  OffsetFetch,
  Produce,
  TxnOffsetCommit,
} from '../../src/protocol/messages/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { Writer } from '../../src/protocol/writer.js'
import { exchangeOf, loadKafkaAnswers } from '../fixtures/kafka-answers/answers.js'

const answers = loadKafkaAnswers('4.4.0')
const response = <Res>(api: { name: string }, version: number, nth = 0) => {
  const x = answers.exchanges.filter((e) => e.api === api.name && e.version === version)[nth]
  if (x === undefined) throw new Error(`no ${api.name} v${version} in the fixture`)
  const def = apis.find((a) => a.name === api.name)!
  return readResponseFrame(Buffer.from(x.response, 'hex'), def, version).body as Res
}

describe('Kafka 4.4.0 answers, decoded by the codec', () => {
  it.each(['4.4.0', '3.9.2'])('Kafka %s: every answer re-encodes to its bytes; every request decodes', (version) => {
    const captured = loadKafkaAnswers(version)
    expect(captured.exchanges.length).toBeGreaterThanOrEqual(9)
    for (const x of captured.exchanges) {
      const api = apis.find((a) => a.name === x.api)!
      const bytes = Buffer.from(x.response, 'hex')
      const { correlationId, body } = readResponseFrame(bytes, api, x.version)
      const w = new Writer()
      writeResponseFrame(w, api, x.version, correlationId, body)
      expect(w.toBuffer().subarray(4).toString('hex'), `${x.api} v${x.version}`).toBe(x.response)
      const request = readRequestFrame(Buffer.from(x.request, 'hex'))
      expect([request.api?.name, request.header.requestApiVersion, request.trailingBytes]).toEqual([
        x.api,
        x.version,
        0,
      ])
    }
  })

  it('ApiVersions v5: the same API table as v3; another cluster id gets REBOOTSTRAP_REQUIRED (KIP-1242)', () => {
    const v3 = response<ReturnType<typeof ApiVersions.decodeResponse>>(ApiVersions, 3)
    const v5 = response<ReturnType<typeof ApiVersions.decodeResponse>>(ApiVersions, 5)
    expect(v5.apiKeys).toEqual(v3.apiKeys)
    expect(v3.apiKeys.find((k) => k.apiKey === Produce.apiKey)).toEqual({ apiKey: 0, minVersion: 0, maxVersion: 13 })
    expect(v3.finalizedFeatures.find((f) => f.name === 'transaction.version')?.maxVersionLevel).toBe(2)
    const other = response<ReturnType<typeof ApiVersions.decodeResponse>>(ApiVersions, 5, 1)
    expect(other.errorCode).toBe(ErrorCode.REBOOTSTRAP_REQUIRED)
    expect(other.apiKeys).toEqual([])
  })

  it('Produce v13 answers by topic id (KIP-516); an id no topic has is UNKNOWN_TOPIC_ID', () => {
    const r = response<ReturnType<typeof Produce.decodeResponse>>(Produce, 13)
    expect(r.responses).toHaveLength(1)
    expect(r.responses[0]!.name).toBe('')
    expect(r.responses[0]!.topicId).toBe(answers.topicId)
    expect(r.responses[0]!.partitionResponses[0]).toMatchObject({ index: 0, errorCode: 0, baseOffset: 0n })
    const unknown = response<ReturnType<typeof Produce.decodeResponse>>(Produce, 13, 1)
    expect(unknown.responses[0]!.partitionResponses[0]).toMatchObject({
      errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
      baseOffset: -1n,
    })
  })

  it('Fetch v18 answers by topic id with the three records produced', async () => {
    const r = response<ReturnType<typeof Fetch.decodeResponse>>(Fetch, 18)
    const t = r.responses[0]!
    expect(t.topicId).toBe(answers.topicId)
    const p = t.partitions[0]!
    expect([p.errorCode, p.highWatermark, p.lastStableOffset]).toEqual([0, 3n, 3n])
    const records = (await decodeRecordBatches(Buffer.from(p.records!))).flatMap((b) => b.records)
    expect(records.map((rec) => [rec.offset, rec.key?.toString(), rec.value?.toString()])).toEqual([
      [0n, 'k0', 'value-0'],
      [1n, 'k1', 'value-1'],
      [2n, 'k2', 'value-2'],
    ])
  })

  it('ListOffsets v11: the latest offset is 3', () => {
    const r = response<ReturnType<typeof ListOffsets.decodeResponse>>(ListOffsets, 11)
    expect(r.topics[0]).toMatchObject({ name: answers.topic, partitions: [{ errorCode: 0, offset: 3n }] })
  })

  it('OffsetCommit v10 and OffsetFetch v10 name the topic by id (KIP-848)', () => {
    const c = response<ReturnType<typeof OffsetCommit.decodeResponse>>(OffsetCommit, 10)
    expect(c.topics).toEqual([
      { name: '', topicId: answers.topicId, partitions: [{ partitionIndex: 0, errorCode: 0 }] },
    ])
    const f = response<ReturnType<typeof OffsetFetch.decodeResponse>>(OffsetFetch, 10)
    expect(f.groups[0]!.groupId).toBe(answers.group)
    expect(f.groups[0]!.topics).toEqual([
      {
        name: '',
        topicId: answers.topicId,
        partitions: [{ partitionIndex: 0, committedOffset: 2n, committedLeaderEpoch: -1, metadata: 'm', errorCode: 0 }],
      },
    ])
  })

  it('DeleteGroups v3: a per-group error message field (null here); an unknown group is GROUP_ID_NOT_FOUND', () => {
    const r = response<ReturnType<typeof DeleteGroups.decodeResponse>>(DeleteGroups, 3)
    // In no particular order: Kafka collects the results in a map.
    const byGroup = new Map(r.results.map((g) => [g.groupId, [g.errorCode, g.errorMessage]]))
    expect(byGroup.get(answers.group)).toEqual([0, null])
    expect([...byGroup].filter(([g]) => g !== answers.group).map(([, e]) => e)).toEqual([
      [ErrorCode.GROUP_ID_NOT_FOUND, null],
    ])
  })

  it('TxnOffsetCommit v6 names the topic by id (KIP-1319)', () => {
    const r = response<ReturnType<typeof TxnOffsetCommit.decodeResponse>>(TxnOffsetCommit, 6)
    expect(r.topics).toEqual([
      { name: '', topicId: answers.topicId, partitions: [{ partitionIndex: 0, errorCode: 0 }] },
    ])
  })

  it('the fixture holds each API at the newest version Kafka 4.4.0 and the codec share', () => {
    const v3 = response<ReturnType<typeof ApiVersions.decodeResponse>>(ApiVersions, 3)
    for (const api of [Produce, Fetch, ListOffsets, OffsetCommit, OffsetFetch, DeleteGroups, TxnOffsetCommit]) {
      const kafkaMax = v3.apiKeys.find((k) => k.apiKey === api.apiKey)!.maxVersion
      expect(api.maxStableVersion, api.name).toBe(kafkaMax)
      expect(exchangeOf(answers, api.name).version, api.name).toBe(kafkaMax)
    }
  })
})
