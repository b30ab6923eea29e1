// KafkaStreams' metrics under Kafka Streams' names, exported with the clients' metrics: a word
// count whose numbers are known (records in, words out, a record with a null key dropped by the
// count), read from metricsSources() and from renderPrometheus' text parsed by a third-party
// Prometheus parser; a restarted instance reports the changelog records it restored.

import { afterAll, beforeAll, expect, it } from 'vitest'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'

import { metricValue, renderPrometheus } from '../../src/index.js'
import { KafkaStreams, Serdes, StreamsBuilder } from '../../src/streams/index.js'
import { createTopic, startTarget, unique, type Target } from '../consumer/helpers.js'
import { reach, readUntil, writeInput } from './helpers/cluster.js'

let target: Target

beforeAll(async () => {
  target = await startTarget({ reference: true })
}, 60_000)

afterAll(async () => {
  await target?.stop()
})

/** Counts per key; a record without a key cannot be counted (Kafka Streams drops it). */
function countByKey(input: string, output: string): StreamsBuilder {
  const S = Serdes.String
  const b = new StreamsBuilder()
  b.stream(input, { key: S, value: S })
    .groupByKey({ key: S, value: S })
    .count({ storeName: 'by-key' })
    .toStream()
    .to(output, { key: S, value: Serdes.Long })
  return b
}

it('reports processed, committed, dropped and restored records, and exports them with its clients', async () => {
  const input = unique('sm-in')
  const output = unique('sm-out')
  const appId = unique('sm')
  await createTopic(target.bootstrap, input, 2)
  await createTopic(target.bootstrap, output, 2)
  const records = [
    ...Array.from({ length: 9 }, (_, i) => ({ key: `k${i % 3}`, value: `v${i}` })),
    { key: null, value: 'no key' },
  ]
  await writeInput(target.bootstrap, input, records)
  const config = {
    brokers: target.bootstrap,
    applicationId: appId,
    processingGuarantee: 'at_least_once' as const,
    commitInterval: 100,
  }
  const app = new KafkaStreams(countByKey(input, output), config)
  await app.start()
  await reach(app, 'RUNNING')
  await readUntil(target.bootstrap, output, (r) => r.length >= 9)
  const [own, consumer, producer] = app.metricsSources()
  await expect.poll(() => metricValue(own!.metrics(), 'process-total')).toBe(10)
  const snap = own!.metrics()
  expect(snap.client).toBe('streams')
  expect(metricValue(snap, 'dropped-records-total')).toBe(1)
  expect(metricValue(snap, 'active-tasks')).toBe(2)
  expect(metricValue(snap, 'task-created-total')).toBe(2)
  expect(metricValue(snap, 'commit-total')).toBeGreaterThanOrEqual(1)
  expect(metricValue(snap, 'commit-latency-max')).toBeGreaterThanOrEqual(0)

  // One scrape holds the instance and its clients, each under its own prefix.
  const families = new Map(
    parsePrometheusTextFormat(renderPrometheus(own!, consumer!, producer!)).map((f) => [f.name, f]),
  )
  const sample = (name: string): number => Number(families.get(name)?.metrics[0]?.value)
  expect(sample('kafka_streams_process_total')).toBe(10)
  expect(sample('kafka_streams_dropped_records_total')).toBe(1)
  expect(sample('kafka_consumer_records_consumed_total')).toBeGreaterThanOrEqual(10)
  expect(sample('kafka_producer_record_send_total')).toBeGreaterThanOrEqual(9)
  await app.close()

  // A new instance restores the three keys' counts (9 updates) from the changelog.
  const again = new KafkaStreams(countByKey(input, output), config)
  await again.start()
  await reach(again, 'RUNNING')
  expect(metricValue(again.metricsSources()[0]!.metrics(), 'restore-total')).toBe(again.metrics().restored)
  expect(again.metrics().restored).toBe(9)
  await again.close()
}, 90_000)
