// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// The Admin against a 3-broker reference cluster, or real Kafka when KAFKA_BOOTSTRAP is set:
// topics (create with configs, validate-only, a batch where one topic fails, describe, add
// partitions, delete), configs (describe with sources, incremental set/delete), the cluster and
// its versions, log offsets, a consumer group's listing, members, lag, offset reset (refused
// while the group has members), offset deletion and group deletion, records deleted before an
// offset, and an idempotent producer's state; classic and KIP-848 groups described side by side. The oracle is the broker's own answers (Kafka's
// error codes, offsets a Writer/Reader produced and consumed), never numbers this file computes
// from the Admin itself.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import { AdminBatchError, GroupNotEmptyError } from '../../src/admin/errors.js'
import { Reader } from '../../src/consumer/reader.js'
import { KafkaError } from '../../src/errors.js'
import { AbortError, ClosedError } from '../../src/net/errors.js'
import { Writer } from '../../src/producer/writer.js'
import { produce, startTarget, unique, waitFor, type Target } from '../consumer/helpers.js'

let target: Target
let admin: Admin

beforeAll(async () => {
  target = await startTarget()
  admin = new Admin({ brokers: target.bootstrap, clientId: 'admin-test' })
}, 60_000)

afterAll(async () => {
  await admin?.close()
  await target?.stop()
})

const replication = (): number => Math.min(3, target.brokerIds.length)

describe('Admin topics', () => {
  it('creates topics with partitions, replication and configs, lists and describes them', async () => {
    const name = unique('adm-create')
    const [created] = await admin.createTopics(
      [{ name, partitions: 4, replicationFactor: replication(), configs: { 'cleanup.policy': 'compact' } }],
      { waitForLeaders: true },
    )
    expect(created).toMatchObject({ name, partitions: 4, replicationFactor: replication() })
    expect(created!.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(await admin.listTopics()).toContain(name)
    expect(await admin.listTopics()).not.toContain('__consumer_offsets')

    const [described] = await admin.describeTopics([name])
    expect(described!.topicId).toBe(created!.topicId)
    expect(described!.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3])
    for (const p of described!.partitions) {
      expect(target.brokerIds).toContain(p.leader)
      expect(p.replicas).toHaveLength(replication())
      expect(p.replicas).toContain(p.leader)
      expect(p.isr).toContain(p.leader)
    }

    const [configs] = await admin.describeConfigs([{ type: 'topic', name }])
    const policy = configs!.configs.find((c) => c.name === 'cleanup.policy')
    expect(policy).toMatchObject({ value: 'compact', source: 'DYNAMIC_TOPIC_CONFIG', isDefault: false })
    const retention = configs!.configs.find((c) => c.name === 'retention.ms')
    expect(retention?.isDefault).toBe(true)
  })

  it('validate-only creates nothing', async () => {
    const name = unique('adm-validate')
    const [result] = await admin.createTopics([{ name, partitions: 2, replicationFactor: 1 }], { validateOnly: true })
    expect(result!.name).toBe(name)
    expect(await admin.listTopics()).not.toContain(name)
  })

  it('a batch where one topic fails names it and why, and creates the others', async () => {
    const existing = unique('adm-exists')
    const fresh = unique('adm-fresh')
    const bad = unique('adm-bad')
    await admin.createTopics([{ name: existing, partitions: 1, replicationFactor: 1 }], { waitForLeaders: true })
    const err = await admin
      .createTopics([
        { name: existing, partitions: 1, replicationFactor: 1 },
        { name: fresh, partitions: 1, replicationFactor: 1 },
        { name: bad, partitions: 1, replicationFactor: 1, configs: { 'min.insync.replicas': 'abc' } },
      ])
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AdminBatchError)
    const batch = err as AdminBatchError
    expect([...batch.errors.keys()].sort()).toEqual([bad, existing].sort())
    expect(batch.errors.get(existing)).toMatchObject({ errorName: 'TOPIC_ALREADY_EXISTS', topic: existing })
    expect(batch.errors.get(bad)).toMatchObject({ errorName: 'INVALID_CONFIG', topic: bad })
    expect([...batch.results.keys()]).toEqual([fresh])
    expect(batch.message).toContain(existing)
    // Kafka's brokers learn a new topic one by one (DESIGN.md): wait for the one asked.
    await waitFor(async () => (await admin.listTopics()).includes(fresh), 20_000, 'fresh topic listed')
  })

  it('adds partitions, alters configs incrementally, deletes topics', async () => {
    const name = unique('adm-alter')
    await admin.createTopics([{ name, partitions: 1, replicationFactor: replication() }], { waitForLeaders: true })
    await admin.createPartitions([{ topic: name, count: 3 }])
    await waitFor(async () => (await admin.describeTopics([name]))[0]!.partitions.length === 3, 20_000, 'partitions')

    const lower = await admin.createPartitions([{ topic: name, count: 2 }]).catch((e: unknown) => e)
    expect((lower as AdminBatchError).errors.get(name)).toMatchObject({ errorName: 'INVALID_PARTITIONS' })

    await admin.alterConfigs([{ type: 'topic', name, set: { 'retention.ms': '3600000', 'segment.ms': '600000' } }])
    // Kafka's brokers apply a config change as the metadata log reaches them.
    const describe = async () =>
      (await admin.describeConfigs([{ type: 'topic', name }], { names: ['retention.ms', 'segment.ms'] }))[0]!
    // Kafka's brokers learn a config change one by one, and each describe may ask another broker:
    // wait until the values themselves show, and check that answer (asking again could reach a
    // broker still behind; seen on Kafka 4.0.1 and 3.9.2).
    let configs: Awaited<ReturnType<typeof describe>> | undefined
    await waitFor(
      async () => {
        configs = await describe()
        const seen = configs.configs
        return seen.every((c) => c.source === 'DYNAMIC_TOPIC_CONFIG') && seen.some((c) => c.value === '600000')
      },
      20_000,
      'configs set',
    )
    expect(configs!.configs.map((c) => [c.name, c.value, c.source])).toEqual([
      ['retention.ms', '3600000', 'DYNAMIC_TOPIC_CONFIG'],
      ['segment.ms', '600000', 'DYNAMIC_TOPIC_CONFIG'],
    ])
    await admin.alterConfigs([{ type: 'topic', name, delete: ['segment.ms'] }])
    await waitFor(
      async () => {
        configs = await describe()
        return configs.configs[1]!.isDefault
      },
      20_000,
      'segment.ms back to its default',
    )
    expect(configs!.configs.map((c) => [c.name, c.isDefault])).toEqual([
      ['retention.ms', false],
      ['segment.ms', true],
    ])

    await admin.deleteTopics([name])
    // Brokers learn the deletion one by one (a describe may ask one still behind: seen on Kafka
    // 3.9.2): wait until describing it fails, and check that answer.
    let missing: unknown
    await waitFor(
      async () => {
        missing = await admin.describeTopics([name]).then(
          () => undefined,
          (e: unknown) => e,
        )
        return missing !== undefined
      },
      20_000,
      'topic gone',
    )
    expect(missing).toBeInstanceOf(AdminBatchError)
    expect((missing as AdminBatchError).errors.get(name)).toMatchObject({ errorName: 'UNKNOWN_TOPIC_OR_PARTITION' })
    const again = await admin.deleteTopics([name]).catch((e: unknown) => e)
    expect((again as AdminBatchError).errors.get(name)).toMatchObject({ errorName: 'UNKNOWN_TOPIC_OR_PARTITION' })
  })
})

describe('Admin cluster and configs', () => {
  it('describes the cluster and what each broker speaks', async () => {
    const cluster = await admin.describeCluster()
    expect(cluster.brokers.map((b) => b.nodeId)).toEqual([...target.brokerIds].sort((a, b) => a - b))
    expect(cluster.clusterId).toEqual(expect.any(String))
    expect(target.brokerIds).toContain(cluster.controllerId)
    const versions = await admin.apiVersions(cluster.brokers[0]!.nodeId)
    const produceApi = versions.find((v) => v.name === 'Produce')
    expect(produceApi).toMatchObject({ apiKey: 0 })
    expect(produceApi!.used).toBeGreaterThanOrEqual(3)
    expect(produceApi!.used).toBeLessThanOrEqual(produceApi!.maxVersion)
  })

  it("describes a broker's configs from that broker", async () => {
    const id = String(target.brokerIds[0])
    const [configs] = await admin.describeConfigs([{ type: 'broker', name: id }], {
      names: ['num.partitions', 'log.retention.check.interval.ms'],
    })
    expect(configs!.type).toBe('broker')
    expect(configs!.configs.map((c) => c.name)).toEqual(['log.retention.check.interval.ms', 'num.partitions'])
    expect(configs!.configs.every((c) => c.value !== null && /^\d+$/.test(c.value))).toBe(true)
  })

  it('takes an AbortSignal on every call, and refuses calls once closed', async () => {
    const aborted = AbortSignal.abort()
    await expect(admin.listTopics({ signal: aborted })).rejects.toBeInstanceOf(AbortError)
    await expect(admin.describeCluster({ signal: aborted })).rejects.toBeInstanceOf(AbortError)
    await expect(admin.groupLag('nobody', { signal: aborted })).rejects.toBeInstanceOf(AbortError)
    const other = new Admin({ brokers: target.bootstrap })
    await other.close()
    expect(() => other.listTopics()).toThrow(ClosedError)
  })
})

describe('Admin offsets, groups and lag', () => {
  it('lists log offsets: earliest, latest, by time, max timestamp', async () => {
    const topic = unique('adm-offsets')
    await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: replication() }], {
      waitForLeaders: true,
    })
    const writer = new Writer({ brokers: target.bootstrap, topic })
    const t0 = Date.now() - 60_000
    try {
      await writer.writeMessages([
        { value: 'a', timestamp: t0 },
        { value: 'b', timestamp: t0 + 30_000 },
        { value: 'c', timestamp: t0 + 10_000 },
      ])
    } finally {
      await writer.close()
    }
    const tp = { topic, partition: 0 }
    const [earliest, latest, byTime, max, future] = await admin.listOffsets([
      { ...tp, spec: 'earliest' },
      { ...tp, spec: 'latest' },
      { ...tp, spec: { timestamp: t0 + 5_000 } },
      { ...tp, spec: 'max-timestamp' },
      { ...tp, spec: { timestamp: Date.now() + 3_600_000 } },
    ])
    expect(earliest!.offset).toBe(0n)
    expect(latest!.offset).toBe(3n)
    expect(byTime).toMatchObject({ offset: 1n, timestamp: BigInt(t0 + 30_000) })
    expect(max).toMatchObject({ offset: 1n, timestamp: BigInt(t0 + 30_000) })
    expect(future!.offset).toBeNull()
  })

  it('lists and describes a group, reports its lag, refuses a reset while members are active, resets once empty', async () => {
    const topic = unique('adm-lag')
    const groupId = unique('adm-group')
    await admin.createTopics([{ name: topic, partitions: 2, replicationFactor: replication() }], {
      waitForLeaders: true,
    })
    await produce(target.bootstrap, topic, 100)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, clientId: 'lag-reader', commitInterval: 0 })
    let readerClosed = false
    try {
      // Read and commit 40 of the 100 messages.
      for (let i = 0; i < 40; i++) {
        const m = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
        await reader.commitMessages(m)
      }
      const listed = (await admin.listGroups()).find((g) => g.groupId === groupId)
      // The default Reader joins with KIP-848 where the broker has it (Kafka 4, the reference
      // cluster); the group is then a 'consumer' group, which only ConsumerGroupDescribe describes.
      const kind = reader.groupProtocol
      expect(listed).toMatchObject({ protocolType: 'consumer', state: 'Stable' })
      if (kind === 'consumer') expect(listed!.type).toBe('consumer')
      else expect(['classic', '']).toContain(listed!.type)
      expect((await admin.listGroups({ states: ['Empty'] })).map((g) => g.groupId)).not.toContain(groupId)

      const [group] = await admin.describeGroups([groupId])
      expect(group).toMatchObject({ state: 'Stable', protocolType: 'consumer', type: kind })
      expect(group!.members).toHaveLength(1)
      expect(group!.members[0]).toMatchObject({
        clientId: 'lag-reader',
        topics: [topic],
        assignment: [{ topic, partitions: [0, 1] }],
      })
      if (kind === 'consumer') {
        // The member's epoch is the assignment's once it owns it (Stable).
        expect(group!.groupEpoch).toBeGreaterThan(0)
        expect(group!.members[0]!.memberEpoch).toBe(group!.assignmentEpoch)
      }

      const lag = await admin.groupLag(groupId)
      const ends = await reader.endOffsets([0, 1].map((partition) => ({ topic, partition })))
      const committed = await reader.committed([0, 1].map((partition) => ({ topic, partition })))
      expect(lag.state).toBe('Stable')
      expect(lag.partitions.map((p) => p.partition)).toEqual([0, 1])
      let expectedTotal = 0n
      for (const p of lag.partitions) {
        const end = ends.find((e) => e.partition === p.partition)!.offset!
        const done = committed.find((c) => c.partition === p.partition)?.offset ?? null
        expect(p.endOffset).toBe(end)
        expect(p.committedOffset).toBe(done)
        expect(p.lag).toBe(done === null ? null : end - done)
        expect(p.clientId).toBe('lag-reader')
        expectedTotal += done === null ? 0n : end - done
      }
      expect(lag.totalLag).toBe(expectedTotal)
      expect(ends.reduce((s, e) => s + e.offset!, 0n)).toBe(100n)
      expect(lag.partitions.reduce((s, p) => s + (p.committedOffset ?? 0n), 0n)).toBe(40n)

      const refused = await admin.resetGroupOffsets(groupId, { to: 'earliest' }).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(GroupNotEmptyError)
      expect(refused).toMatchObject({ groupId, state: 'Stable' })
      // The broker refuses an admin commit for a group with members, too.
      const direct = await admin
        .alterGroupOffsets(groupId, [{ topic, partition: 0, offset: 0 }])
        .catch((e: unknown) => e)
      expect(direct).toBeInstanceOf(AdminBatchError)
      expect((direct as AdminBatchError).errors.get(`${topic}-0`)).toBeInstanceOf(KafkaError)

      await reader.close()
      readerClosed = true
      await waitFor(async () => (await admin.describeGroups([groupId]))[0]!.state === 'Empty', 20_000, 'group empty')

      // By default, the partitions the group committed (kafka-consumer-groups.sh --all-topics).
      const dry = await admin.resetGroupOffsets(groupId, { to: 'earliest' }, { dryRun: true })
      expect(dry.map((r) => r.partition)).toEqual(committed.filter((c) => c.offset !== null).map((c) => c.partition))
      expect(dry.every((r) => r.offset === 0n)).toBe(true)
      expect((await admin.groupLag(groupId)).totalLag).toBe(expectedTotal)

      const reset = await admin.resetGroupOffsets(groupId, { to: 'earliest' }, { topics: [topic] })
      expect(reset.map((r) => [r.partition, r.offset])).toEqual([
        [0, 0n],
        [1, 0n],
      ])
      const afterReset = await admin.groupLag(groupId)
      expect(afterReset).toMatchObject({ state: 'Empty', totalLag: 100n })
      expect(afterReset.partitions.every((p) => p.memberId === null)).toBe(true)

      const toOffset = await admin.resetGroupOffsets(
        groupId,
        { to: 'offset', offset: 1_000_000 },
        { topics: [{ topic, partition: 0 }] },
      )
      expect(toOffset).toEqual([
        { topic, partition: 0, previous: 0n, offset: ends.find((e) => e.partition === 0)!.offset! },
      ])
      const shifted = await admin.resetGroupOffsets(groupId, { to: 'shift', by: -5 }, { topics: [topic] })
      expect(shifted[0]!.offset).toBe(ends.find((e) => e.partition === 0)!.offset! - 5n)
      expect(shifted[1]!.offset).toBe(0n) // clamped to the log start
      const latest = await admin.resetGroupOffsets(groupId, { to: 'latest' }, { topics: [topic] })
      expect(latest.map((r) => r.offset)).toEqual(ends.map((e) => e.offset))
      expect((await admin.groupLag(groupId)).totalLag).toBe(0n)
      const byTime = await admin.resetGroupOffsets(groupId, { to: 'timestamp', timestamp: 0 })
      expect(byTime.map((r) => r.offset)).toEqual([0n, 0n])

      // A group that does not exist yet can be given offsets (kafka-consumer-groups.sh allows it).
      const fresh = unique('adm-fresh-group')
      await admin.resetGroupOffsets(fresh, { to: 'latest' }, { topics: [topic] })
      const freshCommitted = await admin.committedOffsets(fresh)
      expect(freshCommitted.map((c) => c.offset)).toEqual(ends.map((e) => e.offset))

      await admin.deleteGroupOffsets(groupId, [{ topic, partition: 1 }])
      const left = await admin.committedOffsets(groupId)
      expect(left.map((c) => c.partition)).toEqual([0])

      await admin.deleteGroups([groupId, fresh])
      expect((await admin.listGroups()).map((g) => g.groupId)).not.toContain(groupId)
      const gone = await admin.deleteGroups([groupId]).catch((e: unknown) => e)
      expect((gone as AdminBatchError).errors.get(groupId)).toMatchObject({ errorName: 'GROUP_ID_NOT_FOUND', groupId })
    } finally {
      if (!readerClosed) await reader.close()
    }
  })
})

describe('Admin describes both kinds of group', () => {
  it('describes a classic group and a consumer group side by side, and a missing one as GROUP_ID_NOT_FOUND', async () => {
    const topic = unique('adm-kinds')
    const classicId = unique('adm-classic')
    const consumerId = unique('adm-consumer')
    await admin.createTopics([{ name: topic, partitions: 3, replicationFactor: replication() }], {
      waitForLeaders: true,
    })
    await produce(target.bootstrap, topic, 30)
    const classic = new Reader({
      brokers: target.bootstrap,
      groupId: classicId,
      topic,
      clientId: 'kinds-classic',
      groupProtocol: 'classic',
    })
    const modern = new Reader({ brokers: target.bootstrap, groupId: consumerId, topic, clientId: 'kinds-consumer' })
    try {
      await classic.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      await modern.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      expect(classic.groupProtocol).toBe('classic')
      const modernKind = modern.groupProtocol
      const everything = [{ topic, partitions: [0, 1, 2] }]
      // Wait until both groups settled (a KIP-848 member may still be reconciling).
      await waitFor(
        async () => (await admin.describeGroups([classicId, consumerId])).every((g) => g.state === 'Stable'),
        20_000,
        'both groups stable',
      )
      const [c, m] = await admin.describeGroups([classicId, consumerId])
      expect(c).toMatchObject({
        groupId: classicId,
        type: 'classic',
        protocolType: 'consumer',
        groupEpoch: null,
        assignmentEpoch: null,
      })
      expect(c!.protocol).not.toBe('')
      expect(c!.members).toEqual([
        expect.objectContaining({
          clientId: 'kinds-classic',
          topics: [topic],
          assignment: everything,
          memberEpoch: null,
        }),
      ])
      expect(m).toMatchObject({ groupId: consumerId, type: modernKind, protocolType: 'consumer' })
      expect(m!.protocol).not.toBe('')
      expect(m!.members).toEqual([
        expect.objectContaining({ clientId: 'kinds-consumer', topics: [topic], assignment: everything }),
      ])
      expect(m!.members[0]!.clientHost).not.toBe('')

      const missing = unique('adm-missing')
      const err = await admin.describeGroups([consumerId, missing]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(AdminBatchError)
      expect((err as AdminBatchError).errors.get(missing)).toMatchObject({ errorName: 'GROUP_ID_NOT_FOUND' })
      expect((err as AdminBatchError).errors.has(consumerId)).toBe(false)

      // Lag names each partition's owner in either kind of group.
      for (const [groupId, clientId] of [
        [classicId, 'kinds-classic'],
        [consumerId, 'kinds-consumer'],
      ] as const) {
        const lag = await admin.groupLag(groupId)
        expect(lag.partitions.map((p) => p.partition)).toEqual([0, 1, 2])
        expect(lag.partitions.every((p) => p.clientId === clientId)).toBe(true)
      }
    } finally {
      await classic.close()
      await modern.close()
    }
  })
})

describe('Admin records and producers', () => {
  it('deletes records before an offset and describes the idempotent producer', async () => {
    const topic = unique('adm-records')
    await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: replication() }], {
      waitForLeaders: true,
    })
    const writer = new Writer({ brokers: target.bootstrap, topic })
    try {
      for (let i = 0; i < 3; i++) await writer.writeMessages([{ value: `${i}` }, { value: `${i}b` }])
    } finally {
      await writer.close()
    }
    const [producers] = await admin.describeProducers([{ topic, partition: 0 }])
    expect(producers!.producers).toHaveLength(1)
    expect(producers!.producers[0]).toMatchObject({ lastSequence: 5, currentTransactionStartOffset: null })
    expect(producers!.producers[0]!.producerId).toBeGreaterThanOrEqual(0n)

    const [deleted] = await admin.deleteRecords([{ topic, partition: 0, offset: 4 }])
    expect(deleted).toEqual({ topic, partition: 0, lowWatermark: 4n })
    const [earliest] = await admin.listOffsets([{ topic, partition: 0, spec: 'earliest' }])
    expect(earliest!.offset).toBe(4n)

    const beyond = await admin.deleteRecords([{ topic, partition: 0, offset: 100 }]).catch((e: unknown) => e)
    expect((beyond as AdminBatchError).errors.get(`${topic}-0`)).toMatchObject({ errorName: 'OFFSET_OUT_OF_RANGE' })
    const [all] = await admin.deleteRecords([{ topic, partition: 0, offset: -1 }])
    expect(all!.lowWatermark).toBe(6n)
  })
})
