// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// Admin.describeGroups against Kafka's own Java Admin (kafka-clients 4.4.0, describeConsumerGroups,
// test/fixtures/java-admin/DescribeGroups.java) on the same groups: a classic group and a KIP-848
// consumer group, described in one call by both clients. The oracle is what Java prints: type,
// state, assignor, epochs, each member's id, client id, host, instance id, epoch and assignment.
// Then, on reference brokers: without the consumer group APIs, the default Reader's group (classic
// after its fallback) is described through DescribeGroups alone; and a group whose first member
// joins between ConsumerGroupDescribe and DescribeGroups is still described.

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import type { GroupDescription } from '../../src/admin/groups.js'
import { Cluster } from '../../src/broker/index.js'
import { Reader } from '../../src/consumer/reader.js'
import { createTopic, produce, startTarget, unique, waitFor, type Target } from '../consumer/helpers.js'
import { javaClientClasspath, peer } from '../helpers/peers.js'

const JAVA_DESCRIBE = fileURLToPath(new URL('../fixtures/java-admin/DescribeGroups.java', import.meta.url))

let target: Target
let admin: Admin

beforeAll(async () => {
  target = await startTarget()
  admin = new Admin({ brokers: target.bootstrap, clientId: 'describe-java-test' })
}, 60_000)

afterAll(async () => {
  await admin?.close()
  await target?.stop()
})

/** Our description in the fixture's line format. */
function lines(g: GroupDescription): string[] {
  const dash = (v: string | number | null) => (v === null || v === '' ? '-' : String(v))
  return [
    ['group', g.groupId, g.type, g.state, dash(g.protocol), dash(g.groupEpoch), dash(g.assignmentEpoch)].join(' '),
    ...g.members.map((m) =>
      [
        'member',
        g.groupId,
        m.memberId,
        m.clientId,
        m.clientHost,
        dash(m.groupInstanceId),
        dash(m.memberEpoch),
        m.assignment.length === 0 ? '-' : m.assignment.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(';'),
      ].join(' '),
    ),
  ]
}

async function javaDescribe(groupIds: string[]): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    peer('java'),
    ['-cp', javaClientClasspath(), JAVA_DESCRIBE, target.bootstrap.join(','), ...groupIds],
    { encoding: 'utf8', timeout: 120_000 },
  )
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('group ') || l.startsWith('member '))
}

describe("Admin.describeGroups and Java's Admin.describeConsumerGroups", () => {
  it('describe a classic group and a consumer group alike', async () => {
    const topic = unique('cgd-java')
    const classicId = unique('cgd-java-classic')
    const consumerId = unique('cgd-java-consumer')
    await admin.createTopics([{ name: topic, partitions: 3, replicationFactor: 1 }], { waitForLeaders: true })
    await produce(target.bootstrap, topic, 30)
    const readers = [
      new Reader({
        brokers: target.bootstrap,
        groupId: classicId,
        topic,
        clientId: 'java-cmp-a',
        groupProtocol: 'classic',
      }),
      new Reader({
        brokers: target.bootstrap,
        groupId: classicId,
        topic,
        clientId: 'java-cmp-b',
        groupProtocol: 'classic',
      }),
      new Reader({
        brokers: target.bootstrap,
        groupId: consumerId,
        topic,
        clientId: 'java-cmp-c',
        groupInstanceId: unique('static'),
      }),
      new Reader({ brokers: target.bootstrap, groupId: consumerId, topic, clientId: 'java-cmp-d' }),
    ]
    // Each member keeps fetching (joining, then waiting for records) until the test ends.
    const stop = new AbortController()
    const loops = readers.map(async (r) => {
      while (!stop.signal.aborted) await r.fetchMessage({ signal: stop.signal }).catch(() => {})
    })
    try {
      // Every member joined and the groups settled, so both clients see the same state.
      await waitFor(
        async () => {
          // Not found until each group's first member joined.
          const gs = await admin.describeGroups([classicId, consumerId]).catch(() => [])
          return (
            gs.length === 2 &&
            gs.every(
              (g) =>
                g.state === 'Stable' &&
                g.members.length === 2 &&
                g.members.reduce((n, m) => n + m.assignment.reduce((k, a) => k + a.partitions.length, 0), 0) === 3,
            )
          )
        },
        30_000,
        'both groups stable with two members each',
      )
      const ours = (await admin.describeGroups([classicId, consumerId])).flatMap(lines)
      const java = await javaDescribe([classicId, consumerId])
      expect(java.filter((l) => l.startsWith('group '))).toHaveLength(2)
      expect(ours.sort()).toEqual(java.sort())
      expect(ours.find((l) => l.startsWith(`group ${classicId} `))).toMatch(/ classic Stable /)
      expect(ours.find((l) => l.startsWith(`group ${consumerId} `))).toMatch(
        readers[2]!.groupProtocol === 'consumer' ? / consumer Stable / : / classic Stable /,
      )
    } finally {
      stop.abort()
      await Promise.all(loops)
      await Promise.all(readers.map((r) => r.close()))
    }
  }, 120_000)
})

describe('Admin.describeGroups against a coordinator without ConsumerGroupDescribe', () => {
  it('describes the group with DescribeGroups', async () => {
    const cluster = await Cluster.start({
      brokers: 1,
      groupInitialRebalanceDelayMs: 0,
      groupProtocols: ['classic'],
    })
    const brokers = cluster.bootstrapServers
    const classicAdmin = new Admin({ brokers })
    const topic = unique('cgd-classic-only')
    const groupId = unique('cgd-classic-only-g')
    const reader = new Reader({ brokers, groupId, topic, clientId: 'fallback-reader' })
    try {
      await createTopic(brokers, topic, 2, 1)
      await produce(brokers, topic, 4)
      await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      expect(reader.groupProtocol).toBe('classic')
      const [g] = await classicAdmin.describeGroups([groupId])
      expect(g).toMatchObject({ groupId, type: 'classic', state: 'Stable', protocolType: 'consumer', groupEpoch: null })
      expect(g!.members).toEqual([
        expect.objectContaining({ clientId: 'fallback-reader', assignment: [{ topic, partitions: [0, 1] }] }),
      ])
      expect((await classicAdmin.groupLag(groupId)).partitions.map((p) => p.clientId)).toEqual([
        'fallback-reader',
        'fallback-reader',
      ])
    } finally {
      await reader.close()
      await classicAdmin.close()
      await cluster.stop()
    }
  }, 60_000)
})

describe('Admin.describeGroups while a group comes into being', () => {
  it('describes a group that became a consumer group between ConsumerGroupDescribe and DescribeGroups', async () => {
    const cluster = await Cluster.start({ brokers: 1, groupInitialRebalanceDelayMs: 0 })
    const brokers = cluster.bootstrapServers
    const racingAdmin = new Admin({ brokers })
    const topic = unique('cgd-race')
    const groupId = unique('cgd-race-g')
    const reader = new Reader({ brokers, groupId, topic, clientId: 'race-reader', groupProtocol: 'consumer' })
    try {
      await createTopic(brokers, topic, 1, 1)
      await produce(brokers, topic, 2)
      // The group does not exist when ConsumerGroupDescribe is answered; DescribeGroups waits
      // until the Reader made it a consumer group, and then answers GROUP_ID_NOT_FOUND.
      cluster.faults.delay('DescribeGroups', 1500, { count: 1 })
      const described = racingAdmin.describeGroups([groupId])
      await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      const [g] = await described
      expect(g).toMatchObject({ groupId, type: 'consumer', protocolType: 'consumer' })
      expect(g!.members.map((m) => m.clientId)).toEqual(['race-reader'])
    } finally {
      await reader.close()
      await racingAdmin.close()
      await cluster.stop()
    }
  }, 60_000)
})
