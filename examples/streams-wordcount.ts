// Word count with kafkats/streams, exactly-once (the default guarantee): lines in, a running
// count per word out. Every commit (each 100 ms) is one transaction holding the count updates,
// the changelog records of the counts store and the input offsets, so a read_committed reader
// sees each update once, even if the application crashes and restarts.
//
// Run: npx tsx examples/streams-wordcount.ts   (KAFKA_BOOTSTRAP or an in-process reference cluster)

import { Admin, Reader, Writer, AbortError } from 'kafkats'
import { KafkaStreams, Serdes, StreamsBuilder } from 'kafkats/streams'

async function kafka(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3, groupInitialRebalanceDelayMs: 0 })
  return { brokers: cluster.bootstrapServers, stop: () => cluster.stop() }
}

const { brokers, stop } = await kafka()
const run = Date.now()
const input = `example-lines-${run}`
const output = `example-word-counts-${run}`
const lines = ['the quick brown fox', 'jumps over the lazy dog', 'the dog sleeps', 'the fox runs']
try {
  const admin = new Admin({ brokers })
  await admin.createTopics([
    { name: input, partitions: 3 },
    { name: output, partitions: 3 },
  ])
  await admin.close()

  const builder = new StreamsBuilder()
  builder
    .stream(input, { key: Serdes.String, value: Serdes.String })
    .flatMapValues((line) => (line ?? '').toLowerCase().split(/\W+/).filter(Boolean))
    .groupBy((_key, word) => word, { key: Serdes.String, value: Serdes.String })
    .count({ storeName: 'counts' })
    .toStream()
    .to(output, { key: Serdes.String, value: Serdes.Long })

  // processingGuarantee: 'exactly_once_v2' is the default.
  const app = new KafkaStreams(builder, { brokers, applicationId: `example-wordcount-${run}` })
  await app.start()

  const writer = new Writer({ brokers, topic: input })
  await writer.writeMessages(lines.map((value, i) => ({ key: `line-${i}`, value })))
  await writer.close()

  // Read the counts back (read_committed, the Reader's default) until every word is counted.
  const words = lines.join(' ').split(' ').length
  const reader = new Reader({ brokers, groupId: `example-wordcount-check-${run}`, topic: output })
  const counts = new Map<string, bigint>()
  let updates = 0
  while (updates < words) {
    try {
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      counts.set(m.key!.toString(), m.value!.readBigInt64BE(0))
      updates++
    } catch (err) {
      if (err instanceof AbortError) break
      throw err
    }
  }
  await reader.close()
  // Interactive query: the application's own view of its store.
  console.log(`"the" counted ${app.store<string, number>('counts').get('the')} times (store query)`)
  await app.close()
  const sorted = [...counts].sort(([a], [b]) => a.localeCompare(b))
  console.log(`${updates} count updates; final: ${sorted.map(([w, n]) => `${w}=${n}`).join(' ')}`)
} finally {
  await stop()
}
