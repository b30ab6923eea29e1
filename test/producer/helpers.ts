// The targets of the producer integration suites.
//
// writer.test.ts runs against real Kafka when KAFKA_BOOTSTRAP is set (`npm run test:kafka`, or
// `eval "$(scripts/kafka.sh env)"`), otherwise against a 3-broker reference cluster started
// in-process; `startTarget()` hides which. Everything it needs works on both: stopping and
// restarting a broker (real Kafka: `scripts/kafka.sh stop-node/start-node`, or the commands in
// KAFKA_STOP_NODE / KAFKA_START_NODE) and moving a partition leader (real Kafka: a reordering
// AlterPartitionReassignments plus a preferred ElectLeaders, sent with the client core; both in
// test/helpers/real-kafka.ts, shared with the consumer suites). `startSecureTargets()` gives the SASL and TLS listeners: real Kafka's from the KAFKA_* env, or
// dedicated reference clusters with SASL users and with mutual TLS (certificates made here with
// openssl). writer-faults.test.ts uses the reference cluster's fault injection directly.
//
// Topics are created through the client core (CreateTopics), and everything written is read back
// with a third-party client (kcat, librdkafka) so the check does not trust our own decoder.

import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KafkaError } from '../../src/errors.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { CreateTopics, Metadata } from '../../src/protocol/messages/index.js'
import { runKcat } from '../helpers/kcat.js'
import { peer } from '../helpers/peers.js'
import {
  brokerIdsOf,
  liveBroker,
  realKafka,
  realKafkaFaults,
  waitFor,
  waitForLeader,
  withAdmin,
  type Auth,
} from '../helpers/real-kafka.js'

export { isr, leaders, realKafka, waitFor, type Auth } from '../helpers/real-kafka.js'
export const targetName = realKafka ? `Kafka at ${process.env.KAFKA_BOOTSTRAP}` : 'the reference cluster'

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
    const brokerIds = await brokerIdsOf(bootstrap)
    if (brokerIds.length < MIN_BROKERS) {
      throw new Error(
        `the Kafka at KAFKA_BOOTSTRAP=${bootstrap.join(',')} has ${brokerIds.length} broker(s); the integration ` +
          `suites need ${MIN_BROKERS} (start one with \`scripts/kafka.sh start --nodes 3\`, or \`npm run test:kafka\`)`,
      )
    }
    return { bootstrap, real: true, brokerIds, ...realKafkaFaults(bootstrap), stop: async () => {} }
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
      execFileSync(peer('openssl'), args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 })
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
