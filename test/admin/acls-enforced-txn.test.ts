// @integration: also runs against real Kafka (npm run test:kafka with KAFKATS_KAFKA_AUTHORIZER=1).
// The checks Kafka's KafkaApis makes on transactions (WRITE on the transactional id, then the
// topics and the group) and on idempotent producers, seen by a fresh SCRAM user with DENY ACLs
// (authz-user.ts): the wire answers, and what the transactional and idempotent Writer surface.

import { describe, expect, it } from 'vitest'
import type { KafkaError } from '../../src/errors.js'
import { silentLogger } from '../../src/logger.js'
import { TransactionalIdAuthorizationError } from '../../src/producer/transaction-errors.js'
import { Writer } from '../../src/producer/writer.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  EndTxn,
  InitProducerId,
  Produce,
  TxnOffsetCommit,
} from '../../src/protocol/messages/index.js'
import { encodeRecordBatchSync } from '../../src/protocol/record-batch.js'
import { unique } from '../consumer/helpers.js'
import {
  asUser,
  closed,
  codes,
  coordinatorOf,
  deny,
  failureCodes,
  grant,
  leaderOf,
  open,
  rejection,
  revoke,
  sasl,
  settled,
  target,
  warm,
  useAuthzUser,
} from './authz-user.js'
import { atLeast } from './secured-target.js'

useAuthzUser()

describe('transactions', () => {
  it('WRITE on the transactional id for InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit and transactional Produce', async () => {
    const txnId = unique('authz-txn')
    const group = unique('authz-group')
    await deny('transactional-id', txnId, 'write')
    await asUser(async (client) => {
      // Each request goes where a producer sends it: the transaction coordinator, the group
      // coordinator (TxnOffsetCommit), the partition's leader (Produce).
      const txnCoordinator = await coordinatorOf(1, txnId)
      const init = await settled(async () =>
        client.requestTo(await coordinatorOf(1, txnId), InitProducerId, {
          transactionalId: txnId,
          transactionTimeoutMs: 30_000,
          producerId: -1n,
          producerEpoch: -1,
        }),
      )
      expect(init.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
      const ids = { producerId: 1000n, producerEpoch: 0 }
      const add = await client.requestTo(
        txnCoordinator,
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
      const offsets = await client.requestTo(txnCoordinator, AddOffsetsToTxn, {
        transactionalId: txnId,
        ...ids,
        groupId: group,
      })
      expect(offsets.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
      const end = await client.requestTo(txnCoordinator, EndTxn, { transactionalId: txnId, ...ids, committed: true })
      expect(end.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
      const txnCommit = await client.requestTo(await coordinatorOf(0, group), TxnOffsetCommit, {
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
      const leader = await leaderOf(open)
      const produce = await client.requestTo(leader, Produce, {
        transactionalId: txnId,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: open, partitionData: [{ index: 0, records }] }],
      })
      expect(produce.responses.map((t) => t.partitionResponses.map((p) => p.errorCode))).toEqual([
        [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
      ])
      // ... and a transactional batch without a transactional id is refused the same way.
      const anonymous = await client.requestTo(leader, Produce, {
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
      // Terminal for the Writer, as Java's TransactionalIdAuthorizationException; the broker's code as its cause.
      expect(err).toBeInstanceOf(TransactionalIdAuthorizationError)
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
    await asUser(async (client) => {
      // A fresh real cluster makes __transaction_state on the first lookup (coordinatorOf waits).
      const coordinator = await settled(async () =>
        client.requestTo(await coordinatorOf(1, txnId), InitProducerId, {
          transactionalId: txnId,
          transactionTimeoutMs: 30_000,
          producerId: -1n,
          producerEpoch: -1,
        }),
      )
      expect(coordinator.errorCode).toBe(0)
      const ids = { producerId: coordinator.producerId, producerEpoch: coordinator.producerEpoch }
      const txnCoordinator = await coordinatorOf(1, txnId)
      const add = await client.requestTo(
        txnCoordinator,
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
      const offsets = await client.requestTo(txnCoordinator, AddOffsetsToTxn, {
        transactionalId: txnId,
        ...ids,
        groupId: lockedGroup,
      })
      expect(offsets.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED)
      const txnCommit = async (groupId: string) =>
        client.requestTo(await coordinatorOf(0, groupId), TxnOffsetCommit, {
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
      // The open topic reaches the coordinator. Kafka 4 commits it (TxnOffsetCommit v5 adds the
      // group to the transaction itself, KIP-890 Transactions V2); Kafka 3.9 (v4, Transactions
      // V1) verifies that AddOffsetsToTxn added the group first, which it did not here, and
      // answers TRANSACTION_ABORTABLE (KIP-1050).
      expect(partly[`${open}-0`]).toBe(atLeast(target, 4, 0) ? 0 : ErrorCode.TRANSACTION_ABORTABLE)
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
      const txnId = unique('authz-txn')
      const r = await asUser(async (client) => {
        // Our client stops at v3, as Java's producer: the v4 request is sent on the connection
        // directly, to the transaction coordinator as a broker verifying a transaction does.
        const { connection } = await client.pool.get(await coordinatorOf(1, txnId), 'admin')
        return connection.send(AddPartitionsToTxn, 4, {
          transactions: [
            {
              transactionalId: txnId,
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
    await grant('topic', open, 'describe')
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
