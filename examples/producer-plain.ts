// The plainest producer: a Writer for one topic, a few messages with keys and headers, then close.
// Defaults are the safe ones: acks=all, idempotence on, a 5 ms linger that a synchronous
// writeMessages does not wait for.
//
// Run: npx tsx examples/producer-plain.ts
//      (uses KAFKA_BOOTSTRAP when set, e.g. KAFKA_BOOTSTRAP=localhost:9092; otherwise starts an
//      in-process 3-broker reference cluster)

import { Writer, Hash } from 'kafkats'

async function kafka(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3, defaultPartitions: 3 })
  return { brokers: cluster.bootstrapServers, stop: () => cluster.stop() }
}

const { brokers, stop } = await kafka()
const writer = new Writer({
  brokers,
  topic: 'user-events',
  balancer: new Hash(), // the same key always lands on the same partition
  allowAutoTopicCreation: true, // for the demo; production topics are usually created up front
})

try {
  await writer.writeMessages(
    {
      key: 'user-123',
      value: JSON.stringify({ event: 'login', user: '123' }),
      headers: [{ key: 'type', value: 'login' }],
    },
    { key: 'user-456', value: JSON.stringify({ event: 'signup', user: '456' }) },
    { key: 'user-123', value: JSON.stringify({ event: 'logout', user: '123' }), timestamp: new Date() },
  )
  const stats = writer.stats()
  console.log(
    `wrote ${stats.messages} messages in ${stats.requests} request(s); request latency avg ${stats.requestLatencyAvg.toFixed(1)} ms`,
  )
} finally {
  await writer.close() // flushes anything buffered, then closes the connections
  await stop()
}
