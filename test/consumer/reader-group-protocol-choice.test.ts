// Which group protocol a Reader uses when `groupProtocol` is left unset: KIP-848's consumer
// protocol, unless an option only the classic protocol has is set (groupBalancers,
// sessionTimeout, heartbeatInterval). The option rules are checked against Kafka's own
// ConsumerConfig (4.4.0): what Java rejects with an explicit group.protocol we reject too. Then
// on the reference cluster: the default joins with ConsumerGroupHeartbeat, falls back to classic
// against a broker without it, and classic-only options join with JoinGroup.

import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { RangeGroupBalancer } from '../../src/consumer/assignors/index.js'
import { resolveReaderConfig, type ReaderConfig } from '../../src/consumer/config.js'
import { Reader } from '../../src/consumer/reader.js'
import { ConfigError } from '../../src/errors.js'
import { silentLogger } from '../../src/logger.js'
import { javaClientClasspath, peer } from '../helpers/peers.js'
import { createTopic, produce, unique } from './helpers.js'

const JAVA_CHECK = fileURLToPath(new URL('../fixtures/java-config/ConsumerConfigCheck.java', import.meta.url))
const base = { brokers: ['127.0.0.1:1'], groupId: 'g', topic: 't' }

/** Each case: our options, and the same settings as Java consumer properties. */
const CASES: { name: string; reader: Partial<ReaderConfig>; java: Record<string, string> }[] = [
  { name: 'explicit-consumer', reader: { groupProtocol: 'consumer' }, java: { 'group.protocol': 'consumer' } },
  { name: 'explicit-classic', reader: { groupProtocol: 'classic' }, java: { 'group.protocol': 'classic' } },
  {
    name: 'consumer-session',
    reader: { groupProtocol: 'consumer', sessionTimeout: 45_000 },
    java: { 'group.protocol': 'consumer', 'session.timeout.ms': '45000' },
  },
  {
    name: 'consumer-heartbeat',
    reader: { groupProtocol: 'consumer', heartbeatInterval: 1000 },
    java: { 'group.protocol': 'consumer', 'heartbeat.interval.ms': '1000' },
  },
  {
    name: 'consumer-balancers',
    reader: { groupProtocol: 'consumer', groupBalancers: [new RangeGroupBalancer()] },
    java: {
      'group.protocol': 'consumer',
      'partition.assignment.strategy': 'org.apache.kafka.clients.consumer.RangeAssignor',
    },
  },
  {
    name: 'consumer-remote',
    reader: { groupProtocol: 'consumer', groupRemoteAssignor: 'range' },
    java: { 'group.protocol': 'consumer', 'group.remote.assignor': 'range' },
  },
  {
    name: 'classic-remote',
    reader: { groupProtocol: 'classic', groupRemoteAssignor: 'range' },
    java: { 'group.protocol': 'classic', 'group.remote.assignor': 'range' },
  },
  {
    name: 'classic-session',
    reader: { groupProtocol: 'classic', sessionTimeout: 10_000, heartbeatInterval: 1000 },
    java: { 'group.protocol': 'classic', 'session.timeout.ms': '10000', 'heartbeat.interval.ms': '1000' },
  },
]

/** Java's option names for ours, to compare which option each side rejects. */
const JAVA_NAME: Record<string, string> = {
  groupBalancers: 'partition.assignment.strategy',
  sessionTimeout: 'session.timeout.ms',
  heartbeatInterval: 'heartbeat.interval.ms',
  groupRemoteAssignor: 'group.remote.assignor',
}

function ours(config: Partial<ReaderConfig>): string {
  try {
    resolveReaderConfig({ ...base, ...config } as ReaderConfig)
    return 'ok'
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return `rejects ${JAVA_NAME[err.option] ?? err.option}`
  }
}

describe('the group protocol chosen by the options', () => {
  it("rejects what Kafka's Java ConsumerConfig rejects with an explicit group.protocol", () => {
    const args = CASES.map((c) => [c.name, ...Object.entries(c.java).map(([k, v]) => `${k}=${v}`)].join(';'))
    const out = execFileSync(peer('java'), ['-cp', javaClientClasspath(), JAVA_CHECK, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 120_000,
    })
    const java = new Map(
      out
        .trim()
        .split('\n')
        .map((line) => {
          const space = line.indexOf(' ')
          return [line.slice(0, space), line.slice(space + 1)] as const
        }),
    )
    for (const c of CASES) expect(`${c.name} ${ours(c.reader)}`).toBe(`${c.name} ${java.get(c.name)}`)
  }, 180_000)

  it('defaults to the consumer protocol, and to classic when a classic-only option is set', () => {
    expect(resolveReaderConfig(base).groupProtocol).toBe('consumer')
    expect(resolveReaderConfig({ ...base, topicPattern: 't.*', topic: undefined } as never).groupProtocol).toBe(
      'consumer',
    )
    expect(resolveReaderConfig({ ...base, groupRemoteAssignor: 'range' }).groupProtocol).toBe('consumer')
    expect(resolveReaderConfig({ ...base, sessionTimeout: 10_000 }).groupProtocol).toBe('classic')
    expect(resolveReaderConfig({ ...base, heartbeatInterval: 1000 }).groupProtocol).toBe('classic')
    expect(resolveReaderConfig({ ...base, groupBalancers: [new RangeGroupBalancer()] }).groupProtocol).toBe('classic')
  })

  it('refuses groupRemoteAssignor when a classic-only option chooses the classic protocol', () => {
    let error: unknown
    try {
      resolveReaderConfig({ ...base, groupRemoteAssignor: 'range', sessionTimeout: 10_000 })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).option).toBe('groupRemoteAssignor')
    expect((error as ConfigError).message).toContain('sessionTimeout')
  })
})

describe('the default group protocol on the reference cluster', () => {
  let cluster: Cluster
  let classicOnly: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({
      brokers: 1,
      groupInitialRebalanceDelayMs: 0,
      consumerGroupHeartbeatIntervalMs: 500,
      consumerGroupAssignmentIntervalMs: 0,
    })
    classicOnly = await Cluster.start({ brokers: 1, groupInitialRebalanceDelayMs: 0, groupProtocols: ['classic'] })
  })
  afterAll(async () => {
    await cluster.stop()
    await classicOnly.stop()
  })

  async function readTen(target: Cluster, extra: Partial<ReaderConfig>): Promise<Reader> {
    const topic = unique('gp')
    await createTopic(target.bootstrapServers, topic, 2, 1)
    await produce(target.bootstrapServers, topic, 10)
    const reader = new Reader({
      brokers: target.bootstrapServers,
      groupId: unique('gp-g'),
      topic,
      maxWait: 100,
      logger: silentLogger,
      ...extra,
    })
    const signal = AbortSignal.timeout(20_000)
    for (let i = 0; i < 10; i++) await reader.fetchMessage({ signal })
    return reader
  }

  it('joins with the consumer protocol by default', async () => {
    const reader = await readTen(cluster, {})
    try {
      expect(reader.groupProtocol).toBe('consumer')
      expect(cluster.consumerGroups.get(reader.groupMetadata().groupId)?.members.size).toBe(1)
    } finally {
      await reader.close()
    }
  })

  it('falls back to classic by default against a broker without ConsumerGroupHeartbeat', async () => {
    const reader = await readTen(classicOnly, {})
    try {
      expect(reader.groupProtocol).toBe('classic')
      expect(classicOnly.groups.get(reader.groupMetadata().groupId)?.members.size).toBe(1)
    } finally {
      await reader.close()
    }
  })

  it('joins with the classic protocol when a classic-only option is set', async () => {
    const reader = await readTen(cluster, { sessionTimeout: 10_000 })
    try {
      expect(reader.groupProtocol).toBe('classic')
      expect(cluster.groups.get(reader.groupMetadata().groupId)?.members.size).toBe(1)
    } finally {
      await reader.close()
    }
  })
})
