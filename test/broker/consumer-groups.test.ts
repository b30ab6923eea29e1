// The KIP-848 coordinator's timers and group lifecycle, beyond the sequence captured from Kafka
// (consumer-groups-answers.test.ts): session and rebalance timeouts, topics created under a
// regex subscription, DeleteGroups, ListGroups and the way back to a classic group.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { ConsumerGroupHeartbeat } from '../../src/protocol/messages/consumer-group-heartbeat.js'
import { CreatePartitions } from '../../src/protocol/messages/create-partitions.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { DeleteGroups } from '../../src/protocol/messages/delete-groups.js'
import { JoinGroup } from '../../src/protocol/messages/join-group.js'
import { ListGroups } from '../../src/protocol/messages/list-groups.js'
import { sleep, TestClient, waitFor } from './helpers.js'

// Raw requests with exact answers expected: the clusters start with their group coordinators
// loaded (coordinatorLoadRequests: 0); the clients' retries of a load are tested elsewhere.
describe('consumer groups (KIP-848) on the reference broker', () => {
  let cluster: Cluster
  let c: TestClient
  const ids = new Map<string, string>()
  beforeAll(async () => {
    cluster = await Cluster.start({
      coordinatorLoadRequests: 0,
      brokers: 1,
      consumerGroupAssignmentIntervalMs: 0,
      consumerGroupSessionTimeoutMs: 400,
      consumerGroupHeartbeatIntervalMs: 100,
    })
    c = await TestClient.connect(cluster.bootstrapServers[0]!)
    await c.send(CreateTopics, 7, {
      topics: [
        { name: 'kt', numPartitions: 2, replicationFactor: 1 },
        { name: 'kr-1', numPartitions: 1, replicationFactor: 1 },
      ],
    })
    for (const t of cluster.topics.all()) ids.set(t.name, t.id)
  })
  afterAll(async () => {
    c.close()
    await cluster.stop()
  })

  const beat = (groupId: string, memberId: string, memberEpoch: number, extra: Record<string, unknown> = {}) =>
    c.send(ConsumerGroupHeartbeat, 1, {
      groupId,
      memberId,
      memberEpoch,
      rebalanceTimeoutMs: memberEpoch === 0 ? 300 : -1,
      subscribedTopicNames: memberEpoch === 0 && !('subscribedTopicRegex' in extra) ? ['kt'] : null,
      topicPartitions: memberEpoch === 0 ? [] : null,
      ...extra,
    })
  const owned = (topic: string, partitions: number[]) => ({
    topicPartitions: [{ topicId: ids.get(topic)!, partitions }],
  })

  it('removes a member whose session times out; its partitions go to the others', async () => {
    const a = await beat('g-session', 'a', 0)
    expect(a.assignment?.topicPartitions[0]?.partitions).toEqual([0, 1])
    const b = await beat('g-session', 'b', 0)
    // A gives one up and acknowledges; then it stops heartbeating.
    const revoke = await beat('g-session', 'a', a.memberEpoch, owned('kt', [0, 1]))
    expect(revoke.assignment?.topicPartitions[0]?.partitions).toEqual([0])
    await beat('g-session', 'a', a.memberEpoch, owned('kt', [0]))
    let epoch = b.memberEpoch
    await waitFor(
      async () => {
        const r = await beat('g-session', 'b', epoch, owned('kt', []))
        epoch = r.memberEpoch
        await sleep(50)
        return r.assignment !== null && r.assignment.topicPartitions[0]?.partitions.length === 2
      },
      3000,
      'B to receive both partitions',
    )
    expect((await beat('g-session', 'a', a.memberEpoch + 1)).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('removes a member that does not revoke within its rebalance timeout', async () => {
    const a = await beat('g-rebalance', 'a', 0)
    const b = await beat('g-rebalance', 'b', 0)
    expect(b.assignment?.topicPartitions ?? []).toEqual([])
    const revoke = await beat('g-rebalance', 'a', a.memberEpoch, owned('kt', [0, 1]))
    expect(revoke.assignment?.topicPartitions[0]?.partitions).toEqual([0])
    // A keeps heartbeating (its session lives) but still owns partition 1 past 300 ms; B waits.
    await sleep(150)
    expect((await beat('g-rebalance', 'a', a.memberEpoch, owned('kt', [0, 1]))).errorCode).toBe(0)
    expect((await beat('g-rebalance', 'b', b.memberEpoch, owned('kt', []))).assignment).toBeNull()
    await sleep(250)
    expect((await beat('g-rebalance', 'a', a.memberEpoch, owned('kt', [0, 1]))).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    )
    const r = await beat('g-rebalance', 'b', b.memberEpoch, owned('kt', []))
    expect(r.assignment?.topicPartitions[0]?.partitions).toEqual([0, 1])
  })

  it('bumps the group epoch for a topic created under a regex and for new partitions', async () => {
    const r = await beat('g-regex', 'r', 0, { subscribedTopicRegex: 'kr-.*' })
    expect(r.assignment?.topicPartitions.map((t) => t.topicId)).toEqual([ids.get('kr-1')])
    await c.send(CreateTopics, 7, { topics: [{ name: 'kr-2', numPartitions: 1, replicationFactor: 1 }] })
    await c.send(CreatePartitions, 3, { topics: [{ name: 'kr-1', count: 2, assignments: null }], timeoutMs: 5000 })
    const next = await beat('g-regex', 'r', r.memberEpoch, owned('kr-1', [0]))
    expect(next.memberEpoch).toBe(r.memberEpoch + 1)
    const got = next.assignment?.topicPartitions.map((t) => [cluster.topics.getById(t.topicId)?.name, t.partitions])
    expect(new Map(got as [string, number[]][])).toEqual(
      new Map([
        ['kr-1', [0, 1]],
        ['kr-2', [0]],
      ]),
    )
  })

  it('lists consumer groups, refuses to delete one with members, and turns an empty one back into a classic group', async () => {
    const a = await beat('g-life', 'a', 0)
    const listed = await c.send(ListGroups, 5, { statesFilter: [], typesFilter: ['consumer'] })
    expect(listed.groups.find((g) => g.groupId === 'g-life')).toMatchObject({
      groupType: 'consumer',
      protocolType: 'consumer',
      groupState: 'Stable',
    })
    const classicOnly = await c.send(ListGroups, 5, { statesFilter: [], typesFilter: ['classic'] })
    expect(classicOnly.groups.some((g) => g.groupId === 'g-life')).toBe(false)
    const del = await c.send(DeleteGroups, 2, { groupsNames: ['g-life'] })
    expect(del.results[0]!.errorCode).toBe(ErrorCode.NON_EMPTY_GROUP)
    const joinClassic = () =>
      c.send(JoinGroup, 9, {
        groupId: 'g-life',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      })
    // A classic member may join a consumer group with members (group-migration.ts): first a member id.
    expect((await joinClassic()).errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED)
    expect(cluster.consumerGroups.get('g-life')?.members.size).toBe(1)
    expect((await beat('g-life', 'a', -1)).memberEpoch).toBe(-1)
    expect((await joinClassic()).errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED)
    expect(cluster.consumerGroups.get('g-life')).toBeUndefined()
    void a
  })
})

describe('topic regexes (RE2/J syntax, matched against whole names)', () => {
  it.each([
    ['orders-.*', 'orders-eu', true],
    ['orders-.*', 'my-orders-eu', false],
    ['orders|payments', 'payments', true],
    ['[a-z]+', 'abc1', false],
  ])('%s against %s: %s', async (source, name, matches) => {
    const { compileTopicRegex } = await import('../../src/broker/consumer-groups.js')
    expect(compileTopicRegex(source)?.test(name)).toBe(matches)
  })

  it.each(['(a)\\1', '(?=a)a', '(?<!b)a', '(?<n>a)\\k<n>', '['])(
    'refuses %s, which RE2/J does not accept',
    async (source) => {
      const { compileTopicRegex } = await import('../../src/broker/consumer-groups.js')
      expect(compileTopicRegex(source)).toBeUndefined()
    },
  )
})
