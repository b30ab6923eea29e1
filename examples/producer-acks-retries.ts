// Acknowledgements and retries. requiredAcks picks durability: 'none' (fire and forget), 'leader',
// or 'all' (every in-sync replica; the default). Idempotence (on by default with 'all') numbers
// batches so retries after a lost response are not written twice. Retriable broker errors are
// retried up to maxAttempts with exponential backoff; the error that ends a write says why.
//
// Run: npx tsx examples/producer-acks-retries.ts   (KAFKA_BOOTSTRAP or an in-process reference cluster)

import { KafkaError, RequireAll, RequireNone, RequireOne, RetriesExhaustedError, Writer, WriteErrors } from 'kafkats'

type Faults = { failNext: (api: string, count: number, errorCode: number) => void }

async function kafka(): Promise<{ brokers: string[]; faults?: Faults; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3, defaultPartitions: 3 })
  return { brokers: cluster.bootstrapServers, faults: cluster.faults, stop: () => cluster.stop() }
}

const { brokers, faults, stop } = await kafka()
try {
  // 1. The three acknowledgement levels (after a first write that creates the topic).
  const setup = new Writer({ brokers, topic: 'orders', allowAutoTopicCreation: true })
  await setup.writeMessages({ key: 'order-0', value: 'creates the topic' })
  await setup.close()
  for (const requiredAcks of [RequireNone, RequireOne, RequireAll]) {
    const writer = new Writer({ brokers, topic: 'orders', requiredAcks })
    const started = performance.now()
    await writer.writeMessages({ key: 'order-1', value: `written with acks=${requiredAcks}` })
    console.log(`acks=${requiredAcks}: ${(performance.now() - started).toFixed(1)} ms`)
    await writer.close()
  }

  // 2. Retries: the in-process cluster can fail the next requests on purpose.
  const writer = new Writer({ brokers, topic: 'orders', maxAttempts: 5, writeBackoffMin: 50, writeBackoffMax: 500 })
  if (faults !== undefined) {
    faults.failNext('Produce', 2, 19) // NOT_ENOUGH_REPLICAS, twice: retriable
    await writer.writeMessages({ key: 'order-2', value: 'survives two failures' })
    console.log(`retries after two NOT_ENOUGH_REPLICAS: ${writer.stats().retries}`)
  }

  // 3. When retrying cannot help, or the attempts run out, the error says why.
  const strict = new Writer({ brokers, topic: 'no-such-topic', maxAttempts: 3 })
  try {
    await strict.writeMessages({ value: 'nowhere to go' })
  } catch (err) {
    if (err instanceof RetriesExhaustedError && err.cause instanceof KafkaError) {
      console.log(`gave up after ${err.attempts} attempts: ${err.cause.errorName} (retriable: ${err.cause.retriable})`)
    } else if (err instanceof WriteErrors) {
      console.log(`${err.failed} of ${err.errors.length} messages failed`)
    } else {
      throw err
    }
  } finally {
    await strict.close()
  }
  await writer.close()
} finally {
  await stop()
}
