// The brokers `npm run bench` measures against: real Kafka (scripts/kafka.sh, one node, its own
// state dir and ports) and the reference cluster in its own process (bench/broker-server.ts).
// A broker that does not start is reported, and the run goes on with the others.

import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { KafkaClient } from '../../src/cluster/client.js'
import { CreateTopics, DeleteTopics } from '../../src/protocol/messages/index.js'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const ROOT = join(HERE, '..', '..')

export interface Broker {
  name: string
  bootstrap: string
  createTopic(name: string, partitions: number): Promise<void>
  deleteTopic(name: string): Promise<void>
}

export const KAFKA_VERSION = process.env.KAFKA_VERSION ?? '4.4.0'

function kafkaEnv(): NodeJS.ProcessEnv {
  const base = Number(process.env.BENCH_KAFKA_PORT_BASE ?? 59000)
  return {
    ...process.env,
    KAFKA_VERSION,
    KAFKATS_KAFKA_STATE: process.env.BENCH_KAFKA_STATE ?? '/tmp/kafkats-bench-peers',
    KAFKATS_PORT_PLAINTEXT: String(base + 92),
    KAFKATS_PORT_SASL: String(base + 192),
    KAFKATS_PORT_SSL: String(base + 292),
    KAFKATS_PORT_SASL_SSL: String(base + 392),
    KAFKATS_PORT_CONTROLLER: String(base + 492),
  }
}

/** A broker started elsewhere (bench/latency.ts --bootstrap): topic administration only, nothing to stop. */
export function runningBroker(bootstrap: string): Broker & { stop(): Promise<void> } {
  return admin(bootstrap, bootstrap, async () => {})
}

/** Topic administration through the kafkats client (the same requests for both brokers). */
function admin(name: string, bootstrap: string, stop: () => Promise<void>): Broker & { stop(): Promise<void> } {
  const client = new KafkaClient({ brokers: bootstrap.split(','), clientId: 'bench-admin' })
  return {
    name,
    bootstrap,
    createTopic: async (topic, partitions) => {
      const response = await client.requestTo(client.bootstrap[0]!, CreateTopics, {
        topics: [{ name: topic, numPartitions: partitions, replicationFactor: 1 }],
        timeoutMs: 30_000,
      })
      const code = response.topics[0]!.errorCode
      if (code !== 0) throw new Error(`CreateTopics ${topic} failed with error ${code}`)
      await client.waitForTopics([topic])
    },
    deleteTopic: async (topic) => {
      await client.requestTo(client.bootstrap[0]!, DeleteTopics, (v) =>
        v >= 6 ? { topics: [{ name: topic }], timeoutMs: 30_000 } : { topicNames: [topic], timeoutMs: 30_000 },
      )
    },
    stop: async () => {
      await client.close().catch(() => {})
      await stop()
    },
  }
}

async function startKafka(log: (l: string) => void): Promise<Broker & { stop(): Promise<void> }> {
  const env = kafkaEnv()
  const script = join(ROOT, 'scripts', 'kafka.sh')
  const t0 = performance.now()
  try {
    execFileSync(script, ['start', '--nodes', '1'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  } catch {
    // Seen: a port still held for a moment after the previous run's Kafka stopped. Once more.
    log('Kafka did not start; trying once more in 5 s')
    await new Promise((r) => setTimeout(r, 5000))
    execFileSync(script, ['start', '--nodes', '1'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  }
  log(`Kafka ${KAFKA_VERSION} started in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const bootstrap = execFileSync(script, ['bootstrap'], { env, encoding: 'utf8' }).trim()
  return admin(`Kafka ${KAFKA_VERSION}`, bootstrap, async () => {
    execFileSync(script, ['stop'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  })
}

async function startReference(): Promise<Broker & { stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'broker-server.ts'), '--brokers', '1'],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const lines = createInterface({ input: child.stdout! })
  const first = await Promise.race([
    once(lines, 'line').then(([l]) => l as string),
    once(child, 'exit').then(([code]) => {
      throw new Error(`broker-server exited with ${code}`)
    }),
  ])
  const bootstrap = (JSON.parse(first) as { bootstrap: string }).bootstrap
  return admin('reference broker', bootstrap, async () => {
    if (child.exitCode !== null) return
    const done = once(child, 'exit')
    child.stdin!.end('stop\n')
    await done
  })
}

export async function startBrokers(
  names: string[],
  log: (l: string) => void,
): Promise<{ started: Broker[]; errors: string[]; stop(): Promise<void> }> {
  const started: (Broker & { stop(): Promise<void> })[] = []
  const errors: string[] = []
  for (const name of names) {
    try {
      if (name === 'kafka') started.push(await startKafka(log))
      else if (name === 'reference') started.push(await startReference())
      else throw new Error(`unknown broker '${name}' (kafka, reference)`)
    } catch (err) {
      const message = `${name}: ${err instanceof Error ? err.message : String(err)}`
      errors.push(message)
      log(`broker ${message}`)
    }
  }
  return {
    started,
    errors,
    stop: async () => {
      for (const b of started) await b.stop().catch((e: unknown) => log(`stopping ${b.name}: ${String(e)}`))
    },
  }
}
