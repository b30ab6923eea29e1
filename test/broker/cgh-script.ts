// One fixed sequence of KIP-848 consumer group requests (ConsumerGroupHeartbeat v1,
// ConsumerGroupDescribe v0, OffsetCommit/OffsetFetch with member epochs, classic requests against
// consumer groups and back) over the raw protocol, sent to a one-broker cluster, and what each
// answers. Captured from real Kafka by test/fixtures/cgh-answers/capture.ts;
// test/broker/consumer-groups-answers.test.ts replays it on the reference broker and compares.
// Topic ids are turned into the script's topic names, member ids are the script's own (v1: the
// client chooses them), and group names carry a per-run suffix that the answers leave out.

import { errorInfo } from '../../src/protocol/error-codes.js'
import { ConsumerGroupDescribe } from '../../src/protocol/messages/consumer-group-describe.js'
import { ConsumerGroupHeartbeat } from '../../src/protocol/messages/consumer-group-heartbeat.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { FindCoordinator } from '../../src/protocol/messages/find-coordinator.js'
import { JoinGroup } from '../../src/protocol/messages/join-group.js'
import { ListGroups } from '../../src/protocol/messages/list-groups.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { OffsetCommit } from '../../src/protocol/messages/offset-commit.js'
import { OffsetFetch } from '../../src/protocol/messages/offset-fetch.js'
import { sleep, TestClient } from './helpers.js'

export interface Answer {
  step: string
  error: string
  memberEpoch?: number
  /** Partitions per topic name, sorted; absent when the response carried no assignment. */
  assignment?: Record<string, number[]> | null
  [extra: string]: unknown
}

const name = (code: number) => (code === 0 ? 'NONE' : errorInfo(code).name)

interface Beat {
  memberId: string
  memberEpoch: number
  instanceId?: string | null
  rebalanceTimeoutMs?: number
  subscribedTopicNames?: string[] | null
  subscribedTopicRegex?: string | null
  serverAssignor?: string | null
  owned?: Record<string, number[]> | null
}

/** Runs the sequence against the one broker at `address` (it must be the coordinator of everything). */
export async function runCghScript(address: string, suffix: string, settleMs: number): Promise<Answer[]> {
  const c = await TestClient.connect(address)
  const out: Answer[] = []
  const T = `cgh-t-${suffix}`
  const U = `cgh-u-${suffix}`
  const RX = [`cgh-rx-${suffix}-a`, `cgh-rx-${suffix}-b`]
  const alias = new Map<string, string>([
    [T, 'T'],
    [U, 'U'],
    [RX[0]!, 'RXa'],
    [RX[1]!, 'RXb'],
  ])
  const g = (n: string) => `cgh-${n}-${suffix}`
  try {
    await c.send(CreateTopics, 7, {
      topics: [
        { name: T, numPartitions: 4, replicationFactor: 1 },
        { name: U, numPartitions: 2, replicationFactor: 1 },
        { name: RX[0]!, numPartitions: 1, replicationFactor: 1 },
        { name: RX[1]!, numPartitions: 1, replicationFactor: 1 },
      ],
      timeoutMs: 30_000,
    })
    await sleep(settleMs)
    const ids = new Map<string, string>()
    for (let attempt = 0; ; attempt++) {
      const md = await c.send(Metadata, 12, { topics: [...alias.keys()].map((n) => ({ name: n })) })
      for (const t of md.topics) if (t.errorCode === 0 && t.name !== null) ids.set(t.topicId, t.name)
      if (ids.size === alias.size) break
      if (attempt > 60) throw new Error('topics did not appear')
      await sleep(500)
    }
    const byName = new Map([...ids].map(([id, n]) => [n, id]))
    // The group coordinator must be there first (a fresh Kafka creates __consumer_offsets on the
    // first FindCoordinator): not part of the answers.
    for (let attempt = 0; ; attempt++) {
      const r = await c.send(FindCoordinator, 4, { keyType: 0, coordinatorKeys: [g('a')] })
      if (r.coordinators.every((k) => k.errorCode === 0)) break
      if (attempt > 60) throw new Error(`no coordinator: ${JSON.stringify(r.coordinators)}`)
      await sleep(500)
    }
    const named = (tps: { topicId: string; partitions: number[] }[]): Record<string, number[]> => {
      const o: Record<string, number[]> = {}
      for (const tp of tps) {
        if (tp.partitions.length === 0) continue
        const n = alias.get(ids.get(tp.topicId) ?? '') ?? `unknown topic id`
        o[n] = [...(o[n] ?? []), ...tp.partitions].sort((a, b) => a - b)
      }
      return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)))
    }
    const topicName = (a: string) => [...alias].find(([, v]) => v === a)![0]

    const beatRaw = (group: string, b: Beat) =>
      c.send(ConsumerGroupHeartbeat, 1, {
        groupId: group,
        memberId: b.memberId,
        memberEpoch: b.memberEpoch,
        instanceId: b.instanceId ?? null,
        rackId: null,
        rebalanceTimeoutMs: b.rebalanceTimeoutMs ?? -1,
        subscribedTopicNames: b.subscribedTopicNames === undefined ? null : b.subscribedTopicNames,
        subscribedTopicRegex: b.subscribedTopicRegex ?? null,
        serverAssignor: b.serverAssignor ?? null,
        topicPartitions:
          b.owned === undefined || b.owned === null
            ? null
            : Object.entries(b.owned).map(([t, partitions]) => ({ topicId: byName.get(topicName(t))!, partitions })),
      })
    const beat = async (step: string, group: string, b: Beat) => {
      const r = await beatRaw(group, b)
      const a: Answer = { step, error: name(r.errorCode) }
      if (process.env.CGH_SCRIPT_DEBUG !== undefined) console.error(step, r.errorMessage)
      if (r.errorCode === 0) {
        a.memberEpoch = r.memberEpoch
        a.memberId = r.memberId === b.memberId ? 'as sent' : r.memberId
        a.heartbeatIntervalMs = r.heartbeatIntervalMs
        a.assignment = r.assignment === null ? null : named(r.assignment.topicPartitions)
      }
      out.push(a)
      return r
    }
    const join = (m: string, topics: string[], extra: Partial<Beat> = {}): Beat => ({
      memberId: m,
      memberEpoch: 0,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: topics.map(topicName),
      owned: {},
      ...extra,
    })
    const commit = async (step: string, group: string, version: number, memberId: string, epoch: number) => {
      const r = await c.send(OffsetCommit, version, {
        groupId: group,
        generationIdOrMemberEpoch: epoch,
        memberId,
        groupInstanceId: null,
        topics: [{ name: T, partitions: [{ partitionIndex: 0, committedOffset: 7n, committedMetadata: '' }] }],
      })
      out.push({ step, error: name(r.topics[0]!.partitions[0]!.errorCode) })
    }
    const fetch = async (step: string, group: string, memberId: string | null, epoch: number) => {
      const r = await c.send(OffsetFetch, 9, {
        groups: [{ groupId: group, memberId, memberEpoch: epoch, topics: [{ name: T, partitionIndexes: [0] }] }],
        requireStable: false,
      })
      const gr = r.groups[0]!
      const p = gr.topics[0]?.partitions[0]
      out.push({
        step,
        error: name(gr.errorCode !== 0 ? gr.errorCode : (p?.errorCode ?? 0)),
        offset: p === undefined ? null : Number(p.committedOffset),
      })
    }
    const describe = async (step: string, group: string) => {
      const r = await c.send(ConsumerGroupDescribe, 0, { groupIds: [group], includeAuthorizedOperations: false })
      const d = r.groups[0]!
      out.push({
        step,
        error: name(d.errorCode),
        groupState: d.groupState,
        groupEpoch: d.groupEpoch,
        assignmentEpoch: d.assignmentEpoch,
        assignorName: d.assignorName,
        members: [...d.members]
          .sort((a, b) => a.memberId.localeCompare(b.memberId))
          .map((m) => ({
            memberId: m.memberId,
            instanceId: m.instanceId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            subscribedTopicNames: [...m.subscribedTopicNames].map((n) => alias.get(n) ?? n).sort(),
            subscribedTopicRegex: m.subscribedTopicRegex,
            assignment: named(m.assignment.topicPartitions),
            targetAssignment: named(m.targetAssignment.topicPartitions),
          })),
      })
    }
    const listType = async (step: string, group: string) => {
      const r = await c.send(ListGroups, 5, { statesFilter: [], typesFilter: [] })
      const found = r.groups.find((x) => x.groupId === group)
      out.push({
        step,
        error: name(r.errorCode),
        groupType: found?.groupType ?? null,
        state: found?.groupState ?? null,
      })
    }

    // Requests refused before any group is looked at.
    const ga = g('a')
    await beat('empty member id', ga, join('', ['T']))
    await beat('first heartbeat without a rebalance timeout', ga, join('m-a', ['T'], { rebalanceTimeoutMs: -1 }))
    await beat('first heartbeat without a subscription', ga, join('m-a', [], { subscribedTopicNames: null }))
    await beat('first heartbeat owning partitions', ga, join('m-a', ['T'], { owned: { T: [0] } }))
    await beat('unknown server assignor', ga, join('m-a', ['T'], { serverAssignor: 'nope' }))
    await beat('invalid regex', ga, join('m-a', [], { subscribedTopicNames: null, subscribedTopicRegex: '[' }))
    // JS RegExp accepts these; RE2/J does not.
    for (const rx of ['(a)\\1', '(?=a)a', '(?<!b)a', '(?<n>a)\\k<n>'])
      await beat(`regex ${rx}`, ga, join('m-a', [], { subscribedTopicNames: null, subscribedTopicRegex: rx }))
    await beat('epoch 5 in a group that does not exist', ga, { memberId: 'm-a', memberEpoch: 5 })
    await beat('leave of a group that does not exist', ga, { memberId: 'm-a', memberEpoch: -1 })
    await beat('static leave without an instance id', ga, { memberId: 'm-a', memberEpoch: -2 })
    await describe('describe a group that does not exist', ga)

    // Kafka 4.4 computes a target assignment at most once per group.consumer.assignment.interval.ms
    // (1 s), later when a change comes sooner: a step that changes the group (join, leave, new
    // subscription) waits `settleMs` before and after, and is recorded by its error only.
    const ep = new Map<string, number>()
    const track = (m: string, r: { errorCode: number; memberEpoch: number }) => {
      if (r.errorCode === 0 && r.memberEpoch >= 0) ep.set(m, r.memberEpoch)
      return r
    }
    const at = (m: string, d = 0) => (ep.get(m) ?? 0) + d
    const change = async (step: string, group: string, b: Beat) => {
      await sleep(settleMs)
      const r = track(b.memberId, await beatRaw(group, b))
      out.push({ step, error: name(r.errorCode) })
      await sleep(settleMs)
      return r
    }
    const hb = async (step: string, group: string, b: Beat) => track(b.memberId, await beat(step, group, b))

    // One member, then a second: incremental hand-over of two partitions.
    await change('A joins', ga, join('m-a', ['T']))
    await hb('A heartbeats with its partitions', ga, {
      memberId: 'm-a',
      memberEpoch: at('m-a'),
      owned: { T: [0, 1, 2, 3] },
    })
    await hb('A heartbeats without fields', ga, { memberId: 'm-a', memberEpoch: at('m-a') })
    await hb('A with an epoch above its own', ga, { memberId: 'm-a', memberEpoch: at('m-a', 1) })
    await hb('A with an epoch below its own', ga, { memberId: 'm-a', memberEpoch: at('m-a', -1) })
    await hb('unknown member with epoch 1', ga, { memberId: 'm-x', memberEpoch: 1 })
    await commit('commit v9 with the member epoch', ga, 9, 'm-a', at('m-a'))
    await commit('commit v9 with an older epoch', ga, 9, 'm-a', at('m-a', -1))
    await commit('commit v9 with a newer epoch', ga, 9, 'm-a', at('m-a', 1))
    await commit('commit v9 from an unknown member', ga, 9, 'm-x', 1)
    await commit('commit v9 without a member', ga, 9, '', -1)
    await commit('commit v8 with the member epoch', ga, 8, 'm-a', at('m-a'))
    await fetch('fetch v9 with the member epoch', ga, 'm-a', at('m-a'))
    await fetch('fetch v9 with an older epoch', ga, 'm-a', at('m-a', -1))
    await fetch('fetch v9 with a newer epoch', ga, 'm-a', at('m-a', 1))
    await fetch('fetch v9 from an unknown member', ga, 'm-x', 1)
    await fetch('fetch v9 without a member', ga, null, -1)
    const a1 = at('m-a')
    await change('B joins', ga, join('m-b', ['T']))
    await describe('describe while A revokes', ga)
    await hb('A heartbeats owning all four', ga, { memberId: 'm-a', memberEpoch: a1, owned: { T: [0, 1, 2, 3] } })
    await hb('B heartbeats before A released', ga, { memberId: 'm-b', memberEpoch: at('m-b'), owned: {} })
    await commit('commit v9 from A while revoking', ga, 9, 'm-a', a1)
    await hb('A acknowledges the revocation', ga, { memberId: 'm-a', memberEpoch: a1, owned: { T: [0, 1] } })
    await commit('commit v9 from A with its previous epoch', ga, 9, 'm-a', a1)
    await commit('commit v9 from A with its new epoch', ga, 9, 'm-a', at('m-a'))
    await hb('B heartbeats after A released', ga, { memberId: 'm-b', memberEpoch: at('m-b'), owned: {} })
    await hb('B heartbeats with its partitions', ga, { memberId: 'm-b', memberEpoch: at('m-b'), owned: { T: [2, 3] } })
    await hb('A with its previous epoch and a subset', ga, { memberId: 'm-a', memberEpoch: a1, owned: { T: [0] } })
    await hb('A with its previous epoch and more', ga, { memberId: 'm-a', memberEpoch: a1, owned: { T: [0, 1, 2] } })
    await describe('describe after the hand-over', ga)
    await listType('list groups: a consumer group', ga)
    const joined = await c.send(JoinGroup, 9, {
      groupId: ga,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'connect',
      protocols: [{ name: 'x', metadata: Buffer.alloc(0) }],
      reason: null,
    })
    out.push({ step: 'classic JoinGroup (connect) into the consumer group', error: name(joined.errorCode) })
    await sleep(settleMs)
    await hb('B leaves', ga, { memberId: 'm-b', memberEpoch: -1 })
    await sleep(settleMs)
    await hb('B leaves again', ga, { memberId: 'm-b', memberEpoch: -1 })
    await hb('A heartbeats after B left', ga, { memberId: 'm-a', memberEpoch: at('m-a'), owned: { T: [0, 1] } })
    await hb('A heartbeats again', ga, { memberId: 'm-a', memberEpoch: at('m-a'), owned: { T: [0, 1, 2, 3] } })
    await hb('A rejoins with epoch 0', ga, join('m-a', ['T']))
    await hb('A heartbeats with its partitions after rejoining', ga, {
      memberId: 'm-a',
      memberEpoch: at('m-a'),
      owned: { T: [0, 1, 2, 3] },
    })
    await change('A subscribes to T and U', ga, {
      memberId: 'm-a',
      memberEpoch: at('m-a'),
      subscribedTopicNames: [T, U],
    })
    await hb('A heartbeats after subscribing to U', ga, { memberId: 'm-a', memberEpoch: at('m-a') })
    await describe('describe after A subscribed to U', ga)

    // The range assignor: two members subscribed to two topics.
    const gr = g('range')
    await change('X joins with range', gr, join('m-x', ['T', 'U'], { serverAssignor: 'range' }))
    const x1 = at('m-x')
    await change('Y joins with range', gr, join('m-y', ['T', 'U'], { serverAssignor: 'range' }))
    await hb('X heartbeats owning everything', gr, {
      memberId: 'm-x',
      memberEpoch: x1,
      owned: { T: [0, 1, 2, 3], U: [0, 1] },
    })
    await hb('X revokes', gr, { memberId: 'm-x', memberEpoch: at('m-x'), owned: { T: [0, 1], U: [0] } })
    await hb('Y heartbeats', gr, { memberId: 'm-y', memberEpoch: at('m-y'), owned: {} })
    await describe('describe the range group', gr)

    // Static membership.
    const gs = g('static')
    await change('S1 joins as instance i1', gs, join('m-s1', ['T'], { instanceId: 'i1' }))
    await hb('S1 heartbeats', gs, {
      memberId: 'm-s1',
      memberEpoch: at('m-s1'),
      instanceId: 'i1',
      owned: { T: [0, 1, 2, 3] },
    })
    await hb('S2 joins as instance i1 while S1 is there', gs, join('m-s2', ['T'], { instanceId: 'i1' }))
    await sleep(settleMs)
    await hb('S1 leaves temporarily (epoch -2)', gs, { memberId: 'm-s1', memberEpoch: -2, instanceId: 'i1' })
    await describe('describe while i1 is away', gs)
    await hb('S2 takes over instance i1', gs, join('m-s2', ['T'], { instanceId: 'i1' }))
    await hb('S1 heartbeats after the takeover', gs, { memberId: 'm-s1', memberEpoch: at('m-s1'), instanceId: 'i1' })
    await describe('describe after the takeover', gs)
    await sleep(settleMs)
    await hb('S2 leaves for good (epoch -1)', gs, { memberId: 'm-s2', memberEpoch: -1, instanceId: 'i1' })
    await describe('describe after the static member left', gs)

    // Regex subscription: resolved asynchronously by Kafka, so the answer kept is the first
    // heartbeat whose assignment is not empty.
    const gx = g('regex')
    const rx = `cgh-rx-${suffix}-.*`
    const rj = await beat(
      'R joins with a regex',
      gx,
      join('m-r', [], { subscribedTopicNames: null, subscribedTopicRegex: rx }),
    )
    out.pop()
    let epoch = rj.memberEpoch
    let last = rj
    for (let i = 0; i < 40; i++) {
      if (last.errorCode !== 0) throw new Error(`regex heartbeat: ${name(last.errorCode)}`)
      epoch = last.memberEpoch
      if (last.assignment !== null && last.assignment.topicPartitions.some((t) => t.partitions.length > 0)) {
        out.push({
          step: 'R is assigned what the regex matches',
          error: 'NONE',
          assignment: named(last.assignment.topicPartitions),
        })
        break
      }
      await sleep(250)
      last = await beatRaw(gx, { memberId: 'm-r', memberEpoch: epoch })
    }
    const d = await c.send(ConsumerGroupDescribe, 0, { groupIds: [gx], includeAuthorizedOperations: false })
    const m = d.groups[0]!.members[0]
    out.push({
      step: 'describe the regex member',
      error: name(d.groups[0]!.errorCode),
      subscribedTopicRegex: m?.subscribedTopicRegex === rx ? 'as sent' : (m?.subscribedTopicRegex ?? null),
      subscribedTopicNames: m?.subscribedTopicNames ?? null,
    })

    // Group types: a classic group of another protocol type is not converted; an empty classic
    // group (offsets only) is, and keeps its offsets.
    const gc = g('classic')
    const first = await c.send(JoinGroup, 9, {
      groupId: gc,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'connect',
      protocols: [{ name: 'x', metadata: Buffer.alloc(0) }],
      reason: null,
    })
    const second = await c.send(JoinGroup, 9, {
      groupId: gc,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      memberId: first.memberId,
      groupInstanceId: null,
      protocolType: 'connect',
      protocols: [{ name: 'x', metadata: Buffer.alloc(0) }],
      reason: null,
    })
    out.push({ step: 'classic member joins (connect)', error: name(second.errorCode) })
    await beat('consumer member into the non-empty classic group', gc, join('m-c', ['T']))
    await hb('consumer heartbeat (epoch 1) into the non-empty classic group', gc, { memberId: 'm-c', memberEpoch: 1 })
    await describe('describe the classic group', gc)
    const ge = g('empty-classic')
    await commit('simple commit creates an empty classic group', ge, 9, '', -1)
    await listType('list groups: the empty classic group', ge)
    await change('consumer member into the empty classic group', ge, join('m-e', ['T']))
    await listType('list groups: converted', ge)
    await fetch('the offsets survive the conversion', ge, 'm-e', at('m-e'))
  } finally {
    c.close()
  }
  return out
}
