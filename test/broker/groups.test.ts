// The classic group coordinator and committed offsets over the raw protocol.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { DeleteGroups } from '../../src/protocol/messages/delete-groups.js'
import { DescribeGroups } from '../../src/protocol/messages/describe-groups.js'
import { FindCoordinator } from '../../src/protocol/messages/find-coordinator.js'
import { Heartbeat } from '../../src/protocol/messages/heartbeat.js'
import { JoinGroup, type JoinGroupResponse } from '../../src/protocol/messages/join-group.js'
import { LeaveGroup } from '../../src/protocol/messages/leave-group.js'
import { ListGroups } from '../../src/protocol/messages/list-groups.js'
import { OffsetCommit } from '../../src/protocol/messages/offset-commit.js'
import { OffsetDelete } from '../../src/protocol/messages/offset-delete.js'
import { OffsetFetch } from '../../src/protocol/messages/offset-fetch.js'
import { SyncGroup } from '../../src/protocol/messages/sync-group.js'
import { ConsumerProtocolSubscription } from '../../src/protocol/messages/consumer-protocol-subscription.js'
import { Writer } from '../../src/protocol/writer.js'
import { sleep, TestClient } from './helpers.js'

function subscription(topics: string[]): Buffer {
  const w = new Writer()
  w.int16(0)
  ConsumerProtocolSubscription.encode(w, 0, { topics })
  return w.toBuffer()
}

const protocols = (topics: string[] = ['gt']) => [{ name: 'range', metadata: subscription(topics) }]

// Raw requests with exact answers expected: the clusters start with their group coordinators
// loaded (coordinatorLoadRequests: 0); the clients' retries of a load are tested elsewhere.
describe('group coordinator', () => {
  let cluster: Cluster
  let c: TestClient
  beforeAll(async () => {
    cluster = await Cluster.start({
      coordinatorLoadRequests: 0,
      brokers: 1,
      groupInitialRebalanceDelayMs: 0,
      groupMinSessionTimeoutMs: 100,
    })
    c = await TestClient.connect(cluster.bootstrapServers[0]!)
    await c.send(CreateTopics, 7, { topics: [{ name: 'gt', numPartitions: 3, replicationFactor: 1 }] })
  })
  afterAll(async () => {
    c.close()
    await cluster.stop()
  })

  async function join(
    client: TestClient,
    groupId: string,
    memberId = '',
    opts: { instanceId?: string; session?: number; rebalance?: number; version?: number } = {},
  ): Promise<JoinGroupResponse> {
    return client.send(JoinGroup, opts.version ?? 9, {
      groupId,
      sessionTimeoutMs: opts.session ?? 10_000,
      rebalanceTimeoutMs: opts.rebalance ?? 5_000,
      memberId,
      groupInstanceId: opts.instanceId ?? null,
      protocolType: 'consumer',
      protocols: protocols(),
    })
  }

  /** JoinGroup v4+ needs two round trips for a new dynamic member. */
  async function joinNew(client: TestClient, groupId: string): Promise<JoinGroupResponse> {
    const first = await join(client, groupId)
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED)
    expect(first.memberId).not.toBe('')
    return join(client, groupId, first.memberId)
  }

  it('FindCoordinator: v0-3 single key, v4+ batched, groups and transactions', async () => {
    for (let v = 0; v <= 3; v++) {
      const r = await c.send(FindCoordinator, v, { key: 'g1', keyType: 0 })
      expect(r).toMatchObject({ errorCode: 0, nodeId: 0, port: cluster.brokers[0]!.port })
    }
    const batched = await c.send(FindCoordinator, 6, { keyType: 1, coordinatorKeys: ['t1', 't2'] })
    expect(batched.coordinators.map((x) => [x.key, x.errorCode, x.nodeId])).toEqual([
      ['t1', 0, 0],
      ['t2', 0, 0],
    ])
    const bad = await c.send(FindCoordinator, 6, { keyType: 5, coordinatorKeys: ['x'] })
    expect(bad.coordinators[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST)
  })

  it('one member: MEMBER_ID_REQUIRED, join, sync, heartbeat, commit, leave', async () => {
    const joined = await joinNew(c, 'g1')
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', protocolType: 'consumer' })
    expect(joined.leader).toBe(joined.memberId)
    expect(joined.members).toHaveLength(1)
    const memberId = joined.memberId
    const sync = await c.send(SyncGroup, 5, {
      groupId: 'g1',
      generationId: 1,
      memberId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId, assignment: Buffer.from('mine') }],
    })
    expect(sync).toMatchObject({ errorCode: 0, protocolName: 'range' })
    // v5 requires the protocol type and name.
    const noType = await c.send(SyncGroup, 5, { groupId: 'g1', generationId: 1, memberId, assignments: [] })
    expect(noType.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    expect(sync.assignment.toString()).toBe('mine')
    expect((await c.send(Heartbeat, 4, { groupId: 'g1', generationId: 1, memberId })).errorCode).toBe(0)
    expect((await c.send(Heartbeat, 4, { groupId: 'g1', generationId: 0, memberId })).errorCode).toBe(
      ErrorCode.ILLEGAL_GENERATION,
    )
    expect((await c.send(Heartbeat, 4, { groupId: 'g1', generationId: 1, memberId: 'nobody' })).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    )

    const commit = await c.send(OffsetCommit, 9, {
      groupId: 'g1',
      generationIdOrMemberEpoch: 1,
      memberId,
      topics: [
        {
          name: 'gt',
          partitions: [
            { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 0, committedMetadata: 'meta' },
            { partitionIndex: 7, committedOffset: 1n },
          ],
        },
        { name: 'nope', partitions: [{ partitionIndex: 0, committedOffset: 1n }] },
      ],
    })
    expect(commit.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([
      [0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ])
    const stale = await c.send(OffsetCommit, 9, {
      groupId: 'g1',
      generationIdOrMemberEpoch: 0,
      memberId,
      topics: [{ name: 'gt', partitions: [{ partitionIndex: 0, committedOffset: 1n }] }],
    })
    expect(stale.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION)
    const unknownMember = await c.send(OffsetCommit, 9, {
      groupId: 'g1',
      generationIdOrMemberEpoch: 1,
      memberId: 'x',
      topics: [{ name: 'gt', partitions: [{ partitionIndex: 0, committedOffset: 1n }] }],
    })
    expect(unknownMember.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)

    const fetched = await c.send(OffsetFetch, 7, { groupId: 'g1', topics: [{ name: 'gt', partitionIndexes: [0, 1] }] })
    expect(fetched.topics[0]!.partitions).toMatchObject([
      { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 0, metadata: 'meta', errorCode: 0 },
      { partitionIndex: 1, committedOffset: -1n, errorCode: 0 },
    ])
    const batched = await c.send(OffsetFetch, 9, {
      groups: [
        { groupId: 'g1', topics: null },
        { groupId: 'unknown-group', topics: [{ name: 'gt', partitionIndexes: [0] }] },
      ],
    })
    expect(batched.groups[0]!.topics[0]!.partitions).toMatchObject([{ partitionIndex: 0, committedOffset: 42n }])
    expect(batched.groups[1]!.topics[0]!.partitions[0]).toMatchObject({ committedOffset: -1n, errorCode: 0 })

    const described = await c.send(DescribeGroups, 5, { groups: ['g1', 'missing'], includeAuthorizedOperations: true })
    expect(described.groups[0]).toMatchObject({ groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' })
    expect(described.groups[0]!.members[0]!.memberAssignment.toString()).toBe('mine')
    expect(described.groups[1]).toMatchObject({ groupState: 'Dead', errorCode: 0 })
    const v6 = await c.send(DescribeGroups, 6, { groups: ['missing'] })
    expect(v6.groups[0]!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND)

    const listed = await c.send(ListGroups, 5, { statesFilter: ['stable'] })
    expect(listed.groups.map((g) => [g.groupId, g.groupState, g.groupType])).toEqual([['g1', 'Stable', 'classic']])

    expect((await c.send(DeleteGroups, 2, { groupsNames: ['g1'] })).results[0]!.errorCode).toBe(
      ErrorCode.NON_EMPTY_GROUP,
    )
    const left = await c.send(LeaveGroup, 5, {
      groupId: 'g1',
      members: [
        { memberId, groupInstanceId: null },
        { memberId: 'ghost', groupInstanceId: null },
      ],
    })
    expect(left.members.map((m) => m.errorCode)).toEqual([0, ErrorCode.UNKNOWN_MEMBER_ID])
    expect(cluster.groups.get('g1')!.state).toBe('Empty')
    // Committed offsets outlive the members.
    const after = await c.send(OffsetFetch, 7, { groupId: 'g1', topics: [{ name: 'gt', partitionIndexes: [0] }] })
    expect(after.topics[0]!.partitions[0]!.committedOffset).toBe(42n)
    // Simple commits (generation -1) are accepted while the group is empty.
    const simple = await c.send(OffsetCommit, 9, {
      groupId: 'g1',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: 'gt', partitions: [{ partitionIndex: 1, committedOffset: 7n }] }],
    })
    expect(simple.topics[0]!.partitions[0]!.errorCode).toBe(0)
    const offDel = await c.send(OffsetDelete, 0, {
      groupId: 'g1',
      topics: [{ name: 'gt', partitions: [{ partitionIndex: 1 }] }],
    })
    expect(offDel.topics[0]!.partitions[0]!.errorCode).toBe(0)
    expect((await c.send(DeleteGroups, 2, { groupsNames: ['g1', 'never'] })).results.map((r) => r.errorCode)).toEqual([
      0,
      ErrorCode.GROUP_ID_NOT_FOUND,
    ])
  })

  it('commits to a group that does not exist: simple groups with -1, else GROUP_ID_NOT_FOUND (v9) / ILLEGAL_GENERATION', async () => {
    const body = (gen: number) => ({
      groupId: 'fresh',
      generationIdOrMemberEpoch: gen,
      memberId: '',
      topics: [{ name: 'gt', partitions: [{ partitionIndex: 0, committedOffset: 3n }] }],
    })
    expect((await c.send(OffsetCommit, 9, body(5))).topics[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.GROUP_ID_NOT_FOUND,
    )
    expect((await c.send(OffsetCommit, 8, body(5))).topics[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.ILLEGAL_GENERATION,
    )
    expect((await c.send(OffsetCommit, 2, body(-1))).topics[0]!.partitions[0]!.errorCode).toBe(0)
    expect(cluster.groups.get('fresh')!.state).toBe('Empty')
  })

  it('two members: the rebalance waits for both, the leader assigns, heartbeats report REBALANCE_IN_PROGRESS', async () => {
    const c2 = await TestClient.connect(cluster.bootstrapServers[0]!)
    const a = await joinNew(c, 'g2')
    const aId = a.memberId
    await c.send(SyncGroup, 5, {
      protocolType: 'consumer',
      protocolName: 'range',
      groupId: 'g2',
      generationId: a.generationId,
      memberId: aId,
      assignments: [{ memberId: aId, assignment: Buffer.from('a') }],
    })
    // B joins: the group prepares a rebalance and A learns it from its heartbeat.
    const bFirst = await join(c2, 'g2')
    const bJoin = join(c2, 'g2', bFirst.memberId)
    await sleep(20)
    expect((await c.send(Heartbeat, 4, { groupId: 'g2', generationId: 1, memberId: aId })).errorCode).toBe(
      ErrorCode.REBALANCE_IN_PROGRESS,
    )
    const aJoin = join(c, 'g2', aId)
    const [aj, bj] = await Promise.all([aJoin, bJoin])
    expect(aj.generationId).toBe(2)
    expect(bj.generationId).toBe(2)
    expect(aj.leader).toBe(aId)
    expect(aj.members.map((m) => m.memberId).sort()).toEqual([aId, bj.memberId].sort())
    expect(bj.members).toEqual([])
    // The follower's SyncGroup waits for the leader's.
    const bSync = c2.send(SyncGroup, 5, {
      protocolType: 'consumer',
      protocolName: 'range',
      groupId: 'g2',
      generationId: 2,
      memberId: bj.memberId,
      assignments: [],
    })
    await sleep(20)
    const aSync = await c.send(SyncGroup, 5, {
      protocolType: 'consumer',
      protocolName: 'range',
      groupId: 'g2',
      generationId: 2,
      memberId: aId,
      assignments: [
        { memberId: aId, assignment: Buffer.from('A') },
        { memberId: bj.memberId, assignment: Buffer.from('B') },
      ],
    })
    expect(aSync.assignment.toString()).toBe('A')
    expect((await bSync).assignment.toString()).toBe('B')
    // An older protocol version leaves B (v0-2 body).
    const leave = await c2.send(LeaveGroup, 2, { groupId: 'g2', memberId: bj.memberId })
    expect(leave.errorCode).toBe(0)
    expect(cluster.groups.get('g2')!.state).toBe('PreparingRebalance')
    const rejoin = await join(c, 'g2', aId)
    expect(rejoin).toMatchObject({ errorCode: 0, generationId: 3 })
    c2.close()
  })

  it('expires a member that stops heartbeating', async () => {
    const first = await join(c, 'g3-session', '', { session: 150 })
    const j = await join(c, 'g3-session', first.memberId, { session: 150 })
    await c.send(SyncGroup, 5, {
      protocolType: 'consumer',
      protocolName: 'range',
      groupId: 'g3-session',
      generationId: 1,
      memberId: j.memberId,
      assignments: [],
    })
    await sleep(400)
    expect(cluster.groups.get('g3-session')!.members.size).toBe(0)
    expect(
      (await c.send(Heartbeat, 4, { groupId: 'g3-session', generationId: 1, memberId: j.memberId })).errorCode,
    ).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('static membership: a restarted instance takes over without a rebalance; the old id is fenced', async () => {
    const first = await join(c, 'g4', '', { instanceId: 'inst-1' })
    expect(first.errorCode).toBe(0)
    await c.send(SyncGroup, 5, {
      protocolType: 'consumer',
      protocolName: 'range',
      groupId: 'g4',
      generationId: first.generationId,
      memberId: first.memberId,
      groupInstanceId: 'inst-1',
      assignments: [{ memberId: first.memberId, assignment: Buffer.from('kept') }],
    })
    const again = await join(c, 'g4', '', { instanceId: 'inst-1' })
    expect(again.errorCode).toBe(0)
    expect(again.memberId).not.toBe(first.memberId)
    expect(again.generationId).toBe(first.generationId)
    const sync = await c.send(SyncGroup, 5, {
      protocolType: 'consumer',
      protocolName: 'range',
      groupId: 'g4',
      generationId: again.generationId,
      memberId: again.memberId,
      groupInstanceId: 'inst-1',
      assignments: [],
    })
    expect(sync.assignment.toString()).toBe('kept')
    const fenced = await c.send(Heartbeat, 4, {
      groupId: 'g4',
      generationId: again.generationId,
      memberId: first.memberId,
      groupInstanceId: 'inst-1',
    })
    expect(fenced.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID)
    const leave = await c.send(LeaveGroup, 5, { groupId: 'g4', members: [{ memberId: '', groupInstanceId: 'inst-1' }] })
    expect(leave.members[0]!.errorCode).toBe(0)
  })

  it('rejects inconsistent protocols, bad session timeouts and empty group ids', async () => {
    await joinNew(c, 'g5')
    const other = await c.send(JoinGroup, 9, {
      groupId: 'g5',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 1000,
      memberId: '',
      protocolType: 'connect',
      protocols: protocols(),
    })
    expect(other.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    const timeout = await c.send(JoinGroup, 9, {
      groupId: 'g5',
      sessionTimeoutMs: 1,
      rebalanceTimeoutMs: 1000,
      memberId: '',
      protocolType: 'consumer',
      protocols: protocols(),
    })
    expect(timeout.errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT)
    const empty = await c.send(JoinGroup, 9, {
      groupId: '',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 1000,
      memberId: '',
      protocolType: 'consumer',
      protocols: protocols(),
    })
    expect(empty.errorCode).toBe(ErrorCode.INVALID_GROUP_ID)
    // v2/v3 join in one round trip; all JoinGroup versions encode.
    for (let v = 2; v <= 3; v++) {
      const r = await join(c, `g-v${v}`, '', { version: v })
      expect(r.errorCode).toBe(0)
    }
  })

  it('honours group.initial.rebalance.delay.ms for the first rebalance', async () => {
    const delayed = await Cluster.start({ coordinatorLoadRequests: 0, groupInitialRebalanceDelayMs: 300 })
    const d = await TestClient.connect(delayed.bootstrapServers[0]!)
    await d.send(CreateTopics, 7, { topics: [{ name: 'gt', numPartitions: 1, replicationFactor: 1 }] })
    const t0 = Date.now()
    const first = await join(d, 'gd')
    await join(d, 'gd', first.memberId)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280)
    d.close()
    await delayed.stop()
  })
})
