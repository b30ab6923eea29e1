// The target of the producer integration suite: real Kafka when KAFKA_BOOTSTRAP is set (e.g.
// `eval "$(scripts/kafka.sh env)"`), otherwise a 3-broker reference cluster started in-process.
// Topics are created through the client core (CreateTopics), and everything written is read back
// with a third-party client (kcat, librdkafka) so the check does not trust our own decoder.

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { KafkaClient } from '../../src/cluster/client.js'
import { retry } from '../../src/cluster/retry.js'
import { KafkaError } from '../../src/errors.js'
import { CreateTopics } from '../../src/protocol/messages/index.js'
import { runKcat } from '../helpers/kcat.js'

const run = promisify(execFile)

export interface Target {
  bootstrap: string[]
  real: boolean
  /** Broker-side fault injection; undefined when the target cannot do it. */
  faults: TargetFaults
  stop(): Promise<void>
}

export interface TargetFaults {
  /** Stop / restart a broker by node id (real Kafka: only with KAFKA_ALLOW_NODE_RESTART=1). */
  stopBroker?: (id: number) => Promise<void>
  startBroker?: (id: number) => Promise<void>
  /** Reference cluster only. */
  moveLeader?: (topic: string, partition: number, toBroker: number) => void
  dropConnections?: (brokerId: number) => void
  failNext?: (api: string, count: number, errorCode: number) => void
  shrinkIsr?: (topic: string, partition: number, isr: number[]) => void
}

export async function startTarget(): Promise<Target> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap !== undefined && bootstrap !== '') {
    const faults: TargetFaults = {}
    if (process.env.KAFKA_ALLOW_NODE_RESTART === '1') {
      faults.stopBroker = async (id) =>
        void (await run('bash', ['scripts/kafka.sh', 'stop-node', String(id)], { timeout: 60_000 }))
      faults.startBroker = async (id) =>
        void (await run('bash', ['scripts/kafka.sh', 'start-node', String(id)], { timeout: 120_000 }))
    }
    return { bootstrap: bootstrap.split(','), real: true, faults, stop: async () => {} }
  }
  // The reference broker is test infrastructure: only tests import it, never the client.
  const { Cluster } = await import('../../src/broker/index.js')
  const cluster = await Cluster.start({ brokers: 3 })
  return {
    bootstrap: cluster.bootstrapServers,
    real: false,
    faults: {
      stopBroker: (id) => cluster.faults.stopBroker(id),
      startBroker: (id) => cluster.faults.startBroker(id),
      moveLeader: (topic, partition, to) => cluster.faults.moveLeader(topic, partition, to),
      dropConnections: (id) => cluster.faults.dropConnections(id),
      failNext: (api, count, code) => cluster.faults.failNext(api, count, code),
      shrinkIsr: (topic, partition, isr) => cluster.faults.shrinkIsr(topic, partition, isr),
    },
    stop: () => cluster.stop(),
  }
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** Creates a topic and waits until every partition has a leader. */
export async function createTopic(
  bootstrap: string[],
  name: string,
  options: { partitions?: number; replicationFactor?: number; configs?: Record<string, string> } = {},
): Promise<void> {
  const client = new KafkaClient({ brokers: bootstrap, clientId: 'test-admin' })
  try {
    const response = await client.requestTo(client.bootstrap[0]!, CreateTopics, {
      topics: [
        {
          name,
          numPartitions: options.partitions ?? 3,
          replicationFactor: options.replicationFactor ?? 3,
          configs: Object.entries(options.configs ?? {}).map(([k, v]) => ({ name: k, value: v })),
        },
      ],
      timeoutMs: 30_000,
    })
    const result = response.topics[0]!
    if (result.errorCode !== 0 && result.errorCode !== 36 /* TOPIC_ALREADY_EXISTS */) {
      throw KafkaError.fromCode(result.errorCode, { topic: name, errorMessage: result.errorMessage })
    }
    await retry(
      { maxAttempts: 50, backoffMs: 50, backoffMaxMs: 200 },
      async () => {
        await client.metadata.refresh([name])
        const info = client.metadata.topic(name)
        if (info === undefined || info.errorCode !== 0 || info.partitions.some((p) => p.leader < 0)) {
          throw KafkaError.fromCode(5, { topic: name })
        }
      },
      { what: `topic ${name} leaders` },
    )
  } finally {
    await client.close()
  }
}

/** The in-sync replicas of a partition. */
export async function isr(bootstrap: string[], topic: string, partition: number): Promise<readonly number[]> {
  const client = new KafkaClient({ brokers: bootstrap, clientId: 'test-admin' })
  try {
    await client.metadata.refresh([topic])
    return client.metadata.partition(topic, partition)?.isr ?? []
  } finally {
    await client.close()
  }
}

/** The leader of each partition, by partition id. */
export async function leaders(bootstrap: string[], topic: string): Promise<Map<number, number>> {
  const client = new KafkaClient({ brokers: bootstrap, clientId: 'test-admin' })
  try {
    await client.metadata.refresh([topic])
    return new Map(client.metadata.topic(topic)!.partitions.map((p) => [p.partition, p.leader]))
  } finally {
    await client.close()
  }
}

export interface ReadRecord {
  partition: number
  offset: number
  key: string | null
  value: string | null
  headers: Record<string, string>
}

/**
 * Reads the whole topic with kcat (librdkafka): from the beginning to the current end of every
 * partition. Values and keys are decoded as UTF-8.
 */
export async function readAll(bootstrap: string[], topic: string, expected?: number): Promise<ReadRecord[]> {
  for (let attempt = 0; ; attempt++) {
    const result = await runKcat(
      [
        '-C',
        '-b',
        bootstrap.join(','),
        '-t',
        topic,
        '-o',
        'beginning',
        '-e',
        '-q',
        '-J',
        '-X',
        'fetch.wait.max.ms=100',
      ],
      {
        timeoutMs: 60_000,
      },
    )
    if (result.code !== 0) throw new Error(`kcat failed (${result.code}): ${result.stderr}`)
    const records = result.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((line): ReadRecord => {
        const j = JSON.parse(line) as {
          partition: number
          offset: number
          key: string | null
          payload: string | null
          headers?: string[]
        }
        const headers: Record<string, string> = {}
        const h = j.headers ?? []
        for (let i = 0; i + 1 < h.length; i += 2) headers[h[i]!] = h[i + 1]!
        return { partition: j.partition, offset: j.offset, key: j.key, value: j.payload, headers }
      })
    // Replication to every ISR member can trail the acknowledgement of acks=1/0 writes briefly.
    if (expected === undefined || records.length >= expected || attempt >= 10) return records
    await new Promise((r) => setTimeout(r, 300))
  }
}

/** Checks that every value appears exactly once and, per key, in the order written. */
export function checkExactlyOnceInOrder(
  records: ReadRecord[],
  expectedValues: string[],
): { missing: string[]; duplicated: string[]; reordered: string[] } {
  const seen = new Map<string, number>()
  for (const r of records) seen.set(r.value ?? '', (seen.get(r.value ?? '') ?? 0) + 1)
  const missing = expectedValues.filter((v) => !seen.has(v))
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([v]) => v)
  // Values are `<key>:<n>`; within a partition, n must increase per key.
  const last = new Map<string, number>()
  const reordered: string[] = []
  for (const r of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const [key, n] = (r.value ?? '').split(':')
    const seq = Number(n)
    const prev = last.get(`${r.partition}/${key}`)
    if (prev !== undefined && seq <= prev) reordered.push(r.value ?? '')
    last.set(`${r.partition}/${key}`, seq)
  }
  return { missing, duplicated, reordered }
}
