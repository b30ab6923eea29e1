import { afterEach, describe, expect, it } from 'vitest'
import { Connection } from '../../src/net/connection.js'
import { UnsupportedVersionError } from '../../src/net/errors.js'
import { ApiVersionTable, negotiateApiVersions } from '../../src/net/versions.js'
import { readResponseFrame } from '../../src/protocol/frame.js'
import {
  ApiVersions,
  CreateTopics,
  DeleteGroups,
  EndTxn,
  Fetch,
  InitProducerId,
  JoinGroup,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  Produce,
  SaslHandshake,
  TxnOffsetCommit,
} from '../../src/protocol/messages/index.js'
import { exchangeOf, loadKafkaAnswers } from '../fixtures/kafka-answers/answers.js'
import { FakeBroker } from './fake-broker.js'

let broker: FakeBroker | undefined
afterEach(async () => {
  await broker?.stop()
  broker = undefined
})

const range = (apiKey: number, minVersion: number, maxVersion: number) => ({ apiKey, minVersion, maxVersion })

describe('ApiVersionTable.pick', () => {
  it('picks min(our max, their max)', () => {
    const table = new ApiVersionTable([range(3, 0, 9), range(1, 4, 99)])
    expect(table.pick(Metadata)).toBe(9)
    expect(table.pick(Fetch)).toBe(Fetch.maxStableVersion)
  })

  it('never uses Produce below v3, although Kafka 4.0 advertises v0 (KIP-896)', () => {
    expect(new ApiVersionTable([range(0, 0, 12)]).pick(Produce)).toBe(12)
    const old = new ApiVersionTable([range(0, 0, 2)])
    expect(() => old.pick(Produce)).toThrow(UnsupportedVersionError)
    expect(() => old.pick(Produce)).toThrow(/v0-v2.*v3-v12/)
    expect(old.supports(Produce)).toBe(false)
  })

  it('throws a clear typed error for an API the broker does not serve', () => {
    const table = new ApiVersionTable([range(3, 0, 12)], { host: 'b1', port: 9092, nodeId: 1 })
    const err = (() => {
      try {
        table.pick(CreateTopics)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(UnsupportedVersionError)
    expect((err as Error).message).toMatch(/CreateTopics: the broker does not support this API \[b1:9092 \(node 1\)\]/)
    expect((err as UnsupportedVersionError).retriable).toBe(false)
  })

  it('respects caller bounds', () => {
    const table = new ApiVersionTable([range(0, 3, 12)])
    expect(table.pick(Produce, { max: 8 })).toBe(8)
    expect(table.pick(Produce, { min: 7 })).toBe(12)
    expect(() => new ApiVersionTable([range(0, 3, 6)]).pick(Produce, { min: 7 })).toThrow(UnsupportedVersionError)
  })

  it('against real Kafka 4.4.0: the newest version both speak, except where a version names topics by id', () => {
    const captured = exchangeOf(loadKafkaAnswers('4.4.0'), 'ApiVersions', 3)
    const answer = readResponseFrame(Buffer.from(captured.response, 'hex'), ApiVersions, 3).body
    const table = new ApiVersionTable(answer.apiKeys)
    const picked = Object.fromEntries(
      [Produce, Fetch, ListOffsets, OffsetCommit, OffsetFetch, TxnOffsetCommit, DeleteGroups, JoinGroup, EndTxn].map(
        (api) => [api.name, table.pick(api)],
      ),
    )
    expect(picked).toEqual({
      Produce: 12, // Kafka 4.4 and the codec: 13 (topic ids)
      Fetch: 18,
      ListOffsets: 11,
      OffsetCommit: 9, // 10: topic ids
      OffsetFetch: 9, // 10: topic ids
      TxnOffsetCommit: 5, // 6: topic ids
      DeleteGroups: 3,
      JoinGroup: 9,
      EndTxn: 5,
    })
    // InitProducerId v6 (KIP-939, 2PC) is unstable in 4.4.0's schemas: neither side uses it.
    expect(table.pick(InitProducerId)).toBe(5)
  })

  it('against real Kafka 3.9.2: the versions 3.9 knows, and Transactions V1 (no transaction.version feature)', () => {
    const captured = exchangeOf(loadKafkaAnswers('3.9.2'), 'ApiVersions', 3)
    const answer = readResponseFrame(Buffer.from(captured.response, 'hex'), ApiVersions, 3).body
    const table = new ApiVersionTable(answer.apiKeys, undefined, answer.finalizedFeatures)
    const picked = Object.fromEntries(
      [Produce, Fetch, ListOffsets, OffsetCommit, OffsetFetch, TxnOffsetCommit, DeleteGroups, JoinGroup, EndTxn].map(
        (api) => [api.name, table.pick(api)],
      ),
    )
    expect(picked).toEqual({
      Produce: 11,
      Fetch: 17,
      ListOffsets: 9,
      OffsetCommit: 9,
      OffsetFetch: 9,
      TxnOffsetCommit: 4,
      DeleteGroups: 2,
      JoinGroup: 9,
      EndTxn: 4,
    })
    expect(table.featureLevel('transaction.version')).toBe(0)
    expect(table.pick(ApiVersions)).toBe(4)
  })

  it('never uses JoinGroup below v2, although Kafka 4.4 advertises v0 again (KIP-896)', () => {
    expect(() => new ApiVersionTable([range(11, 0, 1)]).pick(JoinGroup)).toThrow(/v0-v1.*v2-v9/)
  })

  it('requires SaslHandshake v1 (SaslAuthenticate framing)', () => {
    expect(() => new ApiVersionTable([range(17, 0, 0)]).pick(SaslHandshake)).toThrow(UnsupportedVersionError)
    expect(new ApiVersionTable([range(17, 0, 1)]).pick(SaslHandshake)).toBe(1)
  })
})

describe('negotiateApiVersions', () => {
  it('asks with the newest ApiVersions version and reads the ranges', async () => {
    broker = await FakeBroker.start()
    broker.apiVersions = [range(18, 0, 4), range(3, 1, 11), range(0, 0, 12)]
    const c = await Connection.connect({ host: '127.0.0.1', port: broker.port, clientId: 'x' })
    try {
      const table = await negotiateApiVersions(c)
      expect(table.pick(Metadata)).toBe(11)
      expect(table.pick(Produce)).toBe(12)
      const request = broker.received('ApiVersions')[0]!
      expect(request.version).toBe(ApiVersions.maxStableVersion)
      expect(request.body.clientSoftwareName).toBe('kafkats')
      expect(c.apiVersions).toBe(table)
    } finally {
      c.destroy()
    }
  })

  it('falls back when the broker answers UNSUPPORTED_VERSION with a v0 body (KIP-511)', async () => {
    broker = await FakeBroker.start((r) => {
      if (r.api.name !== 'ApiVersions') return 'none'
      if (r.version > 2) {
        // An older broker: answers in v0 with error 35 and the ApiVersions versions it knows.
        const body = Buffer.alloc(4 + 2 + 4 + 6)
        body.writeInt32BE(r.header.correlationId, 0)
        body.writeInt16BE(35, 4)
        body.writeInt32BE(1, 6)
        body.writeInt16BE(18, 10)
        body.writeInt16BE(0, 12)
        body.writeInt16BE(2, 14)
        const frame = Buffer.alloc(4)
        frame.writeInt32BE(body.length, 0)
        r.socket.write(Buffer.concat([frame, body]))
        return 'none'
      }
      return { errorCode: 0, apiKeys: [range(18, 0, 2), range(3, 0, 8)], throttleTimeMs: 0 }
    })
    const c = await Connection.connect({ host: '127.0.0.1', port: broker.port, clientId: 'x' })
    try {
      const table = await negotiateApiVersions(c)
      expect(table.pick(Metadata)).toBe(8)
      expect(broker.received('ApiVersions').map((r) => r.version)).toEqual([ApiVersions.maxStableVersion, 2])
    } finally {
      c.destroy()
    }
  })
})
