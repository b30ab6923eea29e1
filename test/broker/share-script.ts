// One fixed sequence of share group (KIP-932) requests over the raw protocol: ShareGroupHeartbeat
// v1 (joins, bad epochs, unknown members, a second member, leaving), ShareGroupDescribe v1,
// ShareFetch v1 and ShareAcknowledge v1 (sessions and their epochs, acquisitions, piggybacked and
// separate acknowledgements: accept, release, reject; the delivery count limit; an acquisition
// lock that times out), and what each answers. Captured from a real 3-node Kafka by
// test/fixtures/share-answers/capture.ts; test/broker/share-answers.test.ts replays it on the
// reference broker and compares. Topic ids become the script's topic names, member ids are the
// script's own (v1: the client chooses them), group and topic names carry a per-run suffix.

import { errorInfo } from '../../src/protocol/error-codes.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { FindCoordinator } from '../../src/protocol/messages/find-coordinator.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { ShareAcknowledge } from '../../src/protocol/messages/share-acknowledge.js'
import { ShareFetch, type ShareFetchResponse } from '../../src/protocol/messages/share-fetch.js'
import { ShareGroupDescribe } from '../../src/protocol/messages/share-group-describe.js'
import { ShareGroupHeartbeat } from '../../src/protocol/messages/share-group-heartbeat.js'
import { makeBatch, sleep, TestClient } from './helpers.js'

export interface ShareAnswer {
  step: string
  error: string
  [extra: string]: unknown
}

const name = (code: number) => (code === 0 ? 'NONE' : errorInfo(code).name)

/** [first, last] offsets of each record batch in a ShareFetch partition's records. */
function batchRanges(records: Buffer | null): [number, number][] {
  const out: [number, number][] = []
  if (records === null) return out
  for (let pos = 0; pos + 61 <= records.length;) {
    const base = Number(records.readBigInt64BE(pos))
    const length = records.readInt32BE(pos + 8)
    out.push([base, base + records.readInt32BE(pos + 23)])
    pos += 12 + length
  }
  return out
}

type Acks = [first: number, last: number, type: number][]

export interface ShareScriptOptions {
  /** How long to wait for a state change to settle (topic creation, share-partition initialization). */
  settleMs: number
  /** Replication factor of the script's topic (the number of brokers). */
  replicas: number
}

/** Runs the sequence against the cluster bootstrapped at `addresses` (every broker listed). */
export async function runShareScript(
  addresses: string[],
  suffix: string,
  opts: ShareScriptOptions,
): Promise<ShareAnswer[]> {
  const boot = await TestClient.connect(addresses[0]!)
  const clients = new Map<number, TestClient>()
  const out: ShareAnswer[] = []
  const S = `share-s-${suffix}`
  const g = (n: string) => `share-${n}-${suffix}`
  const m1 = 'shareMemberOne00000001'
  const m2 = 'shareMemberTwo00000002'
  try {
    await boot.send(CreateTopics, 7, {
      topics: [{ name: S, numPartitions: 2, replicationFactor: opts.replicas }],
      timeoutMs: 30_000,
    })
    let topicId = ''
    const leaders: number[] = []
    const nodes = new Map<number, string>()
    for (let attempt = 0; ; attempt++) {
      const md = await boot.send(Metadata, 12, { topics: [{ name: S }] })
      for (const b of md.brokers) nodes.set(b.nodeId, `${b.host}:${b.port}`)
      const t = md.topics[0]!
      if (t.errorCode === 0 && t.partitions.length === 2 && t.partitions.every((p) => p.leaderId >= 0)) {
        topicId = t.topicId
        for (const p of t.partitions) leaders[p.partitionIndex] = p.leaderId
        break
      }
      if (attempt > 60) throw new Error('topic did not appear')
      await sleep(500)
    }
    // One share session per (member, leader): the two partitions must have different leaders.
    if (leaders[0] === leaders[1]) throw new Error(`both partitions are led by node ${leaders[0]}`)
    const client = async (node: number) => {
      let c = clients.get(node)
      if (c === undefined) {
        c = await TestClient.connect(nodes.get(node)!)
        clients.set(node, c)
      }
      return c
    }
    const coordinatorOf = async (group: string) => {
      for (let attempt = 0; ; attempt++) {
        const r = await boot.send(FindCoordinator, 6, { keyType: 0, coordinatorKeys: [group] })
        const k = r.coordinators[0]!
        if (k.errorCode === 0) return client(k.nodeId)
        if (attempt > 60) throw new Error(`no coordinator: ${JSON.stringify(r.coordinators)}`)
        await sleep(500)
      }
    }
    const ga = g('a')
    const coord = await coordinatorOf(ga)
    // With two members Kafka's simple assignor splits the partitions in an order that varies from
    // run to run (it hashes the topic id): then only how many each member gets is compared.
    let countsOnly = false
    const named = (tps: { topicId: string; partitions: number[] }[]) =>
      Object.fromEntries(
        tps.map((tp) => [
          tp.topicId === topicId || tp.topicId === S ? 'S' : 'unknown topic id',
          countsOnly ? tp.partitions.length : [...tp.partitions].sort((a, b) => a - b),
        ]),
      )

    const beat = async (
      step: string,
      group: string,
      memberId: string,
      memberEpoch: number,
      topics: string[] | null,
      record = true,
    ) => {
      const r = await coord.send(ShareGroupHeartbeat, 1, {
        groupId: group,
        memberId,
        memberEpoch,
        rackId: null,
        subscribedTopicNames: topics,
      })
      const a: ShareAnswer = { step, error: name(r.errorCode) }
      if (r.errorCode === 0) {
        a.memberId = r.memberId === memberId ? 'as sent' : r.memberId
        a.memberEpoch = r.memberEpoch
        a.heartbeatIntervalMs = r.heartbeatIntervalMs
        a.assignment = r.assignment === null ? null : named(r.assignment.topicPartitions)
      }
      if (record) out.push(a)
      return r
    }
    /** Heartbeats until the member's assignment has `count` partitions (share-partitions initialize asynchronously). */
    const beatUntil = async (step: string, group: string, memberId: string, epoch: number, count: number) => {
      let assigned = -1
      let last = epoch
      let assignment: Record<string, number | number[]> | null = null
      for (let attempt = 0; attempt < 40; attempt++) {
        const r = await beat(step, group, memberId, last, null, false)
        if (r.errorCode !== 0) break
        last = r.memberEpoch
        if (r.assignment !== null) {
          assignment = named(r.assignment.topicPartitions)
          assigned = r.assignment.topicPartitions.reduce((n, tp) => n + tp.partitions.length, 0)
        }
        if (assigned === count) break
        await sleep(opts.settleMs / 5)
      }
      out.push({ step, error: assigned === count ? 'NONE' : 'not assigned', memberEpoch: last, assignment })
      return last
    }
    const describe = async (step: string, group: string) => {
      const c = await coordinatorOf(group)
      const r = await c.send(ShareGroupDescribe, 1, { groupIds: [group], includeAuthorizedOperations: false })
      for (const d of r.groups) {
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
              memberEpoch: m.memberEpoch,
              clientId: m.clientId,
              subscribedTopicNames: m.subscribedTopicNames.map((t) => (t === S ? 'S' : t)),
              assignment: named(m.assignment.topicPartitions.map((tp) => ({ ...tp, topicId: tp.topicName }))),
            })),
        })
      }
    }
    const produce = async (partition: number, count: number) => {
      const c = await client(leaders[partition]!)
      const r = await c.send(Produce, 11, {
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: S, partitionData: [{ index: partition, records: await makeBatch(count) }] }],
      })
      const p = r.responses[0]!.partitionResponses[0]!
      if (p.errorCode !== 0) throw new Error(`produce failed: ${name(p.errorCode)}`)
    }
    const fetchAnswer = (step: string, r: ShareFetchResponse): ShareAnswer => ({
      step,
      error: name(r.errorCode),
      acquisitionLockTimeoutMs: r.acquisitionLockTimeoutMs,
      partitions: r.responses.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.topicId === topicId ? 'S' : 'unknown topic id',
          partition: p.partitionIndex,
          error: name(p.errorCode),
          ackError: name(p.acknowledgeErrorCode),
          acquired: p.acquiredRecords.map((a) => [Number(a.firstOffset), Number(a.lastOffset), a.deliveryCount]),
          batches: batchRanges(p.records),
        })),
      ),
    })
    const toBatches = (acks: Acks) =>
      acks.map(([f, l, t]) => ({ firstOffset: BigInt(f), lastOffset: BigInt(l), acknowledgeTypes: [t] }))
    /** A share session: its next epoch advances on every answer without a top-level error. */
    interface Session {
      group: string
      member: string
      epoch: number
      partition: number
    }
    const advance = (s: Session, errorCode: number) => {
      if (errorCode === 0) s.epoch = s.epoch === -1 ? 0 : s.epoch + 1
    }
    const shareFetch = async (
      step: string,
      s: Session,
      acks: Acks,
      extra: { maxRecords?: number; forget?: boolean; none?: boolean } = {},
    ) => {
      const partition = s.partition
      const c = await client(leaders[partition]!)
      const r = await c.send(ShareFetch, 1, {
        groupId: s.group,
        memberId: s.member,
        shareSessionEpoch: s.epoch,
        maxWaitMs: 300,
        minBytes: 1,
        maxBytes: 1 << 20,
        maxRecords: extra.maxRecords ?? 500,
        batchSize: extra.maxRecords ?? 500,
        topics: extra.none
          ? []
          : [{ topicId, partitions: [{ partitionIndex: partition, acknowledgementBatches: toBatches(acks) }] }],
        forgottenTopicsData: extra.forget ? [{ topicId, partitions: [partition] }] : [],
      })
      out.push(fetchAnswer(step, r))
      advance(s, r.errorCode)
      return r
    }
    const acknowledge = async (step: string, s: Session, acks: Acks) => {
      const partition = s.partition
      const c = await client(leaders[partition]!)
      const r = await c.send(ShareAcknowledge, 1, {
        groupId: s.group,
        memberId: s.member,
        shareSessionEpoch: s.epoch,
        topics: [{ topicId, partitions: [{ partitionIndex: partition, acknowledgementBatches: toBatches(acks) }] }],
      })
      out.push({
        step,
        error: name(r.errorCode),
        acquisitionLockTimeoutMs: r.acquisitionLockTimeoutMs,
        partitions: r.responses.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, name(p.errorCode)])),
      })
      advance(s, r.errorCode)
    }

    // Membership: validation, joining, the assignment once the share-partitions are initialized.
    await beat('join with an empty member id', ga, '', 0, [S])
    await beat('join without topics', ga, m1, 0, null)
    await beat('join with an empty group id', '', m1, 0, [S])
    await beat('first heartbeat with epoch 1', ga, m1, 1, [S])
    let e1 = (await beat('m1 joins', ga, m1, 0, [S])).memberEpoch
    e1 = await beatUntil('m1 gets both partitions', ga, m1, e1, 2)
    await beat('m1 with a future epoch', ga, m1, e1 + 5, null)
    await beat('m1 with the previous epoch', ga, m1, e1 - 1, null)
    await beat('m1 with an older epoch', ga, m1, e1 - 2, null)
    await beat('unknown member', ga, 'shareMemberUnknown0000', 1, null)
    await beat('m1 heartbeat', ga, m1, e1, null)
    await describe('describe a', ga)
    await describe('describe a missing group', g('missing'))

    // Fetch and acknowledge on partition 0 (its leader's session). The leader loads the
    // share-partition on its first fetch; with share.auto.offset.reset latest its start offset is
    // then the log end, so the records are produced after that.
    const p0 = { group: ga, member: m1, epoch: 0, partition: 0 }
    await shareFetch('fetch from a session epoch 1 that does not exist', { ...p0, epoch: 1 }, [])
    await shareFetch('fetch for an unknown member', { ...p0, member: 'shareMemberUnknown0000' }, [])
    await produce(0, 6)
    await produce(0, 1)
    await produce(0, 1)
    await shareFetch('m1 opens a session and fetches', p0, [], { maxRecords: 3 })
    await shareFetch('fetch again: the rest', p0, [])
    await shareFetch('open a second session for m1', Object.assign(p0, { epoch: 0 }), [])
    await shareFetch('wrong epoch', { ...p0, epoch: 7 }, [])
    await shareFetch('piggybacked acks: accept 0-1, release 2, reject 3', p0, [
      [0, 1, 1],
      [2, 2, 2],
      [3, 3, 3],
    ])
    await acknowledge('acknowledge 4 (accept)', p0, [[4, 4, 1]])
    await acknowledge('acknowledge 4 again', p0, [[4, 4, 1]])
    await acknowledge('acknowledge an offset past the end', p0, [[40, 41, 1]])
    await acknowledge('acknowledge with a wrong epoch', { ...p0, epoch: 9 }, [[5, 5, 1]])
    await acknowledge('acknowledge with an unknown acknowledge type', p0, [[5, 5, 9]])
    await shareFetch('accept 2 and 5-7', p0, [
      [2, 2, 1],
      [5, 7, 1],
    ])

    // Delivery count limit on partition 1: release the same record until it is archived.
    const p1 = { group: ga, member: m1, epoch: 0, partition: 1 }
    await shareFetch('partition 1 before any record', p1, [])
    await produce(1, 1)
    for (let n = 1; n <= 5; n++) await shareFetch(`partition 1 delivery ${n}`, p1, n === 1 ? [] : [[0, 0, 2]])
    await shareFetch('release after the fifth delivery', p1, [[0, 0, 2]])
    await shareFetch('nothing left on partition 1', p1, [], { none: true })
    await shareFetch('forget partition 1', p1, [], { none: true, forget: true })
    await shareFetch('the session is empty', p1, [], { none: true })

    // A second member: the assignment is split; m1 gets its new one on its next heartbeat.
    countsOnly = true
    const e2 = (await beat('m2 joins', ga, m2, 0, [S])).memberEpoch
    e1 = await beatUntil('m1 keeps one partition', ga, m1, e1, 1)
    await beat('m2 heartbeat', ga, m2, e2, null)
    await describe('describe with two members', ga)

    // An acquisition lock that times out: the records are available again, one delivery more.
    await produce(0, 2)
    const s0 = await shareFetch('m1 fetches two more on a new session', Object.assign(p0, { epoch: 0 }), [])
    await sleep(s0.acquisitionLockTimeoutMs + 1500)
    await shareFetch('after the lock timed out', p0, [])
    await shareFetch('close the session accepting them', Object.assign(p0, { epoch: -1 }), [[8, 9, 1]])
    await shareFetch('fetch on the closed session', { ...p0, epoch: 1 }, [])

    // Leaving.
    countsOnly = false
    await beat('m2 leaves', ga, m2, -1, null)
    await beat('m2 heartbeats after leaving', ga, m2, e2, null)
    await beatUntil('m1 gets both partitions back', ga, m1, e1, 2)
    await beat('m1 leaves', ga, m1, -1, null)
    await describe('describe the empty group', ga)
  } finally {
    boot.close()
    for (const c of clients.values()) c.close()
  }
  return out
}
