// A consumer group over several topics (kafka-go's GroupTopics), starting from the oldest
// messages when the group has no committed offsets (FirstOffset). `for await` marks each message
// once the loop asks for the next one; commitInterval sends the marks every second, and close()
// commits what is still owed and leaves the group. Run several copies to watch the partitions
// being shared out (onAssign / onRevoke).
//
// Run: npx tsx examples/consumer-group.ts   (KAFKA_BOOTSTRAP or an in-process reference cluster)

import { FirstOffset, Reader, Writer } from 'kafkats'

async function kafka(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3, defaultPartitions: 3, groupInitialRebalanceDelayMs: 0 })
  return { brokers: cluster.bootstrapServers, stop: () => cluster.stop() }
}

const { brokers, stop } = await kafka()
const topics = ['example-orders', 'example-payments']
try {
  // Something to read in both topics.
  const writer = new Writer({ brokers, allowAutoTopicCreation: true })
  await writer.writeMessages(
    Array.from({ length: 20 }, (_, i) => ({
      topic: topics[i % 2]!,
      key: `customer-${i % 5}`,
      value: JSON.stringify({ n: i }),
    })),
  )
  await writer.close()

  const stopReading = new AbortController()
  const reader = new Reader({
    brokers,
    groupId: process.env.GROUP_ID ?? `example-group-${Date.now()}`,
    groupTopics: topics,
    startOffset: FirstOffset,
    commitInterval: 1000,
    onAssign: (partitions) => console.log('assigned', partitions.map((p) => `${p.topic}-${p.partition}`).join(', ')),
    onRevoke: (partitions) => console.log('revoked', partitions.map((p) => `${p.topic}-${p.partition}`).join(', ')),
    signal: stopReading.signal, // aborting it closes the Reader (and ends the loop)
  })
  process.once('SIGINT', () => stopReading.abort())

  // Stop after two quiet seconds.
  let quiet = setTimeout(() => stopReading.abort(), 5000)
  let count = 0
  for await (const message of reader) {
    clearTimeout(quiet)
    quiet = setTimeout(() => stopReading.abort(), 2000)
    count++
    console.log(`${message.topic}-${message.partition}@${message.offset} ${message.key}: ${message.value}`)
  }
  clearTimeout(quiet)
  await reader.close()
  console.log(`read ${count} messages; member ${reader.memberId || '(left)'}; lag after close:`, reader.lag())
} finally {
  await stop()
}
