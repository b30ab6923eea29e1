// Exactly-once consume-transform-produce: read a batch from a group Reader, write the results and
// commit the input offsets in one transaction. Either both become visible or neither does, so a
// crash anywhere replays the batch from the last committed offsets and read_committed readers of
// the output never see a duplicate. A second Writer with the same transactionalId (a restarted
// instance) fences this one: it fails with ProducerFencedError and writes nothing more.
//
// Run: npx tsx examples/transactions.ts   (KAFKA_BOOTSTRAP or an in-process reference cluster)

import { AbortError, Reader, Writer, type FetchedMessage } from 'kafkats'

async function kafka(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3, defaultPartitions: 3, groupInitialRebalanceDelayMs: 0 })
  return { brokers: cluster.bootstrapServers, stop: () => cluster.stop() }
}

/** Up to `max` messages, or fewer once nothing arrives for `idleMs`. */
async function readBatch(reader: Reader, max: number, idleMs: number): Promise<FetchedMessage[]> {
  const batch: FetchedMessage[] = []
  while (batch.length < max) {
    try {
      batch.push(await reader.fetchMessage({ signal: AbortSignal.timeout(idleMs) }))
    } catch (err) {
      if (err instanceof AbortError) break
      throw err
    }
  }
  return batch
}

const { brokers, stop } = await kafka()
const run = Date.now()
const input = `example-orders-${run}`
const output = `example-orders-priced-${run}`
try {
  const seed = new Writer({ brokers, topic: input, allowAutoTopicCreation: true })
  await seed.writeMessages(Array.from({ length: 20 }, (_, i) => ({ key: `order-${i}`, value: `${i + 1}` })))
  await seed.close()

  const reader = new Reader({ brokers, groupId: `example-pricing-${run}`, topic: input })
  // One transactionalId per processing instance, stable across its restarts.
  const writer = new Writer({
    brokers,
    topic: output,
    transactionalId: `example-pricing-${run}`,
    allowAutoTopicCreation: true,
  })
  let transformed = 0
  for (;;) {
    const batch = await readBatch(reader, 5, 2000)
    if (batch.length === 0) break
    await writer.transaction(async (tx) => {
      await tx.writeMessages(batch.map((m) => ({ key: m.key, value: `price=${Number(m.value) * 10}` })))
      // The input offsets commit with the outputs (KIP-447: the group fences a zombie's commit).
      await tx.sendOffsets(reader, batch)
    })
    transformed += batch.length
  }
  await writer.close()
  await reader.close()

  // A read_committed reader (the default isolation level) sees each result exactly once.
  const check = new Reader({ brokers, groupId: `example-audit-${run}`, topic: output })
  const results = await readBatch(check, 1000, 2000)
  await check.close()
  const keys = new Set(results.map((m) => m.key?.toString()))
  console.log(`transformed ${transformed} messages; the output holds ${results.length} (${keys.size} distinct keys)`)
} finally {
  await stop()
}
