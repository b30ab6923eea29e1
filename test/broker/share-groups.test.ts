// Share groups (KIP-932) on the reference broker, beyond the capture from Kafka 4.4.0
// (share-answers.test.ts): acquisition locks that run out (a short per-group lock), the delivery
// count limit, two members on one partition, a member that leaves or stops heartbeating, share
// sessions, the share group configs as Kafka 4.4.0 validates them (its messages, seen on a
// 4.4.0 broker) and what ApiVersions advertises (Kafka 4.4.0's table and share.version).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ApiVersions } from '../../src/protocol/messages/api-versions.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { IncrementalAlterConfigs } from '../../src/protocol/messages/incremental-alter-configs.js'
import { DescribeConfigs } from '../../src/protocol/messages/describe-configs.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { ShareAcknowledge } from '../../src/protocol/messages/share-acknowledge.js'
import { ShareFetch } from '../../src/protocol/messages/share-fetch.js'
import { ShareGroupHeartbeat } from '../../src/protocol/messages/share-group-heartbeat.js'
import { errorInfo } from '../../src/protocol/error-codes.js'
import { makeBatch, sleep, TestClient } from './helpers.js'

const name = (code: number) => (code === 0 ? 'NONE' : errorInfo(code).name)

describe('share groups on the reference broker', () => {
  let cluster: Cluster
  let c: TestClient
  let topicId = ''
  let n = 0
  const T = 'share-unit'
  beforeAll(async () => {
    cluster = await Cluster.start({
      coordinatorLoadRequests: 0,
      shareMinRecordLockDurationMs: 1000,
      shareGroupSessionTimeoutMs: 600,
    })
    c = await TestClient.connect(cluster.bootstrapServers[0]!)
    const r = await c.send(CreateTopics, 7, {
      topics: [{ name: T, numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 5000,
    })
    topicId = r.topics[0]!.topicId
    const p = await c.send(Produce, 11, {
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: T, partitionData: [{ index: 0, records: await makeBatch(3) }] }],
    })
    expect(p.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
  })
  afterAll(async () => {
    c.close()
    await cluster.stop()
  })

  /** A fresh group starting at the earliest offset, with the configs given. */
  async function group(configs: Record<string, string> = {}): Promise<string> {
    const g = `g${++n}`
    const all = { 'share.auto.offset.reset': 'earliest', ...configs }
    const r = await c.send(IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 32,
          resourceName: g,
          configs: Object.entries(all).map(([k, v]) => ({ name: k, configOperation: 0, value: v })),
        },
      ],
      validateOnly: false,
    })
    expect(r.responses[0]!.errorCode).toBe(0)
    return g
  }

  async function join(g: string, member: string): Promise<number> {
    let r = await c.send(ShareGroupHeartbeat, 1, {
      groupId: g,
      memberId: member,
      memberEpoch: 0,
      rackId: null,
      subscribedTopicNames: [T],
    })
    // The share-partitions initialize right after the join's answer; the next heartbeat assigns them.
    for (let i = 0; i < 20 && (r.assignment === null || r.assignment.topicPartitions.length === 0); i++) {
      await sleep(10)
      r = await c.send(ShareGroupHeartbeat, 1, {
        groupId: g,
        memberId: member,
        memberEpoch: r.memberEpoch,
        rackId: null,
        subscribedTopicNames: null,
      })
    }
    expect(r.assignment?.topicPartitions.map((tp) => tp.partitions)).toEqual([[0]])
    return r.memberEpoch
  }

  type Acks = [number, number, number][]
  async function fetch(g: string, member: string, epoch: number, acks: Acks = []) {
    const r = await c.send(ShareFetch, 1, {
      groupId: g,
      memberId: member,
      shareSessionEpoch: epoch,
      maxWaitMs: 50,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: 100,
      batchSize: 100,
      topics: [
        {
          topicId,
          partitions: [
            {
              partitionIndex: 0,
              acknowledgementBatches: acks.map(([f, l, t]) => ({
                firstOffset: BigInt(f),
                lastOffset: BigInt(l),
                acknowledgeTypes: [t],
              })),
            },
          ],
        },
      ],
      forgottenTopicsData: [],
    })
    const p = r.responses[0]?.partitions[0]
    return {
      error: name(r.errorCode),
      lock: r.acquisitionLockTimeoutMs,
      ackError: p === undefined ? undefined : name(p.acknowledgeErrorCode),
      acquired: (p?.acquiredRecords ?? []).map((a) => [Number(a.firstOffset), Number(a.lastOffset), a.deliveryCount]),
    }
  }

  it('a record whose acquisition lock runs out is delivered again, one delivery more', async () => {
    const g = await group({ 'share.record.lock.duration.ms': '1000' })
    await join(g, 'm1')
    expect(await fetch(g, 'm1', 0)).toMatchObject({ error: 'NONE', lock: 1000, acquired: [[0, 2, 1]] })
    expect((await fetch(g, 'm1', 1)).acquired).toEqual([])
    await sleep(1100)
    expect(await fetch(g, 'm1', 2)).toMatchObject({ acquired: [[0, 2, 2]] })
    // The lock is the member's again: it can accept them now.
    expect(await fetch(g, 'm1', 3, [[0, 2, 1]])).toMatchObject({ ackError: 'NONE', acquired: [] })
  })

  it('a record released as often as the delivery count limit allows is archived', async () => {
    const g = await group({ 'share.delivery.count.limit': '2' })
    await join(g, 'm1')
    expect((await fetch(g, 'm1', 0)).acquired).toEqual([[0, 2, 1]])
    // Release 0 and 1, accept 2: 0-1 come back with their second delivery.
    expect(
      await fetch(g, 'm1', 1, [
        [0, 1, 2],
        [2, 2, 1],
      ]),
    ).toMatchObject({ ackError: 'NONE', acquired: [[0, 1, 2]] })
    // Released after the second (last) delivery: archived, never delivered again.
    expect(await fetch(g, 'm1', 2, [[0, 1, 2]])).toMatchObject({ ackError: 'NONE', acquired: [] })
    expect((await fetch(g, 'm1', 3)).acquired).toEqual([])
    // Everything is settled: an acknowledgement below the start offset is ignored, as Kafka does.
    expect((await fetch(g, 'm1', 4, [[0, 0, 1]])).ackError).toBe('NONE')
  })

  it('two members share a partition: one cannot acknowledge what the other holds; a leaving member releases', async () => {
    const g = await group()
    await join(g, 'm1')
    await join(g, 'm2')
    expect((await fetch(g, 'm1', 0)).acquired).toEqual([[0, 2, 1]])
    expect((await fetch(g, 'm2', 0)).acquired).toEqual([])
    expect((await fetch(g, 'm2', 1, [[0, 0, 1]])).ackError).toBe('INVALID_RECORD_STATE')
    const left = await c.send(ShareGroupHeartbeat, 1, {
      groupId: g,
      memberId: 'm1',
      memberEpoch: -1,
      rackId: null,
      subscribedTopicNames: null,
    })
    expect(left.memberEpoch).toBe(-1)
    expect((await fetch(g, 'm2', 2)).acquired).toEqual([[0, 2, 2]])
    // m1's share session went with it.
    expect((await fetch(g, 'm1', 1)).error).toBe('SHARE_SESSION_NOT_FOUND')
  })

  it('a member that stops heartbeating is removed after the session timeout and its records come back', async () => {
    const g = await group()
    const e1 = await join(g, 'm1')
    let epoch = await join(g, 'm2')
    expect((await fetch(g, 'm1', 0)).acquired).toEqual([[0, 2, 1]])
    // m2 keeps heartbeating, m1 does not.
    for (let i = 0; i < 4; i++) {
      await sleep(250)
      const r = await c.send(ShareGroupHeartbeat, 1, {
        groupId: g,
        memberId: 'm2',
        memberEpoch: epoch,
        rackId: null,
        subscribedTopicNames: null,
      })
      expect(name(r.errorCode)).toBe('NONE')
      epoch = r.memberEpoch
    }
    const gone = await c.send(ShareGroupHeartbeat, 1, {
      groupId: g,
      memberId: 'm1',
      memberEpoch: e1,
      rackId: null,
      subscribedTopicNames: null,
    })
    expect(name(gone.errorCode)).toBe('UNKNOWN_MEMBER_ID')
    expect((await fetch(g, 'm2', 0)).acquired).toEqual([[0, 2, 2]])
  })

  it('ShareAcknowledge cannot open a session; forgotten partitions leave the session', async () => {
    const g = await group()
    const ack = await c.send(ShareAcknowledge, 1, { groupId: g, memberId: 'm1', shareSessionEpoch: 0, topics: [] })
    expect(name(ack.errorCode)).toBe('INVALID_SHARE_SESSION_EPOCH')
    const noMember = await c.send(ShareFetch, 1, {
      groupId: g,
      memberId: '',
      shareSessionEpoch: 0,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1000,
      maxRecords: 10,
      batchSize: 10,
      topics: [],
      forgottenTopicsData: [],
    })
    expect(name(noMember.errorCode)).toBe('INVALID_REQUEST')
    expect((await fetch(g, 'm1', 0)).acquired).toEqual([[0, 2, 1]])
    const forget = await c.send(ShareFetch, 1, {
      groupId: g,
      memberId: 'm1',
      shareSessionEpoch: 1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1000,
      maxRecords: 10,
      batchSize: 10,
      topics: [],
      forgottenTopicsData: [{ topicId, partitions: [0] }],
    })
    expect(forget.responses).toEqual([])
    // Closing the session releases what the member held there.
    const close = await c.send(ShareAcknowledge, 1, { groupId: g, memberId: 'm1', shareSessionEpoch: -1, topics: [] })
    expect(name(close.errorCode)).toBe('NONE')
  })

  it('closing a session (epoch -1) releases the records the member still holds there', async () => {
    const g = await group()
    expect((await fetch(g, 'm1', 0)).acquired).toEqual([[0, 2, 1]])
    expect(await fetch(g, 'm1', -1, [[0, 0, 1]])).toMatchObject({ error: 'NONE', ackError: 'NONE', acquired: [] })
    expect((await fetch(g, 'm2', 0)).acquired).toEqual([[1, 2, 2]])
  })

  it('validates share group configs as Kafka 4.4.0 does', async () => {
    const strict = await Cluster.start({ coordinatorLoadRequests: 0 })
    const s = await TestClient.connect(strict.bootstrapServers[0]!)
    try {
      const alter = async (key: string, value: string) => {
        const r = await s.send(IncrementalAlterConfigs, 1, {
          resources: [{ resourceType: 32, resourceName: 'g', configs: [{ name: key, configOperation: 0, value }] }],
          validateOnly: false,
        })
        return [name(r.responses[0]!.errorCode), r.responses[0]!.errorMessage]
      }
      expect(await alter('share.record.lock.duration.ms', '1000')).toEqual([
        'INVALID_CONFIG',
        'share.record.lock.duration.ms must be in the range 15000 to 60000 inclusive.',
      ])
      expect(await alter('share.delivery.count.limit', '1')).toEqual([
        'INVALID_CONFIG',
        'Invalid value 1 for configuration share.delivery.count.limit: Value must be at least 2',
      ])
      expect(await alter('share.delivery.count.limit', '11')).toEqual([
        'INVALID_CONFIG',
        'share.delivery.count.limit must be in the range 2 to 10 inclusive.',
      ])
      expect(await alter('share.delivery.count.limit', 'x')).toEqual([
        'INVALID_CONFIG',
        'Invalid value x for configuration share.delivery.count.limit: Not a number of type INT',
      ])
      expect(await alter('share.bogus', '1')).toEqual(['INVALID_CONFIG', 'Unknown group config name: share.bogus'])
      expect(await alter('share.record.lock.duration.ms', '20000')).toEqual(['NONE', null])
      const d = await s.send(DescribeConfigs, 4, {
        resources: [{ resourceType: 32, resourceName: 'g', configurationKeys: null }],
        includeSynonyms: false,
        includeDocumentation: false,
      })
      const entries = new Map(d.results[0]!.configs.map((x) => [x.name, [x.value, x.configSource]]))
      // 8: set for the group, 5: the default (Kafka 4.4.0's answer).
      expect(entries.get('share.record.lock.duration.ms')).toEqual(['20000', 8])
      expect(entries.get('share.delivery.count.limit')).toEqual(['5', 5])
      expect(entries.get('share.auto.offset.reset')).toEqual(['latest', 5])
    } finally {
      s.close()
      await strict.stop()
    }
  })

  it('ApiVersions: the share APIs at Kafka 4.4.0 versions and share.version 2; with shareGroups false refused', async () => {
    const av = async (client: TestClient) => {
      const r = await client.send(ApiVersions, 4, { clientSoftwareName: 'test', clientSoftwareVersion: '1' })
      return {
        apis: r.apiKeys.filter((k) => k.apiKey >= 76 && k.apiKey <= 79),
        supported: r.supportedFeatures.find((f) => f.name === 'share.version'),
        finalized: r.finalizedFeatures.find((f) => f.name === 'share.version'),
      }
    }
    // What a fresh 3-node Kafka 4.4.0 answered (scripts/kafka.sh start --nodes 3).
    const apis = [
      { apiKey: 76, minVersion: 1, maxVersion: 1 },
      { apiKey: 77, minVersion: 1, maxVersion: 1 },
      { apiKey: 78, minVersion: 1, maxVersion: 2 },
      { apiKey: 79, minVersion: 1, maxVersion: 2 },
    ]
    const supported = { name: 'share.version', minVersion: 0, maxVersion: 2 }
    expect(await av(c)).toEqual({
      apis,
      supported,
      finalized: { name: 'share.version', minVersionLevel: 2, maxVersionLevel: 2 },
    })
    // Kafka 4.4.0 after UpdateFeatures share.version 0 (safe downgrade): the APIs still
    // advertised, no finalized share.version, ShareGroupHeartbeat and ShareFetch UNSUPPORTED_VERSION.
    const off = await Cluster.start({ coordinatorLoadRequests: 0, shareGroups: false })
    const o = await TestClient.connect(off.bootstrapServers[0]!)
    try {
      expect(await av(o)).toEqual({ apis, supported, finalized: undefined })
      const hb = await o.send(ShareGroupHeartbeat, 1, {
        groupId: 'off',
        memberId: 'm1',
        memberEpoch: 0,
        rackId: null,
        subscribedTopicNames: ['x'],
      })
      expect([name(hb.errorCode), hb.memberId, hb.memberEpoch]).toEqual(['UNSUPPORTED_VERSION', null, 0])
      const f = await o.send(ShareFetch, 1, {
        groupId: 'off',
        memberId: 'm1',
        shareSessionEpoch: 0,
        maxWaitMs: 10,
        minBytes: 1,
        maxBytes: 1000,
        maxRecords: 10,
        batchSize: 10,
        topics: [],
        forgottenTopicsData: [],
      })
      expect([name(f.errorCode), f.acquisitionLockTimeoutMs, f.responses]).toEqual(['UNSUPPORTED_VERSION', 0, []])
    } finally {
      o.close()
      await off.stop()
    }
  })
})

describe('share-partitions across a leader change', () => {
  it("the new leader delivers again what the stopped leader's member had acquired", async () => {
    const cluster = await Cluster.start({ brokers: 3, coordinatorLoadRequests: 0 })
    const clients: TestClient[] = []
    try {
      const connect = async (id: number) => {
        const b = cluster.broker(id)
        const client = await TestClient.connect(`${b.host}:${b.port}`)
        clients.push(client)
        return client
      }
      const boot = await connect(0)
      const created = await boot.send(CreateTopics, 7, {
        topics: [{ name: 'moving', numPartitions: 1, replicationFactor: 3 }],
        timeoutMs: 5000,
      })
      const topicId = created.topics[0]!.topicId
      const p = cluster.topics.partition('moving', 0)!
      const leader = await connect(p.leader)
      const fetch = (client: TestClient, epoch: number) =>
        client.send(ShareFetch, 1, {
          groupId: 'mg',
          memberId: 'm1',
          shareSessionEpoch: epoch,
          maxWaitMs: 50,
          minBytes: 1,
          maxBytes: 1 << 20,
          maxRecords: 100,
          batchSize: 100,
          topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }],
          forgottenTopicsData: [],
        })
      const acquired = (r: Awaited<ReturnType<typeof fetch>>) =>
        (r.responses[0]?.partitions[0]?.acquiredRecords ?? []).map((a) => [Number(a.firstOffset), a.deliveryCount])
      // The leader loads the share-partition at the log end (latest): records come after.
      expect(acquired(await fetch(leader, 0))).toEqual([])
      await leader.send(Produce, 11, {
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: 'moving', partitionData: [{ index: 0, records: await makeBatch(1) }] }],
      })
      expect(acquired(await fetch(leader, 1))).toEqual([[0, 1]])
      const old = p.leader
      await cluster.stopBroker(old, { sessionTimeoutMs: 0 })
      expect(p.leader).not.toBe(old)
      const next = await connect(p.leader)
      // A new broker: a new share session, and the record is available again.
      expect(acquired(await fetch(next, 0))).toEqual([[0, 2]])
    } finally {
      for (const client of clients) client.close()
      await cluster.stop()
    }
  })
})
