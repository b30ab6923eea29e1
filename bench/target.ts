// The target of the single-client benchmarks (producer, consumer, fetch sessions): the Kafka at
// KAFKA_BOOTSTRAP when set, otherwise a 3-broker reference cluster in a child process, so that the
// broker does not share the measured client's event loop (and CPU core).

import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { KafkaClient } from '../src/cluster/client.js'
import { CreateTopics } from '../src/protocol/messages/index.js'

const SERVE_FLAG = '--serve-reference-cluster'

export interface Target {
  brokers: string[]
  name: string
  stop(): void
}

/** Cluster options for the child's reference cluster (JSON: numbers and booleans only). */
export type ReferenceOptions = Record<string, number | boolean>

export async function startTarget(reference: ReferenceOptions = {}): Promise<Target> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), name: `Kafka at ${bootstrap}`, stop: () => {} }
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [SERVE_FLAG, JSON.stringify(reference)], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  })
  const brokers = await new Promise<string[]>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { bootstrap: string[] }).bootstrap))
    child.once('exit', (code) => reject(new Error(`reference cluster exited with ${code}`)))
  })
  return { brokers, name: 'reference cluster (3 brokers, child process)', stop: () => child.disconnect() }
}

export async function createTopic(brokers: string[], name: string, partitions: number): Promise<void> {
  const client = new KafkaClient({ brokers, clientId: 'bench-admin' })
  try {
    await client.metadata.refresh([])
    const response = await client.requestTo(client.anyBroker(), CreateTopics, {
      topics: [{ name, numPartitions: partitions, replicationFactor: Math.min(3, brokers.length) }],
      timeoutMs: 30_000,
    })
    const code = response.topics[0]!.errorCode
    if (code !== 0 && code !== 36) throw new Error(`CreateTopics failed with error ${code}`)
    await client.waitForTopics([name])
  } finally {
    await client.close()
  }
}

// Child: run the reference cluster until the parent goes away.
if (process.argv[2] === SERVE_FLAG) {
  const options = JSON.parse(process.argv[3] ?? '{}') as ReferenceOptions
  const { Cluster } = await import('../src/broker/index.js')
  const cluster = await Cluster.start({ brokers: 3, ...options })
  process.send!({ bootstrap: cluster.bootstrapServers })
  process.on('disconnect', () => void cluster.stop().then(() => process.exit(0)))
}
