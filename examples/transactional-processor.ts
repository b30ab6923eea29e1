// Exactly-once consume-transform-produce with TransactionalProcessor: each fetched batch is one
// transaction (the handler's outputs and the batch's input offsets commit together). A handler
// error aborts the transaction and moves the Reader back to the committed offsets, so the batch
// is processed again; a rebalance commits the open transaction before the partitions move, or
// aborts it when the group has moved on. Here the first attempt at order-7 fails once.
//
// Run: npx tsx examples/transactional-processor.ts   (KAFKA_BOOTSTRAP or an in-process reference cluster)

import { AbortError, Reader, TransactionalProcessor, Writer, type BatchHandler, type FetchedMessage } from 'kafkats'

async function kafka(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3, defaultPartitions: 3, groupInitialRebalanceDelayMs: 0 })
  return { brokers: cluster.bootstrapServers, stop: () => cluster.stop() }
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
    transactionalId: `pricing-${run}-0`,
    allowAutoTopicCreation: true,
  })
  const processor = new TransactionalProcessor({ reader, writer })

  let failedOnce = false
  const handler: BatchHandler = async (batch, send) => {
    await send(batch.messages.map((m) => ({ key: m.key, value: `price=${Number(m.value) * 10}` })))
    if (!failedOnce && batch.messages.some((m) => m.key?.toString() === 'order-7')) {
      failedOnce = true
      throw new Error('pricing service unavailable') // aborted: these outputs never become visible
    }
  }

  const done = new AbortController()
  const check = setInterval(() => processor.stats().records >= 20 && done.abort(), 50)
  for (;;) {
    try {
      await processor.process(handler, { signal: done.signal })
      break // the signal fired: everything was processed
    } catch (err) {
      console.log(`a batch failed and was rewound: ${(err as Error).message}`)
    }
  }
  clearInterval(check)
  const { committed, aborted, records } = processor.stats()
  console.log(`${records} orders priced in ${committed} transaction${committed === 1 ? '' : 's'} (${aborted} aborted)`)
  await writer.close()
  await reader.close()

  // A read_committed reader (the default isolation level) sees each result exactly once.
  const audit = new Reader({ brokers, groupId: `example-audit-${run}`, topic: output })
  const results: FetchedMessage[] = []
  try {
    for (;;) results.push(await audit.fetchMessage({ signal: AbortSignal.timeout(2000) }))
  } catch (err) {
    if (!(err instanceof AbortError)) throw err
  }
  await audit.close()
  const keys = new Set(results.map((m) => m.key?.toString()))
  console.log(`the output holds ${results.length} results (${keys.size} distinct orders)`)
} finally {
  await stop()
}
