// The Reader under broker faults, on the reference cluster (its fault injection has no real-Kafka
// equivalent, so this suite always runs on the reference cluster): partition leaders moved while
// consuming, a broker crash, the group coordinator crashing, connections dropped, and injected
// per-request errors. Throughout, every message is read and, since offsets are committed as we
// go and the member never changes, none is read twice.

import { beforeAll, describe, expect, it } from 'vitest'
import { CooperativeStickyGroupBalancer } from '../../src/consumer/assignors/index.js'
import type { TopicPartition } from '../../src/consumer/config.js'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { Reader } from '../../src/consumer/reader.js'
import type { ReaderConfig } from '../../src/consumer/config.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import {
  committedOffsets,
  createTopic,
  leaders,
  produce,
  sleep,
  startTarget,
  unique,
  valueOf,
  waitFor,
  type ReferenceCluster,
} from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(() => startTarget({ reference: true }))
let cluster: ReferenceCluster

beforeAll(() => {
  cluster = target.cluster!
})

// The tests below that read 20,000 messages in 1 KB fetches, committing after every batch, are
// ~20 s of CPU work alone and much more beside another test file on the same cores: their limits
// (150 s to read, 180 s in all) only bound a hang.

/** Reads with commits after every batch until `total` distinct values are seen; counts every read. */
async function consume(
  reader: Reader,
  total: number,
  counts: Uint8Array,
  timeoutMs: number,
  onProgress?: (distinct: number) => Promise<void> | void,
): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs)
  let distinct = counts.reduce((n, c) => n + (c > 0 ? 1 : 0), 0)
  while (distinct < total) {
    const batch = await reader.fetchBatch({ signal })
    for (const m of batch.messages) if (counts[Number(valueOf(m))]!++ === 0) distinct++
    await reader.commitMessages(...batch.messages)
    await onProgress?.(distinct)
  }
}

function expectExactlyOnce(counts: Uint8Array): void {
  const missing: number[] = []
  const twice: number[] = []
  counts.forEach((c, i) => {
    if (c === 0) missing.push(i)
    if (c > 1) twice.push(i)
  })
  expect(missing.slice(0, 10)).toEqual([])
  expect(twice.slice(0, 10)).toEqual([])
}

describe.sequential('Reader under broker faults (reference cluster)', () => {
  const config = (topic: string): ReaderConfig => ({
    brokers: target.bootstrap,
    groupId: unique('faults-g'),
    topic,
    // Classic: faults are injected into JoinGroup (its session and heartbeat options choose it too).
    groupProtocol: 'classic',
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    readBackoffMin: 50,
    readBackoffMax: 300,
    // Little prefetch, so the faults hit fetches that are still to come.
    queueCapacityBytes: 2048,
    partitionMaxBytes: 1024,
  })

  it('follows partition leaders moved while consuming', async () => {
    const topic = unique('moved')
    await createTopic(target.bootstrap, topic, 3)
    const total = 20_000
    await produce(target.bootstrap, topic, total / 2, { batchSize: 50 })
    const counts = new Uint8Array(total)
    const reader = new Reader(config(topic))
    let moved = false
    const writing = produce(target.bootstrap, topic, total / 2, { from: total / 2, batchSize: 50 })
    try {
      await consume(reader, total, counts, 150_000, async (distinct) => {
        if (moved || distinct < total / 4) return
        moved = true
        const current = await leaders(target.bootstrap, topic)
        for (const [partition, leader] of current) cluster.faults.moveLeader(topic, partition, (leader + 1) % 3)
      })
      await writing
      expect(reader.stats().errors).toBeGreaterThan(0) // NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH seen
    } finally {
      await reader.close()
    }
    expect(moved).toBe(true)
    expectExactlyOnce(counts)
  }, 180_000)

  it('keeps reading when a partition leader crashes, and after it comes back', async () => {
    const topic = unique('crash')
    await createTopic(target.bootstrap, topic, 3)
    const total = 20_000
    await produce(target.bootstrap, topic, total, { batchSize: 50 })
    const counts = new Uint8Array(total)
    const groupConfig = config(topic)
    // Crash a broker that leads a partition but does not coordinate the group.
    const coordinator = cluster.coordinatorFor(groupConfig.groupId!)!.id
    const current = await leaders(target.bootstrap, topic)
    const victim = [...current.values()].find((b) => b !== coordinator)!
    const reader = new Reader(groupConfig)
    let crashed = false
    try {
      await consume(reader, total, counts, 150_000, async (distinct) => {
        if (crashed || distinct < total / 4) return
        crashed = true
        await cluster.faults.stopBroker(victim)
      })
      expect(reader.stats().errors).toBeGreaterThan(0)
    } finally {
      await cluster.faults.startBroker(victim)
      await reader.close()
    }
    expect(crashed).toBe(true)
    expectExactlyOnce(counts)
  }, 180_000)

  it('finds the new coordinator when the coordinator crashes, and its commits land', async () => {
    const topic = unique('coordinator')
    await createTopic(target.bootstrap, topic, 3)
    const total = 10_000
    await produce(target.bootstrap, topic, total, { batchSize: 50 })
    const counts = new Uint8Array(total)
    const groupConfig = config(topic)
    const coordinator = cluster.coordinatorFor(groupConfig.groupId!)!.id
    const reader = new Reader(groupConfig)
    let crashed = false
    try {
      await consume(reader, total, counts, 150_000, async (distinct) => {
        if (crashed || distinct < total / 4) return
        crashed = true
        await cluster.faults.stopBroker(coordinator)
      })
      expect(cluster.coordinatorFor(groupConfig.groupId!)!.id).not.toBe(coordinator)
      // Every offset is committed at the new coordinator.
      await waitFor(
        async () => {
          const committed = await committedOffsets(target.bootstrap, groupConfig.groupId!, topic, 3)
          return [...committed.values()].reduce((a, b) => a + b, 0n) === BigInt(total)
        },
        10_000,
        'the commits at the new coordinator',
      )
    } finally {
      await cluster.faults.startBroker(coordinator)
      await reader.close()
    }
    expect(crashed).toBe(true)
    // A coordinator change may cost a rebalance, but never a message.
    expect(counts.every((c) => c >= 1)).toBe(true)
  }, 180_000)

  it('keeps committing while a crashed coordinator is still registered (Kafka fences it after broker.session.timeout.ms)', async () => {
    // On Kafka, a crashed broker is named as coordinator until the controller fences it (9 s by
    // default): FindCoordinator answers with it and connecting is refused. Java's commitSync
    // retries that until default.api.timeout.ms (60 s); a commit must not fail on it.
    const topic = unique('unfenced')
    await createTopic(target.bootstrap, topic, 3)
    await produce(target.bootstrap, topic, 300)
    const groupConfig = { ...config(topic), sessionTimeout: 30_000 }
    const coordinator = cluster.coordinatorFor(groupConfig.groupId!)!.id
    const reader = new Reader(groupConfig)
    try {
      const batch = await reader.fetchBatch({ signal: AbortSignal.timeout(20_000) })
      expect(batch.messages.length).toBeGreaterThan(0)
      await cluster.faults.stopBroker(coordinator, { sessionTimeoutMs: 9_000 })
      // Still the coordinator until it is fenced.
      expect(cluster.coordinatorFor(groupConfig.groupId!)!.id).toBe(coordinator)
      await reader.commitMessages(...batch.messages)
      expect(cluster.coordinatorFor(groupConfig.groupId!)!.id).not.toBe(coordinator)
      const last = batch.messages[batch.messages.length - 1]!
      const committed = await committedOffsets(target.bootstrap, groupConfig.groupId!, topic, 3)
      expect(committed.get(last.partition)).toBe(last.offset + 1n)
    } finally {
      await cluster.faults.startBroker(coordinator)
      await reader.close()
    }
  }, 60_000)

  it('survives every connection being dropped mid-stream', async () => {
    const topic = unique('dropped')
    await createTopic(target.bootstrap, topic, 3)
    const total = 10_000
    await produce(target.bootstrap, topic, total, { batchSize: 50 })
    const counts = new Uint8Array(total)
    const reader = new Reader(config(topic))
    let drops = 0
    try {
      await consume(reader, total, counts, 150_000, (distinct) => {
        if (drops < 3 && distinct > (drops + 1) * (total / 5)) {
          drops++
          for (const id of [0, 1, 2]) cluster.faults.dropConnections(id)
        }
      })
    } finally {
      await reader.close()
    }
    expect(drops).toBe(3)
    expect(counts.every((c) => c >= 1)).toBe(true)
  }, 180_000)

  it('retries injected errors: NOT_LEADER_OR_FOLLOWER on Fetch, NOT_COORDINATOR on commit and join', async () => {
    const topic = unique('injected')
    await createTopic(target.bootstrap, topic, 3)
    await produce(target.bootstrap, topic, 300)
    cluster.faults.failNext('JoinGroup', 1, ErrorCode.NOT_COORDINATOR)
    cluster.faults.failNext('Fetch', 3, ErrorCode.NOT_LEADER_OR_FOLLOWER)
    cluster.faults.failNext('OffsetFetch', 1, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
    const groupConfig = config(topic)
    const reader = new Reader(groupConfig)
    const counts = new Uint8Array(300)
    try {
      await consume(reader, 100, counts, 30_000)
      cluster.faults.failNext('OffsetCommit', 2, ErrorCode.NOT_COORDINATOR)
      await consume(reader, 300, counts, 30_000)
      const committed = await committedOffsets(target.bootstrap, groupConfig.groupId!, topic, 3)
      expect([...committed.values()].reduce((a, b) => a + b, 0n)).toBe(300n)
    } finally {
      cluster.faults.clear()
      await reader.close()
    }
    expectExactlyOnce(counts)
  }, 60_000)

  it('a slow broker does not stall the others: each broker has its own fetch loop', async () => {
    const topic = unique('slowbroker')
    await createTopic(target.bootstrap, topic, 3)
    const current = await leaders(target.bootstrap, topic)
    const slowBroker = current.get(0)!
    const fastPartitions = [...current].filter(([, b]) => b !== slowBroker).map(([p]) => p)
    expect(fastPartitions.length).toBeGreaterThan(0)
    const reader = new Reader({ ...config(topic), maxWait: 100 })
    try {
      await waitFor(() => reader.assignment().length === 3, 20_000, 'the assignment')
      await sleep(300)
      // Fetches from the slow broker now take 3 s each; the others answer at once.
      cluster.faults.delay('Fetch', 3000, { broker: slowBroker })
      await sleep(200)
      for (const p of fastPartitions) await produce(target.bootstrap, topic, 5, { partition: p, prefix: `p${p}-` })
      const started = Date.now()
      const got = new Set<number>()
      const signal = AbortSignal.timeout(10_000)
      while (got.size < fastPartitions.length) got.add((await reader.fetchMessage({ signal })).partition)
      // Well within one slow fetch: no global fetch barrier.
      expect(Date.now() - started).toBeLessThan(2000)
    } finally {
      cluster.faults.clear()
      await reader.close()
    }
  }, 60_000)
})

describe('group fencing (reference cluster: injected errors and delayed heartbeats)', () => {
  it('a member fenced by the coordinator (ILLEGAL_GENERATION) has its commit rejected, rejoins and reads on', async () => {
    const topic = unique('fenced')
    const groupId = unique('fenced-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 20)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, sessionTimeout: 10_000 })
    try {
      const signal = AbortSignal.timeout(30_000)
      const first = await reader.fetchMessage({ signal })
      await reader.commitMessages(first)
      const generation = reader.generationId
      const second = await reader.fetchMessage({ signal })
      cluster.faults.failNext('OffsetCommit', 1, ErrorCode.ILLEGAL_GENERATION)
      const error = await reader.commitMessages(second).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CommitRejectedError)
      expect((error as CommitRejectedError).reason).toBe('fenced')
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(1n)
      // It rejoins, and reads on from the committed offset (message 1 again).
      const again = await reader.fetchMessage({ signal })
      expect(again.offset).toBe(1n)
      expect(reader.generationId).toBeGreaterThan(generation)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('a member whose session expired (heartbeats delayed) is fenced: its commit is rejected', async () => {
    const topic = unique('expired')
    const groupId = unique('expired-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 20)
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId,
      topic,
      // Classic: the client's session timeout and the Heartbeat API are what this is about.
      groupProtocol: 'classic',
      sessionTimeout: 2000,
      heartbeatInterval: 300,
    })
    try {
      const signal = AbortSignal.timeout(30_000)
      const first = await reader.fetchMessage({ signal })
      await reader.commitMessages(first)
      const second = await reader.fetchMessage({ signal })
      // The coordinator sees no heartbeat for longer than the session and removes the member;
      // the member cannot tell yet (its heartbeats are held until they time out on its side).
      cluster.faults.delay('Heartbeat', 5000, { count: 2 })
      await sleep(3000)
      const error = await reader.commitMessages(second).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CommitRejectedError)
      expect((error as CommitRejectedError).reason).toBe('fenced')
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(1n)
      cluster.faults.clear()
      // It rejoins as a new member and reads on from the committed offset.
      const again = await reader.fetchMessage({ signal })
      expect(again.offset).toBe(1n)
    } finally {
      cluster.faults.clear()
      await reader.close()
    }
  }, 60_000)
})

describe('partitions lost to a reset member id or generation (reference cluster: injected errors)', () => {
  // Review D2 / issue 11: after the coordinator answers UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION,
  // another member may own the partitions already. The member gives them up as lost (Java's "Giving
  // away all assigned partitions as lost"), commits nothing it had marked, and refuses commits of
  // messages it fetched before, even once it owns the partition again in its new membership.
  const cases: { name: string; api: string; code: number; trigger: boolean }[] = [
    { name: 'JoinGroup UNKNOWN_MEMBER_ID', api: 'JoinGroup', code: ErrorCode.UNKNOWN_MEMBER_ID, trigger: true },
    { name: 'JoinGroup ILLEGAL_GENERATION', api: 'JoinGroup', code: ErrorCode.ILLEGAL_GENERATION, trigger: true },
    { name: 'SyncGroup ILLEGAL_GENERATION', api: 'SyncGroup', code: ErrorCode.ILLEGAL_GENERATION, trigger: true },
    { name: 'Heartbeat UNKNOWN_MEMBER_ID', api: 'Heartbeat', code: ErrorCode.UNKNOWN_MEMBER_ID, trigger: false },
  ]
  for (const c of cases) {
    it(`${c.name}: the partitions are lost, nothing marked is committed, old messages are refused`, async () => {
      const topic = unique('lost')
      const groupId = unique('lost-g')
      await createTopic(target.bootstrap, topic, 1)
      await produce(target.bootstrap, topic, 30)
      const lost: TopicPartition[][] = []
      const revoked: TopicPartition[][] = []
      const reader = new Reader({
        brokers: target.bootstrap,
        groupId,
        topic,
        // Classic: the errors are injected into JoinGroup, SyncGroup and Heartbeat.
        groupProtocol: 'classic',
        // Cooperative: the member keeps its partitions into JoinGroup, where D2 happened.
        groupBalancers: [new CooperativeStickyGroupBalancer()],
        // Marks only, until flushCommits.
        commitInterval: 60_000,
        // A member id given up leaves a ghost member in the group until its session expires.
        sessionTimeout: 2000,
        rebalanceTimeout: 5000,
        heartbeatInterval: 200,
        onLost: (p) => void lost.push(p),
        onRevoke: (p) => void revoked.push(p),
      })
      try {
        const signal = AbortSignal.timeout(30_000)
        const before: FetchedMessage[] = []
        for (let i = 0; i < 5; i++) before.push(await reader.fetchMessage({ signal }))
        await reader.commitMessages(...before) // marked, not yet committed
        const generation = reader.generationId

        cluster.faults.failNext(c.api, 1, c.code)
        if (c.trigger) cluster.faults.failNext('Heartbeat', 1, ErrorCode.REBALANCE_IN_PROGRESS)
        await waitFor(
          () => lost.length === 1 && reader.assignment().length === 1 && reader.generationId > generation,
          20_000,
          'the partition to be lost and assigned again',
        )
        expect(lost).toEqual([[{ topic, partition: 0 }]])
        expect(revoked).toEqual([])

        // What was marked before the loss is never committed.
        await reader.flushCommits()
        expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBeUndefined()
        // Nor is a message fetched before the loss, though the partition is this member's again.
        const error = await reader.commitMessages(before[4]!).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(CommitRejectedError)
        expect((error as CommitRejectedError).reason).toBe('fenced')
        await reader.flushCommits()
        expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBeUndefined()

        // The new membership reads from the committed offset (none: the first message) and its
        // commits land; the old marks never rewind them.
        const again: FetchedMessage[] = []
        for (let i = 0; i < 3; i++) again.push(await reader.fetchMessage({ signal }))
        expect(again.map((m) => m.offset)).toEqual([0n, 1n, 2n])
        await reader.commitMessages(...again)
        await reader.flushCommits()
        expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(3n)
      } finally {
        cluster.faults.clear()
        await reader.close()
      }
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(3n)
    }, 60_000)
  }
})
