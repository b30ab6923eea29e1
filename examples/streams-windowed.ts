// A windowed aggregate with kafkats/streams: readings per sensor counted in tumbling one-minute
// windows by event time (the record timestamp), with 10 s of grace for out-of-order readings.
// suppress(untilWindowCloses) emits one final count per window once stream time passes its end
// plus grace; a reading later than that is dropped and counted in metrics().dropped.late.
//
// Run: npx tsx examples/streams-windowed.ts   (KAFKA_BOOTSTRAP or an in-process reference cluster)

import { Admin, Reader, Writer, AbortError } from 'kafkats'
import { KafkaStreams, Serdes, StreamsBuilder, Suppressed, TimeWindows, WindowedSerdes } from 'kafkats/streams'

async function kafka(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3, groupInitialRebalanceDelayMs: 0 })
  return { brokers: cluster.bootstrapServers, stop: () => cluster.stop() }
}

const MINUTE = 60_000
const { brokers, stop } = await kafka()
const run = Date.now()
const input = `example-readings-${run}`
const output = `example-readings-per-minute-${run}`
try {
  // One partition: stream time is per task, so all sensors share one clock here.
  const admin = new Admin({ brokers })
  await admin.createTopics([
    { name: input, partitions: 1 },
    { name: output, partitions: 1 },
  ])
  await admin.close()

  const builder = new StreamsBuilder()
  builder
    .stream(input, { key: Serdes.String, value: Serdes.Double })
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeAndGrace(MINUTE, 10_000))
    .count()
    .suppress(Suppressed.untilWindowCloses())
    .toStream()
    .to(output, { key: WindowedSerdes.timeWindowed(Serdes.String, MINUTE), value: Serdes.Long })

  const app = new KafkaStreams(builder, { brokers, applicationId: `example-windowed-${run}` })
  await app.start()

  const reading = (sensor: string, at: number, celsius: number) => ({
    key: sensor,
    value: Serdes.Double.serialize(celsius),
    timestamp: at,
  })
  const writer = new Writer({ brokers, topic: input })
  await writer.writeMessages([
    reading('sensor-1', 5_000, 20.5),
    reading('sensor-2', 12_000, 18.0),
    reading('sensor-1', 61_000, 21.0), // window [60 s, 120 s)
    reading('sensor-1', 55_000, 20.9), // out of order, within the grace: counted in [0, 60 s)
    reading('sensor-2', 75_000, 18.2), // stream time 75 s: [0, 60 s) closes (60 s + 10 s grace)
    reading('sensor-1', 30_000, 20.7), // too late for [0, 60 s): dropped
    reading('sensor-1', 200_000, 22.0), // stream time 200 s: [60 s, 120 s) closes
  ])
  await writer.close()

  const windowed = WindowedSerdes.timeWindowed(Serdes.String, MINUTE)
  const reader = new Reader({ brokers, groupId: `example-windowed-check-${run}`, topic: output })
  const finals: string[] = []
  while (finals.length < 4) {
    try {
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      const { key, window } = windowed.deserialize(m.key!)
      finals.push(`${key} [${window.start / 1000}s, ${window.end / 1000}s): ${m.value!.readBigInt64BE(0)}`)
    } catch (err) {
      if (err instanceof AbortError) break
      throw err
    }
  }
  await reader.close()
  const late = app.metrics().dropped.late ?? 0
  await app.close()
  for (const f of finals) console.log(f)
  console.log(`${finals.length} final window counts; ${late} late reading dropped`)
} finally {
  await stop()
}
