// @integration: the runtime case also runs against real Kafka when KAFKA_BOOTSTRAP is set;
// otherwise on the in-process reference cluster (3 brokers).
// The partition time Kafka Streams commits as offset metadata (TopicPartitionMetadata: base64
// of version 2, the int64 partition time, then its processor metadata if any; version 1
// without it), and a task starting from it. What a real Java application
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

describe(`a task's stream time on ${targetName}`, () => {
  let target: Target
  beforeAll(async () => {
    target = await startTarget()
  }, 60_000)
  afterAll(async () => {
    await target?.stop()
  })

  it('starts from the partition time committed with the input offset', async () => {
    const [input, output, appId] = [unique('om-in'), unique('om-out'), unique('om')]
    await createTopic(target.bootstrap, input, 1)
    await createTopic(target.bootstrap, output, 1)
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
    const b = new StreamsBuilder()
    b.stream(input, { key: S, value: S })
      .process<string | null, string>(() => ({
        process(r, c) {
          c.forward({ ...r, value: `${String(r.value)}@${r.timestamp} streamTime=${c.streamTime()}` })
        },
      }))
      .to(output, { key: S, value: S })
    const app = new KafkaStreams(b, {
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
