// @integration: the last case also runs against real Kafka when KAFKA_BOOTSTRAP is set;
// otherwise on the in-process reference cluster (3 brokers).
// The configs of the internal topics, as Kafka Streams creates them (InternalTopicConfig and its
// subclasses, Kafka Streams' "Internal topics" docs): every one message.timestamp.type=CreateTime;
// a key-value store's changelog cleanup.policy=compact; a window or session store's changelog
// (windowed aggregations, the two window stores of a stream-stream join) compact,delete with
// retention.ms = the store's retention + windowstore.changelog.additional.retention.ms (one day
// by default); a repartition topic cleanup.policy=delete, retention.ms=-1 and segment.bytes 50 MB
// (RepartitionTopicConfig: Kafka Streams purges it after its commits).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { KafkaClient } from '../../src/cluster/client.js'
import { DescribeConfigs } from '../../src/protocol/messages/index.js'
import { planTopics } from '../../src/streams/internal-topics.js'
import {
  JoinWindows,
  KafkaStreams,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  TimeWindows,
} from '../../src/streams/index.js'
import { createTopic, startTarget, targetName, unique, type Target } from '../consumer/helpers.js'
import { reach } from './helpers/cluster.js'
import { wordCount } from './helpers/wordcount.js'

const S = Serdes.String
const DAY = 86_400_000

function windowedApp(input: string, left: string, right: string): StreamsBuilder {
  const b = new StreamsBuilder()
  const g = b.stream(input, { key: S, value: S }).groupByKey({ key: S, value: S })
  g.windowedBy(TimeWindows.ofSizeAndGrace(10, 5)).count({ storeName: 'tumbling' })
  g.windowedBy(TimeWindows.ofSizeWithNoGrace(10).advanceBy(4)).count({ storeName: 'hopping' })
  g.windowedBy(SessionWindows.ofInactivityGapAndGrace(5, 2)).count({ storeName: 'session' })
  g.count({ storeName: 'plain' })
  b.stream(left, { key: S, value: S })
    .leftJoin(b.stream(right, { key: S, value: S }), (a, c) => `${a}+${c}`, JoinWindows.ofTimeDifferenceAndGrace(5, 2))
    .to('out', { key: S, value: S })
  return b
}

/** The planned configs of each internal topic (without the application prefix), as a plain object. */
function plannedConfigs(): Record<string, Record<string, string>> {
  const plan = planTopics(windowedApp('in', 'sl', 'sr').build(), 'app', () => 1)
  return Object.fromEntries(
    plan.internal.map((t) => [
      t.name.slice('app-'.length),
      Object.fromEntries(t.configs.map((c) => [c.name, c.value])),
    ]),
  )
}

describe('internal topic configs', () => {
  it('a window or session store changelog is compact,delete with its retention plus a day; others as Kafka Streams', () => {
    const windowed = (retention: number): Record<string, string> => ({
      'cleanup.policy': 'compact,delete',
      'retention.ms': String(retention + DAY),
      'message.timestamp.type': 'CreateTime',
    })
    const compacted = { 'cleanup.policy': 'compact', 'message.timestamp.type': 'CreateTime' }
    expect(plannedConfigs()).toEqual({
      // size + grace
      'tumbling-changelog': windowed(15),
      'hopping-changelog': windowed(10),
      // gap + grace
      'session-changelog': windowed(7),
      'plain-changelog': compacted,
      // before + after + grace (JoinWindows.size() + grace)
      'KSTREAM-JOINTHIS-0000000012-store-changelog': windowed(12),
      'KSTREAM-OUTEROTHER-0000000013-store-changelog': windowed(12),
      // Kafka's outer-join store is a key-value store: compacted only.
      'KSTREAM-OUTERSHARED-0000000012-store-changelog': compacted,
    })
  })

  it('a repartition topic is kept without retention, in 50 MB segments (Kafka Streams purges it)', () => {
    const plan = planTopics(wordCount('in', 'out').build(), 'app', () => 2)
    const repartition = plan.internal.find((t) => t.name === 'app-counts-repartition')
    expect(Object.fromEntries(repartition!.configs.map((c) => [c.name, c.value]))).toEqual({
      'cleanup.policy': 'delete',
      'message.timestamp.type': 'CreateTime',
      'retention.ms': '-1',
      'segment.bytes': '52428800',
    })
  })
})

describe(`internal topics created on ${targetName}`, () => {
  let target: Target
  beforeAll(async () => {
    target = await startTarget()
  }, 60_000)
  afterAll(async () => {
    await target?.stop()
  })

  it('carry the planned configs', async () => {
    const [input, left, right] = [unique('it-in'), unique('it-l'), unique('it-r')]
    for (const t of [input, left, right])
      await createTopic(target.bootstrap, t, 1, Math.min(3, target.brokerIds.length))
    const appId = unique('it')
    const app = new KafkaStreams(windowedApp(input, left, right), {
      brokers: target.bootstrap,
      applicationId: appId,
      processingGuarantee: 'at_least_once',
    })
    const client = new KafkaClient({ brokers: target.bootstrap })
    try {
      await app.start()
      await reach(app, 'RUNNING')
      const keys = ['cleanup.policy', 'retention.ms', 'message.timestamp.type']
      const configsOf = async (topic: string): Promise<Record<string, string | null>> => {
        const r = await client.requestTo(client.anyBroker(), DescribeConfigs, {
          resources: [{ resourceType: 2, resourceName: topic, configurationKeys: keys }],
        })
        return Object.fromEntries(r.results[0]!.configs.map((c) => [c.name, c.value]))
      }
      const tumbling = await configsOf(`${appId}-tumbling-changelog`)
      expect(tumbling).toEqual({
        'cleanup.policy': 'compact,delete',
        'retention.ms': String(15 + DAY),
        'message.timestamp.type': 'CreateTime',
      })
      const plain = await configsOf(`${appId}-plain-changelog`)
      expect(plain['cleanup.policy']).toBe('compact')
      expect(plain['message.timestamp.type']).toBe('CreateTime')
    } finally {
      await app.close()
      await client.close()
    }
  }, 60_000)
})
