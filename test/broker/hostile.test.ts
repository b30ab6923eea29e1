// Hostile input: mutated and truncated requests for every served API and version, and raw
// garbage. The broker may close a connection or answer with errors, but it must keep serving
// (no crash, no unhandled rejection) and stay consistent.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import type { ApiDefinition } from '../../src/protocol/api.js'
import { writeRequestFrame } from '../../src/protocol/frame.js'
import { apiByKey } from '../../src/protocol/messages/index.js'
import { ApiVersions } from '../../src/protocol/messages/api-versions.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { Writer } from '../../src/protocol/writer.js'
import { makeBatch, sleep, TestClient } from './helpers.js'

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('hostile input', () => {
  let cluster: Cluster
  /** Handler failures are logged at error level: each one is a broker bug. */
  const errors: string[] = []
  beforeAll(async () => {
    cluster = await Cluster.start({
      brokers: 2,
      groupInitialRebalanceDelayMs: 0,
      maxRequestBytes: 1 << 20,
      logger: { error: (m) => errors.push(m) },
    })
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    await c.send(CreateTopics, 7, { topics: [{ name: 'fz', numPartitions: 2, replicationFactor: 2 }] })
    c.close()
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('survives mutated requests for every served API and version', async () => {
    const rand = prng(20260101)
    const batch = await makeBatch(3, { key: (i) => `k${i}` })
    // Realistic bodies where a default body would be empty.
    const samples: Record<number, unknown> = {
      0: { acks: 1, timeoutMs: 100, topicData: [{ name: 'fz', partitionData: [{ index: 0, records: batch }] }] },
      1: {
        maxWaitMs: 10,
        minBytes: 1,
        maxBytes: 1000,
        sessionEpoch: -1,
        topics: [{ topic: 'fz', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 100 }] }],
      },
      2: { replicaId: -1, topics: [{ name: 'fz', partitions: [{ partitionIndex: 0, timestamp: -1n }] }] },
      3: { topics: [{ name: 'fz' }] },
      8: {
        groupId: 'g',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        topics: [{ name: 'fz', partitions: [{ partitionIndex: 0, committedOffset: 1n }] }],
      },
      11: {
        groupId: 'g',
        sessionTimeoutMs: 10000,
        rebalanceTimeoutMs: 100,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.alloc(4) }],
      },
      19: { topics: [{ name: 'fz2', numPartitions: 1, replicationFactor: 1 }] },
      32: { resources: [{ resourceType: 2, resourceName: 'fz', configurationKeys: null }] },
    }
    const c0 = await TestClient.connect(cluster.bootstrapServers[0]!)
    const served = (await c0.send(ApiVersions, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' })).apiKeys
    c0.close()
    let client = await TestClient.connect(cluster.bootstrapServers[rand() < 0.5 ? 0 : 1]!)
    let sent = 0
    for (let round = 0; round < 6; round++) {
      for (const { apiKey, minVersion, maxVersion } of served) {
        const api = apiByKey(apiKey) as ApiDefinition<unknown, unknown>
        for (let v = Math.max(minVersion, api.minVersion); v <= maxVersion; v++) {
          const w = new Writer()
          writeRequestFrame(w, api, v, 1000 + sent, 'fuzz', (samples[apiKey] ?? {}) as never)
          const frame = w.toBuffer()
          const headerEnd = 14
          const mutated = Buffer.from(frame)
          const kind = rand()
          if (kind < 0.5) {
            // Flip a few body bytes.
            for (let i = 0; i < 1 + Math.floor(rand() * 4); i++) {
              if (mutated.length <= headerEnd) break
              const at = headerEnd + Math.floor(rand() * (mutated.length - headerEnd))
              mutated[at] = Math.floor(rand() * 256)
            }
          } else if (kind < 0.8 && mutated.length > headerEnd + 1) {
            // Truncate the body but keep the size prefix consistent.
            const cut = headerEnd + Math.floor(rand() * (mutated.length - headerEnd))
            const t = mutated.subarray(0, cut)
            t.writeInt32BE(t.length - 4, 0)
            if (client.socket.destroyed) client = await TestClient.connect(cluster.bootstrapServers[0]!)
            client.writeRaw(Buffer.from(t))
            sent++
            continue
          }
          if (client.socket.destroyed) client = await TestClient.connect(cluster.bootstrapServers[sent % 2]!)
          client.writeRaw(mutated)
          sent++
          if (sent % 25 === 0) await sleep(5)
        }
      }
    }
    // Pure garbage, including absurd sizes.
    for (let i = 0; i < 50; i++) {
      const g = await TestClient.connect(cluster.bootstrapServers[0]!)
      const bytes = Buffer.from(Array.from({ length: 4 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)))
      g.writeRaw(bytes)
      await sleep(1)
      g.close()
    }
    client.close()
    expect(sent).toBeGreaterThan(500)
    expect(errors).toEqual([])
    await sleep(200)
    // Still serving, consistently.
    for (const address of cluster.bootstrapServers) {
      const c = await TestClient.connect(address)
      const md = await c.send(Metadata, 12, { topics: [{ name: 'fz' }] })
      expect(md.topics[0]!.errorCode).toBe(0)
      expect(md.topics[0]!.partitions).toHaveLength(2)
      c.close()
    }
  })
})

describe('every served API at every version', () => {
  it('answers a request, and an injected failure, with responses that decode', async () => {
    const cluster = await Cluster.start({ brokers: 1, groupInitialRebalanceDelayMs: 0 })
    try {
      const setup = await TestClient.connect(cluster.bootstrapServers[0]!)
      await setup.send(CreateTopics, 7, { topics: [{ name: 'ev', numPartitions: 1, replicationFactor: 1 }] })
      const served = (await setup.send(ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })).apiKeys
      setup.close()
      const batch = await makeBatch(1)
      const anyAcl = { principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 }
      const bodies: Record<number, unknown> = {
        0: { acks: 1, timeoutMs: 100, topicData: [{ name: 'ev', partitionData: [{ index: 0, records: batch }] }] },
        1: {
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1000,
          sessionEpoch: -1,
          topics: [{ topic: 'ev', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 100 }] }],
        },
        2: { replicaId: -1, topics: [{ name: 'ev', partitions: [{ partitionIndex: 0, timestamp: -1n }] }] },
        3: { topics: [{ name: 'ev' }] },
        8: {
          groupId: 'g',
          generationIdOrMemberEpoch: -1,
          memberId: '',
          topics: [{ name: 'ev', partitions: [{ partitionIndex: 0, committedOffset: 1n }] }],
        },
        9: (v: number) =>
          v >= 8
            ? { groups: [{ groupId: 'g', topics: null }] }
            : { groupId: 'g', topics: [{ name: 'ev', partitionIndexes: [0] }] },
        10: (v: number) => (v >= 4 ? { coordinatorKeys: ['g'] } : { key: 'g' }),
        15: { groups: ['g'] },
        18: { clientSoftwareName: 'x', clientSoftwareVersion: '1' },
        32: { resources: [{ resourceType: 2, resourceName: 'ev', configurationKeys: null }] },
        // ACL requests with UNKNOWN (0) codes close the connection, as on Kafka: ANY (1) filters.
        29: { ...anyAcl, resourceTypeFilter: 1, patternTypeFilter: 1, resourceNameFilter: null },
        30: { creations: [] },
        31: { filters: [{ ...anyAcl, resourceTypeFilter: 1, patternTypeFilter: 1, resourceNameFilter: null }] },
      }
      const c = await TestClient.connect(cluster.bootstrapServers[0]!)
      for (const { apiKey, minVersion, maxVersion } of served) {
        const api = apiByKey(apiKey) as ApiDefinition<unknown, unknown>
        for (let v = Math.max(minVersion, api.minVersion); v <= maxVersion; v++) {
          if (apiKey === 17 && v === 0) continue // SaslHandshake v0 is answered, then raw tokens follow
          const sample = bodies[apiKey]
          const body = (typeof sample === 'function' ? (sample as (v: number) => unknown)(v) : (sample ?? {})) as never
          await expect(c.send(api, v, body), `${api.name} v${v}`).resolves.toBeDefined()
          cluster.faults.failNext(apiKey, 1, 7)
          await expect(c.send(api, v, body), `${api.name} v${v} (injected error)`).resolves.toBeDefined()
        }
      }
      c.close()
    } finally {
      await cluster.stop()
    }
  })
})
