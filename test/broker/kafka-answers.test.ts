// The reference broker serves what Kafka 4.4.0 serves: the same ApiVersions table for every API
// it implements, and the same answers to the requests captured from Kafka 4.4.0 at the versions
// new since 4.0 (test/fixtures/kafka-answers, capture.ts). Each captured request is decoded and
// sent again with the reference broker's topic id and producer id in place of Kafka's.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { Cluster } from '../../src/broker/index.js'
import { ZERO_UUID } from '../../src/protocol/api.js'
import { readRequestFrame, readResponseFrame } from '../../src/protocol/frame.js'
import {
  apis,
  ApiVersions,
  CreateTopics,
  InitProducerId,
  type ApiVersionsResponse,
} from '../../src/protocol/messages/index.js'
import { decodeRecordBatches } from '../../src/protocol/record-batch.js'
import { exchangeOf, loadKafkaAnswers, type CapturedExchange } from '../fixtures/kafka-answers/answers.js'
import { TestClient } from './helpers.js'

const answers = loadKafkaAnswers('4.4.0')

/** A deep copy with `swap` applied to every [key, value] (bigints and buffers kept). */
function rewrite(value: unknown, swap: (key: string, v: unknown) => unknown, key = ''): unknown {
  const v = swap(key, value)
  if (Array.isArray(v)) return v.map((e) => rewrite(e, swap))
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, rewrite(e, swap, k)]))
  }
  return v
}

/** An answer with what legitimately differs between two brokers taken out. */
async function comparable(api: string, body: unknown): Promise<unknown> {
  const out = rewrite(body, (key, v) => {
    if (key === 'topicId' && v !== ZERO_UUID) return '<topic id>'
    // Member ids are the broker's choice (client id + a random UUID).
    if (api === 'JoinGroup' && (key === 'memberId' || key === 'leader') && v !== '') return '<member id>'
    return v
  }) as Record<string, unknown>
  if (api === 'DeleteGroups') {
    // Kafka lists the groups in no particular order (one map per coordinator).
    ;(out.results as { groupId: string }[]).sort((a, b) => a.groupId.localeCompare(b.groupId))
  }
  if (api === 'Fetch') {
    // The records are compared as records (the batch header's leader epoch is the broker's).
    const t = (out.responses as { partitions: { records: Uint8Array | null }[] }[])[0]!
    for (const p of t.partitions) {
      const batches = await decodeRecordBatches(p.records === null ? null : Buffer.from(p.records))
      ;(p as Record<string, unknown>).records = batches.flatMap((b) =>
        b.records.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString()]),
      )
    }
  }
  return out
}

// Raw requests with exact answers expected: the clusters start with their group coordinators
// loaded (coordinatorLoadRequests: 0); the clients' retries of a load are tested elsewhere.
describe('the reference broker against Kafka 4.4.0', () => {
  let cluster: Cluster
  let c: TestClient
  beforeAll(async () => {
    cluster = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 1 })
    c = await TestClient.connect(cluster.bootstrapServers[0]!)
  })
  afterAll(async () => {
    c.close()
    await cluster.stop()
  })

  it('advertises the versions Kafka 4.4.0 advertises, for every API it serves', async () => {
    const kafka = readResponseFrame(Buffer.from(exchangeOf(answers, 'ApiVersions', 3).response, 'hex'), ApiVersions, 3)
    const ours: ApiVersionsResponse = await c.send(ApiVersions, 3, {
      clientSoftwareName: 'test',
      clientSoftwareVersion: '1',
    })
    expect(ours.apiKeys.length).toBeGreaterThanOrEqual(30)
    const kafkaRanges = new Map(kafka.body.apiKeys.map((k) => [k.apiKey, k]))
    for (const k of ours.apiKeys) {
      const name = apis.find((a) => a.apiKey === k.apiKey)?.name
      expect(k, `${name}`).toEqual(kafkaRanges.get(k.apiKey))
    }
    const feature = (r: ApiVersionsResponse, name: string) => r.finalizedFeatures.find((f) => f.name === name)
    for (const name of ['metadata.version', 'transaction.version', 'group.version']) {
      expect(feature(ours, name), name).toEqual(feature(kafka.body, name))
    }
  })

  it('answers the captured requests as Kafka 4.4.0 did', async () => {
    const created = await c.send(CreateTopics, 7, {
      topics: [{ name: answers.topic, numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 30_000,
    })
    const topicId = created.topics[0]!.topicId
    let producer: { producerId: bigint; producerEpoch: number } | undefined
    // ApiVersions tables are compared above (the reference broker serves fewer APIs); here only
    // the v5 request that names another cluster (KIP-1242).
    const exchanges = answers.exchanges.filter(
      (x) =>
        x.api !== 'ApiVersions' ||
        (readRequestFrame(Buffer.from(x.request, 'hex')).body as { clusterId?: unknown }).clusterId != null,
    )
    expect(exchanges.filter((x) => x.api === 'ApiVersions')).toHaveLength(1)
    expect(exchanges.map((x) => x.api)).toContain('TxnOffsetCommit')
    for (const x of exchanges) {
      const request = readRequestFrame(Buffer.from(x.request, 'hex'))
      const api = request.api!
      if (x.api === 'TxnOffsetCommit') {
        const transactionalId = (request.body as { transactionalId: string }).transactionalId
        producer = await c.send(InitProducerId, 5, { transactionalId, transactionTimeoutMs: 60_000 })
      }
      const body = rewrite(request.body, (key, v) => {
        if (key === 'topicId' && v === answers.topicId) return topicId
        if (producer !== undefined && key === 'producerId') return producer.producerId
        if (producer !== undefined && key === 'producerEpoch') return producer.producerEpoch
        return v
      })
      const ours = await c.send(api, x.version, body as never)
      const kafka = readResponseFrame(Buffer.from(x.response, 'hex'), api, x.version).body
      expect(await comparable(x.api, ours), `${x.api} v${x.version}`).toEqual(await comparable(x.api, kafka))
    }
  })

  it('the capture covers each API at its newest version', () => {
    const newest = (x: CapturedExchange) => apis.find((a) => a.name === x.api)!.maxStableVersion === x.version
    expect(answers.exchanges.filter(newest).map((x) => x.api)).toEqual(
      expect.arrayContaining(['Produce', 'Fetch', 'OffsetCommit', 'OffsetFetch', 'TxnOffsetCommit', 'ApiVersions']),
    )
  })
})
