// Known answers are facts taken from the real clients' tests (cited per block):
//   Java    apache/kafka @ 1eb76443 clients/src/test/java/org/apache/kafka/clients/consumer/
//           RangeAssignorTest, RoundRobinAssignorTest, CooperativeStickyAssignorTest,
//           internals/AbstractStickyAssignorTest (the non-rack-aware cases and the
//           "nonRackAwareAssignment" expectations of the rack tests), internals/ConsumerProtocolTest
//   kafka-go segmentio/kafka-go @ 3ce29796 groupbalancer_test.go (only the cases where kafka-go
//           agrees with Java: its range splits extras onto the last members and its round robin
//           deals each topic separately, both unlike Kafka's assignors of the same names)
// Consumer-protocol bytes are assembled by hand from ConsumerProtocolSubscription.json /
// ConsumerProtocolAssignment.json: int16 version, then the fields of that version.

import { describe, expect, it } from 'vitest'
import {
  CooperativeStickyGroupBalancer,
  DEFAULT_GENERATION,
  RangeGroupBalancer,
  RoundRobinGroupBalancer,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  groupMember,
  toTopicPartitions,
  type GroupAssignment,
  type GroupBalancer,
  type GroupMember,
  type TopicPartitions,
} from '../../src/consumer/assignors/index.js'
import { KafkaTsError, ProtocolDecodeError, ProtocolEncodeError } from '../../src/errors.js'

// ---------------------------------------------------------------------------------------------
// Helpers

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/** { topic: partitionCount } → partitionsPerTopic */
function topics(counts: Record<string, number>): Map<string, number[]> {
  return new Map(Object.entries(counts).map(([topic, n]) => [topic, range(n)]))
}

/** "t1-0, t2-3" → TopicPartitions[] (topic names may contain '-'; the partition is after the last one). */
function tps(list: string): TopicPartitions[] {
  const out = new Map<string, number[]>()
  for (const item of list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const at = item.lastIndexOf('-')
    const topic = item.slice(0, at)
    const partition = Number(item.slice(at + 1))
    const list = out.get(topic)
    if (list === undefined) out.set(topic, [partition])
    else list.push(partition)
  }
  return [...out].map(([topic, partitions]) => ({ topic, partitions }))
}

function flatten(partitions: Iterable<TopicPartitions> | ReadonlyMap<string, readonly number[]> | undefined): string[] {
  const out: string[] = []
  if (partitions === undefined) return out
  if (partitions instanceof Map) {
    for (const [topic, list] of partitions as ReadonlyMap<string, readonly number[]>)
      for (const p of list) out.push(`${topic}-${p}`)
  } else {
    for (const { topic, partitions: list } of partitions as Iterable<TopicPartitions>)
      for (const p of list) out.push(`${topic}-${p}`)
  }
  return out.sort()
}

/** A member's assignment as Java's toSortedString: "t1-0, t1-1, t2-0". */
function show(assignment: GroupAssignment, id: string): string {
  return flatten(assignment.get(id)).join(', ')
}

/** Java's `partitions(tp(...), ...)` compared as a set. */
function expectAssigned(assignment: GroupAssignment, id: string, expected: string): void {
  expect(show(assignment, id)).toBe(flatten(tps(expected)).join(', '))
}

/** Java `subscription(topics, i)`: no owned partitions, no generation, no userData. */
function member(id: string, subscribed: string[], extra: Partial<GroupMember> = {}): GroupMember {
  return { id, topics: subscribed, ...extra }
}

const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n, 0)
  return b
}

/**
 * Java CooperativeStickyAssignorTest.buildSubscriptionV2Above: owned partitions and the
 * subscription generation field, plus the assignor's userData (its generation, -1 until an
 * assignment) — which is what counts when the generation field is -1.
 */
function v2(id: string, subscribed: string[], owned: string | TopicPartitions[], generation: number): GroupMember {
  const m: GroupMember = {
    id,
    topics: subscribed,
    ownedPartitions: typeof owned === 'string' ? tps(owned) : owned,
    userData: int32(DEFAULT_GENERATION),
  }
  if (generation >= 0) m.generation = generation
  return m
}

/** Java buildSubscriptionV1: owned partitions, no generation field, the generation in userData. */
function v1(id: string, subscribed: string[], owned: string, generation: number): GroupMember {
  return { id, topics: subscribed, ownedPartitions: tps(owned), userData: int32(generation) }
}

function isFullyBalanced(assignment: GroupAssignment): boolean {
  const sizes = [...assignment.values()].map((m) => flatten(m).length)
  return Math.max(...sizes) - Math.min(...sizes) <= 1
}

/**
 * Java AbstractStickyAssignorTest.verifyValidityAndBalance: every partition goes to a member
 * subscribed to its topic, no partition to two members, and two members whose counts differ by 2+
 * share no topic (else a partition could have moved). Plus completeness: every partition of a
 * subscribed topic is assigned.
 */
function verifyValidityAndBalance(
  members: readonly GroupMember[],
  assignment: GroupAssignment,
  ppt: Map<string, number[]>,
): void {
  expect([...assignment.keys()].sort()).toEqual(members.map((m) => m.id).sort())
  const owner = new Map<string, string>()
  for (const m of members) {
    const assigned = assignment.get(m.id)!
    for (const [topic, list] of assigned) {
      expect(m.topics, `${m.id} got ${topic} without subscribing`).toContain(topic)
      for (const p of list) {
        const key = `${topic}-${p}`
        expect(owner.has(key), `${key} assigned to ${owner.get(key)} and ${m.id}`).toBe(false)
        owner.set(key, m.id)
      }
    }
  }
  const ids = members.map((m) => m.id).sort()
  const size = new Map(ids.map((id) => [id, [...assignment.get(id)!.values()].reduce((n, l) => n + l.length, 0)]))
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const la = size.get(ids[i]!)!
      const lb = size.get(ids[j]!)!
      if (Math.abs(la - lb) <= 1) continue
      const a = assignment.get(ids[i]!)!
      const b = assignment.get(ids[j]!)!
      for (const topic of a.keys()) {
        if ((a.get(topic)?.length ?? 0) === 0) continue
        if ((b.get(topic)?.length ?? 0) > 0)
          expect.fail(`${topic} could move between ${ids[i]} (${la}) and ${ids[j]} (${lb})`)
      }
    }
  }
  const subscribed = new Set(members.flatMap((m) => m.topics))
  for (const [topic, list] of ppt) {
    if (!subscribed.has(topic)) continue
    for (const p of list) expect(owner.has(`${topic}-${p}`), `${topic}-${p} unassigned`).toBe(true)
  }
}

/**
 * Java CooperativeStickyAssignorTest.verifyValidityAndBalance: no partition may be given to a
 * member in the rebalance that revokes it from another; while something is revoked, run the
 * follow-up rebalance (members now own what they were given), at most 4 times; then check the
 * final assignment. Returns the final assignment and members.
 */
function settle(
  balancer: GroupBalancer,
  membersIn: readonly GroupMember[],
  ppt: Map<string, number[]>,
  first: GroupAssignment,
  generation = 1,
): { assignment: GroupAssignment; members: GroupMember[] } {
  let members = [...membersIn]
  let assignment = first
  for (let rebalances = 0; ; rebalances++) {
    const added = new Set<string>()
    const revoked = new Set<string>()
    for (const m of members) {
      const owned = new Set(flatten(m.ownedPartitions ?? []))
      const assigned = new Set(flatten(assignment.get(m.id)))
      for (const tp of assigned) if (!owned.has(tp)) added.add(tp)
      for (const tp of owned) if (!assigned.has(tp)) revoked.add(tp)
    }
    const both = [...added].filter((tp) => revoked.has(tp))
    expect(both, 'assigned to a new member in the rebalance that revokes them').toEqual([])
    if (revoked.size === 0) break
    expect(rebalances).toBeLessThan(4)
    members = members.map((m) => v2(m.id, m.topics, toTopicPartitions(assignment.get(m.id)!), generation))
    assignment = balancer.assign(members, ppt)
  }
  verifyValidityAndBalance(members, assignment, ppt)
  return { assignment, members }
}

/** A deterministic random source (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Java's getTopicName / getConsumerName: zero-padded to the width of `max`. */
const pad = (prefix: string, i: number, max: number): string => prefix + String(i).padStart(String(max).length, '0')

// ---------------------------------------------------------------------------------------------
// Range

describe('RangeGroupBalancer', () => {
  const balancer = new RangeGroupBalancer()

  it('is Kafka\'s "range" assignor (eager)', () => {
    expect(balancer.name).toBe('range')
    expect(balancer.protocol).toBe('eager')
  })

  it('Java RangeAssignorTest: one consumer', () => {
    let a = balancer.assign([member('consumer1', [])], new Map())
    expect([...a.keys()]).toEqual(['consumer1'])
    expect(a.get('consumer1')!.size).toBe(0)
    a = balancer.assign([member('consumer1', ['topic1'])], new Map())
    expect(a.get('consumer1')!.size).toBe(0)
    a = balancer.assign([member('consumer1', ['topic1'])], topics({ topic1: 3 }))
    expectAssigned(a, 'consumer1', 'topic1-0, topic1-1, topic1-2')
    // testOnlyAssignsPartitionsFromSubscribedTopics
    a = balancer.assign([member('consumer1', ['topic1'])], topics({ topic1: 3, other: 3 }))
    expectAssigned(a, 'consumer1', 'topic1-0, topic1-1, topic1-2')
    // testOneConsumerMultipleTopics
    a = balancer.assign([member('consumer1', ['topic1', 'topic2'])], topics({ topic1: 1, topic2: 2 }))
    expectAssigned(a, 'consumer1', 'topic1-0, topic2-0, topic2-1')
  })

  it('Java RangeAssignorTest: two consumers', () => {
    let a = balancer.assign([member('consumer1', ['topic1']), member('consumer2', ['topic1'])], topics({ topic1: 1 }))
    expectAssigned(a, 'consumer1', 'topic1-0')
    expectAssigned(a, 'consumer2', '')
    a = balancer.assign([member('consumer1', ['topic1']), member('consumer2', ['topic1'])], topics({ topic1: 2 }))
    expectAssigned(a, 'consumer1', 'topic1-0')
    expectAssigned(a, 'consumer2', 'topic1-1')
    // testTwoConsumersTwoTopicsSixPartitions
    a = balancer.assign(
      [member('consumer2', ['topic1', 'topic2']), member('consumer1', ['topic1', 'topic2'])],
      topics({ topic1: 3, topic2: 3 }),
    )
    expectAssigned(a, 'consumer1', 'topic1-0, topic1-1, topic2-0, topic2-1')
    expectAssigned(a, 'consumer2', 'topic1-2, topic2-2')
  })

  it('Java RangeAssignorTest.testMultipleConsumersMixedTopics', () => {
    const a = balancer.assign(
      [member('consumer1', ['topic1']), member('consumer2', ['topic1', 'topic2']), member('consumer3', ['topic1'])],
      topics({ topic1: 3, topic2: 2 }),
    )
    expectAssigned(a, 'consumer1', 'topic1-0')
    expectAssigned(a, 'consumer2', 'topic1-1, topic2-0, topic2-1')
    expectAssigned(a, 'consumer3', 'topic1-2')
  })

  it('Java RangeAssignorTest: static members sort by group.instance.id, before dynamic ones', () => {
    const ppt = topics({ topic1: 3, topic2: 3 })
    // testTwoStaticConsumersTwoTopicsSixPartitions: consumer-b has instance1, consumer-a instance2.
    let a = balancer.assign(
      [
        member('consumer-b', ['topic1', 'topic2'], { groupInstanceId: 'instance1' }),
        member('consumer-a', ['topic1', 'topic2'], { groupInstanceId: 'instance2' }),
      ],
      ppt,
    )
    expectAssigned(a, 'consumer-b', 'topic1-0, topic1-1, topic2-0, topic2-1')
    expectAssigned(a, 'consumer-a', 'topic1-2, topic2-2')
    // testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions
    a = balancer.assign(
      [
        member('consumer-b', ['topic1', 'topic2'], { groupInstanceId: 'instance1' }),
        member('consumer-a', ['topic1', 'topic2']),
      ],
      ppt,
    )
    expectAssigned(a, 'consumer-b', 'topic1-0, topic1-1, topic2-0, topic2-1')
    expectAssigned(a, 'consumer-a', 'topic1-2, topic2-2')
  })

  it('Java RangeAssignorTest.testStaticMemberRangeAssignmentPersistent', () => {
    const ppt = topics({ topic1: 5, topic2: 4 })
    const statics = [1, 2, 3].map((i) =>
      member(`consumer${i}`, ['topic1', 'topic2'], { groupInstanceId: `instance${i}` }),
    )
    let a = balancer.assign([...statics, member('consumer4', ['topic1', 'topic2'])], ppt)
    expectAssigned(a, 'consumer1', 'topic1-0, topic1-1, topic2-0')
    expectAssigned(a, 'consumer2', 'topic1-2, topic2-1')
    expectAssigned(a, 'consumer3', 'topic1-3, topic2-2')
    expectAssigned(a, 'consumer4', 'topic1-4, topic2-3')
    a = balancer.assign([...statics, member('consumer5', ['topic1', 'topic2'])], ppt)
    expectAssigned(a, 'consumer1', 'topic1-0, topic1-1, topic2-0')
    expectAssigned(a, 'consumer5', 'topic1-4, topic2-3')
  })

  it('Java RangeAssignorTest.testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges', () => {
    const ppt = topics({ topic1: 5, topic2: 5 })
    const byInstance = (members: GroupMember[]): Record<string, string> => {
      const a = balancer.assign(members, ppt)
      return Object.fromEntries(members.map((m) => [m.groupInstanceId!, show(a, m.id)]))
    }
    const expected = {
      instance1: 'topic1-0, topic1-1, topic2-0, topic2-1',
      instance2: 'topic1-2, topic1-3, topic2-2, topic2-3',
      instance3: 'topic1-4, topic2-4',
    }
    const t = ['topic1', 'topic2']
    expect(byInstance([1, 2, 3].map((i) => member(`consumer${i}`, t, { groupInstanceId: `instance${i}` })))).toEqual(
      expected,
    )
    expect(
      byInstance([
        member('consumer1', t, { groupInstanceId: 'instance1' }),
        member('consumer5', t, { groupInstanceId: 'instance2' }),
        member('consumer4', t, { groupInstanceId: 'instance3' }),
      ]),
    ).toEqual(expected)
  })

  it('Java RangeAssignorTest: nonRackAwareAssignment expectations', () => {
    const run = (counts: Record<string, number>, subs: string[][], expected: string[]): void => {
      const members = subs.map((t, i) => member(`consumer${i}`, t))
      const a = balancer.assign(members, topics(counts))
      expect(members.map((m) => show(a, m.id))).toEqual(expected)
    }
    const all3 = ['t1', 't2', 't3']
    // testRackAwareAssignmentWithUniformSubscription
    run(
      { t1: 6, t2: 7, t3: 2 },
      [all3, all3, all3],
      ['t1-0, t1-1, t2-0, t2-1, t2-2, t3-0', 't1-2, t1-3, t2-3, t2-4, t3-1', 't1-4, t1-5, t2-5, t2-6'],
    )
    // testRackAwareAssignmentWithNonEqualSubscription
    run(
      { t1: 6, t2: 7, t3: 2 },
      [all3, all3, ['t1', 't3']],
      ['t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0', 't1-2, t1-3, t2-4, t2-5, t2-6, t3-1', 't1-4, t1-5'],
    )
    // testRackAwareAssignmentWithUniformPartitions
    run(
      { t1: 5, t2: 5, t3: 5 },
      [all3, all3, all3],
      ['t1-0, t1-1, t2-0, t2-1, t3-0, t3-1', 't1-2, t1-3, t2-2, t2-3, t3-2, t3-3', 't1-4, t2-4, t3-4'],
    )
    // testRackAwareAssignmentWithUniformPartitionsNonEqualSubscription
    run(
      { t1: 5, t2: 5, t3: 5 },
      [all3, all3, ['t1', 't3']],
      ['t1-0, t1-1, t2-0, t2-1, t2-2, t3-0, t3-1', 't1-2, t1-3, t2-3, t2-4, t3-2, t3-3', 't1-4, t3-4'],
    )
    // testRackAwareAssignmentWithCoPartitioning
    run(
      { t1: 6, t2: 6, t3: 2, t4: 2 },
      [
        ['t1', 't2'],
        ['t1', 't2'],
        ['t3', 't4'],
        ['t3', 't4'],
      ],
      ['t1-0, t1-1, t1-2, t2-0, t2-1, t2-2', 't1-3, t1-4, t1-5, t2-3, t2-4, t2-5', 't3-0, t4-0', 't3-1, t4-1'],
    )
    const all4 = ['t1', 't2', 't3', 't4']
    run(
      { t1: 6, t2: 6, t3: 2, t4: 2 },
      [all4, all4, all4, all4],
      ['t1-0, t1-1, t2-0, t2-1, t3-0, t4-0', 't1-2, t1-3, t2-2, t2-3, t3-1, t4-1', 't1-4, t2-4', 't1-5, t2-5'],
    )
    // testCoPartitionedAssignmentWithSameSubscription (t7..t9 do not exist)
    const nine = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9']
    run(
      { t1: 6, t2: 6, t3: 2, t4: 2, t5: 4, t6: 4 },
      [nine, nine, nine],
      [
        't1-0, t1-1, t2-0, t2-1, t3-0, t4-0, t5-0, t5-1, t6-0, t6-1',
        't1-2, t1-3, t2-2, t2-3, t3-1, t4-1, t5-2, t6-2',
        't1-4, t1-5, t2-4, t2-5, t5-3, t6-3',
      ],
    )
  })

  it('kafka-go TestRangeAssignGroups (cases where it agrees with Java)', () => {
    expect(balancer.assign([], new Map()).size).toBe(0)
    let a = balancer.assign([member('a', ['topic-1'])], topics({ 'topic-1': 1 }))
    expect(Object.fromEntries(a.get('a')!)).toEqual({ 'topic-1': [0] })
    a = balancer.assign([member('a', ['topic-1'])], topics({ 'topic-1': 3 }))
    expect(Object.fromEntries(a.get('a')!)).toEqual({ 'topic-1': [0, 1, 2] })
  })

  it('kafka-go TestRangeAssignGroupsUnbalanced: 66 members, 213 partitions → 3 or 4 each', () => {
    const members = range(66).map((i) => member(String(i), ['topic-1']))
    const a = balancer.assign(members, topics({ 'topic-1': 213 }))
    expect(a.size).toBe(66)
    for (const m of a.values()) expect([3, 4]).toContain(m.get('topic-1')!.length)
    verifyValidityAndBalance(members, a, topics({ 'topic-1': 213 }))
  })

  it('uses the partition ids given, sorted, and ignores topics without partitions', () => {
    const a = balancer.assign(
      [member('b', ['x', 'y']), member('a', ['x', 'y'])],
      new Map([
        ['x', [7, 3, 5]],
        ['y', []],
      ]),
    )
    expect(Object.fromEntries(a.get('a')!)).toEqual({ x: [3, 5] })
    expect(Object.fromEntries(a.get('b')!)).toEqual({ x: [7] })
  })

  it('rejects duplicate member ids', () => {
    expect(() => balancer.assign([member('a', ['t']), member('a', ['t'])], topics({ t: 1 }))).toThrow(KafkaTsError)
  })
})

// ---------------------------------------------------------------------------------------------
// Round robin

describe('RoundRobinGroupBalancer', () => {
  const balancer = new RoundRobinGroupBalancer()

  it('is Kafka\'s "roundrobin" assignor (eager)', () => {
    expect(balancer.name).toBe('roundrobin')
    expect(balancer.protocol).toBe('eager')
  })

  it('Java RoundRobinAssignorTest: one consumer', () => {
    let a = balancer.assign([member('consumer', [])], new Map())
    expect([...a.keys()]).toEqual(['consumer'])
    expect(a.get('consumer')!.size).toBe(0)
    a = balancer.assign([member('consumer', ['topic'])], new Map())
    expect(a.get('consumer')!.size).toBe(0)
    a = balancer.assign([member('consumer', ['topic'])], topics({ topic: 3 }))
    expectAssigned(a, 'consumer', 'topic-0, topic-1, topic-2')
    a = balancer.assign([member('consumer', ['topic'])], topics({ topic: 3, other: 3 }))
    expectAssigned(a, 'consumer', 'topic-0, topic-1, topic-2')
    a = balancer.assign([member('consumer', ['topic1', 'topic2'])], topics({ topic1: 1, topic2: 2 }))
    expectAssigned(a, 'consumer', 'topic1-0, topic2-0, topic2-1')
  })

  it('Java RoundRobinAssignorTest: two consumers, one topic', () => {
    let a = balancer.assign([member('consumer1', ['topic']), member('consumer2', ['topic'])], topics({ topic: 1 }))
    expectAssigned(a, 'consumer1', 'topic-0')
    expectAssigned(a, 'consumer2', '')
    a = balancer.assign([member('consumer1', ['topic']), member('consumer2', ['topic'])], topics({ topic: 2 }))
    expectAssigned(a, 'consumer1', 'topic-0')
    expectAssigned(a, 'consumer2', 'topic-1')
  })

  it('Java RoundRobinAssignorTest.testMultipleConsumersMixedTopics', () => {
    const a = balancer.assign(
      [member('consumer1', ['topic1']), member('consumer2', ['topic1', 'topic2']), member('consumer3', ['topic1'])],
      topics({ topic1: 3, topic2: 2 }),
    )
    expectAssigned(a, 'consumer1', 'topic1-0')
    expectAssigned(a, 'consumer2', 'topic1-1, topic2-0, topic2-1')
    expectAssigned(a, 'consumer3', 'topic1-2')
  })

  it('Java RoundRobinAssignorTest: two consumers, two topics, six partitions (dynamic and static)', () => {
    const ppt = topics({ topic1: 3, topic2: 3 })
    const t = ['topic1', 'topic2']
    let a = balancer.assign([member('consumer1', t), member('consumer2', t)], ppt)
    expectAssigned(a, 'consumer1', 'topic1-0, topic1-2, topic2-1')
    expectAssigned(a, 'consumer2', 'topic1-1, topic2-0, topic2-2')
    a = balancer.assign(
      [
        member('consumer-b', t, { groupInstanceId: 'instance1' }),
        member('consumer-a', t, { groupInstanceId: 'instance2' }),
      ],
      ppt,
    )
    expectAssigned(a, 'consumer-b', 'topic1-0, topic1-2, topic2-1')
    expectAssigned(a, 'consumer-a', 'topic1-1, topic2-0, topic2-2')
    a = balancer.assign([member('consumer-b', t, { groupInstanceId: 'instance1' }), member('consumer-a', t)], ppt)
    expectAssigned(a, 'consumer-b', 'topic1-0, topic1-2, topic2-1')
    expectAssigned(a, 'consumer-a', 'topic1-1, topic2-0, topic2-2')
  })

  it('Java RoundRobinAssignorTest.testStaticMemberRoundRobinAssignmentPersistent', () => {
    const ppt = topics({ topic1: 3, topic2: 3 })
    const t = ['topic1', 'topic2']
    const statics = [1, 2, 3].map((i) => member(`consumer${i}`, t, { groupInstanceId: `instance${i}` }))
    let a = balancer.assign([...statics, member('consumer4', t)], ppt)
    expectAssigned(a, 'consumer1', 'topic1-0, topic2-1')
    expectAssigned(a, 'consumer2', 'topic1-1, topic2-2')
    expectAssigned(a, 'consumer3', 'topic1-2')
    expectAssigned(a, 'consumer4', 'topic2-0')
    a = balancer.assign([...statics, member('consumer5', t)], ppt)
    expectAssigned(a, 'consumer3', 'topic1-2')
    expectAssigned(a, 'consumer5', 'topic2-0')
  })

  it('Java RoundRobinAssignorTest.testStaticMemberRoundRobinAssignmentPersistentAfterMemberIdChanges', () => {
    const ppt = topics({ topic1: 5, topic2: 5 })
    const t = ['topic1', 'topic2']
    const byInstance = (members: GroupMember[]): Record<string, string> => {
      const a = balancer.assign(members, ppt)
      return Object.fromEntries(members.map((m) => [m.groupInstanceId!, show(a, m.id)]))
    }
    const expected = {
      instance1: 'topic1-0, topic1-3, topic2-1, topic2-4',
      instance2: 'topic1-1, topic1-4, topic2-2',
      instance3: 'topic1-2, topic2-0, topic2-3',
    }
    expect(byInstance([1, 2, 3].map((i) => member(`consumer${i}`, t, { groupInstanceId: `instance${i}` })))).toEqual(
      expected,
    )
    expect(
      byInstance([
        member('consumer1', t, { groupInstanceId: 'instance1' }),
        member('consumer5', t, { groupInstanceId: 'instance2' }),
        member('consumer4', t, { groupInstanceId: 'instance3' }),
      ]),
    ).toEqual(expected)
  })

  it('kafka-go TestRoundRobinAssignGroups (cases where it agrees with Java)', () => {
    expect(balancer.assign([], new Map()).size).toBe(0)
    let a = balancer.assign([member('a', ['topic-1'])], topics({ 'topic-1': 3 }))
    expect(Object.fromEntries(a.get('a')!)).toEqual({ 'topic-1': [0, 1, 2] })
    a = balancer.assign([member('a', ['topic-1']), member('b', ['topic-1'])], topics({ 'topic-1': 1 }))
    expect(Object.fromEntries(a.get('a')!)).toEqual({ 'topic-1': [0] })
    expect(a.get('b')!.size).toBe(0)
  })

  it('property: identical subscriptions → every partition once, counts within one', () => {
    const random = seeded(7)
    for (let round = 0; round < 50; round++) {
      const topicCount = 1 + Math.floor(random() * 6)
      const counts: Record<string, number> = {}
      for (let t = 0; t < topicCount; t++) counts[`t${t}`] = 1 + Math.floor(random() * 12)
      const ppt = topics(counts)
      const members = range(1 + Math.floor(random() * 9)).map((i) =>
        member(
          `m${Math.floor(random() * 1000)}-${i}`,
          Object.keys(counts),
          random() < 0.3 ? { groupInstanceId: `i${i}` } : {},
        ),
      )
      const a = balancer.assign(members, ppt)
      verifyValidityAndBalance(members, a, ppt)
      expect(isFullyBalanced(a)).toBe(true)
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Cooperative sticky

describe('CooperativeStickyGroupBalancer', () => {
  const balancer = new CooperativeStickyGroupBalancer()
  const assign = (members: GroupMember[], ppt: Map<string, number[]>): GroupAssignment => balancer.assign(members, ppt)
  const generationId = 1

  it('is Kafka\'s "cooperative-sticky" assignor (cooperative)', () => {
    expect(balancer.name).toBe('cooperative-sticky')
    expect(balancer.protocol).toBe('cooperative')
  })

  it('Java testEncodeAndDecodeGeneration: userData is the generation as an int32', () => {
    expect(balancer.userData({ topics: ['topic'], generation: -1, ownedPartitions: [] })).toEqual(
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
    )
    expect(balancer.userData({ topics: ['topic'], generation: 10, ownedPartitions: [] })).toEqual(
      Buffer.from([0, 0, 0, 10]),
    )
  })

  it('Java: one consumer', () => {
    let ppt = new Map<string, number[]>()
    let a = assign([member('consumer', [])], ppt)
    expect([...a.keys()]).toEqual(['consumer'])
    expect(a.get('consumer')!.size).toBe(0)
    // testOneConsumerNonexistentTopic
    ppt = new Map([['topic', []]])
    a = assign([member('consumer', ['topic'])], ppt)
    expect(a.get('consumer')!.size).toBe(0)
    // testOneConsumerOneTopic
    a = assign([member('consumer', ['topic'])], topics({ topic: 3 }))
    expectAssigned(a, 'consumer', 'topic-0, topic-1, topic-2')
    // testOnlyAssignsPartitionsFromSubscribedTopics
    a = assign([v2('consumer', ['topic'], 'topic-0, topic-1, other-0, other-1', generationId)], topics({ topic: 2 }))
    expectAssigned(a, 'consumer', 'topic-0, topic-1')
    // testOneConsumerMultipleTopics
    a = assign([member('consumer', ['topic1', 'topic2'])], topics({ topic1: 1, topic2: 2 }))
    expectAssigned(a, 'consumer', 'topic1-0, topic2-0, topic2-1')
  })

  it('Java testTwoConsumersOneTopicOnePartition / TwoPartitions', () => {
    let ppt = topics({ topic: 1 })
    let members = [member('consumer1', ['topic']), member('consumer2', ['topic'])]
    let a = assign(members, ppt)
    settle(balancer, members, ppt, a)
    expect(isFullyBalanced(a)).toBe(true)
    ppt = topics({ topic: 2 })
    members = [member('consumer1', ['topic']), member('consumer2', ['topic'])]
    a = assign(members, ppt)
    expectAssigned(a, 'consumer1', 'topic-0')
    expectAssigned(a, 'consumer2', 'topic-1')
  })

  it('Java testMultipleConsumersMixedTopicSubscriptions (general builder)', () => {
    const ppt = topics({ topic1: 3, topic2: 2 })
    const members = [
      member('consumer1', ['topic1']),
      member('consumer2', ['topic1', 'topic2']),
      member('consumer3', ['topic1']),
    ]
    const a = assign(members, ppt)
    expectAssigned(a, 'consumer1', 'topic1-0, topic1-2')
    expectAssigned(a, 'consumer2', 'topic2-0, topic2-1')
    expectAssigned(a, 'consumer3', 'topic1-1')
    verifyValidityAndBalance(members, a, ppt)
  })

  it('Java testTwoConsumersTwoTopicsSixPartitions', () => {
    const ppt = topics({ topic1: 3, topic2: 3 })
    const a = assign([member('consumer1', ['topic1', 'topic2']), member('consumer2', ['topic1', 'topic2'])], ppt)
    expectAssigned(a, 'consumer1', 'topic1-0, topic1-2, topic2-1')
    expectAssigned(a, 'consumer2', 'topic1-1, topic2-0, topic2-2')
  })

  it('Java testConsumerOwningMinQuotaExpectedMaxQuota', () => {
    const ppt = topics({ topic1: 2, topic2: 3 })
    const t = ['topic1', 'topic2']
    const a = assign(
      [v2('consumer1', t, 'topic1-0, topic2-1', generationId), v2('consumer2', t, 'topic1-1, topic2-2', generationId)],
      ppt,
    )
    expectAssigned(a, 'consumer1', 'topic1-0, topic2-1, topic2-0')
    expectAssigned(a, 'consumer2', 'topic1-1, topic2-2')
  })

  it('Java testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers: the move waits for the revocation', () => {
    const ppt = topics({ topic1: 2, topic2: 2 })
    const t = ['topic1', 'topic2']
    const members = [
      v2('consumer1', t, 'topic1-0, topic2-0', generationId),
      v2('consumer2', t, 'topic1-1, topic2-1', generationId),
      v2('consumer3', t, '', generationId),
    ]
    // Only one of consumer1/consumer2 may keep two partitions. Java visits members in HashMap
    // order (consumer2 before consumer1 for these names), so there consumer1 gives up topic2-0;
    // we visit members sorted by id, so consumer2 gives up topic2-1: the same rule, the mirror
    // image. Either way exactly one partition is transferring, and it is not assigned yet.
    const first = assign(members, ppt)
    expectAssigned(first, 'consumer1', 'topic1-0, topic2-0')
    expectAssigned(first, 'consumer2', 'topic1-1')
    expectAssigned(first, 'consumer3', '')
    const { assignment } = settle(balancer, members, ppt, first)
    expectAssigned(assignment, 'consumer1', 'topic1-0, topic2-0')
    expectAssigned(assignment, 'consumer2', 'topic1-1')
    expectAssigned(assignment, 'consumer3', 'topic2-1')
    expect(isFullyBalanced(assignment)).toBe(true)
  })

  it('Java testAllConsumersAreUnderMinQuota', () => {
    const ppt = topics({ topic1: 2, topic2: 3 })
    const t = ['topic1', 'topic2']
    const members = [
      v2('consumer1', t, 'topic1-0', generationId),
      v2('consumer2', t, 'topic1-1', generationId),
      v2('consumer3', t, '', generationId),
    ]
    const a = assign(members, ppt)
    expectAssigned(a, 'consumer1', 'topic1-0, topic2-1')
    expectAssigned(a, 'consumer2', 'topic1-1, topic2-2')
    expectAssigned(a, 'consumer3', 'topic2-0')
    settle(balancer, members, ppt, a)
  })

  it('Java testAddRemoveConsumerOneTopic', () => {
    const ppt = topics({ topic: 3 })
    let a = assign([member('consumer1', ['topic'])], ppt)
    expectAssigned(a, 'consumer1', 'topic-0, topic-1, topic-2')
    let members = [
      v2('consumer1', ['topic'], toTopicPartitions(a.get('consumer1')!), generationId),
      v2('consumer2', ['topic'], '', generationId),
    ]
    a = assign(members, ppt)
    // {topic-2: consumer2} is transferring: revoked now, given next time.
    expectAssigned(a, 'consumer1', 'topic-0, topic-1')
    expectAssigned(a, 'consumer2', '')
    ;({ assignment: a } = settle(balancer, members, ppt, a))
    expectAssigned(a, 'consumer1', 'topic-0, topic-1')
    expectAssigned(a, 'consumer2', 'topic-2')
    members = [v2('consumer2', ['topic'], toTopicPartitions(a.get('consumer2')!), generationId)]
    a = assign(members, ppt)
    expectAssigned(a, 'consumer2', 'topic-0, topic-1, topic-2')
  })

  it('Java testTopicBalanceAfterReassignment', () => {
    const ppt = topics({ topic1: 12, topic2: 12 })
    const t = ['topic1', 'topic2']
    const perTopic = (a: GroupAssignment, n: number): void => {
      for (const m of a.values()) {
        expect(m.get('topic1')?.length ?? 0).toBe(n)
        expect(m.get('topic2')?.length ?? 0).toBe(n)
      }
    }
    let members = [member('consumer1', t)]
    let a = assign(members, ppt)
    perTopic(a, 12)
    members = [
      v2('consumer1', t, toTopicPartitions(a.get('consumer1')!), generationId),
      v2('consumer2', t, '', generationId),
    ]
    ;({ assignment: a, members } = settle(balancer, members, ppt, assign(members, ppt)))
    perTopic(a, 6)
    members = [
      ...members.map((m) => v2(m.id, t, toTopicPartitions(a.get(m.id)!), generationId)),
      v2('consumer3', t, '', generationId),
      v2('consumer4', t, '', generationId),
    ]
    ;({ assignment: a } = settle(balancer, members, ppt, assign(members, ppt)))
    perTopic(a, 3)
    members = ['consumer3', 'consumer4'].map((id) => v2(id, t, toTopicPartitions(a.get(id)!), generationId))
    a = assign(members, ppt)
    perTopic(a, 6)
  })

  it('Java testAddRemoveTwoConsumersTwoTopics', () => {
    const ppt = topics({ topic1: 3, topic2: 4 })
    const t = ['topic1', 'topic2']
    let a = assign([member('consumer1', t), member('consumer2', t)], ppt)
    expectAssigned(a, 'consumer1', 'topic1-0, topic1-2, topic2-1, topic2-3')
    expectAssigned(a, 'consumer2', 'topic1-1, topic2-0, topic2-2')
    const members = [
      v2('consumer1', t, toTopicPartitions(a.get('consumer1')!), generationId),
      v2('consumer2', t, toTopicPartitions(a.get('consumer2')!), generationId),
      v2('consumer3', t, '', generationId),
      v2('consumer4', t, '', generationId),
    ]
    a = assign(members, ppt)
    // Transferring {topic1-2: consumer3, topic2-3: consumer3, topic2-2: consumer4}.
    expectAssigned(a, 'consumer1', 'topic1-0, topic2-1')
    expectAssigned(a, 'consumer2', 'topic2-0, topic1-1')
    expectAssigned(a, 'consumer3', '')
    expectAssigned(a, 'consumer4', '')
    ;({ assignment: a } = settle(balancer, members, ppt, a))
    expectAssigned(a, 'consumer1', 'topic1-0, topic2-1')
    expectAssigned(a, 'consumer2', 'topic2-0, topic1-1')
    expectAssigned(a, 'consumer3', 'topic1-2, topic2-3')
    expectAssigned(a, 'consumer4', 'topic2-2')
    const remaining = ['consumer3', 'consumer4'].map((id) => v2(id, t, toTopicPartitions(a.get(id)!), generationId))
    a = assign(remaining, ppt)
    expectAssigned(a, 'consumer3', 'topic1-2, topic2-3, topic1-0, topic2-1')
    expectAssigned(a, 'consumer4', 'topic2-2, topic1-1, topic2-0')
  })

  it('Java testPoorRoundRobinAssignmentScenario', () => {
    const ppt = new Map(range(5).map((i) => [`topic${i + 1}`, range(((i + 1) % 2) + 1)]))
    const all = ['topic1', 'topic2', 'topic3', 'topic4', 'topic5']
    const odd = ['topic1', 'topic3', 'topic5']
    const members = [
      member('consumer1', all),
      member('consumer2', odd),
      member('consumer3', odd),
      member('consumer4', all),
    ]
    settle(balancer, members, ppt, assign(members, ppt))
  })

  it('Java testAddRemoveTopicTwoConsumers', () => {
    const ppt = topics({ topic: 3 })
    let a = assign([member('consumer1', ['topic']), member('consumer2', ['topic'])], ppt)
    const first1 = flatten(a.get('consumer1'))
    const first2 = flatten(a.get('consumer2'))
    expect([first1.length, first2.length].sort()).toEqual([1, 2])
    ppt.set('topic2', range(3))
    let members = ['consumer1', 'consumer2'].map((id) =>
      v2(id, ['topic', 'topic2'], toTopicPartitions(a.get(id)!), generationId),
    )
    ;({ assignment: a } = settle(balancer, members, ppt, assign(members, ppt)))
    const second1 = flatten(a.get('consumer1'))
    const second2 = flatten(a.get('consumer2'))
    expect([second1.length, second2.length]).toEqual([3, 3])
    expect(second1).toEqual(expect.arrayContaining(first1))
    expect(second2).toEqual(expect.arrayContaining(first2))
    ppt.delete('topic')
    members = ['consumer1', 'consumer2'].map((id) => v2(id, ['topic2'], toTopicPartitions(a.get(id)!), generationId))
    ;({ assignment: a } = settle(balancer, members, ppt, assign(members, ppt)))
    const third1 = flatten(a.get('consumer1'))
    const third2 = flatten(a.get('consumer2'))
    expect([third1.length, third2.length].sort()).toEqual([1, 2])
    expect(second1).toEqual(expect.arrayContaining(third1))
    expect(second2).toEqual(expect.arrayContaining(third2))
  })

  it('Java testReassignmentAfterOneConsumerLeaves (general builder)', () => {
    const ppt = new Map(range(19).map((i) => [pad('t', i + 1, 20), range(i + 1)]))
    let members = range(19).map((i) =>
      member(
        pad('c', i + 1, 20),
        range(i + 1).map((j) => pad('t', j + 1, 20)),
      ),
    )
    let a = assign(members, ppt)
    ;({ assignment: a, members } = settle(balancer, members, ppt, a))
    const before = a
    members = members
      .filter((m) => m.id !== 'c10')
      .map((m) => v2(m.id, m.topics, toTopicPartitions(a.get(m.id)!), generationId))
    ;({ assignment: a } = settle(balancer, members, ppt, assign(members, ppt)))
    expectNoSwaps(before, a)
  })

  it('Java testReassignmentAfterOneConsumerAdded', () => {
    const ppt = topics({ topic: 20 })
    let members = range(9).map((i) => member(pad('c', i + 1, 10), ['topic']))
    let a = assign(members, ppt)
    verifyValidityAndBalance(members, a, ppt)
    members = [...members, member('c10', ['topic'])]
    a = assign(members, ppt)
    settle(balancer, members, ppt, a)
  })

  it('Java testSameSubscriptions', () => {
    const ppt = new Map(range(14).map((i) => [pad('t', i + 1, 15), range(i + 1)]))
    const all = [...ppt.keys()]
    let members = range(8).map((i) => member(pad('c', i + 1, 9), all))
    const a = assign(members, ppt)
    verifyValidityAndBalance(members, a, ppt)
    members = members
      .filter((m) => m.id !== pad('c', 5, 9))
      .map((m) => v2(m.id, all, toTopicPartitions(a.get(m.id)!), generationId))
    settle(balancer, members, ppt, assign(members, ppt))
  })

  it('Java testLargeAssignmentAndGroupWithUniformSubscription (scaled: 100 topics × 1000 partitions, 2000 members)', () => {
    const topicCount = 100
    const ppt = new Map(range(topicCount).map((i) => [pad('t', i, topicCount), range(1000)]))
    const all = [...ppt.keys()]
    let members = range(2000).map((i) => member(pad('c', i, 2000), all))
    const a = assign(members, ppt)
    verifyCounts(a, 100_000)
    // Member 0 leaves: the others keep all they had, and 50 of them take one of its partitions.
    members = members.slice(1).map((m) => v2(m.id, all, toTopicPartitions(a.get(m.id)!), generationId))
    const b = assign(members, ppt)
    verifyCounts(b, 100_000)
    for (const m of members) expect(flatten(b.get(m.id))).toEqual(expect.arrayContaining(flatten(a.get(m.id))))
  }, 60_000)

  it('Java testLargeAssignmentAndGroupWithNonEqualSubscription (scaled: 20 topics × 500 partitions, 500 members)', () => {
    const topicCount = 20
    const ppt = new Map(range(topicCount).map((i) => [pad('t', i, topicCount), range(500)]))
    const all = [...ppt.keys()]
    const subs = (i: number): string[] => (i === 499 ? all.slice(0, 1) : all)
    let members = range(500).map((i) => member(pad('c', i, 500), subs(i)))
    const a = assign(members, ppt)
    verifyValidityAndBalance(members, a, ppt)
    members = members.slice(1).map((m, i) => v2(m.id, subs(i + 1), toTopicPartitions(a.get(m.id)!), generationId))
    settle(balancer, members, ppt, assign(members, ppt))
  }, 60_000)

  it('Java testAssignmentAndGroupWithNonEqualSubscriptionNotTimeout (scaled: 40 topics × 100 partitions, 200 members)', () => {
    const topicCount = 40
    const ppt = new Map(range(topicCount).map((i) => [pad('t', i, topicCount), range(100)]))
    const all = [...ppt.keys()]
    const subs = (i: number): string[] => (i % 4 === 0 ? all.slice(0, topicCount / 2) : all.slice(topicCount / 2))
    let members = range(200).map((i) => member(pad('c', i, 200), subs(i)))
    const a = assign(members, ppt)
    verifyValidityAndBalance(members, a, ppt)
    members = members.slice(1).map((m, i) => v2(m.id, subs(i + 1), toTopicPartitions(a.get(m.id)!), generationId))
    settle(balancer, members, ppt, assign(members, ppt))
  }, 60_000)

  it('Java testSubscriptionNotEqualAndAssignSamePartitionWith3Generation', () => {
    const ppt = topics({ topic: 6, topic1: 1 })
    for (const [g1, g2, g3] of [
      [1, 2, 3],
      [1, 3, 2],
      [2, 1, 3],
      [2, 3, 1],
      [3, 1, 2],
      [3, 2, 1],
    ] as const) {
      const a = assign(
        [
          v2('consumer1', ['topic'], 'topic-0, topic-2', g1),
          v2('consumer2', ['topic'], 'topic-1, topic-2, topic-3', g2),
          v2('consumer3', ['topic'], 'topic-2, topic-4, topic-5', g3),
          v2('consumer4', ['topic1'], 'topic1-0', 2),
        ],
        ppt,
      )
      const all = [...a.values()].flatMap((m) => flatten(m))
      expect(new Set(all).size).toBe(all.length)
      for (const m of a.values()) expect(flatten(m).length).toBeGreaterThanOrEqual(1)
      for (const m of a.values()) expect(flatten(m).length).toBeLessThanOrEqual(2)
    }
  })

  it('Java testLargeAssignmentWithMultipleConsumersLeavingAndRandomSubscription (seeded)', () => {
    const random = seeded(42)
    const int = (n: number): number => Math.floor(random() * n)
    const ppt = new Map(range(40).map((i) => [pad('t', i, 40), range(int(10) + 1)]))
    let members = range(200).map((i) => {
      const t: string[] = []
      for (let j = 0, n = int(20); j < n; j++) t.push(pad('t', int(40), 40))
      return member(pad('c', i, 200), t)
    })
    let a = assign(members, ppt)
    ;({ assignment: a, members } = settle(balancer, members, ppt, a))
    const before = a
    const leaving = new Set(range(50).map(() => pad('c', int(200), 200)))
    members = members
      .filter((m) => !leaving.has(m.id))
      .map((m) => v2(m.id, m.topics, toTopicPartitions(a.get(m.id)!), generationId))
    ;({ assignment: a } = settle(balancer, members, ppt, assign(members, ppt)))
    expectNoSwaps(before, a)
  }, 60_000)

  it('Java testNewSubscription', () => {
    const ppt = new Map(range(4).map((i) => [pad('t', i + 1, 5), [0]]))
    const members = range(3).map((i) => {
      const t: string[] = []
      for (let j = i; j <= 3 * i - 2; j++) t.push(pad('t', j, 5))
      return member(pad('c', i, 3), t)
    })
    const a = assign(members, ppt)
    verifyValidityAndBalance(members, a, ppt)
    members[0] = member(members[0]!.id, [...members[0]!.topics, pad('t', 1, 5)])
    settle(balancer, members, ppt, assign(members, ppt))
  })

  it('Java testMoveExistingAssignments (general builder)', () => {
    const ppt = new Map(range(6).map((i) => [`topic${i + 1}`, [0]]))
    const members = [
      v2('consumer1', ['topic1', 'topic2'], 'topic1-0', generationId),
      v2('consumer2', ['topic1', 'topic2', 'topic3', 'topic4'], 'topic2-0, topic3-0', generationId),
      v2('consumer3', ['topic2', 'topic3', 'topic4', 'topic5', 'topic6'], 'topic4-0, topic5-0, topic6-0', generationId),
    ]
    settle(balancer, members, ppt, assign(members, ppt))
  })

  it('Java testStickiness', () => {
    const ppt = topics({ topic1: 3 })
    let members = range(4).map((i) => member(`consumer${i + 1}`, ['topic1']))
    let a = assign(members, ppt)
    verifyValidityAndBalance(members, a, ppt)
    const had = new Map<string, string[]>()
    for (const [id, m] of a) {
      expect(flatten(m).length).toBeLessThanOrEqual(1)
      had.set(id, flatten(m))
    }
    members = members.slice(1).map((m) => v2(m.id, ['topic1'], toTopicPartitions(a.get(m.id)!), generationId))
    a = assign(members, ppt)
    verifyValidityAndBalance(members, a, ppt)
    for (const [id, m] of a) {
      expect(flatten(m).length).toBe(1)
      expect(flatten(m)).toEqual(expect.arrayContaining(had.get(id)!))
    }
  })

  it('Java testAssignmentUpdatedForDeletedTopic / testNoExceptionThrownWhenOnlySubscribedTopicDeleted', () => {
    let a = assign([member('consumer', ['topic1', 'topic2', 'topic3'])], topics({ topic1: 1, topic3: 100 }))
    expect(flatten(a.get('consumer')).length).toBe(101)
    a = assign([member('consumer', ['topic'])], topics({ topic: 3 }))
    a = assign([v2('consumer', ['topic'], toTopicPartitions(a.get('consumer')!), generationId)], new Map())
    expect([...a.keys()]).toEqual(['consumer'])
    expect(a.get('consumer')!.size).toBe(0)
  })

  it('Java testReassignmentWithRandomSubscriptionsAndChanges (seeded, 30 rounds)', () => {
    const random = seeded(2024)
    const int = (n: number): number => Math.floor(random() * n)
    const sublist = (list: string[]): string[] => {
      const out = [...list]
      for (let i = 0, n = int(list.length); i < n; i++) out.splice(int(out.length), 1)
      return out.sort()
    }
    for (let round = 0; round < 30; round++) {
      const numTopics = 10 + int(10)
      const ppt = new Map(range(numTopics).map((i) => [pad('t', i, 20), range(i + 1)]))
      const all = [...ppt.keys()]
      const numConsumers = 20 + int(20)
      let members = range(numConsumers).map((i) => member(pad('c', i, 40), sublist(all)))
      let a = assign(members, ppt)
      ;({ assignment: a, members } = settle(balancer, members, ppt, a))
      const before = a
      members = members.map((m) => v2(m.id, sublist(all), toTopicPartitions(a.get(m.id)!), generationId))
      ;({ assignment: a } = settle(balancer, members, ppt, assign(members, ppt)))
      expectNoSwaps(before, a)
    }
  }, 60_000)

  it('Java testAllConsumersReachExpectedQuotaAndAreConsideredFilled', () => {
    const ppt = topics({ topic: 4 })
    const members = [
      v2('consumer1', ['topic'], 'topic-0, topic-1', generationId),
      v2('consumer2', ['topic'], 'topic-2', generationId),
      v2('consumer3', ['topic'], '', generationId),
    ]
    const a = assign(members, ppt)
    expectAssigned(a, 'consumer1', 'topic-0, topic-1')
    expectAssigned(a, 'consumer2', 'topic-2')
    expectAssigned(a, 'consumer3', 'topic-3')
    settle(balancer, members, ppt, a)
  })

  it('Java testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration / WithNoGeneration', () => {
    const ppt = topics({ topic: 3, topic2: 3 })
    const t = ['topic', 'topic2']
    for (const stale of [9, DEFAULT_GENERATION]) {
      const members = [
        v2('consumer1', t, 'topic-0, topic-2, topic2-1', 10),
        v2('consumer2', t, 'topic-0, topic-2, topic2-1', stale),
      ]
      const a = assign(members, ppt)
      expectAssigned(a, 'consumer1', 'topic-0, topic-2, topic2-1')
      expectAssigned(a, 'consumer2', 'topic-1, topic2-0, topic2-2')
      settle(balancer, members, ppt, a)
    }
  })

  it('Java testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGeneration (equal and unequal)', () => {
    let ppt = topics({ topic: 3 })
    const members = [
      v2('consumer1', ['topic'], 'topic-0, topic-1', generationId),
      v2('consumer2', ['topic'], 'topic-0, topic-2', generationId),
      v2('consumer3', ['topic'], '', generationId),
    ]
    let a = assign(members, ppt)
    expectAssigned(a, 'consumer1', 'topic-1')
    expectAssigned(a, 'consumer2', 'topic-2')
    // topic-0 is owned by both: it goes to consumer3 only once both have revoked it.
    expectAssigned(a, 'consumer3', '')
    let settled = settle(balancer, members, ppt, a)
    expectAssigned(settled.assignment, 'consumer3', 'topic-0')
    expect(isFullyBalanced(settled.assignment)).toBe(true)

    ppt = topics({ topic: 4 })
    a = assign(members, ppt)
    expectAssigned(a, 'consumer1', 'topic-1, topic-3')
    expectAssigned(a, 'consumer2', 'topic-2')
    expectAssigned(a, 'consumer3', '')
    settled = settle(balancer, members, ppt, a)
    expect(isFullyBalanced(settled.assignment)).toBe(true)
  })

  it('Java testEnsurePartitionsAssignedToHighestGeneration', () => {
    const ppt = topics({ topic: 3, topic2: 3, topic3: 3 })
    const t = ['topic', 'topic2', 'topic3']
    const members = [
      v2('consumer1', t, 'topic-0, topic2-0, topic3-0', 10),
      v2('consumer2', t, 'topic-1, topic2-1, topic3-1', 9),
      v2('consumer3', t, 'topic2-1, topic3-0, topic3-2', 8),
    ]
    const a = assign(members, ppt)
    expectAssigned(a, 'consumer1', 'topic-0, topic2-0, topic3-0')
    expectAssigned(a, 'consumer2', 'topic-1, topic2-1, topic3-1')
    expectAssigned(a, 'consumer3', 'topic-2, topic2-2, topic3-2')
    settle(balancer, members, ppt, a)
  })

  it('Java testNoReassignmentOnCurrentMembers', () => {
    const ppt = topics({ topic: 3, topic1: 3, topic2: 3, topic3: 3 })
    const t = ['topic', 'topic2', 'topic3', 'topic1']
    const members = [
      v2('consumer1', t, '', DEFAULT_GENERATION),
      v2('consumer2', t, 'topic-0, topic2-0, topic1-0', 9),
      v2('consumer3', t, 'topic3-2, topic2-2, topic1-1', 8),
      v2('consumer4', t, 'topic3-1, topic-1, topic-2', 7),
    ]
    const a = assign(members, ppt)
    expectAssigned(a, 'consumer1', 'topic1-2, topic2-1, topic3-0')
    settle(balancer, members, ppt, a)
  })

  it('Java testOwnedPartitionsAreInvalidatedForConsumerWithMultipleGeneration', () => {
    const ppt = topics({ topic: 3, topic2: 3 })
    const t = ['topic', 'topic2']
    const members = [
      v2('consumer1', t, 'topic-0, topic2-1, topic-1', 10),
      v2('consumer2', t, 'topic-0, topic2-1, topic2-2', 8),
    ]
    const a = assign(members, ppt)
    expectAssigned(a, 'consumer1', 'topic-0, topic2-1, topic-1')
    expectAssigned(a, 'consumer2', 'topic-2, topic2-2, topic2-0')
    settle(balancer, members, ppt, a)
  })

  it('Java testAssignorWithOldVersionSubscriptions: v1 members carry their generation in userData', () => {
    const ppt = topics({ topic1: 3 })
    const members = [
      v1('consumer1', ['topic1'], 'topic1-0', generationId),
      v1('consumer2', ['topic1'], 'topic1-1', generationId),
      v2('consumer3', ['topic1'], '', generationId),
    ]
    const a = assign(members, ppt)
    expectAssigned(a, 'consumer1', 'topic1-0')
    expectAssigned(a, 'consumer2', 'topic1-1')
    expectAssigned(a, 'consumer3', 'topic1-2')
  })

  it('Java rack tests, nonRackAwareAssignment (uniform subscription): fresh, and sticky when owned', () => {
    const ppt = topics({ t1: 6, t2: 7, t3: 2 })
    const all = ['t1', 't2', 't3']
    const expected = ['t1-0, t1-3, t2-0, t2-3, t2-6', 't1-1, t1-4, t2-1, t2-4, t3-0', 't1-2, t1-5, t2-2, t2-5, t3-1']
    const ids = ['consumer0', 'consumer1', 'consumer2']
    let a = assign(
      ids.map((id) => member(id, all)),
      ppt,
    )
    expect(ids.map((id) => show(a, id))).toEqual(expected)
    a = assign(
      ids.map((id, i) => member(id, all, { ownedPartitions: tps(expected[i]!) })),
      ppt,
    )
    expect(ids.map((id) => show(a, id))).toEqual(expected)
  })

  it('Java rack tests, nonRackAwareAssignment (non-equal subscription): fresh, sticky, and after revocations', () => {
    const ppt = topics({ t1: 6, t2: 7, t3: 2 })
    const all = ['t1', 't2', 't3']
    const subs = [all, all, ['t1', 't3']]
    const ids = ['consumer0', 'consumer1', 'consumer2']
    const run = (owned: string[] | null): string[] => {
      const a = assign(
        ids.map((id, i) => member(id, subs[i]!, owned === null ? {} : { ownedPartitions: tps(owned[i]!) })),
        ppt,
      )
      return ids.map((id) => show(a, id))
    }
    const expected = ['t1-5, t2-0, t2-2, t2-4, t2-6', 't1-3, t2-1, t2-3, t2-5, t3-0', 't1-0, t1-1, t1-2, t1-4, t3-1']
    expect(run(null)).toEqual(expected)
    expect(run(expected)).toEqual(expected)
    // Cooperative: consumer2 owns t2 partitions it no longer subscribes to.
    const owned = ['t1-0, t1-1, t1-2, t1-3, t1-4', 't1-5, t2-0, t2-1, t2-2, t2-3', 't2-4, t2-5, t2-6, t3-0, t3-1']
    const intermediate = ['t1-2, t1-3, t1-4', 't2-0, t2-1, t2-2, t2-3', 't3-0, t3-1']
    expect(run(owned)).toEqual(intermediate)
    expect(run(intermediate)).toEqual([
      't1-2, t1-3, t1-4, t2-4, t2-5',
      't2-0, t2-1, t2-2, t2-3, t2-6',
      't1-0, t1-1, t1-5, t3-0, t3-1',
    ])
  })

  it('a member subscribed to nothing gets nothing (Java would treat it as equal to the others)', () => {
    const ppt = topics({ t: 4 })
    const members = [member('a', []), member('b', ['t'])]
    const a = assign(members, ppt)
    expectAssigned(a, 'a', '')
    expectAssigned(a, 'b', 't-0, t-1, t-2, t-3')
  })

  it('ignores owned partitions that do not exist and duplicate claims within a member', () => {
    const ppt = topics({ t: 2 })
    const a = assign(
      [
        v2(
          'a',
          ['t'],
          [
            { topic: 't', partitions: [0, 0, 5] },
            { topic: 'gone', partitions: [1] },
          ],
          3,
        ),
        v2('b', ['t'], '', 3),
      ],
      ppt,
    )
    expectAssigned(a, 'a', 't-0')
    expectAssigned(a, 'b', 't-1')
  })

  it('property: two-phase cooperative rebalances over random groups stay valid, balanced and sticky', () => {
    const random = seeded(99)
    const int = (n: number): number => Math.floor(random() * n)
    for (let round = 0; round < 40; round++) {
      const counts: Record<string, number> = {}
      for (let t = 0, n = 1 + int(5); t < n; t++) counts[`t${t}`] = 1 + int(16)
      const ppt = topics(counts)
      const all = Object.keys(counts)
      const uniform = random() < 0.6
      let members = range(1 + int(8)).map((i) => member(`m${i}`, uniform ? all : all.filter(() => random() < 0.7)))
      const initial = settle(balancer, members, ppt, assign(members, ppt))
      let a = initial.assignment
      members = initial.members
      // Membership changes: someone leaves, someone joins.
      const next = members
        .filter(() => random() < 0.8)
        .map((m) => v2(m.id, m.topics, toTopicPartitions(a.get(m.id)!), 5))
      next.push(v2(`n${round}`, uniform ? all : all.filter(() => random() < 0.7), '', DEFAULT_GENERATION))
      const first = assign(next, ppt)
      // Sticky: under identical subscriptions each member keeps min(owned, new share) of what it had.
      ;({ assignment: a } = settle(balancer, next, ppt, first))
      if (uniform) {
        for (const m of next) {
          const had = new Set(flatten(m.ownedPartitions ?? []))
          const now = flatten(a.get(m.id))
          const kept = now.filter((tp) => had.has(tp)).length
          expect(kept).toBe(Math.min(had.size, now.length))
        }
        expect(isFullyBalanced(a)).toBe(true)
      }
    }
  })
})

/** Java's isSticky for one rebalance: no two members swapped partitions of the same topic. */
function expectNoSwaps(before: GroupAssignment, after: GroupAssignment): void {
  const owner = (a: GroupAssignment): Map<string, string> => {
    const out = new Map<string, string>()
    for (const [id, m] of a) for (const tp of flatten(m)) out.set(tp, id)
    return out
  }
  const b = owner(before)
  const moves = new Set<string>()
  for (const [tp, to] of owner(after)) {
    const from = b.get(tp)
    if (from === undefined || from === to) continue
    moves.add(JSON.stringify([tp.slice(0, tp.lastIndexOf('-')), from, to]))
  }
  for (const move of moves) {
    const [topic, from, to] = JSON.parse(move) as [string, string, string]
    expect(moves.has(JSON.stringify([topic, to, from])), `${from} and ${to} swapped partitions of ${topic}`).toBe(false)
  }
}

function verifyCounts(a: GroupAssignment, total: number): void {
  const sizes = [...a.values()].map((m) => flatten(m).length)
  expect(sizes.reduce((x, y) => x + y, 0)).toBe(total)
  expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
}

// ---------------------------------------------------------------------------------------------
// Consumer protocol bytes

const str = (s: string): number[] => [0, s.length, ...Buffer.from(s)]
const i32 = (n: number): number[] => [...int32(n)]

describe('subscription codec', () => {
  // Java ConsumerProtocolTest: topics foo, bar; owned foo-1, bar-2 (tp1, tp2); generation 1; rack-a.
  const v0 = [0, 0, ...i32(2), ...str('bar'), ...str('foo'), ...i32(-1)]
  const owned = [...i32(2), ...str('bar'), ...i32(1), ...i32(2), ...str('foo'), ...i32(1), ...i32(1)]
  const sub = {
    topics: ['foo', 'bar'],
    userData: null,
    ownedPartitions: [
      { topic: 'foo', partitions: [1] },
      { topic: 'bar', partitions: [2] },
    ],
    generationId: 1,
    rackId: 'rack-a',
  }

  it('encodes each version as hand-assembled from the schema (topics and owned partitions sorted, as Java)', () => {
    expect([...encodeSubscription(sub, 0)]).toEqual(v0)
    expect([...encodeSubscription(sub, 1)]).toEqual([0, 1, ...v0.slice(2), ...owned])
    expect([...encodeSubscription(sub, 2)]).toEqual([0, 2, ...v0.slice(2), ...owned, ...i32(1)])
    expect([...encodeSubscription(sub, 3)]).toEqual([0, 3, ...v0.slice(2), ...owned, ...i32(1), ...str('rack-a')])
    // Default version is the newest; newer requested versions are written as v3 (Java clamps too).
    expect(encodeSubscription(sub)).toEqual(encodeSubscription(sub, 3))
    expect(encodeSubscription(sub, 7)).toEqual(encodeSubscription(sub, 3))
  })

  it('Java serializeSubscriptionShouldOrderTopics / OrderOwnedPartitions', () => {
    const a = { topics: ['foo', 'bar'], ownedPartitions: tps('foo-1, bar-2') }
    expect(encodeSubscription(a)).toEqual(
      encodeSubscription({ topics: ['bar', 'foo'], ownedPartitions: tps('foo-1, bar-2') }),
    )
    expect(encodeSubscription(a)).toEqual(
      encodeSubscription({ topics: ['foo', 'bar'], ownedPartitions: tps('bar-2, foo-1') }),
    )
  })

  it('decodes every version (Java serializeDeserializeSubscriptionAllVersions)', () => {
    const hello = Buffer.from('hello')
    for (let version = 0; version <= 3; version++) {
      const decoded = decodeSubscription(
        encodeSubscription({ ...sub, ownedPartitions: tps('foo-0, bar-0'), userData: hello }, version),
      )
      expect(decoded.version).toBe(version)
      expect(new Set(decoded.topics)).toEqual(new Set(['foo', 'bar']))
      expect(decoded.userData).toEqual(hello)
      expect(flatten(decoded.ownedPartitions)).toEqual(version >= 1 ? ['bar-0', 'foo-0'] : [])
      expect(decoded.generationId).toBe(version >= 2 ? 1 : -1)
      expect(decoded.rackId).toBe(version >= 3 ? 'rack-a' : null)
    }
  })

  it('decodes null and empty userData, and an empty rack id as null', () => {
    expect(decodeSubscription(encodeSubscription({ topics: ['t'] })).userData).toBeNull()
    expect(decodeSubscription(encodeSubscription({ topics: ['t'], userData: Buffer.alloc(0) })).userData).toEqual(
      Buffer.alloc(0),
    )
    expect(decodeSubscription(encodeSubscription({ topics: ['t'], rackId: '' })).rackId).toBeNull()
  })

  it('Java deserializeNewSubscriptionWithOldVersion: v3 bytes read as v0 give topics only', () => {
    const bytes = encodeSubscription({
      topics: ['foo', 'bar'],
      ownedPartitions: tps('bar-2'),
      generationId: 1,
      rackId: 'rack-a',
    })
    bytes.writeInt16BE(0, 0)
    const decoded = decodeSubscription(bytes)
    expect(decoded.topics).toEqual(['bar', 'foo'])
    expect(decoded.userData).toBeNull()
    expect(decoded.ownedPartitions).toEqual([])
    expect(decoded.generationId).toBe(-1)
    expect(decoded.rackId).toBeNull()
  })

  it('Java deserializeFutureSubscriptionVersion: v100 with an extra field reads as v3', () => {
    const bytes = Buffer.from([
      0,
      100,
      ...i32(1),
      ...str('topic'),
      ...i32(0), // user_data: empty
      ...i32(1),
      ...str('bar'),
      ...i32(1),
      ...i32(2), // owned_partitions: bar-2
      ...i32(1), // generation_id
      ...str('rack-a'),
      ...str('bar'), // a field this client does not know
    ])
    const decoded = decodeSubscription(bytes)
    expect(decoded).toEqual({
      version: 100,
      topics: ['topic'],
      userData: Buffer.alloc(0),
      ownedPartitions: [{ topic: 'bar', partitions: [2] }],
      generationId: 1,
      rackId: 'rack-a',
    })
    const member = groupMember('member-1', 'instance.id', decoded)
    expect(member).toEqual({
      id: 'member-1',
      groupInstanceId: 'instance.id',
      topics: ['topic'],
      userData: Buffer.alloc(0),
      ownedPartitions: [{ topic: 'bar', partitions: [2] }],
      generation: 1,
      rackId: 'rack-a',
    })
    expect(
      groupMember('m', null, decodeSubscription(encodeSubscription({ topics: ['t'] }, 1))).generation,
    ).toBeUndefined()
  })

  it('rejects truncated bytes and negative versions', () => {
    expect(() => decodeSubscription(Buffer.from([0]))).toThrow(ProtocolDecodeError)
    expect(() => decodeSubscription(Buffer.from(v0.slice(0, v0.length - 1)))).toThrow(ProtocolDecodeError)
    expect(() => decodeSubscription(Buffer.from([0xff, 0xff, ...v0.slice(2)]))).toThrow(ProtocolDecodeError)
    expect(() => encodeSubscription(sub, -1)).toThrow(ProtocolEncodeError)
  })
})

describe('assignment codec', () => {
  it('encodes as hand-assembled from the schema (same layout in v0-v3)', () => {
    const body = [...i32(2), ...str('foo'), ...i32(1), ...i32(1), ...str('bar'), ...i32(1), ...i32(2)]
    const partitions = new Map([
      ['foo', [1]],
      ['bar', [2]],
    ])
    for (let version = 0; version <= 3; version++) {
      expect([...encodeAssignment(partitions, null, version)]).toEqual([0, version, ...body, ...i32(-1)])
    }
    expect([...encodeAssignment(tps('foo-1, bar-2'), Buffer.from('hi'), 0)]).toEqual([
      0,
      0,
      ...body,
      ...i32(2),
      0x68,
      0x69,
    ])
    expect(encodeAssignment(partitions)).toEqual(encodeAssignment(partitions, null, 3))
  })

  it('round-trips every version (Java serializeDeserializeAssignmentAllVersions)', () => {
    const hello = Buffer.from('hello')
    for (let version = 0; version <= 3; version++) {
      const decoded = decodeAssignment(encodeAssignment(tps('foo-1, bar-2'), hello, version))
      expect(decoded.version).toBe(version)
      expect(flatten(decoded.partitions)).toEqual(['bar-2', 'foo-1'])
      expect(decoded.userData).toEqual(hello)
    }
    expect(decodeAssignment(encodeAssignment(new Map(), null)).userData).toBeNull()
    expect(decodeAssignment(encodeAssignment(new Map(), Buffer.alloc(0))).userData).toEqual(Buffer.alloc(0))
  })

  it('Java deserializeFutureAssignmentVersion: v100 with an extra field', () => {
    const bytes = Buffer.from([0, 100, ...i32(1), ...str('foo'), ...i32(1), ...i32(1), ...i32(0), ...str('bar')])
    const decoded = decodeAssignment(bytes)
    expect(decoded.version).toBe(100)
    expect(Object.fromEntries(decoded.partitions)).toEqual({ foo: [1] })
    expect(decoded.userData).toEqual(Buffer.alloc(0))
  })

  it('an empty assignment buffer is an empty assignment; a repeated topic is merged', () => {
    expect(decodeAssignment(Buffer.alloc(0))).toEqual({ version: 0, partitions: new Map(), userData: null })
    const bytes = Buffer.from([
      0,
      0,
      ...i32(2),
      ...str('t'),
      ...i32(1),
      ...i32(0),
      ...str('t'),
      ...i32(1),
      ...i32(3),
      ...i32(-1),
    ])
    expect(Object.fromEntries(decodeAssignment(bytes).partitions)).toEqual({ t: [0, 3] })
  })

  it('a balancer result encodes per member', () => {
    const a = new RangeGroupBalancer().assign([member('a', ['t']), member('b', ['t'])], topics({ t: 3 }))
    expect(Object.fromEntries(decodeAssignment(encodeAssignment(a.get('a')!)).partitions)).toEqual({ t: [0, 1] })
    expect(decodeAssignment(encodeAssignment(a.get('b')!)).partitions.get('t')).toEqual([2])
  })
})
