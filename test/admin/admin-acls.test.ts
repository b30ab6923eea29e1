// @integration: also runs against real Kafka (npm run test:kafka with KAFKATS_KAFKA_AUTHORIZER=1).
// ACLs through the Admin, on a cluster with an authorizer and allow.everyone.if.no.acl.found
// (secured-target.ts): create, describe with each kind of filter (literal, prefixed, MATCH, ANY,
// principal, host, operation, permission), delete (the bindings each filter deleted), bindings
// Kafka refuses; then enforcement seen by a SASL user that is not a super user: a topic that has
// ACLs (none for the user) is hidden and refused to a Writer and a Reader until the user is
// allowed. Names are unique per run, and no ACL is put on the cluster or on '*', so the other
// suites sharing a real cluster are not affected. The last block (reference broker only) covers
// what cannot be set on a shared cluster: allow.everyone off, cluster ACLs, super users,
// persistence, SECURITY_DISABLED.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import type { AclBinding, NewAcl } from '../../src/admin/acls.js'
import { AdminBatchError } from '../../src/admin/errors.js'
import { Cluster } from '../../src/broker/cluster.js'
import { KafkaClient } from '../../src/cluster/client.js'
import type { BrokerEndpoint } from '../../src/net/pool.js'
import { ConnectionError } from '../../src/net/errors.js'
import { CreateAcls, DeleteAcls, DescribeAcls } from '../../src/protocol/messages/index.js'
import { Reader } from '../../src/consumer/reader.js'
import { ConfigError, KafkaError } from '../../src/errors.js'
import { silentLogger } from '../../src/logger.js'
import { Writer } from '../../src/producer/writer.js'
import { unique } from '../consumer/helpers.js'
import { aclsOnEveryBroker, topicOnEveryBroker } from './propagation.js'
import { atLeast, LIKE_TEST_KAFKA, startSecuredTarget, type SecuredTarget } from './secured-target.js'

let target: SecuredTarget
let admin: Admin

beforeAll(async () => {
  target = await startSecuredTarget(LIKE_TEST_KAFKA)
  admin = new Admin({ brokers: target.bootstrap, sasl: { mechanism: 'scram-sha-512', ...target.admin } })
}, 60_000)

afterAll(async () => {
  await admin?.close()
  await target?.stop()
})

const aclKey = (a: AclBinding): string =>
  [a.resourceType, a.resourceName, a.patternType, a.principal, a.host, a.operation, a.permission].join('|')
const sortAcls = (list: AclBinding[]): AclBinding[] => [...list].sort((a, b) => aclKey(a).localeCompare(aclKey(b)))

function binding(acl: NewAcl): AclBinding {
  return { patternType: 'literal', host: '*', ...acl }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: unknown) => err,
  )
}

describe('Admin ACLs', () => {
  it('creates ACLs, describes them through every kind of filter, deletes them per filter', async () => {
    const p = unique('acl')
    const u1 = `User:${p}-u1`
    const u2 = `User:${p}-u2`
    const a = binding({
      resourceType: 'topic',
      resourceName: `${p}-orders`,
      principal: u1,
      operation: 'read',
      permission: 'allow',
    })
    const b = binding({
      resourceType: 'topic',
      resourceName: `${p}-`,
      patternType: 'prefixed',
      principal: u2,
      operation: 'write',
      permission: 'deny',
    })
    const c = binding({
      resourceType: 'group',
      resourceName: `${p}-g`,
      principal: u1,
      host: '127.0.0.1',
      operation: 'read',
      permission: 'allow',
    })
    const d = binding({
      resourceType: 'transactional-id',
      resourceName: `${p}-tx`,
      principal: u2,
      operation: 'write',
      permission: 'allow',
    })
    await admin.createAcls([a, b, c, d])
    // Creating an existing binding again succeeds and adds nothing.
    await admin.createAcls([a])
    // Kafka answers once the controller has them; each broker lists them a moment later.
    await aclsOnEveryBroker(target, { principal: u1 }, 2)
    await aclsOnEveryBroker(target, { principal: u2 }, 2)

    const mine = async (filter: Parameters<Admin['describeAcls']>[0]) =>
      sortAcls((await admin.describeAcls(filter)).filter((x) => x.principal === u1 || x.principal === u2))

    // MATCH: the literal and the prefixed patterns that apply to the name.
    expect(await mine({ resourceType: 'topic', resourceName: `${p}-orders`, patternType: 'match' })).toEqual(
      sortAcls([a, b]),
    )
    // ANY (the default): patterns named exactly so, literal or prefixed.
    expect(await mine({ resourceType: 'topic', resourceName: `${p}-orders` })).toEqual([a])
    expect(await mine({ resourceName: `${p}-`, patternType: 'prefixed' })).toEqual([b])
    expect(await mine({ resourceName: `${p}-`, patternType: 'literal' })).toEqual([])
    expect(await mine({ principal: u1 })).toEqual(sortAcls([a, c]))
    expect(await mine({ principal: u1, host: '127.0.0.1' })).toEqual([c])
    expect(await mine({ principal: u2, operation: 'write', permission: 'deny' })).toEqual([b])
    expect(await mine({ principal: u2, permission: 'allow' })).toEqual([d])
    expect(await mine({ resourceType: 'group', principal: u1 })).toEqual([c])
    expect(await mine({ resourceType: 'transactional-id', resourceName: `${p}-tx` })).toEqual([d])

    const deleted = await admin.deleteAcls([
      { resourceType: 'topic', principal: u1 },
      { principal: u2, resourceType: 'topic' },
      { principal: u2, operation: 'read' },
    ])
    expect(deleted.map(sortAcls)).toEqual([[a], [b], []])
    await aclsOnEveryBroker(target, { principal: u1 }, 1)
    await aclsOnEveryBroker(target, { principal: u2 }, 1)
    expect(await mine({})).toEqual(sortAcls([c, d]))
    expect(sortAcls((await admin.deleteAcls([{ principal: u1 }, { principal: u2 }])).flat())).toEqual(sortAcls([c, d]))
    await aclsOnEveryBroker(target, { principal: u1 }, 0)
    await aclsOnEveryBroker(target, { principal: u2 }, 0)
    expect(await mine({})).toEqual([])
  })

  it('refuses bindings Kafka refuses (INVALID_REQUEST, per binding) and names them', async () => {
    const p = unique('acl-bad')
    const good = binding({
      resourceType: 'topic',
      resourceName: `${p}-t`,
      principal: `User:${p}`,
      operation: 'read',
      permission: 'allow',
    })
    const badCluster: NewAcl = {
      resourceType: 'cluster',
      resourceName: 'not-the-cluster',
      principal: `User:${p}`,
      operation: 'alter',
      permission: 'allow',
    }
    const emptyName: NewAcl = {
      resourceType: 'topic',
      resourceName: '',
      principal: `User:${p}`,
      operation: 'read',
      permission: 'allow',
    }
    const err = await rejection(admin.createAcls([good, badCluster, emptyName]))
    expect(err).toBeInstanceOf(AdminBatchError)
    const batch = err as AdminBatchError
    expect(batch.errors.size).toBe(2)
    for (const e of batch.errors.values()) expect((e as KafkaError).code).toBe('KAFKA_INVALID_REQUEST')
    expect(batch.results.size).toBe(1)
    await aclsOnEveryBroker(target, { principal: `User:${p}` }, 1)
    expect(await admin.describeAcls({ principal: `User:${p}` })).toEqual([good])
    await admin.deleteAcls([{ principal: `User:${p}` }])
    // Names the client does not know never reach the broker.
    await expect(admin.describeAcls({ operation: 'fly' as never })).rejects.toBeInstanceOf(ConfigError)
  })
})

describe('ACL requests Kafka cannot use (raw requests, answers as Kafka 4.4.0 gives them)', () => {
  const filter = {
    resourceTypeFilter: 1,
    resourceNameFilter: null,
    patternTypeFilter: 1,
    principalFilter: null,
    hostFilter: null,
    operation: 1,
    permissionType: 1,
  }
  const creation = {
    resourceType: 2,
    resourceName: unique('raw'),
    resourcePatternType: 3,
    principal: `User:${unique('raw')}`,
    host: '*',
    operation: 3,
    permissionType: 3,
  }

  async function withClient<T>(fn: (client: KafkaClient, broker: BrokerEndpoint) => Promise<T>): Promise<T> {
    const client = new KafkaClient({
      brokers: target.bootstrap,
      sasl: { mechanism: 'scram-sha-512', ...target.admin },
      retry: { maxAttempts: 1 },
    })
    try {
      await client.metadata.refresh([])
      return await fn(client, client.anyBroker())
    } finally {
      await client.close()
    }
  }

  it('closes the connection on an UNKNOWN (0) code in a filter; an undefined code matches nothing', async () => {
    await withClient(async (client, broker) => {
      for (const bad of [
        { operation: 0 },
        { patternTypeFilter: 0 },
        { resourceTypeFilter: 0 },
        { permissionType: 0 },
      ]) {
        const err = await rejection(client.requestTo(broker, DescribeAcls, { ...filter, ...bad }))
        expect(err, JSON.stringify(bad)).toBeInstanceOf(ConnectionError)
      }
      const err = await rejection(client.requestTo(broker, DeleteAcls, { filters: [{ ...filter, operation: 0 }] }))
      expect(err).toBeInstanceOf(ConnectionError)
      for (const odd of [
        { operation: 99 },
        { patternTypeFilter: 99 },
        { resourceTypeFilter: 99 },
        { permissionType: 99 },
      ]) {
        const r = await client.requestTo(broker, DescribeAcls, { ...filter, ...odd })
        expect(r, JSON.stringify(odd)).toMatchObject({ errorCode: 0, errorMessage: '', resources: [] })
      }
    })
  })

  it('fails a request with ANY or MATCH in a binding (UNKNOWN_SERVER_ERROR), a bad principal or host alone (INVALID_REQUEST)', async () => {
    await withClient(async (client, broker) => {
      // One binding with ANY or MATCH fails the whole request, the valid ones too.
      for (const bad of [{ resourcePatternType: 2 }, { resourceType: 1 }, { operation: 1 }, { permissionType: 1 }]) {
        const r = await client.requestTo(broker, CreateAcls, { creations: [creation, { ...creation, ...bad }] })
        expect(r.results, JSON.stringify(bad)).toEqual([
          { errorCode: -1, errorMessage: null },
          { errorCode: -1, errorMessage: null },
        ])
      }
      const answers = await client.requestTo(broker, CreateAcls, {
        creations: [
          { ...creation, principal: 'nocolon' },
          { ...creation, host: '' },
        ],
      })
      const badPrincipal = {
        errorCode: 42,
        errorMessage:
          'Could not parse principal from `nocolon` (no colon is present separating the principal type from the principal name)',
      }
      if (atLeast(target, 4, 4)) {
        // Kafka 4.4 validates host patterns (KIP-1276, CIDR hosts: AclControlManager.validateHostPattern).
        expect(answers.results).toEqual([
          badPrincipal,
          { errorCode: 42, errorMessage: 'Host pattern cannot be null or empty' },
        ])
        expect(await admin.describeAcls({ resourceName: creation.resourceName })).toEqual([])
        return
      }
      // Before 4.4 no host is refused: the empty one is stored as it came.
      expect(answers.results).toEqual([badPrincipal, { errorCode: 0, errorMessage: '' }])
      const stored = { resourceName: creation.resourceName }
      await aclsOnEveryBroker(target, stored, 1)
      expect((await admin.describeAcls(stored)).map((b) => [b.principal, b.host])).toEqual([[creation.principal, '']])
      await admin.deleteAcls([stored])
    })
  })
})

describe('ACL enforcement for a SASL user', () => {
  it('hides and refuses a topic with ACLs until the user is allowed: Metadata, Produce, Fetch, group', async () => {
    const topic = unique('acl-topic')
    const group = unique('acl-group')
    const user = `User:${target.user.username}`
    const other = `User:${unique('someone-else')}`
    await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }], { waitForLeaders: true })
    // An ACL for someone else: the topic and the group now have ACLs, none of them the user's.
    await admin.createAcls([
      { resourceType: 'topic', resourceName: topic, principal: other, operation: 'read', permission: 'allow' },
      { resourceType: 'group', resourceName: group, principal: other, operation: 'read', permission: 'allow' },
    ])
    // Every change below is waited for on every broker, as a user must (Kafka applies ACLs and
    // topics from its metadata log, propagation.ts): here, whichever broker a client asks.
    await topicOnEveryBroker(target, topic, true)
    await aclsOnEveryBroker(target, { resourceName: topic }, 1)
    await aclsOnEveryBroker(target, { resourceName: group }, 1)
    const sasl = { mechanism: 'plain' as const, ...target.user }
    const userAdmin = new Admin({ brokers: target.bootstrap, sasl })
    try {
      // Metadata: the topic is left out of a listing and refused by name.
      expect(await userAdmin.listTopics()).not.toContain(topic)
      expect(await admin.listTopics()).toContain(topic)
      const described = await rejection(userAdmin.describeTopics([topic]))
      expect(JSON.stringify((described as Error).message)).toContain('TOPIC_AUTHORIZATION_FAILED')

      // Produce: refused at once with a typed error (not retried until a timeout).
      const writer = new Writer({ brokers: target.bootstrap, topic, sasl })
      try {
        const started = Date.now()
        const err = await rejection(writer.writeMessages([{ value: 'v1' }]))
        expect(err).toBeInstanceOf(KafkaError)
        expect((err as KafkaError).code).toBe('KAFKA_TOPIC_AUTHORIZATION_FAILED')
        expect(Date.now() - started).toBeLessThan(10_000)

        await admin.createAcls([
          { resourceType: 'topic', resourceName: topic, principal: user, operation: 'write', permission: 'allow' },
        ])
        await aclsOnEveryBroker(target, { resourceName: topic, principal: user }, 1)
        await writer.writeMessages([{ value: 'v1' }])
      } finally {
        await writer.close().catch(() => {})
      }
      // WRITE implies DESCRIBE: the topic is visible now.
      expect(await userAdmin.listTopics()).toContain(topic)

      // A group Reader: the group is refused until the user may read it, then the topic.
      const readAs = async (): Promise<unknown> => {
        // Silent: the refused membership is logged as an error, and asserted here instead.
        const reader = new Reader({
          brokers: target.bootstrap,
          groupId: group,
          groupTopics: [topic],
          sasl,
          logger: silentLogger,
        })
        try {
          return await reader.fetchMessage({ signal: AbortSignal.timeout(15_000) })
        } catch (err) {
          return err
        } finally {
          await reader.close().catch(() => {})
        }
      }
      const groupErr = await readAs()
      expect((groupErr as KafkaError).code).toBe('KAFKA_GROUP_AUTHORIZATION_FAILED')
      await admin.createAcls([
        { resourceType: 'group', resourceName: group, principal: user, operation: 'read', permission: 'allow' },
      ])
      await aclsOnEveryBroker(target, { resourceName: group, principal: user }, 1)
      const topicErr = await readAs()
      expect((topicErr as KafkaError).code).toBe('KAFKA_TOPIC_AUTHORIZATION_FAILED')
      await admin.createAcls([
        { resourceType: 'topic', resourceName: topic, principal: user, operation: 'read', permission: 'allow' },
      ])
      await aclsOnEveryBroker(target, { resourceName: topic, principal: user }, 2)
      const message = (await readAs()) as { value: Buffer | null }
      expect(message.value?.toString()).toBe('v1')

      // DeleteTopics: DELETE on the cluster covers every topic, and the cluster has no ACL, so
      // allow.everyone.if.no.acl.found lets the user delete it (as Kafka 4.4 does).
      await userAdmin.deleteTopics([topic])
      await topicOnEveryBroker(target, topic, false)
      expect(await admin.listTopics()).not.toContain(topic)
    } finally {
      await userAdmin.close()
      await admin.deleteAcls([{ resourceName: topic }, { resourceName: group }])
      await admin.deleteTopics([topic]).catch(() => {})
    }
  }, 90_000)
})

// Reference broker only: settings a shared real cluster cannot take (they would lock the other
// suites out). Each case starts its own one-broker cluster.
describe('reference authorizer: defaults, super users, cluster ACLs, persistence', () => {
  const users = { admin: 'admin-pw', alice: 'alice-pw' }
  const as = (cluster: Cluster, user: keyof typeof users): Admin =>
    new Admin({
      brokers: cluster.bootstrapServers,
      sasl: { mechanism: 'scram-sha-256', username: user, password: users[user] },
    })

  it('answers SECURITY_DISABLED without an authorizer', async () => {
    const cluster = await Cluster.start({ brokers: 1 })
    const plain = new Admin({ brokers: cluster.bootstrapServers })
    try {
      const err = await rejection(plain.describeAcls())
      expect((err as KafkaError).code).toBe('KAFKA_SECURITY_DISABLED')
      const created = await rejection(
        plain.createAcls([
          { resourceType: 'topic', resourceName: 't', principal: 'User:a', operation: 'read', permission: 'allow' },
        ]),
      )
      expect([...(created as AdminBatchError).errors.values()].map((e) => (e as KafkaError).code)).toEqual([
        'KAFKA_SECURITY_DISABLED',
      ])
      const deleted = await rejection(plain.deleteAcls([{}]))
      expect([...(deleted as AdminBatchError).errors.values()].map((e) => (e as KafkaError).code)).toEqual([
        'KAFKA_SECURITY_DISABLED',
      ])
    } finally {
      await plain.close()
      await cluster.stop()
    }
  })

  it('denies by default, lets super users do anything, checks the cluster resource, DENY before ALLOW, keeps ACLs and SCRAM credentials in the data dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kafkats-acls-'))
    const options = { brokers: 1, dataDir, sasl: { users }, authorizer: { superUsers: ['User:admin'] } }
    let cluster = await Cluster.start(options)
    let root = as(cluster, 'admin')
    const alice = as(cluster, 'alice')
    try {
      // allow.everyone.if.no.acl.found is off: nothing without an ACL.
      expect(((await rejection(alice.describeAcls())) as KafkaError).code).toBe('KAFKA_CLUSTER_AUTHORIZATION_FAILED')
      await root.createTopics([{ name: 'root-topic', partitions: 1, replicationFactor: 1 }], { waitForLeaders: true })
      const del = await rejection(alice.deleteTopics(['root-topic']))
      expect(((del as AdminBatchError).errors.get('root-topic') as KafkaError).code).toBe(
        'KAFKA_TOPIC_AUTHORIZATION_FAILED',
      )
      const created = await rejection(alice.createTopics([{ name: 'a-orders', partitions: 1, replicationFactor: 1 }]))
      expect(((created as AdminBatchError).errors.get('a-orders') as KafkaError).code).toBe(
        'KAFKA_TOPIC_AUTHORIZATION_FAILED',
      )

      // CREATE on a prefix, ALL on every topic but WRITE denied on one.
      await root.createAcls([
        {
          resourceType: 'topic',
          resourceName: 'a-',
          patternType: 'prefixed',
          principal: 'User:alice',
          operation: 'create',
          permission: 'allow',
        },
        { resourceType: 'topic', resourceName: '*', principal: 'User:alice', operation: 'all', permission: 'allow' },
        {
          resourceType: 'topic',
          resourceName: 'a-locked',
          principal: 'User:alice',
          operation: 'write',
          permission: 'deny',
        },
      ])
      await alice.createTopics(
        [
          { name: 'a-orders', partitions: 1, replicationFactor: 1 },
          { name: 'a-locked', partitions: 1, replicationFactor: 1 },
        ],
        { waitForLeaders: true },
      )
      const sasl = { mechanism: 'plain' as const, username: 'alice', password: users.alice }
      // An idempotent Writer also needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic: it has the latter.
      const writer = new Writer({ brokers: cluster.bootstrapServers, sasl })
      try {
        await writer.writeMessages([{ topic: 'a-orders', value: 'ok' }])
        const locked = await rejection(writer.writeMessages([{ topic: 'a-locked', value: 'no' }]))
        expect((locked as KafkaError).code).toBe('KAFKA_TOPIC_AUTHORIZATION_FAILED')
      } finally {
        await writer.close().catch(() => {})
      }
      // Alice may not change ACLs (ALTER on the cluster) until allowed.
      const denied = await rejection(
        alice.createAcls([
          { resourceType: 'group', resourceName: 'g', principal: 'User:alice', operation: 'read', permission: 'allow' },
        ]),
      )
      expect([...(denied as AdminBatchError).errors.values()].map((e) => (e as KafkaError).code)).toEqual([
        'KAFKA_CLUSTER_AUTHORIZATION_FAILED',
      ])
      await root.createAcls([
        {
          resourceType: 'cluster',
          resourceName: 'kafka-cluster',
          principal: 'User:alice',
          operation: 'alter',
          permission: 'allow',
        },
      ])
      await alice.createAcls([
        { resourceType: 'group', resourceName: 'g', principal: 'User:alice', operation: 'read', permission: 'allow' },
      ])
      // ALTER implies DESCRIBE: alice may list the ACLs now.
      expect(await alice.describeAcls({ resourceType: 'group' })).toHaveLength(1)
      const before = sortAcls(await root.describeAcls())
      expect(before).toHaveLength(5)
      // SCRAM credentials set through the Admin are kept with the ACLs.
      await root.alterUserScramCredentials([{ op: 'upsert', user: 'carol', mechanism: 'scram-sha-512', password: 'c' }])

      await root.close()
      await cluster.stop()
      cluster = await Cluster.start(options)
      root = as(cluster, 'admin')
      expect(sortAcls(await root.describeAcls())).toEqual(before)
      const carol = new Admin({
        brokers: cluster.bootstrapServers,
        sasl: { mechanism: 'scram-sha-512', username: 'carol', password: 'c' },
      })
      try {
        // Carol logs in after the restart (and, without ACLs, may not describe the cluster's ACLs).
        const refused = await rejection(carol.describeAcls())
        expect((refused as KafkaError).code).toBe('KAFKA_CLUSTER_AUTHORIZATION_FAILED')
      } finally {
        await carol.close()
      }
    } finally {
      await alice.close()
      await root.close()
      await cluster.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 60_000)
})
