// Manual commits: fetchMessage, process, then commitMessages (at-least-once). With the default
// commitInterval 0, commitMessages resolves once the group coordinator has the offset. A commit
// for a partition this member lost in a rebalance is refused with CommitRejectedError and never
// moves the group's offset; its new owner reads the message again.
//
// Run: npx tsx examples/consumer-manual-commit.ts   (KAFKA_BOOTSTRAP or an in-process reference cluster)

import { AbortError, CommitRejectedError, Reader, Writer, type FetchedMessage } from 'kafkats'

async function kafka(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3, defaultPartitions: 3, groupInitialRebalanceDelayMs: 0 })
  return { brokers: cluster.bootstrapServers, stop: () => cluster.stop() }
}

async function process_(message: FetchedMessage): Promise<void> {
  // Real work goes here (write to a database, call a service...).
  await new Promise((resolve) => setTimeout(resolve, 5))
  console.log(`processed ${message.topic}-${message.partition}@${message.offset}: ${message.value}`)
}

const { brokers, stop } = await kafka()
const topic = 'example-invoices'
const groupId = process.env.GROUP_ID ?? `example-invoicing-${Date.now()}`
try {
  const writer = new Writer({ brokers, topic, allowAutoTopicCreation: true })
  await writer.writeMessages(
    Array.from({ length: 12 }, (_, i) => ({ key: `invoice-${i}`, value: `amount=${(i + 1) * 10}` })),
  )
  await writer.close()

  const reader = new Reader({ brokers, groupId, topic })
  try {
    for (;;) {
      let message: FetchedMessage
      try {
        // Stop once nothing arrives for two seconds.
        message = await reader.fetchMessage({ signal: AbortSignal.timeout(2000) })
      } catch (err) {
        if (err instanceof AbortError) break
        throw err
      }
      await process_(message)
      try {
        await reader.commitMessages(message)
      } catch (err) {
        if (!(err instanceof CommitRejectedError)) throw err
        console.log(`not committed (${err.reason}); the partition's owner will read it again`)
      }
    }
    const stats = reader.stats()
    console.log(`committed ${stats.commits} times, commit latency avg ${stats.commitLatencyAvg.toFixed(1)} ms`)
  } finally {
    await reader.close() // leaves the group
  }

  // A second reader in the same group starts where the first one committed: nothing is left.
  const next = new Reader({ brokers, groupId, topic })
  const leftover = await next.fetchMessage({ signal: AbortSignal.timeout(3000) }).catch(() => null)
  console.log(leftover === null ? 'the group is fully committed' : `unexpected: ${leftover.offset}`)
  await next.close()
} finally {
  await stop()
}
