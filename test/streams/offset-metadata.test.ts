// @integration: the runtime case also runs against real Kafka when KAFKA_BOOTSTRAP is set;
// otherwise on the in-process reference cluster (3 brokers).
// The partition time Kafka Streams commits as offset metadata (TopicPartitionMetadata: base64
// of version 2, the int64 partition time, then its processor metadata if any; version 1
// without it), committed under both guarantees and a task starting from it. What a real Java application
// committed is decoded in streams-vs-java-kafka.test.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { Admin } from '../../src/admin/admin.js'
import { decodePartitionTime, encodePartitionTime, UNKNOWN_TIME } from '../../src/streams/offset-metadata.js'
import { KafkaStreams, Serdes, StreamsBuilder } from '../../src/streams/index.js'
import { createTopic, startTarget, targetName, unique, type Target } from '../consumer/helpers.js'
import { reach, readUntil, writeInput } from './helpers/cluster.js'

const S = Serdes.String

describe('partition time offset metadata', () => {
  it('is written as Kafka Streams writes it (version 2, no processor metadata)', () => {
    // 02 | 00 00 00 00 00 00 03 e8: Java 4.4 adds nothing when it has no processor metadata
    // (what a Java application committed: streams-vs-java-kafka.test.ts).
    expect(encodePartitionTime(1000)).toBe(Buffer.from('0200000000000003e8', 'hex').toString('base64'))
    expect(decodePartitionTime(encodePartitionTime(1_733_000_000_123))).toBe(1_733_000_000_123)
  })

  it('reads versions 1 and 2 (with processor metadata), and anything else as unknown', () => {
    expect(decodePartitionTime(Buffer.from('01000000000000002a', 'hex').toString('base64'))).toBe(42)
    // One processor metadata entry: key "k" (length 1), value 7.
    const withMeta = Buffer.from('02000000000000002a' + '00000001' + '00000001' + '6b' + '0000000000000007', 'hex')
    expect(decodePartitionTime(withMeta.toString('base64'))).toBe(42)
    for (const bad of [null, '', 'not base64!', Buffer.from('03000000000000002a', 'hex').toString('base64'), 'AgA=']) {
      expect(decodePartitionTime(bad)).toBe(UNKNOWN_TIME)
    }
  })
})

/** Forwards each record's value as `value@timestamp streamTime=<the task's stream time>`. */
function streamTimes(input: string, output: string): StreamsBuilder {
  const b = new StreamsBuilder()
  b.stream(input, { key: S, value: S })
    .process<string | null, string>(() => ({
      process(r, c) {
        c.forward({ ...r, value: `${String(r.value)}@${r.timestamp} streamTime=${c.streamTime()}` })
      },
    }))
    .to(output, { key: S, value: S })
  return b
}

describe(`a task's stream time on ${targetName}`, () => {
  let target: Target
  beforeAll(async () => {
    target = await startTarget()
  }, 60_000)
  afterAll(async () => {
    await target?.stop()
  })

  // Kafka Streams commits the same metadata under both: through the producer's
  // sendOffsetsToTransaction, or the consumer's commitSync(Map<TopicPartition, OffsetAndMetadata>).
  for (const guarantee of ['exactly_once_v2', 'at_least_once'] as const)
    it(`${guarantee} commits the partition time; a restarted application goes on from it`, async () => {
      const [input, output, appId] = [unique('om2-in'), unique('om2-out'), unique('om2')]
      await createTopic(target.bootstrap, input, 1, Math.min(3, target.brokerIds.length))
      await createTopic(target.bootstrap, output, 1, Math.min(3, target.brokerIds.length))
      const config = { brokers: target.bootstrap, applicationId: appId, processId: 'p', processingGuarantee: guarantee }
      await writeInput(target.bootstrap, input, [
        { key: 'a', value: 'x', timestamp: 900 },
        { key: 'a', value: 'y', timestamp: 1000 },
        { key: 'a', value: 'z', timestamp: 950 },
      ])
      const first = new KafkaStreams(streamTimes(input, output), config)
      await first.start()
      await reach(first, 'RUNNING')
      await readUntil(target.bootstrap, output, (rs) => rs.length >= 3)
      await first.close()
      const admin = new Admin({ brokers: target.bootstrap })
      try {
        const [committed] = await admin.committedOffsets(appId, { topics: [input] })
        expect(committed?.offset).toBe(3n)
        expect(committed?.metadata).toBe(encodePartitionTime(1000))
      } finally {
        await admin.close()
      }
      await writeInput(target.bootstrap, input, [{ key: 'a', value: 'late', timestamp: 500 }])
      const second = new KafkaStreams(streamTimes(input, output), config)
      try {
        await second.start()
        await reach(second, 'RUNNING')
        const records = await readUntil(target.bootstrap, output, (rs) => rs.length >= 4)
        expect(records.map((r) => r.value!.toString('utf8'))).toEqual([
          'x@900 streamTime=900',
          'y@1000 streamTime=1000',
          'z@950 streamTime=1000',
          'late@500 streamTime=1000',
        ])
      } finally {
        await second.close()
      }
    }, 60_000)

  it('starts from the partition time committed with the input offset', async () => {
    const [input, output, appId] = [unique('om-in'), unique('om-out'), unique('om')]
    await createTopic(target.bootstrap, input, 1, Math.min(3, target.brokerIds.length))
    await createTopic(target.bootstrap, output, 1, Math.min(3, target.brokerIds.length))
    // A previous run processed offsets 0-1 (timestamps up to 1000) and committed as Kafka Streams does.
    await writeInput(target.bootstrap, input, [
      { key: 'a', value: 'old', timestamp: 900 },
      { key: 'a', value: 'old', timestamp: 1000 },
      { key: 'a', value: 'late', timestamp: 500 },
      { key: 'a', value: 'on', timestamp: 1200 },
    ])
    const admin = new Admin({ brokers: target.bootstrap })
    try {
      await admin.alterGroupOffsets(appId, [
        { topic: input, partition: 0, offset: 2n, metadata: encodePartitionTime(1000) },
      ])
    } finally {
      await admin.close()
    }
    const app = new KafkaStreams(streamTimes(input, output), {
      brokers: target.bootstrap,
      applicationId: appId,
      processingGuarantee: 'at_least_once',
      commitInterval: 100,
    })
    try {
      await app.start()
      await reach(app, 'RUNNING')
      const records = await readUntil(target.bootstrap, output, (rs) => rs.length >= 2)
      // The late record sees the committed stream time, not its own timestamp.
      expect(records.map((r) => r.value!.toString('utf8'))).toEqual([
        'late@500 streamTime=1000',
        'on@1200 streamTime=1200',
      ])
    } finally {
      await app.close()
    }
  }, 60_000)
})
