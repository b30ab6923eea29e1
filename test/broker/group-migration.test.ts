// group.consumer.migration.policy on the reference broker (group-migration.ts), beyond the
// sequence captured from Kafka (group-migration-answers.test.ts): Kafka's four policy values
// (ConsumerGroupMigrationPolicy: bidirectional, upgrade, downgrade, disabled) and what each
// refuses, a downgrade when the last consumer-protocol member's session expires, and a consumer
// group kept across a restart with `dataDir` (its type and group epoch, as Kafka keeps them in
// __consumer_offsets; members rejoin here).

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import type { ClusterOptions } from '../../src/broker/config.js'
import { encodeAssignment, encodeSubscription } from '../../src/consumer/assignors/consumer-protocol.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { ConsumerGroupHeartbeat } from '../../src/protocol/messages/consumer-group-heartbeat.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { JoinGroup } from '../../src/protocol/messages/join-group.js'
import { ListGroups } from '../../src/protocol/messages/list-groups.js'
import { SyncGroup } from '../../src/protocol/messages/sync-group.js'
import { TestClient, waitFor } from './helpers.js'

const T = 'mig'

describe('group.consumer.migration.policy', () => {
  let cluster: Cluster | undefined
  let c: TestClient | undefined
  afterEach(async () => {
    c?.close()
    await cluster?.stop()
    cluster = undefined
    c = undefined
  })

  const start = async (options: ClusterOptions) => {
    cluster = await Cluster.start({
      coordinatorLoadRequests: 0,
      brokers: 1,
      groupInitialRebalanceDelayMs: 0,
      consumerGroupAssignmentIntervalMs: 0,
      ...options,
    })
    c = await TestClient.connect(cluster.bootstrapServers[0]!)
    await c.send(CreateTopics, 7, { topics: [{ name: T, numPartitions: 2, replicationFactor: 1 }] })
    return { cluster, c }
  }

  /** A classic group with one member owning both partitions; its member id. */
  const classicGroup = async (client: TestClient, groupId: string): Promise<string> => {
    const join = (memberId: string) =>
      client.send(JoinGroup, 9, {
        groupId,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: encodeSubscription({ topics: [T] }) }],
      })
    const first = await join('')
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED)
    const joined = await join(first.memberId)
    expect(joined.errorCode).toBe(0)
    const synced = await client.send(SyncGroup, 5, {
      groupId,
      generationId: joined.generationId,
      memberId: joined.memberId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: joined.memberId, assignment: encodeAssignment(new Map([[T, [0, 1]]])) }],
    })
    expect(synced.errorCode).toBe(0)
    return joined.memberId
  }
  const beat = (client: TestClient, groupId: string, memberEpoch: number, extra: Record<string, unknown> = {}) =>
    client.send(ConsumerGroupHeartbeat, 1, {
      groupId,
      memberId: 'm1',
      memberEpoch,
      rebalanceTimeoutMs: memberEpoch === 0 ? 10_000 : -1,
      subscribedTopicNames: memberEpoch === 0 ? [T] : null,
      topicPartitions: memberEpoch === 0 ? [] : null,
      ...extra,
    })
  const groupType = async (client: TestClient, groupId: string) =>
    (await client.send(ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups.find((g) => g.groupId === groupId)
      ?.groupType

  it('disabled: a classic group with members is not upgraded (GROUP_ID_NOT_FOUND)', async () => {
    const { c } = await start({ consumerGroupMigrationPolicy: 'disabled' })
    await classicGroup(c, 'g-disabled')
    const r = await beat(c, 'g-disabled', 0)
    expect(r.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND)
    expect(await groupType(c, 'g-disabled')).toBe('classic')
  })

  it('downgrade only: no upgrade either', async () => {
    const { c } = await start({ consumerGroupMigrationPolicy: 'downgrade' })
    await classicGroup(c, 'g-down')
    expect((await beat(c, 'g-down', 0)).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND)
  })

  it('upgrade only: upgraded, but the last consumer-protocol member leaving leaves a consumer group', async () => {
    const { cluster, c } = await start({ consumerGroupMigrationPolicy: 'upgrade' })
    await classicGroup(c, 'g-up')
    const joined = await beat(c, 'g-up', 0)
    expect(joined.errorCode).toBe(0)
    expect(await groupType(c, 'g-up')).toBe('consumer')
    expect((await beat(c, 'g-up', -1, { memberEpoch: -1 })).errorCode).toBe(0)
    expect(await groupType(c, 'g-up')).toBe('consumer')
    expect(cluster.consumerGroups.get('g-up')?.members.size).toBe(1)
  })

  it('bidirectional (the default): the consumer member whose session expires downgrades the group', async () => {
    const { cluster, c } = await start({ consumerGroupSessionTimeoutMs: 300 })
    expect(cluster.options.consumerGroupMigrationPolicy).toBe('bidirectional')
    const classic = await classicGroup(c, 'g-expire')
    expect((await beat(c, 'g-expire', 0)).errorCode).toBe(0)
    expect(await groupType(c, 'g-expire')).toBe('consumer')
    // The classic member keeps its own (10 s) session; m1 stops heartbeating.
    await waitFor(async () => (await groupType(c, 'g-expire')) === 'classic', 5000, 'the downgrade')
    const g = cluster.groups.get('g-expire')!
    expect([...g.members.keys()]).toEqual([classic])
    expect(g.state).toBe('PreparingRebalance')
  })

  it('refuses an unknown policy', async () => {
    await expect(Cluster.start({ consumerGroupMigrationPolicy: 'sideways' as unknown as 'disabled' })).rejects.toThrow(
      /consumerGroupMigrationPolicy must be one of bidirectional, upgrade, downgrade, disabled/,
    )
  })
})

describe('a consumer group across a restart with dataDir', () => {
  it('keeps its type and group epoch; the next member gets the next epoch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kafkats-migration-'))
    try {
      const options = { coordinatorLoadRequests: 0, brokers: 1, dataDir: dir, consumerGroupAssignmentIntervalMs: 0 }
      let cluster = await Cluster.start(options)
      let c = await TestClient.connect(cluster.bootstrapServers[0]!)
      await c.send(CreateTopics, 7, { topics: [{ name: T, numPartitions: 2, replicationFactor: 1 }] })
      const beat = (memberId: string, memberEpoch: number) =>
        c.send(ConsumerGroupHeartbeat, 1, {
          groupId: 'g-kept',
          memberId,
          memberEpoch,
          rebalanceTimeoutMs: memberEpoch === 0 ? 10_000 : -1,
          subscribedTopicNames: memberEpoch === 0 ? [T] : null,
          topicPartitions: memberEpoch === 0 ? [] : null,
        })
      expect((await beat('a', 0)).memberEpoch).toBe(2)
      expect((await beat('b', 0)).memberEpoch).toBe(3)
      c.close()
      await cluster.stop()

      cluster = await Cluster.start(options)
      c = await TestClient.connect(cluster.bootstrapServers[0]!)
      const listed = await c.send(ListGroups, 5, { statesFilter: [], typesFilter: [] })
      expect(listed.groups.find((g) => g.groupId === 'g-kept')).toMatchObject({
        groupType: 'consumer',
        groupState: 'Empty',
      })
      expect((await beat('c', 0)).memberEpoch).toBe(4)
      c.close()
      await cluster.stop()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
