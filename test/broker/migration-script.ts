// One fixed sequence of requests that moves a group between the classic protocol and the consumer
// (KIP-848) protocol and back, over the raw protocol, and what each answers: a classic group with
// a member is upgraded by a ConsumerGroupHeartbeat, its classic member reconciles through
// JoinGroup/SyncGroup/Heartbeat, commits with its epoch, a second classic member joins, protocols
// that do not fit are refused, and the last consumer-protocol member leaving downgrades the group
// to a classic one that rebalances. Captured from real Kafka by
// test/fixtures/migration-answers/capture.ts; test/broker/group-migration-answers.test.ts replays
// it on the reference broker. Requests go to the group's coordinator (any cluster size); member
// ids are aliased (c1, c2 the classic members, m1 the consumer one), group and topic names carry
// a per-run suffix the answers leave out.

import {
  decodeAssignment,
  encodeAssignment,
  encodeSubscription,
} from '../../src/consumer/assignors/consumer-protocol.js'
import { errorInfo } from '../../src/protocol/error-codes.js'
import { ConsumerGroupDescribe } from '../../src/protocol/messages/consumer-group-describe.js'
import { ConsumerGroupHeartbeat } from '../../src/protocol/messages/consumer-group-heartbeat.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { FindCoordinator } from '../../src/protocol/messages/find-coordinator.js'
import { Heartbeat } from '../../src/protocol/messages/heartbeat.js'
import { JoinGroup } from '../../src/protocol/messages/join-group.js'
import { LeaveGroup } from '../../src/protocol/messages/leave-group.js'
import { ListGroups } from '../../src/protocol/messages/list-groups.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { OffsetCommit } from '../../src/protocol/messages/offset-commit.js'
import { SyncGroup } from '../../src/protocol/messages/sync-group.js'
import { sleep, TestClient } from './helpers.js'
import type { Answer } from './cgh-script.js'

const name = (code: number) => (code === 0 ? 'NONE' : errorInfo(code).name)

/** Runs the sequence against the cluster at `bootstrap`; `settleMs` after each change of the target. */
export async function runMigrationScript(bootstrap: string, suffix: string, settleMs: number): Promise<Answer[]> {
  const boot = await TestClient.connect(bootstrap)
  const out: Answer[] = []
  const T = `mig-t-${suffix}`
  const G = `mig-g-${suffix}`
  let c: TestClient | undefined
  let other: TestClient | undefined
  try {
    await boot.send(CreateTopics, 7, {
      topics: [{ name: T, numPartitions: 4, replicationFactor: 1 }],
      timeoutMs: 30_000,
    })
    let topicId = ''
    for (let attempt = 0; topicId === ''; attempt++) {
      const md = await boot.send(Metadata, 12, { topics: [{ name: T }] })
      const t = md.topics[0]
      if (t?.errorCode === 0 && t.partitions.length === 4) topicId = t.topicId
      else if (attempt > 60) throw new Error('topic did not appear')
      else await sleep(500)
    }
    // The coordinator of the group (a fresh Kafka creates __consumer_offsets on the first ask).
    let address = ''
    for (let attempt = 0; address === ''; attempt++) {
      const r = await boot.send(FindCoordinator, 4, { keyType: 0, coordinatorKeys: [G] })
      const k = r.coordinators[0]!
      if (k.errorCode === 0) address = `${k.host}:${k.port}`
      else if (attempt > 60) throw new Error(`no coordinator: ${JSON.stringify(r.coordinators)}`)
      else await sleep(500)
    }
    await sleep(settleMs)
    const cc = (c = await TestClient.connect(address))
    // Kafka reads one request per connection at a time: concurrent JoinGroups need two.
    const cc2 = (other = await TestClient.connect(address))

    const alias = new Map<string, string>([['', '']])
    const who = (id: string) => alias.get(id) ?? 'unknown member'
    const metadata = (owned: number[]) =>
      encodeSubscription({ topics: [T], ownedPartitions: owned.length > 0 ? [{ topic: T, partitions: owned }] : [] })

    const join = async (
      step: string,
      memberId: string,
      owned: number[],
      extra: Record<string, unknown> = {},
      via: TestClient = cc,
    ) => {
      const r = await via.send(JoinGroup, 9, {
        groupId: G,
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 30_000,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'cooperative-sticky', metadata: metadata(owned) }],
        reason: null,
        ...extra,
      })
      const a: Answer = { step, error: name(r.errorCode) }
      if (r.errorCode === 0) {
        Object.assign(a, {
          generationId: r.generationId,
          protocolType: r.protocolType,
          protocolName: r.protocolName,
          leader: r.leader === r.memberId ? 'self' : who(r.leader),
          members: r.members.map((m) => who(m.memberId)).sort(),
        })
      }
      out.push(a)
      return r
    }
    const sync = async (
      step: string,
      memberId: string,
      generationId: number,
      assign: Record<string, number[]> = {},
    ) => {
      const r = await cc.send(SyncGroup, 5, {
        groupId: G,
        generationId,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'cooperative-sticky',
        assignments: Object.entries(assign).map(([m, ps]) => ({
          memberId: m,
          assignment: encodeAssignment(new Map([[T, ps]])),
        })),
      })
      const a: Answer = { step, error: name(r.errorCode) }
      if (r.errorCode === 0) {
        const d = decodeAssignment(r.assignment)
        a.protocolName = r.protocolName
        a.assignment = Object.fromEntries([...d.partitions].map(([t, ps]) => [t === T ? 'T' : t, [...ps].sort()]))
      }
      out.push(a)
    }
    const heartbeat = async (step: string, memberId: string, generationId: number) => {
      const r = await cc.send(Heartbeat, 4, { groupId: G, generationId, memberId, groupInstanceId: null })
      out.push({ step, error: name(r.errorCode) })
    }
    const commit = async (step: string, version: number, memberId: string, epoch: number) => {
      const r = await cc.send(OffsetCommit, version, {
        groupId: G,
        generationIdOrMemberEpoch: epoch,
        memberId,
        groupInstanceId: null,
        topics: [{ name: T, partitions: [{ partitionIndex: 0, committedOffset: 3n, committedMetadata: '' }] }],
      })
      out.push({ step, error: name(r.topics[0]?.partitions[0]?.errorCode ?? -1) })
    }
    const beat = async (step: string, memberEpoch: number, owned: number[] | null, topics: string[] | null = null) => {
      const r = await cc.send(ConsumerGroupHeartbeat, 1, {
        groupId: G,
        memberId: 'm1',
        memberEpoch,
        instanceId: null,
        rackId: null,
        rebalanceTimeoutMs: memberEpoch === 0 ? 30_000 : -1,
        subscribedTopicNames: topics,
        subscribedTopicRegex: null,
        serverAssignor: null,
        topicPartitions: owned === null ? null : owned.length === 0 ? [] : [{ topicId, partitions: owned }],
      })
      const a: Answer = { step, error: name(r.errorCode) }
      if (process.env.MIGRATION_SCRIPT_DEBUG !== undefined) console.error(step, r.errorMessage)
      if (r.errorCode === 0) {
        a.memberEpoch = r.memberEpoch
        a.assignment =
          r.assignment === null
            ? null
            : { T: r.assignment.topicPartitions.flatMap((tp) => tp.partitions).sort((x, y) => x - y) }
      }
      out.push(a)
    }
    // Which member gets a partition more is up to Kafka's assignor and the random member ids:
    // with `sizesOnly` the targets are compared by their sizes.
    const describe = async (step: string, sizesOnly = false) => {
      const r = await cc.send(ConsumerGroupDescribe, 1, { groupIds: [G], includeAuthorizedOperations: false })
      const g = r.groups[0]!
      const parts = (x: { topicPartitions: { partitions: number[] }[] }) =>
        x.topicPartitions.flatMap((tp) => tp.partitions).sort((a, b) => a - b)
      out.push({
        step,
        error: name(g.errorCode),
        groupState: g.groupState,
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        members: g.members
          .map((m) => ({
            member: who(m.memberId),
            memberType: m.memberType,
            memberEpoch: m.memberEpoch,
            subscribed: m.subscribedTopicNames.length,
            assignment: parts(m.assignment),
            target: parts(m.targetAssignment),
          }))
          .sort((a, b) => a.member.localeCompare(b.member)),
      })
      if (sizesOnly) {
        const a = out[out.length - 1]! as unknown as {
          members: { target: number[] | number }[]
          targetSizes?: number[]
        }
        a.targetSizes = a.members.map((m) => (m.target as number[]).length).sort()
        for (const m of a.members) delete (m as { target?: unknown }).target
      }
    }
    const list = async (step: string) => {
      const r = await cc.send(ListGroups, 5, { statesFilter: [], typesFilter: [] })
      const g = r.groups.find((x) => x.groupId === G)
      out.push({
        step,
        error: name(r.errorCode),
        group: g === undefined ? null : { type: g.groupType, state: g.groupState },
      })
    }

    // A classic group with one member that owns all four partitions.
    const first = await join('classic member joins (no member id)', '', [])
    alias.set(first.memberId, 'c1')
    const c1 = first.memberId
    const j1 = await join('classic member joins with its member id', c1, [])
    await sync('classic leader syncs everything to itself', c1, j1.generationId, { [c1]: [0, 1, 2, 3] })
    await heartbeat('classic heartbeat', c1, j1.generationId)
    await commit('classic commit (v8)', 8, c1, j1.generationId)
    await list('list groups: the classic group')

    // A consumer-protocol member upgrades it; c1 keeps what it owns for now.
    alias.set('m1', 'm1')
    await beat('consumer member joins the classic group (upgrade)', 0, [], [T])
    await sleep(settleMs)
    await describe('describe after the upgrade')
    await list('list groups: upgraded')
    await heartbeat('classic heartbeat at the old generation', c1, j1.generationId)
    await commit('classic commit at the old generation (v8)', 8, c1, j1.generationId)
    await sync('classic sync at the old generation', c1, j1.generationId)
    await beat('consumer member heartbeat: waits for partitions', 2, [])

    // c1 rejoins: cooperative, it first gives up what moves, then catches up.
    const j2 = await join('classic member rejoins owning all four', c1, [0, 1, 2, 3])
    await sync('classic member syncs what it keeps', c1, j2.generationId)
    await heartbeat('classic heartbeat while revoking', c1, j2.generationId)
    const j3 = await join('classic member rejoins owning what it kept', c1, [0, 1])
    await sync('classic member syncs at the new epoch', c1, j3.generationId)
    await heartbeat('classic heartbeat at the new epoch', c1, j3.generationId)
    await commit('classic commit at the old generation', 8, c1, j1.generationId)
    await commit('classic commit at its epoch (v8)', 8, c1, j3.generationId)
    await commit('classic commit at its epoch (v9)', 9, c1, j3.generationId)
    await commit('classic commit at an epoch it never had', 8, c1, j3.generationId + 5)
    await beat('consumer member heartbeat: gets the released partitions', 2, [])
    await describe('describe when reconciled')

    // A second classic member joins the consumer group; protocols that do not fit are refused.
    const second = await join('second classic member joins (no member id)', '', [])
    out[out.length - 1]!.memberId = second.memberId.length > 0 ? 'assigned' : 'none'
    alias.set(second.memberId, 'c2')
    const c2 = second.memberId
    const k1 = await join('second classic member joins with its member id', c2, [])
    await sleep(settleMs)
    await sync('second classic member syncs', c2, k1.generationId)
    await heartbeat('second classic member heartbeat', c2, k1.generationId)
    await join('a connect member is refused', '', [], { protocolType: 'connect' })
    await join('a member without the shared protocol is refused', '', [], {
      protocols: [{ name: 'range', metadata: metadata([]) }],
    })
    await describe('describe with two classic members', true)

    // The last consumer-protocol member leaves: the group goes back to the classic protocol.
    await beat('consumer member leaves (downgrade)', -1, null)
    await list('list groups: downgraded')
    await heartbeat('first classic member heartbeat after the downgrade', c1, j3.generationId)
    await describe('consumer group describe after the downgrade')
    // Both rejoin at once; which one leads is up to the group's member order.
    const rejoin = (memberId: string, owned: number[], via: TestClient) =>
      via.send(JoinGroup, 9, {
        groupId: G,
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 30_000,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'cooperative-sticky', metadata: metadata(owned) }],
        reason: null,
      })
    const rejoined = await Promise.all([rejoin(c1, [0, 1], cc), rejoin(c2, [], cc2)])
    out.push({
      step: 'both classic members rejoin the classic group',
      error: rejoined.map((r) => name(r.errorCode)).join(','),
      generations: rejoined.map((r) => r.generationId),
      leaders: rejoined.filter((r) => r.leader === r.memberId).length,
      leaderMembers: rejoined.map((r) => r.members.length).sort(),
      protocolName: rejoined[0]!.protocolName,
    })
    await list('list groups: classic again')
    await cc.send(LeaveGroup, 5, {
      groupId: G,
      members: [
        { memberId: c1, groupInstanceId: null, reason: null },
        { memberId: c2, groupInstanceId: null, reason: null },
      ],
    })
    return out
  } finally {
    c?.close()
    other?.close()
    boot.close()
  }
}
