// The Reader's consumer group protocol (KIP-848) on the reference cluster, for what needs its
// settings or fault injection: the fallback to the classic protocol against a broker without
// ConsumerGroupHeartbeat, option checks, the revocation rules (records handed out are waited for
// up to rebalanceTimeout; a commit of a message fetched before its partition was revoked is
// refused) and a member fenced by its session timeout (onLost; its old messages are refused).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import type { TopicPartition } from '../../src/consumer/config.js'
import { CommitRejectedError, PollIntervalExceededError } from '../../src/consumer/errors.js'
import { Reader } from '../../src/consumer/reader.js'
import { ConfigError } from '../../src/errors.js'
import { silentLogger } from '../../src/logger.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { createTopic, produce, unique, waitFor } from './helpers.js'

describe('Reader with groupProtocol consumer, against a broker without it', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 1, groupInitialRebalanceDelayMs: 0, groupProtocols: ['classic'] })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('falls back to the classic protocol and reads', async () => {
    const topic = unique('fb')
    await createTopic(cluster.bootstrapServers, topic, 2, 1)
    await produce(cluster.bootstrapServers, topic, 10)
    const reader = new Reader({
      brokers: cluster.bootstrapServers,
      groupId: unique('fb-g'),
      topic,
      groupProtocol: 'consumer',
      maxWait: 100,
    })
    try {
      const signal = AbortSignal.timeout(20_000)
      for (let i = 0; i < 10; i++) await reader.fetchMessage({ signal })
      expect(reader.groupProtocol).toBe('classic')
      expect(cluster.groups.get(reader.groupMetadata().groupId)?.members.size).toBe(1)
    } finally {
      await reader.close()
    }
  })

  it('falls back too when the broker lists ConsumerGroupHeartbeat but answers UNSUPPORTED_VERSION (Kafka 3.9 without the protocol enabled)', async () => {
    // Kafka 3.9 advertises ConsumerGroupHeartbeat v0 whatever its config, and answers it with
    // UNSUPPORTED_VERSION unless group.coordinator.rebalance.protocols includes consumer.
    const full = await Cluster.start({ brokers: 1, groupInitialRebalanceDelayMs: 0 })
    try {
      const topic = unique('fb39')
      await createTopic(full.bootstrapServers, topic, 2, 1)
      await produce(full.bootstrapServers, topic, 10)
      full.faults.failNext('ConsumerGroupHeartbeat', 1_000, ErrorCode.UNSUPPORTED_VERSION)
      const reader = new Reader({
        brokers: full.bootstrapServers,
        groupId: unique('fb39-g'),
        topic,
        groupProtocol: 'consumer',
        maxWait: 100,
        logger: silentLogger,
      })
      try {
        const signal = AbortSignal.timeout(20_000)
        for (let i = 0; i < 10; i++) await reader.fetchMessage({ signal })
        expect(reader.groupProtocol).toBe('classic')
      } finally {
        await reader.close()
      }
    } finally {
      await full.stop()
    }
  })

  it('falls back to classic for a topicPattern too, resolving the pattern on the client', async () => {
    const prefix = unique('fbrx')
    await createTopic(cluster.bootstrapServers, `${prefix}-a`, 2, 1)
    await produce(cluster.bootstrapServers, `${prefix}-a`, 10)
    const reader = new Reader({
      brokers: cluster.bootstrapServers,
      groupId: unique('fb-rx'),
      topicPattern: `${prefix}-.*`,
      groupProtocol: 'consumer',
      maxWait: 100,
      logger: silentLogger,
    })
    try {
      const signal = AbortSignal.timeout(20_000)
      for (let i = 0; i < 10; i++) expect((await reader.fetchMessage({ signal })).topic).toBe(`${prefix}-a`)
      expect(reader.groupProtocol).toBe('classic')
    } finally {
      await reader.close()
    }
  })
})

describe('Reader options of the consumer protocol', () => {
  const base = { brokers: ['127.0.0.1:1'], groupId: 'g' }
  it.each([
    [{ ...base, topic: 't', groupProtocol: 'new' }, 'groupProtocol'],
    [{ ...base, topicPattern: 't(' }, 'topicPattern'],
    [{ ...base, topic: 't', groupProtocol: 'classic', groupRemoteAssignor: 'range' }, 'groupRemoteAssignor'],
    [{ ...base, topic: 't', groupProtocol: 'consumer', sessionTimeout: 10_000 }, 'sessionTimeout'],
    [{ ...base, topic: 't', topicPattern: 't.*', groupProtocol: 'consumer' }, 'topicPattern'],
    [{ ...base, topicPattern: '', groupProtocol: 'consumer' }, 'topicPattern'],
    [{ brokers: ['127.0.0.1:1'], topic: 't', groupProtocol: 'consumer' }, 'groupProtocol'],
  ])('refuses %j (%s)', (config, option) => {
    let error: unknown
    try {
      new Reader(config as never)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toContain(option)
  })
})

describe('Reader with groupProtocol consumer: revocation and fencing rules', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({
      brokers: 1,
      consumerGroupHeartbeatIntervalMs: 200,
      consumerGroupSessionTimeoutMs: 1500,
      consumerGroupAssignmentIntervalMs: 0,
    })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('waits for what is handed out up to rebalanceTimeout, then refuses the old messages of a revoked partition', async () => {
    const topic = unique('rv')
    const groupId = unique('rv-g')
    await createTopic(cluster.bootstrapServers, topic, 2, 1)
    await produce(cluster.bootstrapServers, topic, 40)
    const revokedA: TopicPartition[][] = []
    const assignedB: TopicPartition[][] = []
    const config = {
      brokers: cluster.bootstrapServers,
      groupId,
      topic,
      groupProtocol: 'consumer' as const,
      maxWait: 100,
    }
    const a = new Reader({ ...config, rebalanceTimeout: 1500, onRevoke: (p) => void revokedA.push(p) })
    let b: Reader | undefined
    try {
      const signal = AbortSignal.timeout(30_000)
      await waitFor(() => a.assignment().length === 2, 10_000, 'A to own both partitions')
      // Hold a message of each partition without committing it.
      const held = new Map<number, Awaited<ReturnType<Reader['fetchMessage']>>>()
      while (held.size < 2) {
        const m = await a.fetchMessage({ signal })
        if (!held.has(m.partition)) held.set(m.partition, m)
      }
      const started = Date.now()
      b = new Reader({ ...config, onAssign: (p) => void assignedB.push(p) })
      void b.fetchMessage({ signal }).catch(() => {})
      await waitFor(() => revokedA.length > 0, 10_000, 'A to revoke a partition')
      // A held a record of the partition: the revocation waited (80% of the rebalance timeout,
      // so that it reaches the coordinator in time) and A was not fenced meanwhile.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
      expect(revokedA).toHaveLength(1)
      const gone = revokedA[0]![0]!.partition
      await waitFor(() => assignedB.length > 0, 10_000, 'B to receive it')
      expect(assignedB[0]).toEqual([{ topic, partition: gone }])
      const error = await a.commitMessages(held.get(gone)!).catch((err: unknown) => err)
      expect(error).toBeInstanceOf(CommitRejectedError)
      expect((error as CommitRejectedError).reason).toBe('not-owned')
      // The partition A kept: its message commits under the newer member epoch.
      await a.commitMessages(held.get(1 - gone)!)
    } finally {
      await Promise.all([a.close(), b?.close()])
    }
  }, 60_000)

  it('a member holding records past maxPollInterval leaves: onLost, PollIntervalExceededError once, then it rejoins', async () => {
    const topic = unique('mp')
    await createTopic(cluster.bootstrapServers, topic, 1, 1)
    await produce(cluster.bootstrapServers, topic, 5)
    const groupId = unique('mp-g')
    const lost: TopicPartition[][] = []
    const reader = new Reader({
      brokers: cluster.bootstrapServers,
      groupId,
      topic,
      groupProtocol: 'consumer',
      maxWait: 100,
      maxPollInterval: 500,
      onLost: (p) => void lost.push(p),
    })
    try {
      const signal = AbortSignal.timeout(20_000)
      const held = await reader.fetchMessage({ signal })
      await waitFor(() => lost.length > 0, 10_000, 'onLost')
      // It left the group: the coordinator has no member any more.
      await waitFor(() => cluster.consumerGroups.get(groupId)?.members.size === 0, 5000, 'the member to leave')
      await expect(reader.fetchMessage({ signal })).rejects.toBeInstanceOf(PollIntervalExceededError)
      const again = await reader.fetchMessage({ signal })
      expect(again.offset).toBe(held.offset) // nothing was committed: read again from the start
      expect(cluster.consumerGroups.get(groupId)?.members.size).toBe(1)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('an assignment that fails to apply (committed offsets not readable) is applied again, not dropped', async () => {
    const topic = unique('ap')
    await createTopic(cluster.bootstrapServers, topic, 1, 1)
    await produce(cluster.bootstrapServers, topic, 3)
    // The coordinator sends an assignment once; the Reader must keep it until it is applied.
    cluster.faults.failNext('OffsetFetch', 2, 30 /* GROUP_AUTHORIZATION_FAILED */)
    const reader = new Reader({
      brokers: cluster.bootstrapServers,
      groupId: unique('ap-g'),
      topic,
      groupProtocol: 'consumer',
      maxWait: 100,
      logger: silentLogger,
    })
    try {
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(15_000) })
      expect(m.offset).toBe(0n)
    } finally {
      await reader.close()
    }
  }, 30_000)

  it('a member whose session times out loses its partitions: onLost, and its old messages are refused', async () => {
    const topic = unique('ft')
    await createTopic(cluster.bootstrapServers, topic, 1, 1)
    await produce(cluster.bootstrapServers, topic, 5)
    const lost: TopicPartition[][] = []
    const reader = new Reader({
      brokers: cluster.bootstrapServers,
      groupId: unique('ft-g'),
      topic,
      groupProtocol: 'consumer',
      maxWait: 100,
      onLost: (p) => void lost.push(p),
    })
    try {
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(10_000) })
      // Heartbeats answered after the session ended: the coordinator drops the member.
      cluster.faults.delay('ConsumerGroupHeartbeat', 2500, { count: 1 })
      await waitFor(() => lost.length > 0, 15_000, 'onLost')
      expect(lost[0]).toEqual([{ topic, partition: 0 }])
      const error = await reader.commitMessages(m).catch((err: unknown) => err)
      expect(error).toBeInstanceOf(CommitRejectedError)
      expect((error as CommitRejectedError).reason).toBe('fenced')
      // It joins again and reads on.
      await waitFor(() => reader.assignment().length === 1, 15_000, 'the member to rejoin')
    } finally {
      await reader.close()
    }
  }, 60_000)
})
