// Reading one partition directly (no consumer group, no commits): kafka-go's Reader with Topic +
// Partition. The Reader starts at startOffset (FirstOffset by default), prefetches in the
// background, and reports its position (offset) and lag; seek/setOffset/setOffsetAt move it.
//
// Run: npx tsx examples/consumer-partition.ts   (KAFKA_BOOTSTRAP or an in-process reference cluster)

import { FirstOffset, Reader, Writer } from 'kafkats'

async function kafka(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3 })
  return { brokers: cluster.bootstrapServers, stop: () => cluster.stop() }
}

const { brokers, stop } = await kafka()
const topic = 'example-partition'
try {
  // Something to read: ten messages, all in partition 0.
  const writer = new Writer({ brokers, topic, allowAutoTopicCreation: true, balancer: { balance: () => 0 } })
  await writer.writeMessages(
    Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `message ${i} at ${new Date().toISOString()}` })),
  )
  await writer.close()

  const reader = new Reader({ brokers, topic, partition: 0, startOffset: FirstOffset })
  try {
    // Read until nothing more arrives for a second.
    for (;;) {
      const message = await reader.fetchMessage({ signal: AbortSignal.timeout(1000) }).catch(() => null)
      if (message === null) break
      console.log(`partition ${message.partition} offset ${message.offset}: ${message.key} = ${message.value}`)
    }
    const [lag] = reader.lag()
    console.log(`position ${reader.offset}, high watermark ${lag?.highWatermark}, lag ${lag?.lag}`)

    // Go back three messages and read them again.
    reader.setOffset(reader.offset - 3n)
    for (let i = 0; i < 3; i++) {
      const again = await reader.fetchMessage({ signal: AbortSignal.timeout(5000) })
      console.log(`again: offset ${again.offset}: ${again.value}`)
    }
    const stats = reader.stats()
    console.log(
      `stats: ${stats.messages} messages, ${stats.fetches} fetches, fetch latency avg ${stats.fetchLatencyAvg.toFixed(1)} ms`,
    )
  } finally {
    await reader.close()
  }
} finally {
  await stop()
}
