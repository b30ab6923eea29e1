import { afterEach, describe, expect, it } from 'vitest'
import { KafkaClient, parseBrokers } from '../../src/cluster/client.js'
import { MetadataCache, type MetadataFetcher } from '../../src/cluster/metadata.js'
import { ConfigError, KafkaError } from '../../src/errors.js'
import { ConnectionError, RequestTimeoutError } from '../../src/net/errors.js'
import type { BrokerEndpoint } from '../../src/net/pool.js'
import { InitProducerId, Metadata, type MetadataResponse } from '../../src/protocol/messages/index.js'
import { ALL_VERSIONS, FakeBroker } from './fake-broker.js'

function response(
  topics: Record<string, { leader: number; epoch?: number; error?: number }[]>,
  brokers = [1, 2, 3],
  topicId = 'AAAAAAAAAAAAAAAAAAAAAA',
): MetadataResponse {
  return {
    throttleTimeMs: 0,
    brokers: brokers.map((id) => ({ nodeId: id, host: `b${id}`, port: 9092, rack: null })),
    clusterId: 'cluster',
    controllerId: 1,
    clusterAuthorizedOperations: 0,
    errorCode: 0,
    topics: Object.entries(topics).map(([name, partitions]) => ({
      errorCode: partitions.length === 0 ? 3 : 0,
      name,
      topicId,
      isInternal: false,
      topicAuthorizedOperations: 0,
      partitions: partitions.map((p, i) => ({
        errorCode: p.error ?? 0,
        partitionIndex: i,
        leaderId: p.leader,
        leaderEpoch: p.epoch ?? 0,
        replicaNodes: [1, 2, 3],
        isrNodes: [1, 2, 3],
        offlineReplicas: [],
      })),
    })),
  }
}

const bootstrap: BrokerEndpoint[] = [
  { nodeId: -1, host: 'boot1', port: 9092 },
  { nodeId: -2, host: 'boot2', port: 9092 },
]

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('MetadataCache', () => {
  it('merges concurrent refreshes into one request', async () => {
    const calls: string[][] = []
    const gate = deferred<void>()
    const fetch: MetadataFetcher = async (_b, topics) => {
      calls.push([...topics])
      await gate.promise
      return response({ a: [{ leader: 1 }, { leader: 2 }] })
    }
    const cache = new MetadataCache({ bootstrap, fetch })
    const refreshes = [cache.refresh(['a']), cache.refresh(['a']), cache.refresh(), cache.ensure(['a'])]
    gate.resolve()
    await Promise.all(refreshes)
    expect(calls).toEqual([['a']])
    expect(cache.topic('a')!.partitionIds).toEqual([0, 1])
    expect(cache.leaderFor('a', 1)).toMatchObject({ nodeId: 2, host: 'b2' })
  })

  it('queues one follow-up refresh for topics the running one does not cover', async () => {
    const calls: string[][] = []
    const gate = deferred<void>()
    const fetch: MetadataFetcher = async (_b, topics) => {
      calls.push([...topics].sort())
      await gate.promise
      return response(Object.fromEntries(topics.map((t) => [t, [{ leader: 1 }]])))
    }
    const cache = new MetadataCache({ bootstrap, fetch })
    const first = cache.refresh(['a'])
    const second = cache.refresh(['b'])
    const third = cache.refresh(['c'])
    gate.resolve()
    await Promise.all([first, second, third])
    expect(calls).toEqual([['a'], ['a', 'b', 'c']])
    expect(cache.topic('c')).toBeDefined()
  })

  it('tries every known broker, then re-bootstraps, and fails with a retriable error when none answers', async () => {
    const tried: string[] = []
    let healthy = new Set(['boot1'])
    const fetch: MetadataFetcher = async (b) => {
      tried.push(b.host)
      if (!healthy.has(b.host)) throw new ConnectionError(`${b.host} down`)
      return response({ a: [{ leader: 1 }] })
    }
    const cache = new MetadataCache({ bootstrap, fetch })
    await cache.refresh(['a'])
    expect(tried).toEqual(['boot1'])
    // Every known broker (b1..b3) fails: the bootstrap list is used again.
    tried.length = 0
    await cache.refresh()
    expect(tried.slice(0, 3).sort()).toEqual(['b1', 'b2', 'b3'])
    expect(tried[3]).toBe('boot1')
    healthy = new Set()
    const err = await cache.refresh().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as ConnectionError).retriable).toBe(true)
  })

  it('does not ask a broker that timed out again while another one answers', async () => {
    const tried: string[] = []
    const fetch: MetadataFetcher = async (b) => {
      tried.push(b.host)
      if (b.host === 'b2') throw new RequestTimeoutError('Metadata v12 request', 30_000, b)
      return response({ a: [{ leader: 1 }] })
    }
    const cache = new MetadataCache({ bootstrap, fetch })
    await cache.refresh(['a'])
    tried.length = 0
    for (let i = 0; i < 9; i++) await cache.refresh()
    // Rotating over b1..b3 would start at b2 three times in nine refreshes: 3 timeouts of 30 s.
    expect(tried.filter((h) => h === 'b2')).toEqual(['b2'])
    expect(tried.length).toBe(10)
  })

  it('asks a penalised broker last, and again once it answered', async () => {
    const tried: string[] = []
    const down = new Set(['b2'])
    const fetch: MetadataFetcher = async (b) => {
      tried.push(b.host)
      if (down.has(b.host)) throw new ConnectionError(`${b.host} down`)
      return response({ a: [{ leader: 1 }] })
    }
    const cache = new MetadataCache({ bootstrap, fetch })
    await cache.refresh(['a']) // boot1 answers: b1..b3 known
    await cache.refresh() // starts at b1
    await cache.refresh() // starts at b2: fails, b3 answers
    // Everyone but b2 is down now: b2 is still tried, after every other broker.
    for (const h of ['b1', 'b3', 'boot1', 'boot2']) down.add(h)
    down.delete('b2')
    tried.length = 0
    await cache.refresh()
    expect(tried[tried.length - 1]).toBe('b2')
    expect(tried.slice(0, -1).sort()).toEqual(['b1', 'b3', 'boot1', 'boot2'])
    // b2 answered, so its penalty is gone; the brokers that just failed are the ones asked last now.
    down.clear()
    tried.length = 0
    for (let i = 0; i < 3; i++) await cache.refresh()
    expect(tried).toEqual(['b2', 'b2', 'b2'])
    expect(cache.isPenalized(bootstrap[0]!)).toBe(true)
    expect(cache.isPenalized(bootstrap[0]!, Date.now() + 10_001)).toBe(false)
  })

  it('stops at a non-retriable answer', async () => {
    let calls = 0
    const fetch: MetadataFetcher = async () => {
      calls++
      throw KafkaError.fromCode(29) // TOPIC_AUTHORIZATION_FAILED
    }
    const cache = new MetadataCache({ bootstrap, fetch })
    await expect(cache.refresh(['a'])).rejects.toBeInstanceOf(KafkaError)
    expect(calls).toBe(1)
  })

  it('refreshes when marked stale, when expired, and not otherwise', async () => {
    let calls = 0
    const fetch: MetadataFetcher = async () => {
      calls++
      return response({ a: [{ leader: 1 }] })
    }
    const cache = new MetadataCache({ bootstrap, fetch, maxAgeMs: 50 })
    await cache.ensure(['a'])
    await cache.ensure(['a'])
    expect(calls).toBe(1)
    cache.markStale()
    await cache.ensure(['a'])
    expect(calls).toBe(2)
    await new Promise((r) => setTimeout(r, 70))
    cache.topic('a') // an expired cache refreshes in the background on use
    await new Promise((r) => setTimeout(r, 10))
    expect(calls).toBe(3)
  })

  it('keeps a newer leader epoch over an older answer from a lagging broker', async () => {
    let answer = response({ a: [{ leader: 2, epoch: 5 }] })
    const cache = new MetadataCache({ bootstrap, fetch: async () => answer })
    await cache.refresh(['a'])
    answer = response({ a: [{ leader: 1, epoch: 4 }] })
    await cache.refresh(['a'])
    expect(cache.partition('a', 0)).toMatchObject({ leader: 2, leaderEpoch: 5 })
    answer = response({ a: [{ leader: 3, epoch: 6 }] })
    await cache.refresh(['a'])
    expect(cache.partition('a', 0)).toMatchObject({ leader: 3, leaderEpoch: 6 })
  })

  it('takes a lower leader epoch when the topic id changed (topic deleted and recreated)', async () => {
    // Java's Metadata.updateLatestMetadata: "Resetting the last seen epoch of partition ... since
    // the associated topicId changed"; a recreated topic starts again from a low epoch.
    const oldId = 'CCCCCCCCCCCCCCCCCCCCCC'
    const newId = 'BBBBBBBBBBBBBBBBBBBBBB'
    let answer = response({ a: [{ leader: 1, epoch: 3 }] }, [1, 2, 3], oldId)
    const cache = new MetadataCache({ bootstrap, fetch: async () => answer })
    await cache.refresh(['a'])
    answer = response({ a: [{ leader: 2, epoch: 0 }] }, [1, 2, 3], newId)
    await cache.refresh(['a'])
    expect(cache.topic('a')!.topicId).toBe(newId)
    expect(cache.partition('a', 0)).toMatchObject({ leader: 2, leaderEpoch: 0 })
    // Under the same id a lower epoch is a lagging broker again: the newer view stays.
    answer = response({ a: [{ leader: 3, epoch: 2 }] }, [1, 2, 3], newId)
    await cache.refresh(['a'])
    answer = response({ a: [{ leader: 2, epoch: 1 }] }, [1, 2, 3], newId)
    await cache.refresh(['a'])
    expect(cache.partition('a', 0)).toMatchObject({ leader: 3, leaderEpoch: 2 })
  })

  it('takes a KIP-951 leader hint only when it is newer and its leader can be reached', async () => {
    const cache = new MetadataCache({ bootstrap, fetch: async () => response({ a: [{ leader: 1, epoch: 4 }] }) })
    await cache.refresh(['a'])
    // Not newer than what the cache holds, or no leader: ignored.
    expect(cache.applyLeaderHint('a', 0, { leaderId: 2, leaderEpoch: 4 })).toBe(false)
    expect(cache.applyLeaderHint('a', 0, { leaderId: -1, leaderEpoch: -1 })).toBe(false)
    expect(cache.applyLeaderHint('b', 0, { leaderId: 2, leaderEpoch: 5 })).toBe(false)
    // A broker the cache does not know, without its address: ignored; with it: taken.
    expect(cache.applyLeaderHint('a', 0, { leaderId: 9, leaderEpoch: 5 })).toBe(false)
    const endpoint = { nodeId: 9, host: 'b9', port: 9093, rack: null }
    expect(cache.applyLeaderHint('a', 0, { leaderId: 9, leaderEpoch: 5 }, [endpoint])).toBe(true)
    expect(cache.partition('a', 0)).toMatchObject({ leader: 9, leaderEpoch: 5 })
    expect(cache.leaderFor('a', 0)).toMatchObject({ host: 'b9', port: 9093 })
    // A known broker needs no endpoint.
    expect(cache.applyLeaderHint('a', 0, { leaderId: 2, leaderEpoch: 6 })).toBe(true)
    expect(cache.leaderFor('a', 0)).toMatchObject({ nodeId: 2, host: 'b2' })
    expect(cache.isStale).toBe(false)
  })

  it('lists the partitions whose leader is known and listed (availablePartitionIds)', async () => {
    // Kafka answers leader -1 for an offline partition; a leader missing from the broker list
    // cannot be reached either (Java's availablePartitionsForTopic needs a leader Node).
    let answer = response({ a: [{ leader: 1 }, { leader: -1, error: 5 }, { leader: 4 }, { leader: 3 }] })
    const cache = new MetadataCache({ bootstrap, fetch: async () => answer })
    await cache.refresh(['a'])
    expect(cache.availablePartitionIds('a')).toEqual([0, 3])
    expect(cache.availablePartitionIds('b')).toBeUndefined()
    answer = response({ a: [{ leader: 1 }, { leader: 2, epoch: 1 }, { leader: 4 }, { leader: 3 }] }, [1, 2, 3, 4])
    await cache.refresh(['a'])
    expect(cache.availablePartitionIds('a')).toEqual([0, 1, 2, 3])
  })

  it('forgets a topic the answer no longer lists', async () => {
    let answer = response({ a: [{ leader: 1 }] })
    const cache = new MetadataCache({ bootstrap, fetch: async () => answer })
    await cache.refresh(['a'])
    answer = response({})
    await cache.refresh(['a'])
    expect(cache.topic('a')).toBeUndefined()
  })
})

describe('parseBrokers', () => {
  it('parses host:port lists, IPv6 and default ports', () => {
    expect(parseBrokers('a:1, b ,[::1]:3')).toEqual([
      { nodeId: -1, host: 'a', port: 1 },
      { nodeId: -2, host: 'b', port: 9092 },
      { nodeId: -3, host: '::1', port: 3 },
    ])
    expect(() => parseBrokers([])).toThrow(ConfigError)
    expect(() => parseBrokers(['a:99999'])).toThrow(/invalid port/)
  })
})

describe('KafkaClient', () => {
  let broker: FakeBroker | undefined
  afterEach(async () => {
    await broker?.stop()
    broker = undefined
  })

  it('bootstraps metadata, opens a connection per workload, and marks metadata stale on a broken connection', async () => {
    broker = await FakeBroker.start((r) => {
      if (r.api.name !== 'Metadata') return undefined
      return {
        brokers: [{ nodeId: 7, host: '127.0.0.1', port: broker!.port, rack: null }],
        clusterId: 'c',
        controllerId: 7,
        topics: (r.body.topics ?? []).map((t: { name: string }) => ({
          errorCode: 0,
          name: t.name,
          partitions: [
            { partitionIndex: 0, leaderId: 7, leaderEpoch: 1, replicaNodes: [7], isrNodes: [7], offlineReplicas: [] },
          ],
        })),
      }
    })
    broker.apiVersions = ALL_VERSIONS.map((v) => (v.apiKey === 3 ? { ...v, maxVersion: 12 } : v))
    const client = new KafkaClient({ brokers: [broker.address], clientId: 'unit' })
    try {
      await client.waitForTopics(['x'])
      expect(client.metadata.leaderFor('x', 0)?.nodeId).toBe(7)
      const metadataRequest = broker.received('Metadata')[0]!
      expect(metadataRequest.version).toBe(12) // min(ours, the broker's)
      expect(metadataRequest.body.allowAutoTopicCreation).toBe(false)
      expect(metadataRequest.header.clientId).toBe('unit')
      const { connection } = await client.connection(7, 'produce')
      const { connection: admin } = await client.connection(7, 'admin')
      expect(connection).not.toBe(admin) // one connection per workload
      expect((await client.connection(7, 'produce')).connection).toBe(connection) // reused
      expect(client.metadata.isStale).toBe(false)
      // The fake broker never answers InitProducerId.
      const pending = client.request(
        7,
        InitProducerId,
        { transactionalId: null, transactionTimeoutMs: -1 },
        { workload: 'produce' },
      )
      await new Promise((r) => setTimeout(r, 20))
      broker.dropConnections()
      await expect(pending).rejects.toBeInstanceOf(ConnectionError)
      expect(client.metadata.isStale).toBe(true)
      // The broker that broke the connection is now asked for metadata last.
      expect(client.metadata.isPenalized({ nodeId: 7, host: '127.0.0.1', port: broker.port })).toBe(true)
      // A new connection replaces the broken one on the next request.
      await expect(client.request(7, Metadata, { topics: [] }, { workload: 'produce' })).resolves.toBeDefined()
    } finally {
      await client.close()
    }
  })

  it('sends cluster-wide requests to a broker that has not failed lately', async () => {
    broker = await FakeBroker.start((r) =>
      r.api.name === 'Metadata'
        ? {
            brokers: [1, 2, 3].map((nodeId) => ({ nodeId, host: `b${nodeId}`, port: 9092, rack: null })),
            clusterId: 'c',
            controllerId: 1,
            topics: [],
          }
        : undefined,
    )
    const client = new KafkaClient({ brokers: [broker.address] })
    try {
      await client.metadata.refresh()
      const picked = (): Set<string> => new Set(Array.from({ length: 60 }, () => client.anyBroker().host))
      expect(picked()).toEqual(new Set(['b1', 'b2', 'b3']))
      client.metadata.penalize(client.metadata.broker(1)!)
      client.metadata.penalize(client.metadata.broker(3)!)
      expect(picked()).toEqual(new Set(['b2']))
      client.metadata.penalize(client.metadata.broker(2)!)
      expect(picked()).toEqual(new Set(['b1', 'b2', 'b3'])) // all failed lately: any of them
    } finally {
      await client.close()
    }
  })

  it('validates its configuration', () => {
    expect(() => new KafkaClient({ brokers: [] })).toThrow(ConfigError)
    expect(() => new KafkaClient({ brokers: ['a:1'], requestTimeout: -5 })).toThrow(/requestTimeout/)
    expect(() => new KafkaClient({ brokers: ['a:1'], clientId: 'x'.repeat(300) })).toThrow(/clientId/)
    expect(() => new KafkaClient({ brokers: ['a:1'], connectionsMaxIdle: 0 })).toThrow(/connectionsMaxIdle/)
    expect(new KafkaClient({ brokers: ['a:1'], connectionsMaxIdle: 30_000 }).pool.connectionsMaxIdleMs).toBe(30_000)
    expect(new KafkaClient({ brokers: ['a:1'] }).pool.connectionsMaxIdleMs).toBe(540_000)
  })
})
