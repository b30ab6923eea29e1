// The targets of the producer integration suites.
//
// writer.test.ts runs against real Kafka when KAFKA_BOOTSTRAP is set (`npm run test:kafka`, or
// `eval "$(scripts/kafka.sh env)"`), otherwise against a 3-broker reference cluster started
// in-process; `startTarget()` hides which. Everything it needs works on both: stopping and
// restarting a broker (real Kafka: `scripts/kafka.sh stop-node/start-node`, or the commands in
// KAFKA_STOP_NODE / KAFKA_START_NODE) and moving a partition leader (real Kafka: a reordering
// AlterPartitionReassignments plus a preferred ElectLeaders, sent with the client core).
// `startSecureTargets()` gives the SASL and TLS listeners: real Kafka's from the KAFKA_* env, or
// dedicated reference clusters with SASL users and with mutual TLS (certificates made here with
// openssl). writer-faults.test.ts uses the reference cluster's fault injection directly.
//
// Topics are created through the client core (CreateTopics), and everything written is read back
// with a third-party client (kcat, librdkafka) so the check does not trust our own decoder.

import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { KafkaClient, type ClientConfig } from '../../src/cluster/client.js'
import { KafkaError } from '../../src/errors.js'
import type { BrokerEndpoint } from '../../src/net/pool.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { AlterPartitionReassignments, CreateTopics, ElectLeaders, Metadata } from '../../src/protocol/messages/index.js'
import { runKcat } from '../helpers/kcat.js'

const run = promisify(execFile)
const KAFKA_SH = fileURLToPath(new URL('../../scripts/kafka.sh', import.meta.url))

/** True when the suites target the cluster named by KAFKA_BOOTSTRAP. */
export const realKafka = process.env.KAFKA_BOOTSTRAP !== undefined && process.env.KAFKA_BOOTSTRAP !== ''
export const targetName = realKafka ? `Kafka at ${process.env.KAFKA_BOOTSTRAP}` : 'the reference cluster'

/** Client options for a secured listener (SASL and/or TLS), used to create topics there. */
export type Auth = Pick<ClientConfig, 'sasl' | 'tls'>

export interface Target {
  bootstrap: string[]
  real: boolean
  /** Node ids of the brokers (reference: 0..2; scripts/kafka.sh: 1..3). */
  brokerIds: number[]
  /** Stops a broker (real Kafka: a controlled shutdown) and resolves once it is down. */
  stopBroker(id: number): Promise<void>
  /** Restarts a stopped broker and resolves once it serves again. */
  startBroker(id: number): Promise<void>
  /** Makes `toBroker` (a replica) the leader of the partition; resolves once metadata says so. */
  moveLeader(topic: string, partition: number, toBroker: number): Promise<void>
  stop(): Promise<void>
}

/** The suites need three brokers: replication factor 3, a leader to move, a broker to stop. */
const MIN_BROKERS = 3

export async function startTarget(): Promise<Target> {
  if (realKafka) {
    const bootstrap = process.env.KAFKA_BOOTSTRAP!.split(',')
    const brokerIds = await withAdmin(bootstrap, undefined, async (client) => {
      await client.metadata.refresh([])
      return [...client.metadata.brokers.keys()].sort((a, b) => a - b)
    })
    if (brokerIds.length < MIN_BROKERS) {
      throw new Error(
        `the Kafka at KAFKA_BOOTSTRAP=${bootstrap.join(',')} has ${brokerIds.length} broker(s); the integration ` +
          `suites need ${MIN_BROKERS} (start one with \`scripts/kafka.sh start --nodes 3\`, or \`npm run test:kafka\`)`,
      )
    }
    const control = nodeControl(bootstrap)
    return {
      bootstrap,
      real: true,
      brokerIds,
      stopBroker: (id) => control.stop(id),
      startBroker: (id) => control.start(id),
      moveLeader: (topic, partition, to) => moveLeaderWithAdminApi(bootstrap, topic, partition, to),
      stop: async () => {},
    }
  }
  const cluster = await startReferenceCluster()
  return {
    bootstrap: cluster.bootstrapServers,
    real: false,
    brokerIds: [0, 1, 2],
    stopBroker: (id) => cluster.faults.stopBroker(id),
    startBroker: (id) => cluster.faults.startBroker(id),
    moveLeader: async (topic, partition, to) => {
      cluster.faults.moveLeader(topic, partition, to)
      await waitForLeader(cluster.bootstrapServers, topic, partition, to)
    },
    stop: () => cluster.stop(),
  }
}

/** A 3-broker reference cluster; `options` as for Cluster.start. */
export async function startReferenceCluster(options: Record<string, unknown> = {}) {
  // The reference broker is test infrastructure: only tests import it, never the client.
  const { Cluster } = await import('../../src/broker/index.js')
  return Cluster.start({ brokers: 3, ...options })
}

// ---------------------------------------------------------------------------------------------
// Stopping and starting real Kafka nodes

interface NodeControl {
  stop(id: number): Promise<void>
  start(id: number): Promise<void>
}

/**
 * How to stop and start a node of the real cluster: KAFKA_STOP_NODE / KAFKA_START_NODE (shell
 * commands, `{id}` replaced by the node id; e.g. `docker compose -f docker/compose.yml stop
 * kafka-{id}`), else scripts/kafka.sh when the cluster it runs (KAFKATS_KAFKA_STATE) is the one at
 * KAFKA_BOOTSTRAP. Anything else fails the test that needs it, saying so.
 */
function nodeControl(bootstrap: string[]): NodeControl {
  const stopCommand = process.env.KAFKA_STOP_NODE
  const startCommand = process.env.KAFKA_START_NODE
  if (stopCommand && startCommand) {
    const sh = async (command: string, id: number, timeout: number) =>
      void (await run('sh', ['-c', command.replaceAll('{id}', String(id))], { timeout }))
    return { stop: (id) => sh(stopCommand, id, 90_000), start: (id) => sh(startCommand, id, 180_000) }
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

async function waitForLeader(bootstrap: string[], topic: string, partition: number, leader: number): Promise<void> {
  await waitFor(
    async () => (await leaders(bootstrap, topic)).get(partition) === leader,
    30_000,
    `${topic}-${partition} led by ${leader}`,
  )
}

// ---------------------------------------------------------------------------------------------
// SASL and TLS listeners

export interface SecureTargets {
  /** SASL_PLAINTEXT listeners with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
  sasl: { bootstrap: string[]; username: string; password: string }
  /** TLS listeners that take a client certificate (mTLS); host names are verified. */
  tls: { bootstrap: string[]; ca: Buffer; cert: Buffer; key: Buffer; caPath: string; certPath: string; keyPath: string }
  stop(): Promise<void>
}

const SECURITY_ENV = [
  'KAFKA_BOOTSTRAP_SASL',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_BOOTSTRAP_SSL',
  'KAFKA_SSL_CA',
  'KAFKA_SSL_CERT',
  'KAFKA_SSL_KEY',
] as const

/**
 * Real Kafka: its SASL and SSL listeners from the environment (all of SECURITY_ENV must be set;
 * a missing one fails the security tests rather than skipping them). Reference: two dedicated
 * 3-broker clusters, one with SASL users, one with TLS that requests and verifies a client
 * certificate, both with certificates/credentials made here.
 */
export async function startSecureTargets(): Promise<SecureTargets> {
  if (realKafka) {
    const env = process.env
    const missing = SECURITY_ENV.filter((name) => !env[name])
    if (missing.length > 0) {
      throw new Error(
        `KAFKA_BOOTSTRAP is set but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not: the security ` +
          'tests need the SASL and SSL listeners of the same cluster. `npm run test:kafka` sets them from ' +
          'scripts/kafka.sh; for another cluster see docker/README.md ("Run the tests against it").',
      )
    }
    return {
      sasl: {
        bootstrap: env.KAFKA_BOOTSTRAP_SASL!.split(','),
        username: env.KAFKA_SASL_USERNAME!,
        password: env.KAFKA_SASL_PASSWORD!,
      },
      tls: {
        bootstrap: env.KAFKA_BOOTSTRAP_SSL!.split(','),
        ca: readFileSync(env.KAFKA_SSL_CA!),
        cert: readFileSync(env.KAFKA_SSL_CERT!),
        key: readFileSync(env.KAFKA_SSL_KEY!),
        caPath: env.KAFKA_SSL_CA!,
        certPath: env.KAFKA_SSL_CERT!,
        keyPath: env.KAFKA_SSL_KEY!,
      },
      stop: async () => {},
    }
  }
  const username = 'kafkats'
  const password = `secret-${randomBytes(6).toString('hex')}`
  const dir = mkdtempSync(join(tmpdir(), 'kafkats-writer-tls-'))
  try {
    const certs = makeCertificates(dir)
    const saslCluster = await startReferenceCluster({ sasl: { users: { [username]: password, other: 'other' } } })
    const tlsCluster = await startReferenceCluster({
      tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true, rejectUnauthorized: true },
    }).catch(async (err: unknown) => {
      await saslCluster.stop()
      throw err
    })
    return {
      sasl: { bootstrap: saslCluster.bootstrapServers, username, password },
      tls: {
        bootstrap: tlsCluster.bootstrapServers,
        ca: certs.ca,
        cert: certs.clientCert,
        key: certs.clientKey,
        caPath: join(dir, 'ca.pem'),
        certPath: join(dir, 'client.pem'),
        keyPath: join(dir, 'client.key'),
      },
      stop: async () => {
        await Promise.allSettled([saslCluster.stop(), tlsCluster.stop()])
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

/** A test CA, a server certificate for 127.0.0.1/localhost and a client certificate, with openssl. */
function makeCertificates(dir: string) {
  const openssl = (...args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 })
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? ''
      throw new Error(`openssl ${args.join(' ')} failed (the TLS tests need openssl on PATH): ${stderr}`)
    }
  }
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-sha256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=kafkats writer test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  )
  const leaf = (name: string, cn: string, usage: string, san: string) => {
    openssl(
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-sha256',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    )
    writeFileSync(
      join(dir, `${name}.ext`),
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=${usage}\n${san ? `subjectAltName=${san}\n` : ''}`,
    )
    openssl(
      'x509',
      '-req',
      '-sha256',
      '-days',
      '2',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    )
  }
  leaf('server', 'localhost', 'serverAuth', 'DNS:localhost,IP:127.0.0.1,IP:::1')
  leaf('client', 'kafkats-writer-test', 'clientAuth', '')
  const read = (file: string) => readFileSync(join(dir, file))
  return {
    ca: read('ca.pem'),
    serverKey: read('server.key'),
    serverCert: read('server.pem'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
  }
}

// ---------------------------------------------------------------------------------------------
// Topics, metadata, reading back

async function withAdmin<T>(
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
async function liveBroker(client: KafkaClient): Promise<BrokerEndpoint> {
  await client.metadata.refresh([])
  return client.anyBroker()
}

/** Polls `condition` every 100 ms until it holds, or throws after `timeoutMs`. */
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

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** Creates a topic and waits until every partition has a leader. */
export async function createTopic(
  bootstrap: string[],
  name: string,
  options: { partitions?: number; replicationFactor?: number; configs?: Record<string, string>; auth?: Auth } = {},
): Promise<void> {
  await withAdmin(bootstrap, options.auth, async (client) => {
    const response = await client.requestTo(await liveBroker(client), CreateTopics, {
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
    if (result.errorCode !== 0 && result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
      throw KafkaError.fromCode(result.errorCode, { topic: name, errorMessage: result.errorMessage })
    }
    // Every live broker must know the topic and its leaders: on real Kafka each broker applies the
    // metadata log on its own, and a reader (kcat) may ask a broker that has not caught up yet.
    await waitFor(
      async () => {
        await client.metadata.refresh([name])
        for (const broker of client.metadata.brokers.values()) {
          const answer = await client
            .requestTo(broker, Metadata, { topics: [{ name }], allowAutoTopicCreation: false }, { timeoutMs: 5_000 })
            .catch(() => null) // a stopped broker: the others are enough
          if (answer === null) continue
          const topic = answer.topics.find((t) => t.name === name)
          if (topic === undefined || topic.errorCode !== 0 || topic.partitions.length === 0) return false
          if (topic.partitions.some((p) => p.leaderId < 0)) return false
        }
        return true
      },
      30_000,
      `every broker to know ${name} and its leaders`,
    )
  })
}

/** The in-sync replicas of a partition. */
export async function isr(bootstrap: string[], topic: string, partition: number): Promise<readonly number[]> {
  return withAdmin(bootstrap, undefined, async (client) => {
    await client.metadata.refresh([topic])
    return client.metadata.partition(topic, partition)?.isr ?? []
  })
}

/** The leader of each partition, by partition id. */
export async function leaders(bootstrap: string[], topic: string): Promise<Map<number, number>> {
  return withAdmin(bootstrap, undefined, async (client) => {
    await client.metadata.refresh([topic])
    return new Map(client.metadata.topic(topic)!.partitions.map((p) => [p.partition, p.leader]))
  })
}

export interface ReadRecord {
  partition: number
  offset: number
  key: string | null
  value: string | null
  headers: Record<string, string>
}

/** kcat `-X` settings for the secured listeners (PLAIN: Debian's librdkafka 2.0 fails SCRAM on Kafka 4). */
export function kcatSasl(t: SecureTargets['sasl']): string[] {
  return [
    '-X',
    'security.protocol=SASL_PLAINTEXT',
    '-X',
    'sasl.mechanisms=PLAIN',
    '-X',
    `sasl.username=${t.username}`,
    '-X',
    `sasl.password=${t.password}`,
  ]
}

export function kcatTls(t: SecureTargets['tls']): string[] {
  return [
    '-X',
    'security.protocol=SSL',
    '-X',
    `ssl.ca.location=${t.caPath}`,
    '-X',
    `ssl.certificate.location=${t.certPath}`,
    '-X',
    `ssl.key.location=${t.keyPath}`,
  ]
}

/**
 * Reads the whole topic with kcat (librdkafka): from the beginning to the current end of every
 * partition. Values and keys are decoded as UTF-8. `kcatOptions` are extra arguments (e.g.
 * kcatSasl / kcatTls for a secured listener).
 */
export async function readAll(
  bootstrap: string[],
  topic: string,
  expected?: number,
  kcatOptions: readonly string[] = [],
): Promise<ReadRecord[]> {
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
        ...kcatOptions,
      ],
      {
        timeoutMs: 60_000,
      },
    )
    if (result.code !== 0) {
      // A broker that has not applied the topic's creation yet (real Kafka; auto-created topics).
      if (/Unknown topic or partition/.test(result.stderr) && attempt < 10) {
        await new Promise((r) => setTimeout(r, 300))
        continue
      }
      throw new Error(`kcat failed (${result.code}): ${result.stderr}`)
    }
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
