// @integration
// KIP-320 on the reference cluster and real Kafka (issue 11, item 3): the leader epochs the broker
// reports are the ones messages carry and commits store; a member that starts from a committed
// offset with an epoch, and a Reader whose partition changed leader, validate their position with
// OffsetForLeaderEpoch (API key 23, seen on the wire) before they fetch on, and lose or repeat
// nothing. (Truncation itself needs an unclean election: reader-truncation.test.ts, reference.)

import { describe, expect, it } from 'vitest'
import { KafkaClient } from '../../src/cluster/client.js'
import { Reader } from '../../src/consumer/reader.js'
import { Metadata } from '../../src/protocol/messages/index.js'
import { countingSockets } from '../helpers/counting-sockets.js'
import {
  committedLeaderEpochs,
  committedOffsets,
  createTopic,
  leaders,
  produce,
  startTarget,
  targetName,
  unique,
  valueOf,
  readMessages,
} from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const FETCH = 1
const OFFSET_FOR_LEADER_EPOCH = 23

const target = useTarget(startTarget)

/** The partition's leader epoch as the broker's Metadata answer gives it. */
async function leaderEpochOf(topic: string, partition: number): Promise<number> {
  const client = new KafkaClient({ brokers: target.bootstrap, clientId: 'test-epochs' })
  try {
    const r = await client.requestTo(client.anyBroker(), Metadata, {
      topics: [{ name: topic }],
      allowAutoTopicCreation: false,
    })
    return r.topics[0]!.partitions.find((p) => p.partitionIndex === partition)!.leaderEpoch
  } finally {
    await client.close()
  }
}

describe.sequential(`KIP-320 leader epochs, against ${targetName}`, () => {
  it('messages carry, and commits store, the leader epoch the broker reports', async () => {
    const topic = unique('epochs')
    const groupId = unique('epochs-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 5)
    const epoch = await leaderEpochOf(topic, 0)
    expect(epoch).toBeGreaterThanOrEqual(0)
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic })
    try {
      const messages = await readMessages(reader, 5)
      expect(messages.map((m) => m.leaderEpoch)).toEqual([epoch, epoch, epoch, epoch, epoch])
      await reader.commitMessages(messages[4]!)
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(5n)
      expect((await committedLeaderEpochs(target.bootstrap, groupId, topic, 1)).get(0)).toBe(epoch)
    } finally {
      await reader.close()
    }
  })

  it('a member starting from a committed offset with an epoch validates it before fetching, and resumes there', async () => {
    const topic = unique('epochs-start')
    const groupId = unique('epochs-start-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 10)
    const first = new Reader({ brokers: target.bootstrap, groupId, topic })
    try {
      const messages = await readMessages(first, 4)
      await first.commitMessages(messages[3]!)
    } finally {
      await first.close()
    }
    const { keys, socketFactory } = countingSockets()
    const second = new Reader({ brokers: target.bootstrap, groupId, topic, socketFactory })
    try {
      const next = await readMessages(second, 6)
      expect(next.map((m) => valueOf(m))).toEqual(['4', '5', '6', '7', '8', '9'])
      const validated = keys.indexOf(OFFSET_FOR_LEADER_EPOCH)
      expect(validated).toBeGreaterThanOrEqual(0)
      expect(validated).toBeLessThan(keys.indexOf(FETCH))
    } finally {
      await second.close()
    }
  })

  it('after a leader move mid-read the Reader validates its position and reads on: nothing lost, nothing repeated', async () => {
    const topic = unique('epochs-move')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 10)
    const before = await leaderEpochOf(topic, 0)
    const { keys, socketFactory } = countingSockets()
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0, maxWait: 200, socketFactory })
    try {
      const head = await readMessages(reader, 10)
      expect(keys).not.toContain(OFFSET_FOR_LEADER_EPOCH)
      const leader = (await leaders(target.bootstrap, topic)).get(0)!
      const to = target.brokerIds.find((b) => b !== leader)!
      await target.moveLeader(topic, 0, to)
      const after = await leaderEpochOf(topic, 0)
      expect(after).toBeGreaterThan(before)
      await produce(target.bootstrap, topic, 10, { from: 10 })
      const tail = await readMessages(reader, 10)
      expect([...head, ...tail].map((m) => m.offset)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i)))
      expect([...head, ...tail].map((m) => valueOf(m))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)))
      expect(tail.every((m) => m.leaderEpoch === after)).toBe(true)
      expect(keys).toContain(OFFSET_FOR_LEADER_EPOCH)
    } finally {
      await reader.close()
    }
  })
})
