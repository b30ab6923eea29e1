// Real bytes from a third-party client: librdkafka's kcat talks to a tiny TCP listener that
// decodes its frames with our generated codec (readRequestFrame) and answers with ours
// (writeResponseFrame). We assert the decoded requests, and decode the record batches kcat
// produces with every codec. One captured batch set per codec is committed under
// test/fixtures/kcat/ so the known-answer vectors stay even if kcat changes; set
// KCAT_UPDATE_FIXTURES=1 to rewrite them from a fresh capture.

import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'

import type { Input } from '../../src/protocol/api.js'
import { decompress, type CompressionCodec } from '../../src/protocol/compression/index.js'
import { readRequestFrame, writeRequestFrame, writeResponseFrame } from '../../src/protocol/frame.js'
import {
  ApiVersions,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
} from '../../src/protocol/messages/api-versions.js'
import { Fetch, type FetchRequest, type FetchResponse } from '../../src/protocol/messages/fetch.js'
import { InitProducerId, type InitProducerIdRequest } from '../../src/protocol/messages/init-producer-id.js'
import {
  ListOffsets,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
} from '../../src/protocol/messages/list-offsets.js'
import { Metadata, type MetadataRequest, type MetadataResponse } from '../../src/protocol/messages/metadata.js'
import { Produce, type ProduceRequest, type ProduceResponse } from '../../src/protocol/messages/produce.js'
import {
  decodeRecordBatch,
  encodeControlBatch,
  encodeRecordBatch,
  encodeRecordBatchSync,
  readBatchHeader,
  setBatchBaseOffset,
  setBatchLogAppendTime,
  splitBatches,
  verifyBatchCrc,
  type RecordBatch,
} from '../../src/protocol/record-batch.js'
import { Writer } from '../../src/protocol/writer.js'
import { requireKcat, runKcat } from '../helpers/kcat.js'

const FIXTURES = new URL('../fixtures/kcat/', import.meta.url)
const CODECS: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const NODE_ID = 1
const TOPIC = 't'

// ---------------------------------------------------------------------------------------------
// A listener that speaks just enough Kafka for kcat: ApiVersions, Metadata, Produce, InitProducerId.

interface Received {
  apiKey: number
  apiName: string
  version: number
  correlationId: number
  clientId: string | null
  body: unknown
  /** The frame as received (without the size prefix). */
  frame: Buffer
}

/**
 * What we advertise. librdkafka derives features from these: MsgVer2 needs Produce 3 + Fetch 4,
 * zstd needs Produce 7 + Fetch 10, and lz4 needs FindCoordinator (its "broker >= 0.9" proxy;
 * without it librdkafka logs "Broker does not support compression type lz4" and sends the batch
 * uncompressed).
 */
const ADVERTISED: Input<ApiVersionsResponse>['apiKeys'] = [
  { apiKey: 0, minVersion: 0, maxVersion: 9 }, // Produce
  { apiKey: 1, minVersion: 0, maxVersion: 12 }, // Fetch
  { apiKey: 2, minVersion: 0, maxVersion: 7 }, // ListOffsets
  { apiKey: 3, minVersion: 0, maxVersion: 12 }, // Metadata
  { apiKey: 10, minVersion: 0, maxVersion: 4 }, // FindCoordinator
  { apiKey: 18, minVersion: 0, maxVersion: 3 }, // ApiVersions
  { apiKey: 22, minVersion: 0, maxVersion: 4 }, // InitProducerId
]

class FakeBroker {
  readonly received: Received[] = []
  /** Every produced records blob (one per partition per Produce request), copied. */
  readonly produced: Buffer[] = []
  /** Problems the listener met (undecodable frames, unexpected APIs): asserted empty by tests. */
  readonly problems: string[] = []
  private nextOffset = 0n
  /** Batches served to Fetch (partition 0 of TOPIC), offsets already assigned; see `append`. */
  private readonly log: { base: bigint; next: bigint; bytes: Buffer }[] = []
  /** Aborted transactions served with every Fetch (read_committed). */
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] = []
  private readonly sockets = new Set<net.Socket>()

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<FakeBroker> {
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no TCP address')
    const broker = new FakeBroker(server, address.port)
    server.on('connection', (socket) => broker.serve(socket))
    return broker
  }

  /** Appends an encoded batch to the log Fetch serves, assigning its base offset in place. */
  append(batch: Buffer): void {
    const base = this.log.length === 0 ? 0n : this.log[this.log.length - 1]!.next
    setBatchBaseOffset(batch, 0, base)
    this.log.push({ base, next: base + BigInt(readBatchHeader(batch).lastOffsetDelta + 1), bytes: batch })
  }

  private get logEnd(): bigint {
    return this.log.length === 0 ? 0n : this.log[this.log.length - 1]!.next
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`
  }

  requests(apiKey: number): Received[] {
    return this.received.filter((r) => r.apiKey === apiKey)
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => {})
    let pending: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0)
        if (size < 0 || size > 64 * 1024 * 1024) {
          this.problems.push(`bad frame size ${size}`)
          socket.destroy()
          return
        }
        if (pending.length < 4 + size) break
        const frame = Buffer.from(pending.subarray(4, 4 + size))
        pending = pending.subarray(4 + size)
        try {
          const reply = this.handle(frame)
          if (reply !== null) socket.write(reply)
        } catch (err) {
          this.problems.push(`frame ${frame.subarray(0, 16).toString('hex')}…: ${(err as Error).stack ?? String(err)}`)
          socket.destroy()
          return
        }
      }
    })
  }

  private handle(frame: Buffer): Buffer | null {
    const { header, api, body } = readRequestFrame(frame)
    const version = header.requestApiVersion
    if (process.env.KCAT_DEBUG === '1') {
      console.log(
        `${api?.name} v${version}: ${frame.toString('hex')}\n`,
        JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
      )
    }
    this.received.push({
      apiKey: header.requestApiKey,
      apiName: api?.name ?? `api-${header.requestApiKey}`,
      version,
      correlationId: header.correlationId,
      clientId: header.clientId,
      body,
      frame,
    })
    const w = new Writer(256)
    const correlationId = header.correlationId
    if (body === undefined || api === undefined) {
      this.problems.push(`unsupported request: api key ${header.requestApiKey} v${version}`)
      return null
    }
    // Our encoder must give back librdkafka's exact bytes from what our decoder read.
    const again = new Writer(frame.length + 16)
    writeRequestFrame(again, api, version, header.correlationId, header.clientId, body as Input<unknown>)
    if (!again.view().subarray(4).equals(frame)) {
      this.problems.push(
        `${api.name} v${version} re-encodes differently:\n  got  ${frame.toString('hex')}\n  ours ${again.view().subarray(4).toString('hex')}`,
      )
    }
    switch (header.requestApiKey) {
      case ApiVersions.apiKey: {
        writeResponseFrame(w, ApiVersions, version, correlationId, {
          errorCode: 0,
          apiKeys: ADVERTISED,
          throttleTimeMs: 0,
        })
        break
      }
      case Metadata.apiKey: {
        const req = body as MetadataRequest
        const wanted = req.topics === null ? [TOPIC] : req.topics.map((t) => t.name ?? '')
        const response: Input<MetadataResponse> = {
          brokers: [{ nodeId: NODE_ID, host: '127.0.0.1', port: this.port, rack: null }],
          clusterId: 'kafkats-kcat-test',
          controllerId: NODE_ID,
          topics: wanted.map(
            (name) =>
              name === TOPIC
                ? {
                    errorCode: 0,
                    name,
                    isInternal: false,
                    partitions: [
                      {
                        errorCode: 0,
                        partitionIndex: 0,
                        leaderId: NODE_ID,
                        leaderEpoch: 0,
                        replicaNodes: [NODE_ID],
                        isrNodes: [NODE_ID],
                        offlineReplicas: [],
                      },
                    ],
                  }
                : { errorCode: 3, name, partitions: [] }, // UNKNOWN_TOPIC_OR_PARTITION
          ),
        }
        writeResponseFrame(w, Metadata, version, correlationId, response)
        break
      }
      case Produce.apiKey: {
        const req = body as ProduceRequest
        const response: Input<ProduceResponse> = {
          responses: req.topicData.map((topic) => ({
            name: topic.name,
            partitionResponses: topic.partitionData.map((p) => {
              let count = 0n
              if (p.records !== null) {
                this.produced.push(Buffer.from(p.records))
                for (const batch of splitBatches(p.records)) count += BigInt(readBatchHeader(batch).lastOffsetDelta + 1)
              }
              const baseOffset = this.nextOffset
              this.nextOffset += count
              return { index: p.index, errorCode: 0, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n }
            }),
          })),
        }
        if (req.acks === 0) return null
        writeResponseFrame(w, Produce, version, correlationId, response)
        break
      }
      case Fetch.apiKey: {
        const req = body as FetchRequest
        const response: Input<FetchResponse> = {
          errorCode: 0,
          sessionId: 0,
          responses: req.topics.map((topic) => ({
            topic: topic.topic,
            partitions: topic.partitions.map((p) => {
              const batches = this.log.filter((b) => b.next > p.fetchOffset).map((b) => b.bytes)
              return {
                partitionIndex: p.partition,
                errorCode: 0,
                highWatermark: this.logEnd,
                lastStableOffset: this.logEnd,
                logStartOffset: 0n,
                abortedTransactions: this.abortedTransactions.filter((t) => t.firstOffset >= p.fetchOffset),
                preferredReadReplica: -1,
                records: Buffer.concat(batches),
              }
            }),
          })),
        }
        writeResponseFrame(w, Fetch, version, correlationId, response)
        break
      }
      case ListOffsets.apiKey: {
        const req = body as ListOffsetsRequest
        const response: Input<ListOffsetsResponse> = {
          topics: req.topics.map((topic) => ({
            name: topic.name,
            partitions: topic.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              errorCode: 0,
              timestamp: -1n,
              offset: p.timestamp === -2n ? 0n : this.logEnd, // -2 earliest, -1 latest
            })),
          })),
        }
        writeResponseFrame(w, ListOffsets, version, correlationId, response)
        break
      }
      case InitProducerId.apiKey: {
        writeResponseFrame(w, InitProducerId, version, correlationId, {
          errorCode: 0,
          producerId: 1000n,
          producerEpoch: 0,
        })
        break
      }
      default:
        this.problems.push(`unexpected request ${api?.name ?? header.requestApiKey} v${version}`)
        return null
    }
    return w.toBuffer()
  }
}

let broker: FakeBroker | undefined
afterEach(async () => {
  await broker?.close()
  broker = undefined
})

async function startBroker(): Promise<FakeBroker> {
  requireKcat() // fail (not skip) with instructions when kcat is missing
  broker = await FakeBroker.start()
  return broker
}

/** Common -X options: bounded retries and timeouts so a failing run ends quickly. */
const QUICK = ['-X', 'api.version.request=true', '-X', 'socket.timeout.ms=10000', '-X', 'message.timeout.ms=15000']

function formatRun(
  result: { code: number | null; stdout: string; stderr: string; timedOut: boolean },
  b: FakeBroker,
): string {
  return [
    `kcat exit ${result.code}${result.timedOut ? ' (timed out, killed)' : ''}`,
    `stdout: ${result.stdout}`,
    `stderr: ${result.stderr}`,
    `requests: ${b.received.map((r) => `${r.apiName} v${r.version}`).join(', ')}`,
    `problems: ${b.problems.join('\n')}`,
  ].join('\n')
}

// ---------------------------------------------------------------------------------------------
// The messages kcat produces, and what their batches must decode to.

/** Compressible values, so that librdkafka keeps the compressed form. */
const LONG = 'the quick brown fox jumps over the lazy dog; '.repeat(8).trim()
const MESSAGES: { key: string; value: string | null }[] = [
  { key: 'k1', value: 'hello' },
  { key: 'k2', value: LONG },
  { key: 'k3', value: null }, // an empty value, sent as NULL by -Z: a tombstone
  { key: 'k4', value: `${LONG} ${LONG}` },
  { key: 'k5', value: 'héllo wörld ✓' },
]
const INPUT = MESSAGES.map((m) => `${m.key}:${m.value ?? ''}\n`).join('')
const HEADERS = [
  { key: 'h1', value: 'v1' },
  { key: 'trace', value: 'abc=123' },
]

function produceArgs(b: FakeBroker, codec: CompressionCodec, extra: string[] = []): string[] {
  const args = ['-P', '-b', b.bootstrap, '-t', TOPIC, '-p', '0', '-z', codec, '-K', ':', '-Z']
  for (const h of HEADERS) args.push('-H', `${h.key}=${h.value}`)
  // Wait long enough that all five lines form one batch.
  args.push('-X', 'linger.ms=200', ...QUICK, ...extra)
  if (process.env.KCAT_DEBUG === '1') args.push('-d', 'msg,protocol')
  return args
}

/** Decodes the batches of every records blob and checks they carry MESSAGES, in order. */
async function checkBatches(blobs: readonly Buffer[], codec: CompressionCodec): Promise<RecordBatch[]> {
  const batches: RecordBatch[] = []
  for (const blob of blobs) {
    const parts = splitBatches(blob)
    expect(parts.reduce((n, p) => n + p.length, 0)).toBe(blob.length) // no partial batch in a produce
    for (const part of parts) {
      verifyBatchCrc(part)
      const batch = await decodeRecordBatch(part)
      expect(batch.magic).toBe(2)
      // librdkafka sends records uncompressed when compression would not shrink them; ours do shrink.
      expect(batch.compression).toBe(codec)
      expect(batch.attributes & 0x07).toBe({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[codec])
      expect(batch.timestampType).toBe('create')
      expect(batch.isControl).toBe(false)
      expect(batch.isTransactional).toBe(false)
      expect(batch.hasDeleteHorizon).toBe(false)
      expect(batch.recordCount).toBe(batch.records.length)
      expect(batch.lastOffsetDelta).toBe(batch.records.length - 1)
      batches.push(batch)
    }
  }
  const records = batches.flatMap((b) => b.records)
  expect(records.map((r) => r.key?.toString('utf8') ?? null)).toEqual(MESSAGES.map((m) => m.key))
  expect(records.map((r) => (r.value === null ? null : r.value.toString('utf8')))).toEqual(MESSAGES.map((m) => m.value))
  for (const r of records) {
    expect(r.headers.map((h) => ({ key: h.key, value: h.value?.toString('utf8') ?? null }))).toEqual(HEADERS)
    expect(r.attributes).toBe(0)
  }
  for (const batch of batches) {
    // Offsets are relative to the batch (baseOffset 0 on produce); timestamps are CreateTime.
    expect(batch.baseOffset).toBe(0n)
    expect(batch.records.map((r) => r.offset)).toEqual(batch.records.map((_, i) => BigInt(i)))
    expect(batch.records[0]!.timestamp).toBe(batch.baseTimestamp)
    const max = batch.records.reduce((m, r) => (r.timestamp > m ? r.timestamp : m), -1n)
    expect(batch.maxTimestamp).toBe(max)
  }
  return batches
}

// ---------------------------------------------------------------------------------------------

describe('kcat (librdkafka) against our codec', () => {
  it('kcat -L: ApiVersions v3 and Metadata requests decode; our responses make kcat list the topic', async () => {
    const b = await startBroker()
    const result = await runKcat(['-L', '-b', b.bootstrap, '-m', '10', ...QUICK], { timeoutMs: 20_000 })
    const context = formatRun(result, b)
    expect(b.problems, context).toEqual([])
    expect(result.timedOut, context).toBe(false)
    expect(result.code, context).toBe(0)

    // The first request on every connection is ApiVersions v3 (KIP-511: the first flexible
    // version, with request header v2 and the client's software name and version).
    const librdkafka = /librdkafka (\d+\.\d+\.\d+)/.exec(requireKcat())?.[1]
    expect(librdkafka, 'librdkafka version in `kcat -V`').toBeDefined()
    const apiVersions = b.requests(ApiVersions.apiKey)
    expect(apiVersions.length, context).toBeGreaterThanOrEqual(1)
    expect(b.received[0]!.apiKey).toBe(ApiVersions.apiKey)
    for (const req of apiVersions) {
      expect(req.version).toBe(3)
      expect(req.clientId).toBe('rdkafka')
      const body = req.body as ApiVersionsRequest
      expect(body.clientSoftwareName).toBe('librdkafka')
      expect(body.clientSoftwareVersion).toBe(librdkafka)
      expect(body._unknownTags ?? []).toEqual([])
    }
    if (librdkafka === '2.0.2') {
      // Known answer: the whole frame (kcat 1.7.1, librdkafka 2.0.2), correlation id aside.
      const frame = Buffer.from(apiVersions[0]!.frame)
      frame.writeInt32BE(0, 4)
      expect(frame.toString('hex')).toBe(
        '00120003' +
          '00000000' +
          '0007' +
          Buffer.from('rdkafka').toString('hex') +
          '00' +
          '0b' +
          Buffer.from('librdkafka').toString('hex') +
          '06' +
          Buffer.from('2.0.2').toString('hex') +
          '00',
      )
    }

    // Metadata: a brokers-only refresh (topics []) may come first; -L then asks for all topics
    // (a null array, which Metadata v1+ allows) at one version in the range we advertised.
    const metadata = b.requests(Metadata.apiKey)
    expect(metadata.length, context).toBeGreaterThanOrEqual(1)
    const all = metadata.filter((r) => (r.body as MetadataRequest).topics === null)
    expect(all.length, context).toBe(1)
    const req = all[0]!
    if (librdkafka === '2.0.2') expect(req.version).toBe(4) // librdkafka 2.0.2 speaks Metadata v0-v4
    expect(req.version).toBeGreaterThanOrEqual(4)
    expect(req.version).toBeLessThanOrEqual(12)
    const body = req.body as MetadataRequest
    expect(body.allowAutoTopicCreation).toBe(true) // a producer handle's allow.auto.create.topics default
    expect(body.includeClusterAuthorizedOperations).toBe(false)
    expect(body.includeTopicAuthorizedOperations).toBe(false)
    for (const r of metadata) {
      expect(r.version).toBe(req.version)
      const topics = (r.body as MetadataRequest).topics
      if (topics !== null) expect(topics).toEqual([]) // the brokers-only refresh
    }

    expect(result.stdout).toContain(`broker ${NODE_ID} at 127.0.0.1:${b.port}`)
    expect(result.stdout).toContain('1 topics:')
    expect(result.stdout).toContain(`topic "${TOPIC}" with 1 partitions:`)
    expect(result.stdout).toMatch(/partition 0, leader 1, replicas: 1, isrs: 1/)
  })

  for (const codec of CODECS) {
    it(`kcat -P -z ${codec}: the produced record batch decodes (keys, values, headers, codec, CRC)`, async () => {
      const b = await startBroker()
      const result = await runKcat(produceArgs(b, codec), { input: INPUT, timeoutMs: 30_000 })
      const context = formatRun(result, b)
      if (process.env.KCAT_DEBUG === '1') console.log(context)
      expect(b.problems, context).toEqual([])
      expect(result.timedOut, context).toBe(false)
      expect(result.code, context).toBe(0)

      const produces = b.requests(Produce.apiKey)
      expect(produces.length, context).toBeGreaterThanOrEqual(1)
      for (const p of produces) {
        expect(p.version).toBeGreaterThanOrEqual(codec === 'zstd' ? 7 : 3)
        const body = p.body as ProduceRequest
        expect(body.transactionalId).toBeNull()
        expect(body.acks).toBe(-1) // librdkafka's default acks=all
        expect(body.topicData.map((t) => t.name)).toEqual([TOPIC])
        expect(body.topicData[0]!.partitionData.map((d) => d.index)).toEqual([0])
      }
      const batches = await checkBatches(b.produced, codec)
      for (const batch of batches) {
        expect(batch.producerId).toBe(-1n)
        expect(batch.producerEpoch).toBe(-1)
        expect(batch.baseSequence).toBe(-1)
        // librdkafka 2.0.2 writes 0 where Java writes -1; the broker overwrites it either way.
        expect([0, -1]).toContain(batch.partitionLeaderEpoch)
        const now = BigInt(Date.now())
        expect(batch.baseTimestamp > now - 120_000n && batch.baseTimestamp <= now).toBe(true)
      }

      if (process.env.KCAT_UPDATE_FIXTURES === '1') {
        const hex = b.produced.flatMap((blob) => splitBatches(blob).map((p) => p.toString('hex')))
        const banner = /Version [^\n]*/.exec(requireKcat())?.[0] ?? 'unknown version'
        const comment = [
          `# Record batches (one per line, hex) that kcat sent in Produce v${produces[0]!.version} for: kcat ${produceArgs(b, codec).slice(0, 16).join(' ').replace(b.bootstrap, 'HOST:PORT')} ...`,
          `# kcat ${banner.replace(/ builtin\.features.*$/, ')')}`,
          '# See README.md here. Written by test/protocol/kcat-bytes.test.ts with KCAT_UPDATE_FIXTURES=1.',
        ]
        writeFileSync(new URL(`${codec}.hex`, FIXTURES), [...comment, ...hex].join('\n') + '\n')
      }
    })
  }

  it('kcat -P with enable.idempotence: InitProducerId is answered and the batch carries producer id, epoch and sequence', async () => {
    const b = await startBroker()
    const result = await runKcat(produceArgs(b, 'lz4', ['-X', 'enable.idempotence=true']), {
      input: INPUT,
      timeoutMs: 30_000,
    })
    const context = formatRun(result, b)
    expect(b.problems, context).toEqual([])
    expect(result.code, context).toBe(0)
    const init = b.requests(InitProducerId.apiKey)
    expect(init.length, context).toBeGreaterThanOrEqual(1)
    const initBody = init[0]!.body as InitProducerIdRequest
    expect(initBody.transactionalId).toBeNull()
    const batches = await checkBatches(b.produced, 'lz4')
    let sequence = 0
    for (const batch of batches) {
      expect(batch.producerId).toBe(1000n)
      expect(batch.producerEpoch).toBe(0)
      expect(batch.baseSequence).toBe(sequence)
      sequence += batch.recordCount
    }
  })
})

describe('kcat (librdkafka) consuming batches we encoded', () => {
  it('kcat -C reads every codec, skips an aborted transaction and control records, honours LogAppendTime (check.crcs=true)', async () => {
    const b = await startBroker()
    const t0 = 1_700_000_000_000
    const records = MESSAGES.map((m, i) => ({
      key: Buffer.from(m.key),
      value: m.value === null ? null : Buffer.from(m.value),
      headers: HEADERS.map((h) => ({ key: h.key, value: Buffer.from(h.value) })),
      timestamp: t0 + i,
    }))
    for (const codec of CODECS) b.append(await encodeRecordBatch({ records, compression: codec }))
    const txn = { producerId: 7n, producerEpoch: 0, transactional: true }
    const one = (value: string): { key: null; value: Buffer; timestamp: number }[] => [
      { key: null, value: Buffer.from(value), timestamp: t0 },
    ]
    b.append(encodeRecordBatchSync({ records: one('aborted'), baseSequence: 0, ...txn }))
    b.append(
      encodeControlBatch({ type: 'abort', producerId: 7n, producerEpoch: 0, coordinatorEpoch: 3, timestamp: t0 }),
    )
    b.append(await encodeRecordBatch({ records: one('committed'), compression: 'zstd', baseSequence: 1, ...txn }))
    b.append(
      encodeControlBatch({ type: 'commit', producerId: 7n, producerEpoch: 0, coordinatorEpoch: 3, timestamp: t0 }),
    )
    const lat = await encodeRecordBatch({ records: one('log-append-time'), compression: 'gzip' })
    setBatchLogAppendTime(lat, 0, BigInt(t0 + 99_000))
    b.append(lat)
    const abortedOffset = BigInt(CODECS.length * MESSAGES.length)
    b.abortedTransactions = [{ producerId: 7n, firstOffset: abortedOffset }]

    const args = ['-C', '-b', b.bootstrap, '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-J']
    args.push('-X', 'check.crcs=true', '-X', 'isolation.level=read_committed', '-X', 'fetch.wait.max.ms=100', ...QUICK)
    const result = await runKcat(args, { timeoutMs: 30_000 })
    const context = formatRun(result, b)
    expect(b.problems, context).toEqual([])
    expect(result.timedOut, context).toBe(false)
    expect(result.code, context).toBe(0)
    expect(result.stderr, context).not.toMatch(/crc|corrupt|error/i)

    type Line = {
      offset: number
      tstype: string
      ts: number
      key: string | null
      payload: string | null
      headers?: string[]
    }
    const lines = result.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line)
    const expected: Omit<Line, 'headers'>[] = []
    for (const [c] of CODECS.entries()) {
      MESSAGES.forEach((m, i) =>
        expected.push({ offset: c * MESSAGES.length + i, tstype: 'create', ts: t0 + i, key: m.key, payload: m.value }),
      )
    }
    const n = Number(abortedOffset)
    expected.push({ offset: n + 2, tstype: 'create', ts: t0, key: null, payload: 'committed' })
    expected.push({ offset: n + 4, tstype: 'logappend', ts: t0 + 99_000, key: null, payload: 'log-append-time' })
    expect(
      lines.map(({ offset, tstype, ts, key, payload }) => ({ offset, tstype, ts, key, payload })),
      context,
    ).toEqual(expected)
    for (const line of lines.slice(0, CODECS.length * MESSAGES.length))
      expect(line.headers).toEqual(HEADERS.flatMap((h) => [h.key, h.value]))
    expect(b.requests(Fetch.apiKey).length).toBeGreaterThanOrEqual(1)
  })
})

describe('committed kcat fixtures (known-answer vectors)', () => {
  for (const codec of CODECS) {
    it(`test/fixtures/kcat/${codec}.hex decodes`, async () => {
      const text = readFileSync(new URL(`${codec}.hex`, FIXTURES), 'utf8')
      const blobs = text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => Buffer.from(line, 'hex'))
      expect(blobs.length).toBeGreaterThanOrEqual(1)
      const batches = await checkBatches(blobs, codec)

      // Our encoder, given what we decoded, writes librdkafka's records section byte for byte
      // (and, uncompressed, the whole batch including its CRC).
      for (const [i, batch] of batches.entries()) {
        const ours = encodeRecordBatchSync({
          records: batch.records.map((r) => ({
            key: r.key,
            value: r.value,
            headers: r.headers,
            timestamp: Number(r.timestamp),
          })),
          baseOffset: batch.baseOffset,
          partitionLeaderEpoch: batch.partitionLeaderEpoch,
          producerId: batch.producerId,
          producerEpoch: batch.producerEpoch,
          baseSequence: batch.baseSequence,
        })
        const theirs = blobs[i]!
        const theirRecords = await decompress(codec, theirs.subarray(61), 1 << 20)
        expect(ours.subarray(61).toString('hex')).toBe(theirRecords.toString('hex'))
        if (codec === 'none') expect(ours.toString('hex')).toBe(theirs.toString('hex'))
      }
    })
  }
})
