// @integration: also runs against real Kafka (npm run test:kafka with KAFKATS_KAFKA_AUTHORIZER=1).
// The checks Kafka's KafkaApis makes on committed offsets, transactions, configs, records and
// producers, seen by a fresh SCRAM user made for the run (secured-target.ts: a cluster with
// allow.everyone.if.no.acl.found, so a resource is refused to the user by a DENY ACL naming only
// that user; a resource without ACLs stays open). Each check is asserted twice: the wire answer
// (which error, on which partition or resource, and when a whole request fails), and what the
// Writer, Reader or Admin surfaces: a typed, non-retriable *_AUTHORIZATION_FAILED error, at once.
// Every ACL names only this run's user, so suites sharing a real cluster are not affected.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import type { AclFilter, AclOperation, AclResourceType } from '../../src/admin/acls.js'
import { AdminBatchError } from '../../src/admin/errors.js'
import { KafkaClient } from '../../src/cluster/client.js'
import { Reader } from '../../src/consumer/reader.js'
import { KafkaError } from '../../src/errors.js'
import { silentLogger } from '../../src/logger.js'
import type { BrokerEndpoint } from '../../src/net/pool.js'
import { ProducerFencedError } from '../../src/producer/transaction-errors.js'
import { Writer } from '../../src/producer/writer.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  AlterConfigs,
  ConsumerGroupHeartbeat,
  CreateTopics,
  DeleteRecords,
  DescribeCluster,
  DescribeConfigs,
  DescribeGroups,
  DescribeProducers,
  EndTxn,
  FindCoordinator,
  IncrementalAlterConfigs,
  InitProducerId,
  Metadata,
  OffsetCommit,
  OffsetDelete,
  OffsetFetch,
  OffsetForLeaderEpoch,
  Produce,
  TxnOffsetCommit,
} from '../../src/protocol/messages/index.js'
import { ZERO_UUID } from '../../src/protocol/api.js'
import { encodeRecordBatchSync } from '../../src/protocol/record-batch.js'
import { unique } from '../consumer/helpers.js'
import { startSecuredTarget, type SecuredTarget } from './secured-target.js'

let target: SecuredTarget
let admin: Admin
const username = unique('authz-user')
const password = `pw-${username}`
const principal = `User:${username}`
const sasl = { mechanism: 'scram-sha-512' as const, username, password }
/** Topics: `open` has no ACLs; the user is denied everything on `closed`. */
const open = unique('authz-open')
const closed = unique('authz-closed')

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: unknown) => err,
  )
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `done` until true (20 s at most). */
async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/**
 * A DENY for the run's user: the resource then has an ACL, and none allows the user. Real Kafka's
 * brokers apply ACLs from the metadata log a moment after CreateAcls answers: wait until the
 * broker's authorizer lists it (DescribeAcls reads the same authorizer that enforces).
 */
async function deny(resourceType: AclResourceType, resourceName: string, operation: AclOperation): Promise<void> {
  const acl = { resourceType, resourceName, principal, operation, permission: 'deny' as const }
  await admin.createAcls([acl])
  await until(`the ACL ${JSON.stringify(acl)}`, async () => (await admin.describeAcls(acl)).length > 0)
}

/** An ALLOW for the run's user, applied by the broker before this resolves. */
async function grant(resourceType: AclResourceType, resourceName: string, operation: AclOperation): Promise<void> {
  const acl = { resourceType, resourceName, principal, operation, permission: 'allow' as const }
  await admin.createAcls([acl])
  await until(`the ACL ${JSON.stringify(acl)}`, async () => (await admin.describeAcls(acl)).length > 0)
}

/** Deletes the user's ACLs matching each filter, and waits until the broker has dropped them. */
async function revoke(filters: Omit<AclFilter, 'principal'>[]): Promise<void> {
  const mine = filters.map((f) => ({ ...f, principal }))
  await admin.deleteAcls(mine)
  for (const f of mine)
    await until(`no ACL ${JSON.stringify(f)}`, async () => (await admin.describeAcls(f)).length === 0)
}

/**
 * Sends `request` again while the coordinator is not ready (a fresh real cluster creates
 * __transaction_state on the first FindCoordinator, and loads it; producer id blocks too).
 */
async function settled<T extends { errorCode: number }>(request: () => Promise<T>): Promise<T> {
  const waiting = new Set<number>([
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.NOT_COORDINATOR,
  ])
  const deadline = Date.now() + 20_000
  for (;;) {
    const r = await request()
    if (!waiting.has(r.errorCode) || Date.now() > deadline) return r
    await sleep(200)
  }
}

/** Raw requests as the user, one attempt each (the answer is what is asserted). */
async function asUser<T>(fn: (client: KafkaClient, broker: BrokerEndpoint) => Promise<T>): Promise<T> {
  const client = new KafkaClient({ brokers: target.bootstrap, sasl, retry: { maxAttempts: 1 } })
  try {
    await client.metadata.refresh([])
    return await fn(client, client.anyBroker())
  } finally {
    await client.close()
  }
}

const codes = (topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[]) =>
  Object.fromEntries(topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, p.errorCode])))

/** The typed error codes a call failed with: the error's own, or each resource's in an AdminBatchError. */
function failureCodes(err: unknown): string[] {
  if (err instanceof AdminBatchError) return [...err.errors.values()].map((e) => (e as KafkaError).code)
  expect(err).toBeInstanceOf(KafkaError)
  return [(err as KafkaError).code]
}

/** Waits until the group's coordinator answers (the reference broker loads it on first use). */
async function warm(groupId: string): Promise<void> {
  await admin.committedOffsets(groupId)
}

/** The Kafka error codes of an AdminBatchError, by resource key. */
function batchCodes(err: unknown): Record<string, string> {
  expect(err).toBeInstanceOf(AdminBatchError)
  return Object.fromEntries([...(err as AdminBatchError).errors].map(([k, e]) => [k, (e as KafkaError).code]))
}

beforeAll(async () => {
  target = await startSecuredTarget()
  admin = new Admin({ brokers: target.bootstrap, sasl: { mechanism: 'scram-sha-512', ...target.admin } })
  await admin.alterUserScramCredentials([{ op: 'upsert', user: username, mechanism: 'scram-sha-512', password }])
  await admin.createTopics(
    [
      { name: open, partitions: 1, replicationFactor: 1 },
      { name: closed, partitions: 1, replicationFactor: 1 },
    ],
    { waitForLeaders: true },
  )
  await deny('topic', closed, 'all')
  // Real Kafka applies a new SCRAM credential through its metadata log: wait until it logs in.
  const deadline = Date.now() + 20_000
  for (;;) {
    const probe = new Admin({ brokers: target.bootstrap, sasl, retry: { maxAttempts: 1 } })
    try {
      await probe.listTopics()
      break
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 250))
    } finally {
      await probe.close()
    }
  }
}, 60_000)

afterAll(async () => {
  await admin?.deleteAcls([{ principal }]).catch(() => {})
  await admin?.deleteTopics([open, closed]).catch(() => {})
  await admin?.alterUserScramCredentials([{ op: 'delete', user: username, mechanism: 'scram-sha-512' }]).catch(() => {})
  await admin?.close()
  await target?.stop()
})

describe('committed offsets', () => {
  it('OffsetCommit: READ on the group fails every partition; then READ per topic (TOPIC_AUTHORIZATION_FAILED), unknown topics after', async () => {
    const group = unique('authz-group')
    const lockedGroup = unique('authz-locked-group')
    const missing = unique('authz-missing')
    await deny('group', lockedGroup, 'all')
    await warm(group)
    const commit = (groupId: string, names: string[]) =>
      asUser((client, broker) =>
        client.requestTo(broker, OffsetCommit, {
          groupId,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          topics: names.map((name) => ({
            name,
            partitions: [{ partitionIndex: 0, committedOffset: 0n, committedMetadata: null }],
          })),
        }),
      )
    const r = await commit(group, [open, closed, missing])
    expect(codes(r.topics)).toEqual({
      [`${open}-0`]: 0,
      [`${closed}-0`]: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      [`${missing}-0`]: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    })
    const locked = await commit(lockedGroup, [open, missing])
    expect(codes(locked.topics)).toEqual({
      [`${open}-0`]: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      [`${missing}-0`]: ErrorCode.GROUP_AUTHORIZATION_FAILED,
    })

    // The Admin: the refused partition is named, with a typed error, and not retried.
    const user = new Admin({ brokers: target.bootstrap, sasl })
    try {
      const started = Date.now()
      const err = await rejection(
        user.alterGroupOffsets(group, [
          { topic: open, partition: 0, offset: 1 },
          { topic: closed, partition: 0, offset: 1 },
        ]),
      )
      expect(batchCodes(err)).toEqual({ [`${closed}-0`]: 'KAFKA_TOPIC_AUTHORIZATION_FAILED' })
      expect((err as AdminBatchError).results.has(`${open}-0`)).toBe(true)
      const lockedErr = await rejection(user.alterGroupOffsets(lockedGroup, [{ topic: open, partition: 0, offset: 1 }]))
      expect(failureCodes(lockedErr)).toEqual(['KAFKA_GROUP_AUTHORIZATION_FAILED'])
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      await user.close()
    }
  })

  it('OffsetFetch: DESCRIBE per topic (named: TOPIC_AUTHORIZATION_FAILED; all topics: left out); OffsetDelete: DELETE on the group, READ per topic', async () => {
    const group = unique('authz-group')
    await admin.alterGroupOffsets(group, [
      { topic: open, partition: 0, offset: 0 },
      { topic: closed, partition: 0, offset: 0 },
    ])
    const fetch = (topics: { name: string; partitionIndexes: number[] }[] | null) =>
      asUser((client, broker) =>
        client.requestTo(
          broker,
          OffsetFetch,
          { groups: [{ groupId: group, memberId: null, memberEpoch: -1, topics }], requireStable: false },
          { versions: { min: 8 } },
        ),
      )
    const named = (await fetch([
      { name: closed, partitionIndexes: [0] },
      { name: open, partitionIndexes: [0] },
    ]))!.groups[0]!
    expect(named.errorCode).toBe(0)
    expect(named.topics.map((t) => [t.name, t.partitions.map((p) => [p.errorCode, p.committedOffset])])).toEqual([
      [open, [[0, 0n]]],
      [closed, [[ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1n]]],
    ])
    const all = (await fetch(null)).groups[0]!
    expect(all.topics.map((t) => t.name)).toEqual([open])

    const user = new Admin({ brokers: target.bootstrap, sasl })
    try {
      expect((await user.committedOffsets(group)).map((o) => o.topic)).toEqual([open])
      const err = await rejection(user.committedOffsets(group, { topics: [open, closed] }))
      expect(failureCodes(err)).toEqual(['KAFKA_TOPIC_AUTHORIZATION_FAILED'])

      // OffsetDelete needs DELETE on the group (the group has no ACL yet: allowed) and READ per topic.
      const del = await asUser((client, broker) =>
        client.requestTo(broker, OffsetDelete, {
          groupId: group,
          topics: [
            { name: open, partitions: [{ partitionIndex: 0 }] },
            { name: closed, partitions: [{ partitionIndex: 0 }] },
          ],
        }),
      )
      expect(del.errorCode).toBe(0)
      expect(codes(del.topics)).toEqual({ [`${open}-0`]: 0, [`${closed}-0`]: ErrorCode.TOPIC_AUTHORIZATION_FAILED })
      await deny('group', group, 'delete')
      const refused = await rejection(user.deleteGroupOffsets(group, [{ topic: open, partition: 0 }]))
      expect(failureCodes(refused)).toEqual(['KAFKA_GROUP_AUTHORIZATION_FAILED'])
    } finally {
      await user.close()
    }
  })
})

describe('consumer groups (KIP-848)', () => {
  it('ConsumerGroupHeartbeat needs READ on the group and DESCRIBE on each subscribed topic', async () => {
    const group = unique('authz-group')
    const lockedGroup = unique('authz-locked-group')
    await deny('group', lockedGroup, 'read')
    const heartbeat = (groupId: string, topics: string[]) =>
      asUser((client, broker) =>
        settled(() =>
          client.requestTo(broker, ConsumerGroupHeartbeat, {
            groupId,
            memberId: `member-${unique('m')}`,
            memberEpoch: 0,
            instanceId: null,
            rackId: null,
            rebalanceTimeoutMs: 30_000,
            subscribedTopicNames: topics,
            subscribedTopicRegex: null,
            serverAssignor: null,
            topicPartitions: [],
          }),
        ),
      )
    expect(await heartbeat(group, [open, closed])).toMatchObject({
      errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      memberId: null,
      memberEpoch: 0,
    })
    expect(await heartbeat(lockedGroup, [open])).toMatchObject({
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      memberId: null,
      memberEpoch: 0,
    })
    const joined = await heartbeat(group, [open])
    expect(joined.errorCode).toBe(0)
    expect(joined.memberEpoch).toBeGreaterThan(0)
  })

  it('a consumer-protocol Reader subscribed to a topic it may not describe fails with a typed error', async () => {
    const reader = new Reader({
      brokers: target.bootstrap,
      sasl,
      groupId: unique('authz-group'),
      groupTopics: [closed],
      groupProtocol: 'consumer',
      logger: silentLogger,
    })
    try {
      const started = Date.now()
      const err = await rejection(reader.fetchMessage({ signal: AbortSignal.timeout(15_000) }))
      expect(failureCodes(err)).toEqual(['KAFKA_TOPIC_AUTHORIZATION_FAILED'])
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      await reader.close().catch(() => {})
    }
  })
})

describe('transactions', () => {
  it('WRITE on the transactional id for InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit and transactional Produce', async () => {
    const txnId = unique('authz-txn')
    const group = unique('authz-group')
    await deny('transactional-id', txnId, 'write')
    await asUser(async (client, broker) => {
      const init = await settled(() =>
        client.requestTo(broker, InitProducerId, {
          transactionalId: txnId,
          transactionTimeoutMs: 30_000,
          producerId: -1n,
          producerEpoch: -1,
        }),
      )
      expect(init.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
      const ids = { producerId: 1000n, producerEpoch: 0 }
      const add = await client.requestTo(
        broker,
        AddPartitionsToTxn,
        {
          v3AndBelowTransactionalId: txnId,
          v3AndBelowProducerId: ids.producerId,
          v3AndBelowProducerEpoch: ids.producerEpoch,
          v3AndBelowTopics: [{ name: open, partitions: [0] }],
          transactions: [],
        },
        { versions: { max: 3 } },
      )
      expect(add.resultsByTopicV3AndBelow.map((t) => t.resultsByPartition.map((p) => p.partitionErrorCode))).toEqual([
        [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
      ])
      const offsets = await client.requestTo(broker, AddOffsetsToTxn, {
        transactionalId: txnId,
        ...ids,
        groupId: group,
      })
      expect(offsets.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
      const end = await client.requestTo(broker, EndTxn, { transactionalId: txnId, ...ids, committed: true })
      expect(end.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
      const txnCommit = await client.requestTo(broker, TxnOffsetCommit, {
        transactionalId: txnId,
        groupId: group,
        ...ids,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [
          {
            name: open,
            partitions: [{ partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null }],
          },
        ],
      })
      expect(codes(txnCommit.topics)).toEqual({ [`${open}-0`]: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED })
      // A transactional batch needs WRITE on the request's transactional id: the whole request fails.
      const records = encodeRecordBatchSync({
        records: [{ key: null, value: Buffer.from('x'), timestamp: Date.now() }],
        producerId: ids.producerId,
        producerEpoch: 0,
        baseSequence: 0,
        transactional: true,
      })
      const produce = await client.requestTo(broker, Produce, {
        transactionalId: txnId,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: open, partitionData: [{ index: 0, records }] }],
      })
      expect(produce.responses.map((t) => t.partitionResponses.map((p) => p.errorCode))).toEqual([
        [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
      ])
      // ... and a transactional batch without a transactional id is refused the same way.
      const anonymous = await client.requestTo(broker, Produce, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: open, partitionData: [{ index: 0, records }] }],
      })
      expect(anonymous.responses.map((t) => t.partitionResponses.map((p) => p.errorCode))).toEqual([
        [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
      ])
    })

    // The transactional Writer surfaces it at once, typed.
    const writer = new Writer({
      brokers: target.bootstrap,
      sasl,
      topic: open,
      transactionalId: txnId,
      logger: silentLogger,
    })
    try {
      const started = Date.now()
      const err = await rejection(writer.beginTransaction().then(() => writer.writeMessages([{ value: 'v' }])))
      // Terminal for the Writer, as Java's: ProducerFencedError, the broker's code as its cause.
      expect(err).toBeInstanceOf(ProducerFencedError)
      expect(((err as Error).cause as KafkaError).code).toBe('KAFKA_TRANSACTIONAL_ID_AUTHORIZATION_FAILED')
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      await writer.close().catch(() => {})
    }
  })

  it('then WRITE per topic in AddPartitionsToTxn (the others OPERATION_NOT_ATTEMPTED), READ on the group in AddOffsetsToTxn and TxnOffsetCommit, READ per topic in TxnOffsetCommit', async () => {
    const txnId = unique('authz-txn')
    const group = unique('authz-group')
    const lockedGroup = unique('authz-locked-group')
    const missing = unique('authz-missing')
    await deny('group', lockedGroup, 'read')
    await warm(group)
    await asUser(async (client, broker) => {
      // A fresh real cluster makes __transaction_state on the first FindCoordinator for a transaction.
      await client.requestTo(broker, FindCoordinator, (v) =>
        v >= 4 ? { keyType: 1, coordinatorKeys: [txnId] } : { keyType: 1, key: txnId },
      )
      const coordinator = await settled(() =>
        client.requestTo(broker, InitProducerId, {
          transactionalId: txnId,
          transactionTimeoutMs: 30_000,
          producerId: -1n,
          producerEpoch: -1,
        }),
      )
      expect(coordinator.errorCode).toBe(0)
      const ids = { producerId: coordinator.producerId, producerEpoch: coordinator.producerEpoch }
      const add = await client.requestTo(
        broker,
        AddPartitionsToTxn,
        {
          v3AndBelowTransactionalId: txnId,
          v3AndBelowProducerId: ids.producerId,
          v3AndBelowProducerEpoch: ids.producerEpoch,
          v3AndBelowTopics: [
            { name: open, partitions: [0] },
            { name: closed, partitions: [0] },
            { name: missing, partitions: [0] },
            // Internal topics are never written by clients, whatever the ACLs say.
            { name: '__consumer_offsets', partitions: [0] },
          ],
          transactions: [],
        },
        { versions: { max: 3 } },
      )
      const addCodes = Object.fromEntries(
        add.resultsByTopicV3AndBelow.map((t) => [t.name, t.resultsByPartition.map((p) => p.partitionErrorCode)]),
      )
      expect(addCodes).toEqual({
        [open]: [ErrorCode.OPERATION_NOT_ATTEMPTED],
        [closed]: [ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        [missing]: [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        __consumer_offsets: [ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      })
      const offsets = await client.requestTo(broker, AddOffsetsToTxn, {
        transactionalId: txnId,
        ...ids,
        groupId: lockedGroup,
      })
      expect(offsets.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED)
      const txnCommit = (groupId: string) =>
        client.requestTo(broker, TxnOffsetCommit, {
          transactionalId: txnId,
          groupId,
          ...ids,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          topics: [open, closed].map((name) => ({
            name,
            partitions: [{ partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null }],
          })),
        })
      expect(codes((await txnCommit(lockedGroup)).topics)).toEqual({
        [`${open}-0`]: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        [`${closed}-0`]: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      })
      const partly = codes((await txnCommit(group)).topics)
      expect(partly[`${closed}-0`]).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
      // The open topic reaches the coordinator, which commits it (TxnOffsetCommit v5 adds the
      // group to the transaction itself, KIP-890).
      expect(partly[`${open}-0`]).toBe(0)
    })

    // The transactional Writer: a refused topic is a typed error, not retried.
    const writer = new Writer({ brokers: target.bootstrap, sasl, transactionalId: txnId, logger: silentLogger })
    try {
      await writer.beginTransaction()
      const started = Date.now()
      const err = await rejection(writer.writeMessages([{ topic: closed, value: 'v' }]))
      expect(failureCodes(err)).toEqual(['KAFKA_TOPIC_AUTHORIZATION_FAILED'])
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      await writer.close().catch(() => {})
    }
  })

  it('AddPartitionsToTxn v4+ (sent by brokers) needs CLUSTER_ACTION on the cluster: the whole request fails', async () => {
    await deny('cluster', 'kafka-cluster', 'cluster-action')
    try {
      const r = await asUser(async (client, broker) => {
        // Our client stops at v3, as Java's producer: the v4 request is sent on the connection directly.
        const { connection } = await client.pool.get(broker, 'admin')
        return connection.send(AddPartitionsToTxn, 4, {
          transactions: [
            {
              transactionalId: unique('authz-txn'),
              producerId: 1000n,
              producerEpoch: 0,
              verifyOnly: true,
              topics: [{ name: open, partitions: [0] }],
            },
          ],
        })
      })
      expect(r.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
      expect(r.resultsByTransaction).toEqual([])
    } finally {
      await revoke([{ resourceType: 'cluster' }])
    }
  })

  it('an idempotent InitProducerId needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic (Kafka asks first about a made-up topic)', async () => {
    const init = () =>
      asUser((client, broker) =>
        settled(() =>
          client.requestTo(broker, InitProducerId, {
            transactionalId: null,
            transactionTimeoutMs: -1,
            producerId: -1n,
            producerEpoch: -1,
          }),
        ),
      )
    await deny('cluster', 'kafka-cluster', 'idempotent-write')
    // No ACL applies to the made-up topic name, so allow.everyone.if.no.acl.found lets it through.
    expect((await init()).errorCode).toBe(0)
    await deny('topic', '*', 'write')
    expect((await init()).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    // The '*' ACL leaves the user without DESCRIBE on any topic: give it back on one, for the Writer.
    const describeOpen = {
      resourceType: 'topic' as const,
      resourceName: open,
      principal,
      operation: 'describe' as const,
    }
    await admin.createAcls([{ ...describeOpen, permission: 'allow' }])
    await until('the DESCRIBE ACL', async () => (await admin.describeAcls(describeOpen)).length > 0)
    const writer = new Writer({ brokers: target.bootstrap, sasl, topic: open, logger: silentLogger })
    try {
      const started = Date.now()
      const err = await rejection(writer.writeMessages([{ value: 'v' }]))
      expect((err as KafkaError).code).toBe('KAFKA_CLUSTER_AUTHORIZATION_FAILED')
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      await writer.close().catch(() => {})
      await revoke([
        { resourceType: 'cluster' },
        { resourceType: 'topic', resourceName: '*' },
        { resourceType: 'topic', resourceName: open },
      ])
    }
  })
})

describe('configs, records, producers, leader epochs', () => {
  const missing = unique('authz-missing')

  it('DescribeConfigs needs DESCRIBE_CONFIGS, Alter/IncrementalAlterConfigs ALTER_CONFIGS, on the topic or the cluster', async () => {
    const nodeId = (await admin.describeCluster()).brokers[0]!.nodeId
    await deny('cluster', 'kafka-cluster', 'describe-configs')
    await deny('cluster', 'kafka-cluster', 'alter-configs')
    try {
      const described = await asUser((client, broker) =>
        client.requestTo(broker, DescribeConfigs, {
          resources: [
            { resourceType: 2, resourceName: open, configurationKeys: ['cleanup.policy'] },
            { resourceType: 2, resourceName: closed, configurationKeys: ['cleanup.policy'] },
            { resourceType: 4, resourceName: String(nodeId), configurationKeys: ['log.retention.ms'] },
          ],
          includeSynonyms: false,
          includeDocumentation: false,
        }),
      )
      const byName = Object.fromEntries(described.results.map((r) => [r.resourceName, r]))
      expect(byName[open]).toMatchObject({ errorCode: 0 })
      expect(byName[closed]).toMatchObject({
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        errorMessage: 'Topic authorization failed.',
        configs: [],
      })
      expect(byName[String(nodeId)]).toMatchObject({
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: 'Cluster authorization failed.',
      })
      const altered = await asUser((client, broker) =>
        client.requestTo(broker, IncrementalAlterConfigs, {
          resources: [
            {
              resourceType: 2,
              resourceName: open,
              configs: [{ name: 'retention.ms', configOperation: 0, value: '600000' }],
            },
            {
              resourceType: 2,
              resourceName: closed,
              configs: [{ name: 'retention.ms', configOperation: 0, value: '600000' }],
            },
            {
              resourceType: 4,
              resourceName: '',
              configs: [{ name: 'log.retention.ms', configOperation: 0, value: '600000' }],
            },
          ],
          validateOnly: true,
        }),
      )
      expect(Object.fromEntries(altered.responses.map((r) => [r.resourceName, r.errorCode]))).toEqual({
        [open]: 0,
        [closed]: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        '': ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      })
      // The legacy AlterConfigs checks the same.
      const legacy = await asUser((client, broker) =>
        client.requestTo(broker, AlterConfigs, {
          resources: [
            { resourceType: 2, resourceName: closed, configs: [{ name: 'retention.ms', value: '600000' }] },
            { resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.ms', value: '600000' }] },
          ],
          validateOnly: true,
        }),
      )
      expect(Object.fromEntries(legacy.responses.map((r) => [r.resourceName, r.errorCode]))).toEqual({
        [closed]: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        '': ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      })

      const user = new Admin({ brokers: target.bootstrap, sasl })
      try {
        const err = await rejection(
          user.describeConfigs([
            { type: 'topic', name: open },
            { type: 'topic', name: closed },
          ]),
        )
        expect(batchCodes(err)).toEqual({ [`topic:${closed}`]: 'KAFKA_TOPIC_AUTHORIZATION_FAILED' })
        const alterErr = await rejection(
          user.alterConfigs([{ type: 'topic', name: closed, set: { 'retention.ms': '600000' } }], {
            validateOnly: true,
          }),
        )
        expect(Object.values(batchCodes(alterErr))).toEqual(['KAFKA_TOPIC_AUTHORIZATION_FAILED'])
      } finally {
        await user.close()
      }
    } finally {
      await revoke([{ resourceType: 'cluster' }])
    }
  })

  it('CreateTopics answers without configs, partition count and replication factor without DESCRIBE_CONFIGS on the topic', async () => {
    const name = unique('authz-created')
    await deny('topic', name, 'describe-configs')
    try {
      const r = await asUser((client, broker) =>
        client.requestTo(
          broker,
          CreateTopics,
          {
            topics: [{ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
            timeoutMs: 10_000,
            validateOnly: false,
          },
          { versions: { min: 5 } },
        ),
      )
      // CREATE comes from the cluster (no ACL there); DESCRIBE_CONFIGS on the topic is refused.
      expect(r.topics).toMatchObject([
        {
          name,
          errorCode: 0,
          topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          numPartitions: -1,
          replicationFactor: -1,
          configs: [],
        },
      ])
      expect((await admin.describeTopics([name]))[0]!.partitions).toHaveLength(2)
    } finally {
      await admin.deleteTopics([name]).catch(() => {})
    }
  })

  it("reports the principal's own authorized operations: Metadata topics and cluster, DescribeCluster, DescribeGroups", async () => {
    const group = unique('authz-group')
    await admin.alterGroupOffsets(group, [{ topic: open, partition: 0, offset: 0 }])
    await warm(missing)
    // ALL but one operation: once an ACL applies, only ALLOWs grant (allow.everyone no longer does).
    await grant('cluster', 'kafka-cluster', 'all')
    await deny('cluster', 'kafka-cluster', 'describe-configs')
    await grant('group', group, 'all')
    await deny('group', group, 'delete')
    // Kafka's bits: topics READ..ALTER_CONFIGS (3576), the cluster CREATE..IDEMPOTENT_WRITE (8096).
    const bit = (op: number) => 1 << op
    try {
      await asUser(async (client, broker) => {
        const md = await client.requestTo(
          broker,
          Metadata,
          {
            topics: [open, closed, missing].map((name) => ({ name, topicId: ZERO_UUID })),
            allowAutoTopicCreation: false,
            includeClusterAuthorizedOperations: true,
            includeTopicAuthorizedOperations: true,
          },
          { versions: { min: 8, max: 10 } },
        )
        expect(Object.fromEntries(md.topics.map((t) => [t.name, [t.errorCode, t.topicAuthorizedOperations]]))).toEqual({
          [open]: [0, 3576],
          [closed]: [ErrorCode.TOPIC_AUTHORIZATION_FAILED, -2147483648],
          [missing]: [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 3576],
        })
        expect(md.clusterAuthorizedOperations).toBe(8096 & ~bit(10))
        const dc = await client.requestTo(broker, DescribeCluster, {
          includeClusterAuthorizedOperations: true,
          endpointType: 1,
          includeFencedBrokers: false,
        })
        expect(dc.clusterAuthorizedOperations).toBe(8096 & ~bit(10))
        const dg = await client.requestTo(broker, DescribeGroups, {
          groups: [group, missing],
          includeAuthorizedOperations: true,
        })
        // Groups: READ, DESCRIBE, DELETE, DESCRIBE_CONFIGS, ALTER_CONFIGS (Kafka 4.4's group configs).
        expect(Object.fromEntries(dg.groups.map((g) => [g.groupId, [g.errorCode, g.authorizedOperations]]))).toEqual({
          [group]: [0, bit(3) | bit(8) | bit(10) | bit(11)],
          [missing]: [ErrorCode.GROUP_ID_NOT_FOUND, -2147483648],
        })
      })
    } finally {
      await revoke([{ resourceType: 'cluster' }, { resourceType: 'group', resourceName: group }])
    }
  })

  it('DeleteRecords needs DELETE, DescribeProducers READ, OffsetForLeaderEpoch DESCRIBE (without CLUSTER_ACTION) on each topic', async () => {
    // A replica's CLUSTER_ACTION would cover every topic: the cluster has no ACL, so deny it.
    await deny('cluster', 'kafka-cluster', 'cluster-action')
    await asUser(async (client, broker) => {
      const del = await client.requestTo(broker, DeleteRecords, {
        topics: [open, closed].map((name) => ({ name, partitions: [{ partitionIndex: 0, offset: 0n }] })),
        timeoutMs: 5000,
      })
      expect(codes(del.topics)).toEqual({ [`${open}-0`]: 0, [`${closed}-0`]: ErrorCode.TOPIC_AUTHORIZATION_FAILED })
      const producers = await client.requestTo(broker, DescribeProducers, {
        topics: [open, closed].map((name) => ({ name, partitionIndexes: [0] })),
      })
      expect(producers.topics.map((t) => [t.name, t.partitions.map((p) => [p.errorCode, p.errorMessage])])).toEqual([
        [open, [[0, null]]],
        [closed, [[ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.']]],
      ])
      const epochs = await client.requestTo(broker, OffsetForLeaderEpoch, {
        replicaId: -1,
        topics: [open, closed].map((topic) => ({
          topic,
          partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }],
        })),
      })
      expect(Object.fromEntries(epochs.topics.map((t) => [t.topic, t.partitions.map((p) => p.errorCode)]))).toEqual({
        [open]: [0],
        [closed]: [ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      })
    })
    const user = new Admin({ brokers: target.bootstrap, sasl })
    try {
      const started = Date.now()
      const err = await rejection(user.deleteRecords([{ topic: closed, partition: 0, offset: 0 }]))
      expect(batchCodes(err)).toEqual({ [`${closed}-0`]: 'KAFKA_TOPIC_AUTHORIZATION_FAILED' })
      const prodErr = await rejection(user.describeProducers([{ topic: closed, partition: 0 }]))
      expect(failureCodes(prodErr)).toEqual(['KAFKA_TOPIC_AUTHORIZATION_FAILED'])
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      await user.close()
      await revoke([{ resourceType: 'cluster' }])
    }
  })
})
