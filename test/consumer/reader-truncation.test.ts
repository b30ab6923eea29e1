// KIP-320 on the reference cluster: a Reader that read records its leader later lost (acks=1
// data no follower had copied, then an unclean election) resumes at the point where the new
// leader's log diverges from what it read, and reports the lost range (LogTruncatedError);
// it never replays the partition from the start, nor silently skips the records the new leader
// wrote at the lost offsets. The leader says where the logs diverge (Fetch v12+ divergingEpoch,
// computed by the reference broker from its leader-epoch cache as Kafka's does).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { KafkaClient } from '../../src/cluster/client.js'
import { LogTruncatedError } from '../../src/consumer/errors.js'
import { Reader } from '../../src/consumer/reader.js'
import { FirstOffset } from '../../src/consumer/offsets.js'
import { DeleteRecords } from '../../src/protocol/messages/index.js'
import { recorder } from '../helpers/log-recorder.js'
import { committedLeaderEpochs, produce, unique, valueOf, waitFor, readMessages } from './helpers.js'

let cluster: Cluster

beforeAll(async () => {
  cluster = await Cluster.start({ brokers: 3 })
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

describe('KIP-320 truncation detection', () => {
  it('resumes at the divergence point after an unclean election and reports the lost offsets', async () => {
    const topic = unique('trunc')
    cluster.createTopic(topic, { assignments: [[0, 1, 2]], configs: { 'unclean.leader.election.enable': 'true' } })
    const p = cluster.topics.partition(topic, 0)!
    await produce(cluster.bootstrapServers, topic, 2, { prefix: 'a' }) // offsets 0-1, on every replica
    await waitFor(() => p.highWatermark === 2, 5000, 'replication')
    // The leader alone in the ISR: its writes are readable at once, and no follower copies them.
    cluster.faults.shrinkIsr(topic, 0, [0])
    await produce(cluster.bootstrapServers, topic, 2, { prefix: 'lost' }) // offsets 2-3, leader only
    const reader = new Reader({
      brokers: cluster.bootstrapServers,
      topic,
      partition: 0,
      startOffset: FirstOffset,
      maxWait: 100,
    })
    try {
      const first = await readMessages(reader, 4, 10_000)
      expect(first.map(valueOf)).toEqual(['a0', 'a1', 'lost0', 'lost1'])
      expect(first.map((m) => m.leaderEpoch)).toEqual([0, 0, 0, 0])

      // The leader crashes; a follower that never had offsets 2-3 is elected (unclean) and
      // takes new writes at those offsets, in the next leader epoch.
      await cluster.faults.stopBroker(0)
      expect(p.leader).not.toBe(0)
      expect(p.log.endOffset).toBe(2)
      await produce(cluster.bootstrapServers, topic, 2, { prefix: 'kept' })

      const error = await reader.fetchMessage({ signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LogTruncatedError)
      const t = error as LogTruncatedError
      expect([t.topic, t.partition, t.firstLostOffset, t.endLostOffset, t.resumeOffset]).toEqual([topic, 0, 2n, 4n, 2n])
      expect(t.code).toBe('KAFKATS_LOG_TRUNCATED')
      // Reading goes on at the divergence point: the new leader's records, nothing replayed.
      const after = await readMessages(reader, 2, 10_000)
      expect(after.map((m) => [m.offset, valueOf(m), m.leaderEpoch])).toEqual([
        [2n, 'kept0', p.leaderEpoch],
        [3n, 'kept1', p.leaderEpoch],
      ])

      // The old leader returns (truncated to the new leader's log); reading goes on.
      await cluster.faults.startBroker(0)
      await produce(cluster.bootstrapServers, topic, 1, { prefix: 'later' })
      expect((await readMessages(reader, 1, 10_000)).map(valueOf)).toEqual(['later0'])
    } finally {
      await reader.close()
    }
  })

  it('commits carry the leader epoch of the message committed (committedLeaderEpoch)', async () => {
    const topic = unique('epoch-commit')
    const groupId = unique('epoch-commit-g')
    cluster.createTopic(topic, { assignments: [[0, 1, 2]] })
    const p = cluster.topics.partition(topic, 0)!
    // Two leader changes: the partition is in epoch 2 when the messages are written.
    cluster.faults.moveLeader(topic, 0, 1)
    cluster.faults.moveLeader(topic, 0, 2)
    expect(p.leaderEpoch).toBe(2)
    await produce(cluster.bootstrapServers, topic, 3)
    const reader = new Reader({ brokers: cluster.bootstrapServers, groupId, topic, maxWait: 100 })
    try {
      const messages = await readMessages(reader, 3, 10_000)
      expect(messages.map((m) => m.leaderEpoch)).toEqual([2, 2, 2])
      await reader.commitMessages(messages, { signal: AbortSignal.timeout(10_000) })
      expect((await committedLeaderEpochs(cluster.bootstrapServers, groupId, topic, 1)).get(0)).toBe(2)
    } finally {
      await reader.close()
    }
  })

  it('a Reader starting from a committed offset whose epoch was truncated since resumes at the divergence', async () => {
    const topic = unique('trunc-committed')
    const groupId = unique('trunc-committed-g')
    cluster.createTopic(topic, { assignments: [[0, 1, 2]], configs: { 'unclean.leader.election.enable': 'true' } })
    const p = cluster.topics.partition(topic, 0)!
    await produce(cluster.bootstrapServers, topic, 2, { prefix: 'a' })
    await waitFor(() => p.highWatermark === 2, 5000, 'replication')
    cluster.faults.shrinkIsr(topic, 0, [0])
    await produce(cluster.bootstrapServers, topic, 2, { prefix: 'lost' })
    const first = new Reader({ brokers: cluster.bootstrapServers, groupId, topic, maxWait: 100 })
    try {
      const read4 = await readMessages(first, 4, 10_000)
      expect(read4.map(valueOf)).toEqual(['a0', 'a1', 'lost0', 'lost1'])
      await first.commitMessages(read4, { signal: AbortSignal.timeout(10_000) })
    } finally {
      await first.close()
    }
    // Offset 4 is committed with epoch 0; the new leader's epoch 0 ends at 2, and offsets 2-3
    // are new records: without validation a Reader would start at 4 and silently skip them.
    await cluster.faults.stopBroker(0)
    try {
      await produce(cluster.bootstrapServers, topic, 2, { prefix: 'kept' })
      expect(p.log.endOffset).toBe(4)
      const second = new Reader({ brokers: cluster.bootstrapServers, groupId, topic, maxWait: 100 })
      try {
        const error = await second.fetchMessage({ signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(LogTruncatedError)
        expect([(error as LogTruncatedError).firstLostOffset, (error as LogTruncatedError).endLostOffset]).toEqual([
          2n,
          4n,
        ])
        expect((await readMessages(second, 2, 10_000)).map(valueOf)).toEqual(['kept0', 'kept1'])
      } finally {
        await second.close()
      }
    } finally {
      await cluster.faults.startBroker(0)
    }
  })

  it('out of range but not truncated (retention moved the log start past it): the startOffset policy applies', async () => {
    const topic = unique('oor-epoch')
    cluster.createTopic(topic, { assignments: [[0, 1, 2]] })
    const p = cluster.topics.partition(topic, 0)!
    await produce(cluster.bootstrapServers, topic, 5)
    const logger = recorder()
    const reader = new Reader({ brokers: cluster.bootstrapServers, topic, partition: 0, maxWait: 100, logger })
    try {
      expect((await readMessages(reader, 5, 10_000)).map((m) => m.offset)).toEqual([0n, 1n, 2n, 3n, 4n])
      // Paused at offset 5 (epoch 0 known); records 5-9 are written and 0-7 deleted meanwhile.
      reader.pause([0])
      await produce(cluster.bootstrapServers, topic, 5, { from: 5 })
      await waitFor(() => p.highWatermark === 10, 5000, 'replication')
      const admin = new KafkaClient({ brokers: cluster.bootstrapServers, clientId: 'test-admin' })
      try {
        await admin.metadata.refresh([topic])
        const r = await admin.request(p.leader, DeleteRecords, {
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 8n }] }],
          timeoutMs: 5000,
        })
        expect(r.topics[0]!.partitions[0]!.errorCode).toBe(0)
      } finally {
        await admin.close()
      }
      // Fetch at 5 is OFFSET_OUT_OF_RANGE; OffsetForLeaderEpoch says epoch 0 ends at 10 (not
      // truncated), so the Reader resets to FirstOffset (now 8), with no truncation report.
      reader.resume([0])
      const next = await readMessages(reader, 2, 10_000)
      expect(next.map((m) => [m.offset, valueOf(m)])).toEqual([
        [8n, '8'],
        [9n, '9'],
      ])
      // Records 5-7 were never seen: the reset is logged, with where it happened.
      const resets = logger.lines.filter((l) => l.message.includes('out of range'))
      expect(resets.map((l) => [l.level, l.fields])).toEqual([
        ['warn', { client: 'reader', topic, partition: 0, offset: '5', resetTo: 'earliest' }],
      ])
    } finally {
      await reader.close()
    }
  })
})
