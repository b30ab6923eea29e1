// Reader building blocks without a broker: option validation and defaults, the prefetch queue,
// and the commit pipeline against a scripted coordinator (ordering, the no-rewind floor,
// ownership, fencing).

import { describe, expect, it } from 'vitest'
import { CooperativeStickyGroupBalancer, RangeGroupBalancer } from '../../src/consumer/assignors/index.js'
import { pastSkipped } from '../../src/consumer/commit-offsets.js'
import { OffsetCommitter, type MembershipView } from '../../src/consumer/commits.js'
import { READER_DEFAULTS, resolveReaderConfig, type ReaderConfig } from '../../src/consumer/config.js'
import type { Coordinator } from '../../src/consumer/coordinator.js'
import { PartitionCursor } from '../../src/consumer/cursor.js'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import type { Ownership } from '../../src/consumer/ownership.js'
import { FirstOffset, LastOffset } from '../../src/consumer/offsets.js'
import { MessageQueue } from '../../src/consumer/queue.js'
import { ReaderStatsCollector } from '../../src/consumer/stats.js'
import { ConfigError } from '../../src/errors.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import type { OffsetCommitRequest, OffsetCommitResponse } from '../../src/protocol/messages/index.js'

const brokers = ['127.0.0.1:9092']

describe('Reader configuration', () => {
  const bad: [string, Partial<ReaderConfig> & Record<string, unknown>, string][] = [
    ['no topic', {}, 'topic'],
    ['groupTopics without a group', { groupTopics: ['a'] }, 'groupTopics'],
    ['partition with a group', { groupId: 'g', topic: 't', partition: 1 }, 'partition'],
    ['topic and groupTopics', { groupId: 'g', topic: 't', groupTopics: ['a'] }, 'groupTopics'],
    ['an invalid topic name', { topic: 'a b' }, 'topic'],
    ['a negative partition', { topic: 't', partition: -1 }, 'partition'],
    ['minBytes above maxBytes', { topic: 't', minBytes: 10, maxBytes: 5 }, 'minBytes'],
    [
      'a heartbeat not below the session',
      { groupId: 'g', topic: 't', sessionTimeout: 6000, heartbeatInterval: 6000 },
      'heartbeatInterval',
    ],
    ['a startOffset that is neither', { topic: 't', startOffset: -5 }, 'startOffset'],
    ['an isolation level typo', { topic: 't', isolationLevel: 'committed' as never }, 'isolationLevel'],
    ['readBackoffMax below readBackoffMin', { topic: 't', readBackoffMin: 500, readBackoffMax: 100 }, 'readBackoffMax'],
    ['an empty balancer list', { groupId: 'g', topic: 't', groupBalancers: [] }, 'groupBalancers'],
    [
      'a balancer listed twice',
      { groupId: 'g', topic: 't', groupBalancers: [new RangeGroupBalancer(), new RangeGroupBalancer()] },
      'groupBalancers',
    ],
    ['onRevoke without a group', { topic: 't', onRevoke: () => {} }, 'onRevoke'],
    ['onLost without a group', { topic: 't', onLost: () => {} }, 'onLost'],
    ['an onLost that is not a function', { groupId: 'g', topic: 't', onLost: 'x' as never }, 'onLost'],
    ['a tiny queue', { topic: 't', queueCapacityBytes: 10 }, 'queueCapacityBytes'],
    ['a removed option', { topic: 't', autoCommit: true }, 'autoCommit'],
    ['maxWait beyond int32', { topic: 't', maxWait: 2 ** 31 }, 'maxWait'],
    ['an idle limit of zero', { topic: 't', connectionsMaxIdle: 0 }, 'connectionsMaxIdle'],
  ]
  for (const [what, config, option] of bad) {
    it(`rejects ${what} with a ConfigError naming ${option}`, () => {
      let error: unknown
      try {
        resolveReaderConfig({ brokers, ...config } as ReaderConfig)
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).option).toBe(option)
    })
  }

  it('fills in the documented defaults', () => {
    const c = resolveReaderConfig({ brokers, groupId: 'g', groupTopics: ['b', 'a', 'b'] })
    expect(c.topics).toEqual(['a', 'b'])
    expect(c.startOffset).toBe(FirstOffset)
    expect(c.isolationLevel).toBe('read_committed')
    expect(c.maxWait).toBe(READER_DEFAULTS.maxWait)
    expect(c.sessionTimeout).toBe(45_000)
    expect(c.heartbeatInterval).toBe(3000)
    expect(c.groupBalancers.map((b) => b.name)).toEqual(['range', 'cooperative-sticky'])
    // Java's rule: cooperative only when every balancer is.
    expect(c.rebalanceProtocol).toBe('eager')
    expect(
      resolveReaderConfig({ brokers, groupId: 'g', topic: 't', groupBalancers: [new CooperativeStickyGroupBalancer()] })
        .rebalanceProtocol,
    ).toBe('cooperative')
    const direct = resolveReaderConfig({ brokers, topic: 't', startOffset: LastOffset })
    expect(direct.direct).toEqual({ topic: 't', partition: 0 })
    expect(direct.startOffset).toBe(LastOffset)
    // A heartbeat default never lands at or above a short session.
    expect(resolveReaderConfig({ brokers, groupId: 'g', topic: 't', sessionTimeout: 6000 }).heartbeatInterval).toBe(
      2000,
    )
  })
})

function message(topic: string, partition: number, offset: bigint, value = 'x'): FetchedMessage {
  return {
    topic,
    partition,
    offset,
    key: null,
    value: Buffer.from(value),
    headers: [],
    timestamp: 0,
    leaderEpoch: -1,
    assignment: 0,
  }
}

describe('MessageQueue', () => {
  it('hands out messages in arrival order and moves each partition position', () => {
    const q = new MessageQueue(1024)
    const a = new PartitionCursor('t', 0)
    const b = new PartitionCursor('t', 1)
    a.setPosition(0n)
    b.setPosition(5n)
    q.push(a, [message('t', 0, 0n), message('t', 0, 1n)], 2, 4n) // offsets 2-3: control records
    q.push(b, [message('t', 1, 5n)], 1, 6n)
    expect(q.length).toBe(3)
    expect(q.bytes).toBe(3)
    expect(q.shift()!.offset).toBe(0n)
    expect(a.position).toBe(1n)
    expect(q.shift()!.offset).toBe(1n)
    // The chunk ended in control records: the position passes them.
    expect(a.position).toBe(4n)
    expect(q.bytes).toBe(1)
    expect(q.shift()!.partition).toBe(1)
    expect(b.position).toBe(6n)
    expect(q.shift()).toBeUndefined()
    expect(q.bytes).toBe(0)
    expect(q.length).toBe(0)
  })

  it('drops a partition (revoked, paused) and stale chunks (sought), releasing their bytes', () => {
    const q = new MessageQueue(100)
    const a = new PartitionCursor('t', 0)
    const b = new PartitionCursor('t', 1)
    q.push(a, [message('t', 0, 0n)], 60, 1n)
    q.push(b, [message('t', 1, 0n)], 50, 1n)
    expect(q.full).toBe(true)
    q.drop(a)
    expect(q.bytes).toBe(50)
    expect(q.full).toBe(false)
    q.push(a, [message('t', 0, 7n)], 10, 8n)
    a.epoch++ // a seek after the fetch
    expect(q.shift()!.partition).toBe(1)
    expect(q.shift()).toBeUndefined()
    expect(q.bytes).toBe(0)
    expect(a.queuedChunks).toBe(0)
  })

  it('delivers a one-time partition error once, in order, and batches per chunk', () => {
    const q = new MessageQueue(100)
    const a = new PartitionCursor('t', 0)
    q.push(a, [message('t', 0, 0n), message('t', 0, 1n)], 2, 2n)
    q.pushError(a, new Error('truncated'), false)
    expect(q.shiftBatch()!.messages.map((m) => m.offset)).toEqual([0n, 1n])
    expect(() => q.shiftBatch()).toThrow('truncated')
    expect(q.shiftBatch()).toBeUndefined()
  })

  it('raises a sticky partition error on every read until the partition is dropped', () => {
    const q = new MessageQueue(100)
    const a = new PartitionCursor('t', 0)
    const b = new PartitionCursor('t', 1)
    q.push(a, [message('t', 0, 0n)], 1, 1n)
    q.pushError(a, new Error('corrupt'), true)
    q.push(b, [message('t', 1, 0n)], 1, 1n)
    expect(q.shift()!.offset).toBe(0n)
    expect(() => q.shift()).toThrow('corrupt')
    expect(() => q.shiftBatch()).toThrow('corrupt')
    expect(() => q.shift()).toThrow('corrupt')
    q.drop(a) // a seek, pause or revocation
    expect(q.shift()!.partition).toBe(1)
    expect(q.shift()).toBeUndefined()
    expect(a.queuedChunks).toBe(0)
  })
})

describe('skips: the position moving past records never handed out (issue 12 item 4)', () => {
  it('an empty chunk or fetch is a skip; consecutive skips join; a seek or a jump forgets them', () => {
    const q = new MessageQueue(100)
    const a = new PartitionCursor('t', 0)
    a.setPosition(0n)
    const skips: string[] = []
    q.onSkip = (c) => skips.push(`${c.skippedFrom}-${c.skippedTo}`)
    q.push(a, [message('t', 0, 0n)], 1, 1n)
    q.push(a, [], 0, 3n) // a later fetch of only a marker and aborted data
    expect(q.shift()!.offset).toBe(0n)
    expect(a.position).toBe(1n)
    expect(skips).toEqual([])
    expect(q.shift()).toBeUndefined() // the empty chunk is used up: the position passes it
    expect(a.position).toBe(3n)
    q.skip(a, 3n, 4n, -1) // the fetcher's skip, nothing queued
    expect([a.skippedFrom, a.skippedTo, a.position]).toEqual([1n, 4n, 4n])
    expect(skips).toEqual(['1-3', '1-4'])
    q.skip(a, 6n, 7n, -1) // not fetched from the position: it moves, nothing is known of 4..6
    expect([a.skippedFrom, a.skippedTo, a.position]).toEqual([-1n, -1n, 7n])
    q.skip(a, 7n, 8n, -1)
    expect([a.skippedFrom, a.skippedTo]).toEqual([7n, 8n])
    a.setPosition(2n)
    expect([a.skippedFrom, a.skippedTo]).toEqual([-1n, -1n])
    expect(skips).toEqual(['1-3', '1-4', '7-8'])
  })

  it('a commit of where a skip starts covers it; the committer commits a skip only from there', async () => {
    const { coordinator, sent } = scriptedCoordinator(() => ErrorCode.NONE)
    const view = new FakeView([['t', 0]])
    const committer = new OffsetCommitter(coordinator, view, policy, new ReaderStatsCollector(), {
      requestTimeout: 1000,
      commitTimeout: 60_000,
    })
    const cursor = new PartitionCursor('t', 0)
    cursor.owner = view.owned.get('t-0')!
    cursor.skippedFrom = 5n
    cursor.skippedTo = 7n
    const cursorOf = (_t: string, p: number) => (p === 0 ? cursor : undefined)
    expect(
      pastSkipped(
        [
          { topic: 't', partition: 0, offset: 5n },
          { topic: 't', partition: 1, offset: 5n },
        ],
        cursorOf,
      ).map((o) => o.offset),
    ).toEqual([7n, 5n])
    expect(pastSkipped([{ topic: 't', partition: 0, offset: 4n }], cursorOf)[0]!.offset).toBe(4n)

    committer.skipped(cursor, true) // nothing asked for: records before 5 may still be processed
    await committer.commit([{ topic: 't', partition: 0, offset: 4n }])
    committer.skipped(cursor, true) // record 4 may still be processed
    await committer.flush()
    expect(sent.map((s) => s.offsets)).toEqual([[['t-0', 4n]]])
    await committer.commit([{ topic: 't', partition: 0, offset: 5n }])
    committer.skipped(cursor, false) // marked, sent with the next flush
    await committer.flush()
    expect(sent.map((s) => s.offsets)).toEqual([[['t-0', 4n]], [['t-0', 5n]], [['t-0', 7n]]])
    expect(committer.committed('t', 0)).toBe(7n)
    // Revoked since: nothing is committed for it.
    cursor.skippedFrom = 7n
    cursor.skippedTo = 9n
    cursor.owner.valid = false
    committer.skipped(cursor, true)
    await committer.flush()
    expect(sent).toHaveLength(3)
  })
})

/** A coordinator that answers OffsetCommit from a script and records what it was sent. */
function scriptedCoordinator(answer: (request: OffsetCommitRequest, n: number) => number | Promise<number>) {
  const sent: { generation: number; offsets: [string, bigint][] }[] = []
  const coordinator = {
    markUnknown() {},
    checkCoordinatorError: (code: number) => code === ErrorCode.NOT_COORDINATOR,
    async send(_api: unknown, body: (v: number) => OffsetCommitRequest): Promise<OffsetCommitResponse> {
      const request = body(9)
      const n = sent.length
      sent.push({
        generation: request.generationIdOrMemberEpoch,
        offsets: request.topics.flatMap((t) =>
          t.partitions.map((p): [string, bigint] => [`${t.name}-${p.partitionIndex}`, p.committedOffset]),
        ),
      })
      const code = await answer(request, n)
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          topicId: t.topicId,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })),
        })),
      }
    },
  }
  return { coordinator: coordinator as unknown as Coordinator, sent }
}

class FakeView implements MembershipView {
  groupId = 'g'
  generationId = 1
  memberId = 'm'
  groupInstanceId = null
  isFenced = false
  owned = new Map<string, Ownership>()
  lostIds = new Set<number>()
  fencedCalls: number[] = []
  #ids = 0
  constructor(partitions: [string, number][]) {
    for (const [topic, partition] of partitions) this.own(topic, partition)
  }
  /** A new ownership of the partition (as an assignment creates). */
  own(topic: string, partition: number): Ownership {
    const o = { topic, partition, id: ++this.#ids, valid: true, lost: false }
    this.owned.set(`${topic}-${partition}`, o)
    return o
  }
  wasLost(id: number): boolean {
    return this.lostIds.has(id)
  }
  ownership(topic: string, partition: number): Ownership | undefined {
    return this.isFenced ? undefined : this.owned.get(`${topic}-${partition}`)
  }
  fenced(code: number): void {
    this.fencedCalls.push(code)
    this.isFenced = true
  }
  requestRejoin(): void {}
  /** What a rebalance completing does to the view (default: nothing changes). */
  onStable: () => void = () => {}
  async waitStable(): Promise<void> {
    this.onStable()
  }
}

const policy = { maxAttempts: 5, backoffMs: 1, backoffMaxMs: 2, jitter: 0 }

describe('OffsetCommitter', () => {
  it('keeps one commit in flight and merges the rest, so a retry never lands after a newer offset', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const { coordinator, sent } = scriptedCoordinator(async (_req, n) => {
      if (n === 0) {
        await gate
        return ErrorCode.REQUEST_TIMED_OUT // retriable: offset 10 is sent again...
      }
      return ErrorCode.NONE
    })
    const view = new FakeView([['t', 0]])
    const committer = new OffsetCommitter(coordinator, view, policy, new ReaderStatsCollector(), {
      requestTimeout: 1000,
      commitTimeout: 60_000,
    })
    const first = committer.commit([{ topic: 't', partition: 0, offset: 10n }])
    const second = committer.commit([{ topic: 't', partition: 0, offset: 12n }])
    const third = committer.commit([{ topic: 't', partition: 0, offset: 11n }])
    release()
    await Promise.all([first, second, third])
    // ...before 12 (merged with 11) goes out: never 10 after 12.
    expect(sent.map((s) => s.offsets)).toEqual([[['t-0', 10n]], [['t-0', 10n]], [['t-0', 12n]]])
    expect(committer.committed('t', 0)).toBe(12n)
  })

  it('refuses an offset below what was committed (rewind) and does not resend an equal one', async () => {
    const { coordinator, sent } = scriptedCoordinator(() => ErrorCode.NONE)
    const view = new FakeView([['t', 0]])
    const committer = new OffsetCommitter(coordinator, view, policy, new ReaderStatsCollector(), {
      requestTimeout: 1000,
      commitTimeout: 60_000,
    })
    committer.setCommitted('t', 0, 50n) // found committed when assigned
    const error = await committer.commit([{ topic: 't', partition: 0, offset: 20n }]).catch((e: unknown) => e)
    expect((error as CommitRejectedError).reason).toBe('rewind')
    await committer.commit([{ topic: 't', partition: 0, offset: 50n }])
    expect(sent).toEqual([])
    await committer.commit([{ topic: 't', partition: 0, offset: 51n }])
    expect(sent.map((s) => s.offsets)).toEqual([[['t-0', 51n]]])
  })

  it('rejects unowned partitions without sending them, and commits the owned ones', async () => {
    const { coordinator, sent } = scriptedCoordinator(() => ErrorCode.NONE)
    const view = new FakeView([['t', 0]])
    const committer = new OffsetCommitter(coordinator, view, policy, new ReaderStatsCollector(), {
      requestTimeout: 1000,
      commitTimeout: 60_000,
    })
    const error = await committer
      .commit([
        { topic: 't', partition: 0, offset: 5n },
        { topic: 't', partition: 1, offset: 7n },
      ])
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CommitRejectedError)
    expect((error as CommitRejectedError).reason).toBe('not-owned')
    expect((error as CommitRejectedError).partitions).toEqual([{ topic: 't', partition: 1, offset: 7n }])
    expect(sent.map((s) => s.offsets)).toEqual([[['t-0', 5n]]])
  })

  it('a partition revoked before its commit is sent is rejected, even if assigned again meanwhile', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const { coordinator, sent } = scriptedCoordinator(async (_req, n) => {
      if (n === 0) await gate
      return ErrorCode.NONE
    })
    const view = new FakeView([
      ['t', 0],
      ['t', 1],
    ])
    const committer = new OffsetCommitter(coordinator, view, policy, new ReaderStatsCollector(), {
      requestTimeout: 1000,
      commitTimeout: 60_000,
    })
    const inFlight = committer.commit([{ topic: 't', partition: 1, offset: 3n }])
    const queued = committer.commit([{ topic: 't', partition: 0, offset: 9n }]).catch((e: unknown) => e)
    // Partition 0 is revoked and assigned back (a new ownership) while the first commit is out.
    const old = view.owned.get('t-0')!
    old.valid = false
    committer.forget([{ topic: 't', partition: 0 }])
    view.own('t', 0)
    release()
    await inFlight
    const error = await queued
    expect(error).toBeInstanceOf(CommitRejectedError)
    expect((error as CommitRejectedError).reason).toBe('not-owned')
    expect(sent.map((s) => s.offsets)).toEqual([[['t-1', 3n]]])
  })

  it('refuses an offset fetched under a replaced ownership, though the partition is owned again', async () => {
    const { coordinator, sent } = scriptedCoordinator(() => ErrorCode.NONE)
    const view = new FakeView([['t', 0]])
    const committer = new OffsetCommitter(coordinator, view, policy, new ReaderStatsCollector(), {
      requestTimeout: 1000,
      commitTimeout: 60_000,
    })
    const before = view.owned.get('t-0')!
    // An eager rebalance gives the partition up and back: a new ownership.
    before.valid = false
    const after = view.own('t', 0)
    const error = await committer
      .commit([{ topic: 't', partition: 0, offset: 9n, assignment: before.id }])
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CommitRejectedError)
    expect((error as CommitRejectedError).reason).toBe('not-owned')
    expect((error as CommitRejectedError).partitions).toEqual([{ topic: 't', partition: 0, offset: 9n }])
    // Marked offsets too, and a lost ownership says 'fenced'.
    view.lostIds.add(before.id)
    expect(() => committer.mark([{ topic: 't', partition: 0, offset: 9n, assignment: before.id }])).toThrow(
      expect.objectContaining({ reason: 'fenced' }),
    )
    await committer.flush()
    expect(sent).toEqual([])
    // The current ownership's offsets go out.
    await committer.commit([{ topic: 't', partition: 0, offset: 4n, assignment: after.id }])
    expect(sent.map((s) => s.offsets)).toEqual([[['t-0', 4n]]])
  })

  it('never sends an in-flight commit again under a newer generation, even for a partition kept', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const view = new FakeView([['t', 0]])
    const { coordinator, sent } = scriptedCoordinator(async (_req, n) => {
      if (n === 0) {
        await gate
        return ErrorCode.ILLEGAL_GENERATION
      }
      return ErrorCode.NONE
    })
    const committer = new OffsetCommitter(coordinator, view, policy, new ReaderStatsCollector(), {
      requestTimeout: 1000,
      commitTimeout: 60_000,
    })
    const inFlight = committer.commit([{ topic: 't', partition: 0, offset: 5n }]).catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 10))
    // The member rejoins (cooperative: it keeps the partition) before the answer arrives.
    view.generationId = 2
    release()
    const error = await inFlight
    expect(error).toBeInstanceOf(CommitRejectedError)
    expect((error as CommitRejectedError).reason).toBe('rebalanced')
    expect(sent.length).toBe(1)
    expect(view.fencedCalls).toEqual([])
    // A new commit in the new generation goes out normally.
    await committer.commit([{ topic: 't', partition: 0, offset: 6n }])
    expect(sent.map((s) => [s.offsets, s.generation])).toEqual([
      [[['t-0', 5n]], 1],
      [[['t-0', 6n]], 2],
    ])
  })

  it('after REBALANCE_IN_PROGRESS, commits again only if the generation it was sent in is still current', async () => {
    const { coordinator, sent } = scriptedCoordinator(() => ErrorCode.REBALANCE_IN_PROGRESS)
    const view = new FakeView([['t', 0]])
    const committer = new OffsetCommitter(coordinator, view, policy, new ReaderStatsCollector(), {
      requestTimeout: 1000,
      commitTimeout: 60_000,
    })
    // Another rebalance completes before this one's commit could go out again.
    view.onStable = () => void (view.generationId = 2)
    const error = await committer.commit([{ topic: 't', partition: 0, offset: 5n }]).catch((e: unknown) => e)
    expect((error as CommitRejectedError).reason).toBe('rebalanced')
    expect(sent.map((s) => s.generation)).toEqual([1])
  })

  it('ILLEGAL_GENERATION fences the member and rejects the commit', async () => {
    const { coordinator } = scriptedCoordinator(() => ErrorCode.ILLEGAL_GENERATION)
    const view = new FakeView([['t', 0]])
    const committer = new OffsetCommitter(coordinator, view, policy, new ReaderStatsCollector(), {
      requestTimeout: 1000,
      commitTimeout: 60_000,
    })
    const error = await committer.commit([{ topic: 't', partition: 0, offset: 5n }]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CommitRejectedError)
    expect((error as CommitRejectedError).reason).toBe('fenced')
    expect(view.fencedCalls).toEqual([ErrorCode.ILLEGAL_GENERATION])
    // Afterwards nothing is accepted until the member rejoins.
    const later = await committer.commit([{ topic: 't', partition: 0, offset: 6n }]).catch((e: unknown) => e)
    expect((later as CommitRejectedError).reason).toBe('fenced')
  })

  it('retries NOT_COORDINATOR until commitTimeout, not an attempt count, then fails with the broker error', async () => {
    const { coordinator, sent } = scriptedCoordinator(() => ErrorCode.NOT_COORDINATOR)
    const view = new FakeView([['t', 0]])
    const committer = new OffsetCommitter(coordinator, view, policy, new ReaderStatsCollector(), {
      requestTimeout: 1000,
      commitTimeout: 600,
    })
    const started = Date.now()
    const error = await committer.commit([{ topic: 't', partition: 0, offset: 5n }]).catch((e: unknown) => e)
    expect((error as { errorName?: string }).errorName).toBe('NOT_COORDINATOR')
    // Backoffs of 1-2 ms: far more attempts than maxAttempts (5) fit in 600 ms, also on a CPU
    // shared with another test file (200 ms was too short for that under load).
    expect(sent.length).toBeGreaterThan(policy.maxAttempts * 4)
    expect(Date.now() - started).toBeGreaterThanOrEqual(590)
  })
})
