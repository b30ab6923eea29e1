// The reference broker's BrokerTopicMetrics against Apache Kafka 4.4.0's: the request sequence
// of metrics-workload.ts, replayed here, must get the answers Kafka gave and move the per-topic
// meters by the counts Kafka's JMX showed (test/fixtures/broker-metrics/kafka-4.4.0.json).

import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { runMetricsWorkload, WORKLOAD_METERS } from './metrics-workload.js'

interface Capture {
  kafka: string
  answers: Record<string, number[]>
  meters: Record<string, Record<string, number>>
}

const capture = JSON.parse(
  readFileSync(new URL('../fixtures/broker-metrics/kafka-4.4.0.json', import.meta.url), 'utf8'),
) as Capture

describe('broker metrics match Kafka 4.4.0', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 1 })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('answers the workload as Kafka did and counts it as Kafka’s meters did', async () => {
    const answers = await runMetricsWorkload(cluster.bootstrapServers[0]!, 'bm')
    // Every answer, including the -1 offsets of the out-of-range fetch (Kafka's createLogReadResult).
    expect(answers.steps).toEqual(capture.answers)
    const topics = cluster.metrics().BrokerTopicMetrics.topics
    for (const suffix of ['main', 'isr']) {
      const ours = topics[`bm-${suffix}`]
      for (const meter of WORKLOAD_METERS)
        expect({ suffix, meter, count: ours?.[meter].count ?? 0 }).toEqual({
          suffix,
          meter,
          count: capture.meters[suffix]?.[meter] ?? 0,
        })
    }
  })
})
