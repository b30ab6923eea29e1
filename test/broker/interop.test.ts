// Frames a real client sent: @confluentinc/kafka-javascript 1.10.1 (librdkafka 2.15.1) creating a
// topic, producing and consuming in a group against this broker (test/fixtures/confluent-kafka-
// javascript/, the README there says how they were captured). librdkafka's all-topics Metadata
// v13 carries 3 bytes after the body; Apache Kafka ignores bytes after a request body, so must we.

import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ProtocolDecodeError } from '../../src/errors.js'
import { peekCorrelationId, readRequestFrame, readResponseFrame } from '../../src/protocol/frame.js'
import { apiByKey, type MetadataResponse } from '../../src/protocol/messages/index.js'

interface CapturedFrame {
  connection: number
  label: string
  frame: Buffer
}

const SESSION: CapturedFrame[] = readFileSync(
  new URL('../fixtures/confluent-kafka-javascript/session.txt', import.meta.url),
  'utf8',
)
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('#'))
  .map((line) => {
    const [connection, name, version, hex] = line.split(' ')
    return { connection: Number(connection), label: `${name} ${version}`, frame: Buffer.from(hex!, 'hex') }
  })

// librdkafka's all-topics Metadata v13: header v2 (15 bytes with client id "ckjs"), then the body
// (null topics 00, allow_auto_topic_creation 00, include_topic_authorized_operations 00, no tags
// 00), then 01 00 00.
const HEADER_BYTES = 15
const BODY_BYTES = 4
const allTopicsMetadata = SESSION.find((f) => f.label === 'Metadata v13' && f.frame.length === 22)!

describe('librdkafka 2.15.1 request frames (captured), decoded', () => {
  it('the all-topics Metadata v13 decodes, with 3 bytes after the body', () => {
    expect(allTopicsMetadata.frame.subarray(HEADER_BYTES).toString('hex')).toBe('00000000' + '010000')
    const decoded = readRequestFrame(allTopicsMetadata.frame)
    expect(decoded.header).toMatchObject({ requestApiKey: 3, requestApiVersion: 13, clientId: 'ckjs' })
    expect(decoded.body).toMatchObject({
      topics: null,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    })
    expect(decoded.trailingBytes).toBe(3)
  })

  it('a body cut short is still a ProtocolDecodeError (only bytes after a whole body are ignored)', () => {
    for (let cut = 0; cut < HEADER_BYTES + BODY_BYTES; cut++) {
      expect(() => readRequestFrame(allTopicsMetadata.frame.subarray(0, cut)), `cut at ${cut}`).toThrow(
        ProtocolDecodeError,
      )
    }
    expect(readRequestFrame(allTopicsMetadata.frame.subarray(0, HEADER_BYTES + BODY_BYTES)).trailingBytes).toBe(0)
  })

  it('every captured frame decodes', () => {
    for (const { label, frame } of SESSION) {
      const decoded = readRequestFrame(frame)
      expect(decoded.body, label).toBeDefined()
      expect(`${decoded.api?.name} v${decoded.header.requestApiVersion}`).toBe(label)
    }
  })

  it('bytes after the body are ignored for every API, classic and flexible versions alike', () => {
    const apisSeen = new Set<string>()
    const layouts = new Set<string>()
    for (const { label, frame } of SESSION) {
      const decoded = readRequestFrame(frame)
      const padded = readRequestFrame(Buffer.concat([frame, Buffer.from([1, 0, 0])]))
      expect(padded.body, label).toEqual(decoded.body)
      expect(padded.trailingBytes, label).toBe(decoded.trailingBytes + 3)
      apisSeen.add(decoded.api!.name)
      layouts.add(decoded.header.requestApiVersion >= decoded.api!.flexibleFrom ? 'flexible' : 'classic')
    }
    // Produce, Fetch, ListOffsets, Metadata, CreateTopics, the group and offset APIs...
    expect(apisSeen.size).toBeGreaterThanOrEqual(12)
    expect([...layouts].sort()).toEqual(['classic', 'flexible'])
  })
})

// ---------------------------------------------------------------------------------------------
// Replaying the session against a fresh reference cluster, one socket per captured connection.

class RawConnection {
  private pending = Buffer.alloc(0)
  private readonly waiting = new Map<number, (answer: Buffer | string) => void>()
  closed = false

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk])
      while (this.pending.length >= 4 && this.pending.length >= 4 + this.pending.readInt32BE(0)) {
        const frame = this.pending.subarray(4, 4 + this.pending.readInt32BE(0))
        this.pending = this.pending.subarray(4 + frame.length)
        this.waiting.get(peekCorrelationId(frame))?.(frame)
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      this.closed = true
      for (const answer of [...this.waiting.values()]) answer('connection closed by the broker')
    })
  }

  static open(address: string): Promise<RawConnection> {
    const [host, port] = address.split(':')
    return new Promise((resolve, reject) => {
      const socket = connect({ host: host!, port: Number(port) }, () => resolve(new RawConnection(socket)))
      socket.once('error', reject)
    })
  }

  /** Sends a captured frame; resolves with the response frame, or with why none came. */
  exchange(frame: Buffer, timeoutMs = 5000): Promise<Buffer | string> {
    if (this.closed) return Promise.resolve('connection already closed by the broker')
    const correlationId = frame.readInt32BE(4)
    return new Promise((resolve) => {
      const done = (result: Buffer | string) => {
        clearTimeout(timer)
        this.waiting.delete(correlationId)
        resolve(result)
      }
      const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs)
      this.waiting.set(correlationId, done)
      const size = Buffer.alloc(4)
      size.writeInt32BE(frame.length)
      this.socket.write(Buffer.concat([size, frame]))
    })
  }

  close(): void {
    this.socket.destroy()
  }
}

let cluster: Cluster | undefined
afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
})

describe('the reference broker serves the captured librdkafka session', () => {
  it('answers every request on its connection, in order, and keeps the connection open', async () => {
    const errors: string[] = []
    cluster = await Cluster.start({
      brokers: 1,
      groupInitialRebalanceDelayMs: 0,
      logger: { error: (m) => errors.push(m) },
    })
    const connections = new Map<number, RawConnection>()
    const answers: string[] = []
    try {
      for (const { connection, label, frame } of SESSION) {
        let conn = connections.get(connection)
        if (conn === undefined) {
          conn = await RawConnection.open(cluster.bootstrapServers[0]!)
          connections.set(connection, conn)
        }
        const answer = await conn.exchange(frame)
        if (typeof answer === 'string') {
          answers.push(`${connection} ${label}: ${answer}`)
          continue
        }
        // The answer is a well-formed response at the request's version (strict decode).
        const { header } = readRequestFrame(frame)
        const api = apiByKey(header.requestApiKey)!
        const body = readResponseFrame(answer, api, header.requestApiVersion).body
        answers.push(`${connection} ${label}: answered`)
        if (frame === allTopicsMetadata.frame) {
          expect((body as MetadataResponse).brokers).toHaveLength(1)
        }
      }
      expect(answers.filter((a) => !a.endsWith(': answered'))).toEqual([])
      expect([...connections.values()].filter((c) => c.closed)).toHaveLength(0)
      expect(errors).toEqual([])
    } finally {
      for (const c of connections.values()) c.close()
    }
  })
})
