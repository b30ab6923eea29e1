// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// One `Kafka` instance for many roles, on a 3-broker reference cluster or real Kafka when
// KAFKA_BOOTSTRAP is set: the roles share one metadata cache and one version table per broker
// (counted on the wire: the Metadata and ApiVersions request frames the clients write, and on
// the reference cluster the brokers' own RequestMetrics too), keep their own connections and
// metrics, close in order (readers, writers, admins; the reader's last commit reaches the
// broker, as another client reads it back), and a closed instance refuses new roles.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import { Reader } from '../../src/consumer/reader.js'
import { ConfigError } from '../../src/errors.js'
import { Kafka } from '../../src/kafka.js'
import { metricValue } from '../../src/metrics/registry.js'
import { ClosedError } from '../../src/net/errors.js'
import { Writer } from '../../src/producer/writer.js'
import { ApiKey } from '../../src/protocol/messages/index.js'
import { startTarget, unique, valueOf, type Target } from '../consumer/helpers.js'
import { countingSockets } from '../helpers/counting-sockets.js'
import { startSecureTargets } from '../producer/helpers.js'

let target: Target

beforeAll(async () => {
  target = await startTarget()
}, 60_000)

afterAll(async () => {
  await target?.stop()
})

const replication = (): number => Math.min(3, target.brokerIds.length)
const count = (keys: number[], key: number): number => keys.filter((k) => k === key).length

/** Metadata requests the reference brokers handled (undefined on real Kafka). */
function brokerMetadataCount(): number | undefined {
  type Metrics = { brokers: { RequestMetrics: Record<string, { RequestsPerSec: { count: number } }> }[] }
  const cluster = target.cluster as unknown as { metrics(): Metrics } | undefined
  if (cluster === undefined) return undefined
  return cluster.metrics().brokers.reduce((n, b) => n + (b.RequestMetrics.Metadata?.RequestsPerSec.count ?? 0), 0)
}

async function createTopic(name: string, partitions = 1): Promise<void> {
  const admin = new Admin({ brokers: target.bootstrap })
  try {
    await admin.createTopics([{ name, partitions, replicationFactor: replication() }], { waitForLeaders: true })
  } finally {
    await admin.close()
  }
}

describe('Kafka: one client for many roles', () => {
  it('serves every role from one metadata cache and one version table per broker', async () => {
    const wire = countingSockets()
    const addresses = new Set<string>()
    const kafka = new Kafka({
      brokers: target.bootstrap,
      clientId: 'shared-test',
      socketFactory: (o) => {
        addresses.add(`${o.host}:${o.port}`)
        return wire.socketFactory(o)
      },
    })
    try {
      const topic = unique('shared')
      const admin = kafka.admin()
      await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: replication() }], {
        waitForLeaders: true,
      })
      const writer = kafka.writer({ topic })
      await writer.writeMessages([{ value: 'one' }, { value: 'two' }])
      expect(writer.client.metadata).toBe(kafka.client.metadata)

      // The Writer's refresh put the topic in the shared cache: the Reader sends no Metadata
      // request of its own to find the partition's leader.
      const metadataBefore = count(wire.keys, ApiKey.Metadata)
      const brokerBefore = brokerMetadataCount()
      const reader = kafka.reader({ topic, partition: 0, maxWait: 100 })
      const first = await reader.fetchMessage({ signal: AbortSignal.timeout(15_000) })
      const second = await reader.fetchMessage({ signal: AbortSignal.timeout(15_000) })
      expect([valueOf(first), valueOf(second)]).toEqual(['one', 'two'])
      expect(reader.client.metadata).toBe(kafka.client.metadata)
      expect(count(wire.keys, ApiKey.Metadata)).toBe(metadataBefore)
      if (brokerBefore !== undefined) expect(brokerMetadataCount()).toBe(brokerBefore)

      // Connections stay per role (a Fetch long poll never holds up a Produce), yet each broker
      // address was asked ApiVersions once for all of them, dials that overlapped included.
      expect(writer.client.pool.connections().length).toBeGreaterThan(0)
      expect(reader.client.pool.connections().length).toBeGreaterThan(0)
      const dials = [kafka.client, writer.client, reader.client].reduce((n, c) => n + c.pool.dials, 0)
      expect(dials).toBeGreaterThan(addresses.size)
      expect(addresses.size).toBeLessThanOrEqual(target.brokerIds.length)
      expect(count(wire.keys, ApiKey.ApiVersions)).toBe(addresses.size)

      // Metrics stay per role.
      expect(metricValue(writer.metrics(), 'record-send-total')).toBe(2)
      expect(metricValue(reader.metrics(), 'records-consumed-total')).toBe(2)
      expect(metricValue(admin.metrics(), 'request-total')).toBeGreaterThan(0)
      expect(writer.metrics().clientId).toBe('shared-test')
    } finally {
      await kafka.close()
    }
  })

  it('asks a broker for its versions again after one of its connections broke', async () => {
    const topic = unique('reversion')
    await createTopic(topic)
    const wire = countingSockets()
    const kafka = new Kafka({ brokers: target.bootstrap, socketFactory: wire.socketFactory })
    try {
      const writer = kafka.writer({ topic })
      await writer.writeMessages({ value: 'one' })
      const asked = count(wire.keys, ApiKey.ApiVersions)
      // A broken connection may mean a restarted (upgraded) broker: its table is not trusted.
      for (const c of writer.client.pool.connections()) c.destroy(new Error('cut by the test'))
      await writer.writeMessages({ value: 'two' })
      expect(count(wire.keys, ApiKey.ApiVersions)).toBeGreaterThan(asked)
    } finally {
      await kafka.close()
    }
  })

  it('sends fewer Metadata requests than the same roles made standalone', async () => {
    const topic = unique('fewer')
    await createTopic(topic)
    type Roles = { writer: Writer; reader: Reader; admin: Admin }
    const run = async (
      make: (common: { brokers: string[]; socketFactory: never }) => {
        roles: Roles
        close: () => Promise<void>
      },
    ): Promise<number> => {
      const wire = countingSockets()
      const { roles, close } = make({ brokers: target.bootstrap, socketFactory: wire.socketFactory as never })
      try {
        await roles.writer.writeMessages({ value: 'x' })
        await roles.reader.fetchMessage({ signal: AbortSignal.timeout(15_000) })
        await roles.admin.listOffsets([{ topic, partition: 0, spec: 'latest' }])
      } finally {
        await close()
      }
      return count(wire.keys, ApiKey.Metadata)
    }
    const standalone = await run((common) => {
      const roles = {
        writer: new Writer({ ...common, topic }),
        reader: new Reader({ ...common, topic, partition: 0, maxWait: 100 }),
        admin: new Admin(common),
      }
      return {
        roles,
        close: async () => void (await Promise.all([roles.reader.close(), roles.writer.close(), roles.admin.close()])),
      }
    })
    const shared = await run((common) => {
      const kafka = new Kafka(common)
      const roles = {
        writer: kafka.writer({ topic }),
        reader: kafka.reader({ topic, partition: 0, maxWait: 100 }),
        admin: kafka.admin(),
      }
      return { roles, close: () => kafka.close() }
    })
    // Each standalone role bootstraps and looks its topic up; the shared roles do it once.
    expect(standalone).toBeGreaterThanOrEqual(3)
    expect(shared).toBeLessThan(standalone)
  })

  it('closes readers first (their commits go out), then writers, then admins, then itself', async () => {
    const topic = unique('order')
    const groupId = unique('order-group')
    await createTopic(topic)
    const kafka = new Kafka({ brokers: target.bootstrap })
    const order: string[] = []
    const watch = <R extends { close(): Promise<void> }>(role: R, name: string): R => {
      const close = role.close.bind(role)
      role.close = async () => {
        order.push(`${name} closing`)
        await close()
        order.push(`${name} closed`)
      }
      return role
    }
    const admin = watch(kafka.admin(), 'admin')
    const writer = watch(kafka.writer({ topic, async: true }), 'writer')
    const reader = watch(
      kafka.reader({ topic, groupId, maxWait: 100, commitInterval: 60_000, sessionTimeout: 10_000 }),
      'reader',
    )
    await writer.writeMessages([{ value: 'a' }, { value: 'b' }])
    await writer.flush()
    for (let i = 0; i < 2; i++) {
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      await reader.commitMessages([m])
    }
    // An async write still buffered when the instance closes: the Writer flushes it on close.
    await writer.writeMessages([{ value: 'c' }])
    await kafka.close()

    expect(order).toEqual([
      'reader closing',
      'reader closed',
      'writer closing',
      'writer closed',
      'admin closing',
      'admin closed',
    ])
    expect(kafka.client.closed).toBe(true)
    expect(() => admin.listTopics()).toThrow(ClosedError)
    const check = new Admin({ brokers: target.bootstrap })
    try {
      const committed = await check.committedOffsets(groupId)
      expect(committed.map((c) => [c.partition, c.offset])).toEqual([[0, 2n]])
      const [latest] = await check.listOffsets([{ topic, partition: 0, spec: 'latest' }])
      expect(latest!.offset).toBe(3n)
    } finally {
      await check.close()
    }
  })

  it('leaves the other roles working when one role closes', async () => {
    const topic = unique('one-closes')
    await createTopic(topic)
    const kafka = new Kafka({ brokers: target.bootstrap })
    try {
      const writer = kafka.writer({ topic })
      const reader = kafka.reader({ topic, partition: 0, maxWait: 100 })
      const admin = kafka.admin()
      await writer.writeMessages({ value: 'before' })
      await writer.close()
      await expect(writer.writeMessages({ value: 'after close' })).rejects.toBeInstanceOf(ClosedError)
      expect(kafka.client.closed).toBe(false)

      expect(valueOf(await reader.fetchMessage({ signal: AbortSignal.timeout(15_000) }))).toBe('before')
      expect(await admin.listTopics()).toContain(topic)
      await admin.close()
      // A new role after others closed works on the same shared metadata.
      const again = kafka.writer({ topic })
      await again.writeMessages({ value: 'again' })
      expect(valueOf(await reader.fetchMessage({ signal: AbortSignal.timeout(15_000) }))).toBe('again')
    } finally {
      await kafka.close()
    }
  })

  it('gives every role the instance’s SASL and TLS settings', async () => {
    const secure = await startSecureTargets()
    try {
      const { sasl, tls } = secure
      const targets = [
        {
          brokers: sasl.bootstrap,
          sasl: { mechanism: 'scram-sha-512' as const, username: sasl.username, password: sasl.password },
        },
        { brokers: tls.bootstrap, tls: { ca: tls.ca, cert: tls.cert, key: tls.key } },
      ]
      for (const config of targets) {
        const kafka = new Kafka(config)
        try {
          const topic = unique('secure')
          await kafka.admin().createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }], {
            waitForLeaders: true,
          })
          await kafka.writer({ topic }).writeMessages({ value: 'secret' })
          const reader = kafka.reader({ topic, partition: 0, maxWait: 100 })
          expect(valueOf(await reader.fetchMessage({ signal: AbortSignal.timeout(15_000) }))).toBe('secret')
        } finally {
          await kafka.close()
        }
      }
      // A wrong password fails every role the same way (the instance does not hide it).
      const wrong = new Kafka({
        brokers: sasl.bootstrap,
        sasl: { mechanism: 'plain', username: sasl.username, password: 'wrong' },
        retry: { maxAttempts: 1 },
      })
      try {
        await expect(wrong.admin({ retry: { maxAttempts: 1 } }).listTopics()).rejects.toThrow(/SASL|[Aa]uthentication/)
      } finally {
        await wrong.close()
      }
    } finally {
      await secure.stop()
    }
  }, 120_000)

  it('refuses roles once closed, and shared options on a role, with typed errors', async () => {
    const kafka = new Kafka({ brokers: target.bootstrap })
    const misuse = (options: object): unknown => {
      try {
        kafka.writer(options as never)
      } catch (err) {
        return err
      }
      return undefined
    }
    for (const option of ['brokers', 'sasl', 'tls', 'metadataMaxAge', 'allowAutoTopicCreation']) {
      const err = misuse({ [option]: option === 'brokers' ? ['elsewhere:9092'] : {} })
      expect(err).toBeInstanceOf(ConfigError)
      expect(err).toMatchObject({ code: 'KAFKATS_CONFIG', option })
    }
    // A role's own option errors are its constructor's, as standalone.
    expect(() => kafka.reader({})).toThrow(ConfigError)

    const close = kafka.close()
    expect(kafka.close()).toBe(close)
    await close
    expect(kafka.closed).toBe(true)
    for (const make of [() => kafka.writer(), () => kafka.reader({ topic: 't' }), () => kafka.admin()]) {
      expect(make).toThrow(ClosedError)
      expect(make).toThrow(expect.objectContaining({ code: 'KAFKATS_CLOSED' }) as never)
    }
  })

  it('rejects a bad shared configuration as standalone roles do', () => {
    expect(() => new Kafka({ brokers: [] })).toThrow(ConfigError)
    expect(() => new Kafka({ brokers: ['localhost:99999'] })).toThrow(
      expect.objectContaining({ option: 'brokers' }) as never,
    )
    expect(() => new Kafka({ brokers: target.bootstrap, clientId: 'é' })).toThrow(
      expect.objectContaining({ option: 'clientId' }) as never,
    )
    expect(() => new Kafka(null as never)).toThrow(ConfigError)
  })
})
