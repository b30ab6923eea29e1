// Latency of small transactions: N transactions of 10 keyed messages each, one after another,
// through writer.transaction(). Against KAFKA_BOOTSTRAP, or an in-process 3-broker reference cluster.
// Run: npx tsx bench/transactions.ts [transactions]

import { Writer } from '../src/index.js'

const n = Number(process.argv[2] ?? 100)
const bootstrap = process.env.KAFKA_BOOTSTRAP
let brokers: string[]
let stop = async (): Promise<void> => {}
if (bootstrap) brokers = bootstrap.split(',')
else {
  const { Cluster } = await import('../src/broker/index.js')
  const cluster = await Cluster.start({ brokers: 3 })
  brokers = cluster.bootstrapServers
  stop = () => cluster.stop()
}
const topic = `bench-tx-${Date.now()}`
const w = new Writer({ brokers, topic, transactionalId: topic, allowAutoTopicCreation: true })
try {
  await w.transaction(async (tx) => {
    await tx.writeMessages({ value: 'warm-up' })
  })
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    await w.transaction(async (tx) => {
      await tx.writeMessages(Array.from({ length: 10 }, (_, j) => ({ key: `k${j}`, value: `${i}:${j}` })))
    })
  }
  const ms = performance.now() - started
  console.log(
    `${bootstrap ? `Kafka at ${bootstrap}` : 'reference cluster'}, transaction version ${w.transactionVersion}: ` +
      `${n} transactions of 10 messages in ${ms.toFixed(0)} ms (${(ms / n).toFixed(1)} ms each)`,
  )
} finally {
  await w.close()
  await stop()
}
