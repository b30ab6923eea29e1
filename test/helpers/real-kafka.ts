// Broker faults on real Kafka, shared by the producer and consumer integration suites: stopping and
// restarting a node (scripts/kafka.sh stop-node/start-node when the cluster it runs is the one at
// KAFKA_BOOTSTRAP, or the commands in KAFKA_STOP_NODE / KAFKA_START_NODE) and moving a partition
// leader (a reordering AlterPartitionReassignments plus a preferred ElectLeaders, sent with the
// client core). On the reference cluster the suites use `cluster.faults` instead, and wait for the
// move with `waitForLeader` from here.

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { KafkaClient, type ClientConfig } from '../../src/cluster/client.js'
import { KafkaError } from '../../src/errors.js'
import type { BrokerEndpoint } from '../../src/net/pool.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { AlterPartitionReassignments, ElectLeaders } from '../../src/protocol/messages/index.js'

const run = promisify(execFile)
const KAFKA_SH = fileURLToPath(new URL('../../scripts/kafka.sh', import.meta.url))

/** True when the suites target the cluster named by KAFKA_BOOTSTRAP. */
export const realKafka = process.env.KAFKA_BOOTSTRAP !== undefined && process.env.KAFKA_BOOTSTRAP !== ''

/** Client options for a secured listener (SASL and/or TLS). */
export type Auth = Pick<ClientConfig, 'sasl' | 'tls'>

/** Runs `fn` with a short-lived client core, closed afterwards. */
export async function withAdmin<T>(
  bootstrap: string[],
  auth: Auth | undefined,
  fn: (client: KafkaClient) => Promise<T>,
): Promise<T> {
  const client = new KafkaClient({ brokers: bootstrap, clientId: 'test-admin', ...auth })
  try {
    return await fn(client)
  } finally {
    await client.close()
  }
}

/** A broker that answers now (a stopped one drops out of the metadata). */
export async function liveBroker(client: KafkaClient): Promise<BrokerEndpoint> {
  await client.metadata.refresh([])
  return client.anyBroker()
}

/** Polls `condition` every 100 ms until it holds, or throws after `timeoutMs` (with its last error). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let last: unknown
    try {
      if (await condition()) return
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      )
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The leader of each partition, by partition id. */
export async function leaders(bootstrap: string[], topic: string): Promise<Map<number, number>> {
  return withAdmin(bootstrap, undefined, async (client) => {
    await client.metadata.refresh([topic])
    return new Map(client.metadata.topic(topic)!.partitions.map((p) => [p.partition, p.leader]))
  })
}

/** The in-sync replicas of a partition. */
export async function isr(bootstrap: string[], topic: string, partition: number): Promise<readonly number[]> {
  return withAdmin(bootstrap, undefined, async (client) => {
    await client.metadata.refresh([topic])
    return client.metadata.partition(topic, partition)?.isr ?? []
  })
}

/** Waits (30 s at most) until the metadata names `leader` as the partition's leader. */
export async function waitForLeader(bootstrap: string[], topic: string, partition: number, leader: number) {
  await waitFor(
    async () => (await leaders(bootstrap, topic)).get(partition) === leader,
    30_000,
    `${topic}-${partition} led by ${leader}`,
  )
}

/** The node ids of the cluster's live brokers, ascending. */
export async function brokerIdsOf(bootstrap: string[]): Promise<number[]> {
  return withAdmin(bootstrap, undefined, async (client) => {
    await client.metadata.refresh([])
    return [...client.metadata.brokers.keys()].sort((a, b) => a - b)
  })
}

/** The faults the integration suites inject into a real Kafka cluster. */
export interface RealKafkaFaults {
  /** Stops a node (a controlled shutdown) and resolves once it is down. */
  stopBroker(id: number): Promise<void>
  /** Kills a node with SIGKILL (a crash: no controlled shutdown) and resolves once it is gone. */
  killBroker(id: number): Promise<void>
  /** Restarts a stopped node and resolves once it serves again. */
  startBroker(id: number): Promise<void>
  /** Makes `toBroker` (a replica) the partition's leader; resolves once metadata says so. */
  moveLeader(topic: string, partition: number, toBroker: number): Promise<void>
}

export function realKafkaFaults(bootstrap: string[]): RealKafkaFaults {
  const control = nodeControl(bootstrap)
  return {
    stopBroker: (id) => control.stop(id),
    killBroker: (id) => control.kill(id),
    startBroker: (id) => control.start(id),
    moveLeader: (topic, partition, to) => moveLeaderWithAdminApi(bootstrap, topic, partition, to),
  }
}

// ---------------------------------------------------------------------------------------------
// Stopping and starting real Kafka nodes

interface NodeControl {
  stop(id: number): Promise<void>
  kill(id: number): Promise<void>
  start(id: number): Promise<void>
}

/**
 * How to stop and start a node of the real cluster: KAFKA_STOP_NODE / KAFKA_START_NODE (shell
 * commands, `{id}` replaced by the node id; e.g. `docker compose -f docker/compose.yml stop
 * kafka-{id}`; KAFKA_KILL_NODE for a SIGKILL, e.g. `docker compose ... kill -s KILL kafka-{id}`),
 * else scripts/kafka.sh when the cluster it runs (KAFKATS_KAFKA_STATE) is the one at
 * KAFKA_BOOTSTRAP. Anything else fails the test that needs it, saying so.
 */
function nodeControl(bootstrap: string[]): NodeControl {
  const stopCommand = process.env.KAFKA_STOP_NODE
  const startCommand = process.env.KAFKA_START_NODE
  if (stopCommand && startCommand) {
    const sh = async (command: string, id: number, timeout: number) =>
      void (await run('sh', ['-c', command.replaceAll('{id}', String(id))], { timeout }))
    const killCommand = process.env.KAFKA_KILL_NODE
    return {
      stop: (id) => sh(stopCommand, id, 90_000),
      start: (id) => sh(startCommand, id, 180_000),
      kill: async (id) => {
        if (!killCommand) {
          throw new Error(
            'KAFKA_STOP_NODE/KAFKA_START_NODE are set but KAFKA_KILL_NODE is not: set it to a shell command (with {id}) that kills a node with SIGKILL',
          )
        }
        await sh(killCommand, id, 60_000)
      },
    }
  }
  let checked: Promise<void> | undefined
  const check = () =>
    (checked ??= (async () => {
      const status = await run('bash', [KAFKA_SH, 'status'], { timeout: 30_000 }).catch((e: unknown) => e)
      const listed = await run('bash', [KAFKA_SH, 'bootstrap'], { timeout: 30_000 }).then(
        (r) => r.stdout.trim(),
        () => '',
      )
      if (status instanceof Error || listed !== bootstrap.join(',')) {
        const state = process.env.KAFKATS_KAFKA_STATE ?? '/tmp/kafkats-kafka'
        throw new Error(
          `this test stops and restarts a broker of the Kafka at KAFKA_BOOTSTRAP=${bootstrap.join(',')}, but that ` +
            `cluster is not the one scripts/kafka.sh runs from ${state} (${status instanceof Error ? 'no cluster runs there' : `that one is at ${listed}`}). Run the suites ` +
            'with `npm run test:kafka`, point KAFKATS_KAFKA_STATE at the cluster’s state dir, or set ' +
            'KAFKA_STOP_NODE and KAFKA_START_NODE to shell commands (with {id}) that stop and start a node.',
        )
      }
    })())
  return {
    stop: async (id) => {
      await check()
      await run('bash', [KAFKA_SH, 'stop-node', String(id)], { timeout: 90_000 })
    },
    start: async (id) => {
      await check()
      await run('bash', [KAFKA_SH, 'start-node', String(id)], { timeout: 180_000 })
    },
    kill: async (id) => {
      await check()
      await run('bash', [KAFKA_SH, 'kill-node', String(id)], { timeout: 60_000 })
    },
  }
}

/**
 * Real Kafka has no "move this leader" switch: reorder the replicas so `toBroker` comes first
 * (a reassignment that moves no data), then run a preferred leader election. Brokers forward
 * both requests to the KRaft controller.
 */
async function moveLeaderWithAdminApi(bootstrap: string[], topic: string, partition: number, to: number) {
  await withAdmin(bootstrap, undefined, async (client) => {
    await client.metadata.refresh([topic])
    const replicas = client.metadata.partition(topic, partition)?.replicas ?? []
    if (!replicas.includes(to)) throw new Error(`broker ${to} is not a replica of ${topic}-${partition} (${replicas})`)
    const broker = await liveBroker(client)
    const reassigned = await client.requestTo(broker, AlterPartitionReassignments, {
      timeoutMs: 30_000,
      topics: [
        {
          name: topic,
          partitions: [{ partitionIndex: partition, replicas: [to, ...replicas.filter((r) => r !== to)] }],
        },
      ],
    })
    const code = reassigned.errorCode || (reassigned.responses[0]?.partitions[0]?.errorCode ?? 0)
    if (code !== 0) throw KafkaError.fromCode(code, { topic, apiName: 'AlterPartitionReassignments' })
    await waitFor(
      async () => {
        await client.metadata.refresh([topic])
        return client.metadata.partition(topic, partition)?.replicas[0] === to
      },
      30_000,
      `${topic}-${partition} replicas reordered with ${to} first`,
    )
    const elected = await client.requestTo(broker, ElectLeaders, {
      electionType: 0, // PREFERRED
      topicPartitions: [{ topic, partitions: [partition] }],
      timeoutMs: 30_000,
    })
    const result = elected.errorCode || (elected.replicaElectionResults[0]?.partitionResult[0]?.errorCode ?? 0)
    // ELECTION_NOT_NEEDED: the controller's own preferred-leader balancing was quicker.
    if (result !== 0 && result !== ErrorCode.ELECTION_NOT_NEEDED) {
      throw KafkaError.fromCode(result, { topic, apiName: 'ElectLeaders' })
    }
  })
  await waitForLeader(bootstrap, topic, partition, to)
}
