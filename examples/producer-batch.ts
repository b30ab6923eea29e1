// Batching for throughput: async mode hands messages over and returns at once; the Writer groups
// them per partition (batchSize / batchBytes / batchTimeout), compresses each batch and sends one
// Produce request per broker. `completion` reports each batch; a full buffer makes writeMessages
// wait (backpressure) instead of growing memory.
//
// Run: npx tsx examples/producer-batch.ts   (KAFKA_BOOTSTRAP or an in-process reference cluster)

import { Writer, type Message } from 'kafkats'

async function kafka(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3, defaultPartitions: 6 })
  return { brokers: cluster.bootstrapServers, stop: () => cluster.stop() }
}

const { brokers, stop } = await kafka()
let acknowledged = 0
let failed = 0
const writer = new Writer({
  brokers,
  topic: 'metrics',
  allowAutoTopicCreation: true,
  async: true,
  batchSize: 1000, // messages per batch
  batchBytes: 1 << 20, // or 1 MiB, whichever comes first
  batchTimeout: 10, // linger: wait up to 10 ms for a batch to fill
  compression: 'lz4',
  bufferMaxBytes: 16 << 20, // at most 16 MiB waiting for acknowledgement
  completion: (messages: Message[], error: Error | null) => {
    if (error === null) acknowledged += messages.length
    else {
      failed += messages.length
      console.error(`a batch of ${messages.length} failed:`, error.message)
    }
  },
})

const total = 100_000
const started = performance.now()
try {
  for (let i = 0; i < total; i += 500) {
    const chunk = Array.from({ length: 500 }, (_, j) => ({
      key: `host-${(i + j) % 50}`,
      value: JSON.stringify({ host: (i + j) % 50, cpu: Math.random(), at: Date.now() }),
    }))
    await writer.writeMessages(chunk) // returns once buffered (waits only when the buffer is full)
  }
  await writer.flush() // wait until every batch is acknowledged
  const seconds = (performance.now() - started) / 1000
  const stats = writer.stats()
  console.log(
    `${acknowledged} acknowledged, ${failed} failed in ${seconds.toFixed(2)} s (${Math.round(acknowledged / seconds)} msg/s)`,
  )
  console.log(
    `${stats.writes} batches, avg ${stats.batchSize.avg.toFixed(0)} messages / ${Math.round(stats.batchSizeAvg)} bytes each`,
  )
} finally {
  await writer.close()
  await stop()
}
