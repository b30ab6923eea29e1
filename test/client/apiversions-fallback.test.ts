// ApiVersions negotiation against bytes a real broker implementation sent: librdkafka's mock
// cluster, 2.0.2 (Debian) and 2.15.1 (bundled by @confluentinc/kafka-javascript 1.10.1), see
// test/fixtures/librdkafka-mock/README.md. Both serve ApiVersions v0-v2 only, and answer v4 with
// error 35 (UNSUPPORTED_VERSION) in a layout that is neither v4 nor v0: a one-byte compact-array
// count (1 = empty) followed by a classic ApiVersions entry and a throttle time, no tagged fields.

import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { ProtocolDecodeError } from '../../src/errors.js'
import { Connection } from '../../src/net/connection.js'
import { UnsupportedVersionError } from '../../src/net/errors.js'
import { negotiateApiVersions } from '../../src/net/versions.js'
import { readResponseFrame } from '../../src/protocol/frame.js'
import { ApiVersions, Fetch, Metadata, Produce } from '../../src/protocol/messages/index.js'
import { FakeBroker, type ReceivedRequest } from './fake-broker.js'

const FIXTURES = new URL('../fixtures/librdkafka-mock/', import.meta.url)

/** The one frame (hex line) in a fixture file; `#` lines are comments. */
function fixture(name: string): Buffer {
  const lines = readFileSync(new URL(name, FIXTURES), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  expect(lines).toHaveLength(1)
  return Buffer.from(lines[0]!, 'hex')
}

const mockAnswerToV4 = fixture('apiversions-v4-response-2.0.2.hex')
const mockAnswerToV0 = fixture('apiversions-v0-response-2.0.2.hex')
const newerMockAnswerToV4 = fixture('apiversions-v4-response-2.15.1.hex')
const newerMockAnswerToV0 = fixture('apiversions-v0-response-2.15.1.hex')

/** Writes a captured response frame as the answer to `r`, with `r`'s correlation id. */
function replay(r: ReceivedRequest, captured: Buffer): 'none' {
  const frame = Buffer.alloc(4 + captured.length)
  frame.writeInt32BE(captured.length, 0)
  captured.copy(frame, 4)
  frame.writeInt32BE(r.header.correlationId, 4)
  r.socket.write(frame)
  return 'none'
}

let broker: FakeBroker | undefined
afterEach(async () => {
  await broker?.stop()
  broker = undefined
})

async function negotiateWith(answer: (r: ReceivedRequest) => unknown) {
  broker = await FakeBroker.start((r) => (r.api.name === 'ApiVersions' ? answer(r) : 'none'))
  const c = await Connection.connect({ host: '127.0.0.1', port: broker.port, clientId: 'x' })
  try {
    return await negotiateApiVersions(c, { timeoutMs: 5000 })
  } finally {
    c.destroy()
  }
}

describe("librdkafka mock cluster's ApiVersions answers (captured bytes)", () => {
  it('the answer to v4 parses in neither the v4 nor the v0 layout (why a fallback is needed)', () => {
    expect(mockAnswerToV4.readInt16BE(4)).toBe(35) // the error code, first field of every version
    expect(() => readResponseFrame(mockAnswerToV4, ApiVersions, 4)).toThrow(ProtocolDecodeError)
    expect(() => readResponseFrame(mockAnswerToV4, ApiVersions, 0)).toThrow(ProtocolDecodeError)
  })

  it('librdkafka 2.15.1 sends the same bytes as 2.0.2', () => {
    expect(newerMockAnswerToV4.toString('hex')).toBe(mockAnswerToV4.toString('hex'))
  })

  it('the answers to v0 are plain v0 bodies with what each mock serves', () => {
    for (const answer of [mockAnswerToV0, newerMockAnswerToV0]) {
      const body = readResponseFrame(answer, ApiVersions, 0).body
      expect(body.errorCode).toBe(0)
      expect(body.apiKeys.find((k) => k.apiKey === ApiVersions.apiKey)).toMatchObject({ minVersion: 0, maxVersion: 2 })
    }
  })

  // The mocks' own ranges, from the captured v0 answers.
  const mocks = [
    { librdkafka: '2.0.2', toV4: mockAnswerToV4, toV0: mockAnswerToV0, metadata: 2, produce: 7, fetch: 11 },
    {
      librdkafka: '2.15.1',
      toV4: newerMockAnswerToV4,
      toV0: newerMockAnswerToV0,
      metadata: 12,
      produce: 10,
      fetch: 16,
    },
  ]
  for (const mock of mocks) {
    it(`falls back to v0 when the UNSUPPORTED_VERSION answer parses in no layout, and negotiates (${mock.librdkafka})`, async () => {
      const table = await negotiateWith((r) => replay(r, r.version === 0 ? mock.toV0 : mock.toV4))
      expect(broker!.received('ApiVersions').map((r) => r.version)).toEqual([ApiVersions.maxStableVersion, 0])
      expect(table.pick(Metadata)).toBe(mock.metadata)
      expect(table.pick(Produce)).toBe(mock.produce)
      expect(table.pick(Fetch)).toBe(mock.fetch)
    })
  }

  it('gives up with UnsupportedVersionError, after a bounded number of tries, if even v0 gets that answer', async () => {
    const err = await negotiateWith((r) => replay(r, mockAnswerToV4)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnsupportedVersionError)
    expect(broker!.received('ApiVersions').map((r) => r.version)).toEqual([ApiVersions.maxStableVersion, 0])
  })

  it('still fails with ProtocolDecodeError when the unparsable answer does not say UNSUPPORTED_VERSION', async () => {
    const garbled = Buffer.from(mockAnswerToV4)
    garbled.writeInt16BE(0, 4) // error NONE, same unparsable rest
    const err = await negotiateWith((r) => replay(r, garbled)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProtocolDecodeError)
    expect(broker!.received('ApiVersions').map((r) => r.version)).toEqual([ApiVersions.maxStableVersion])
  })
})

describe('Connection: bytes after a response body are ignored, as by the Java client', () => {
  // Java's AbstractResponse.parseResponse reads the header and the generated body and never checks
  // what remains; read as v4, the mock's answer is a whole v4 body followed by 5 bytes. kafka-clients
  // 4.0.0 logged exactly this against the live mock: errorCode=35, apiKeys=[], throttleTimeMs=1179648.
  async function sendV4(answer: Buffer) {
    broker = await FakeBroker.start((r) => (r.api.name === 'ApiVersions' ? replay(r, answer) : 'none'))
    const c = await Connection.connect({ host: '127.0.0.1', port: broker.port, clientId: 'x' })
    try {
      return await c.send(ApiVersions, 4, {}, { timeoutMs: 5000 })
    } finally {
      c.destroy()
    }
  }

  it("reads the mock's answer to v4 as Java does: UNSUPPORTED_VERSION, no api keys", async () => {
    const body = await sendV4(mockAnswerToV4)
    expect(body.errorCode).toBe(35)
    expect(body.apiKeys).toEqual([])
    expect(body.throttleTimeMs).toBe(0x00120000)
  })

  it('still rejects a body cut short with ProtocolDecodeError', async () => {
    // correlation id, error code, count 1 (empty), then only 3 of throttle_time_ms' 4 bytes
    const err = await sendV4(mockAnswerToV4.subarray(0, 10)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProtocolDecodeError)
  })
})
