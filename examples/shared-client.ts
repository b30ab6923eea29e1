// One client for many roles: an Admin, a Writer and a group Reader made from one `Kafka`
// instance share its bootstrap, metadata and broker version tables (each keeps its own
// connections), and `kafka.close()` closes them in order: the Reader first (its last commit goes
// out and it leaves the group), then the Writer (it flushes), then the Admin.
//
// Run: npx tsx examples/shared-client.ts
//      (uses KAFKA_BOOTSTRAP when set, e.g. KAFKA_BOOTSTRAP=localhost:9092; otherwise starts an
//      in-process 3-broker reference cluster)

import { Kafka } from 'kafkats'

async function cluster(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const c = await Cluster.start({ brokers: 3, groupInitialRebalanceDelayMs: 0 })
  return { brokers: c.bootstrapServers, stop: () => c.stop() }
}

const { brokers, stop } = await cluster()
const kafka = new Kafka({ brokers, clientId: 'billing' }) // sasl, tls, logger would go here too
const topic = `invoices-${Date.now()}`

try {
  const admin = kafka.admin()
  await admin.createTopics([{ name: topic, partitions: 3, replicationFactor: Math.min(3, brokers.length) }], {
    waitForLeaders: true,
  })

  const writer = kafka.writer({ topic })
  const reader = kafka.reader({ groupId: `billing-${Date.now()}`, topic, commitInterval: 0 }) // commits wait
  await writer.writeMessages(Array.from({ length: 10 }, (_, i) => ({ key: `customer-${i}`, value: `invoice ${i}` })))

  let read = 0
  for await (const message of reader) {
    await reader.commitMessages(message)
    if (++read === 10) break
  }
  const lag = await admin.groupLag(reader.groupId!)
  console.log(`read ${read} invoices; group lag ${lag.totalLag}`)
} finally {
  await kafka.close() // the reader, then the writer, then the admin, then the shared metadata
  await stop()
}
