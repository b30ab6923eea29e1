// The transactional Writer's requests, one attempt each (the TransactionManager is their retry
// owner): coordinator lookups (FindCoordinator key type 1 for a transactional id, 0 for a group),
// InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn.

import type { BodyFor, KafkaClient } from '../cluster/client.js'
import { KafkaError } from '../errors.js'
import { ConnectionError, RequestTimeoutError } from '../net/errors.js'
import type { BrokerEndpoint } from '../net/pool.js'
import type { ApiDefinition } from '../protocol/api.js'
import { ErrorCode, errorInfo } from '../protocol/error-codes.js'
import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  EndTxn,
  FindCoordinator,
  InitProducerId,
  TxnOffsetCommit,
} from '../protocol/messages/index.js'
import type { ProducerIdentity } from './idempotence.js'

export const GROUP_KEY = 0
export const TRANSACTION_KEY = 1

/** A coordinator (of a transactional id or a group), looked up on first use and forgotten when it moved. */
export class CoordinatorLookup {
  readonly #client: KafkaClient
  readonly #keyType: number
  readonly key: string
  #node: BrokerEndpoint | null = null

  constructor(client: KafkaClient, keyType: number, key: string) {
    this.#client = client
    this.#keyType = keyType
    this.key = key
  }

  get node(): BrokerEndpoint | null {
    return this.#node
  }

  forget(): void {
    this.#node = null
  }

  /** One request to the coordinator; a broken connection or timeout forgets it (it may have moved). */
  async send<Req, Res>(api: ApiDefinition<Req, Res>, body: BodyFor<Req>, versions?: { max: number }): Promise<Res> {
    const node = this.#node ?? (await this.#lookup())
    try {
      return await this.#client.requestTo(node, api, body, { workload: 'admin', versions })
    } catch (err) {
      if (err instanceof ConnectionError || err instanceof RequestTimeoutError) this.forget()
      throw err
    }
  }

  /** Throws the KafkaError of `code` (forgetting the coordinator when the code says it moved); no-op for NONE. */
  check(code: number, apiName: string, errorMessage?: string | null): void {
    if (code === ErrorCode.NONE) return
    if (errorInfo(code).staleCoordinator === true) this.forget()
    throw KafkaError.fromCode(code, { apiName, errorMessage: errorMessage ?? null })
  }

  async #lookup(): Promise<BrokerEndpoint> {
    const key = this.key
    const response = await this.#client.requestTo(
      this.#client.anyBroker(),
      FindCoordinator,
      (version) =>
        version >= 4 ? { keyType: this.#keyType, coordinatorKeys: [key] } : { key, keyType: this.#keyType },
      { workload: 'admin' },
    )
    const entry = response.coordinators.find((c) => c.key === key) ?? response.coordinators[0] ?? response
    if (entry.errorCode !== ErrorCode.NONE)
      throw KafkaError.fromCode(entry.errorCode, { apiName: 'FindCoordinator', errorMessage: entry.errorMessage })
    if (entry.nodeId < 0 || entry.host === '')
      throw KafkaError.fromCode(ErrorCode.COORDINATOR_NOT_AVAILABLE, { apiName: 'FindCoordinator' })
    this.#node = { nodeId: entry.nodeId, host: entry.host, port: entry.port }
    return this.#node
  }
}

/** InitProducerId for a transactional id; `current` asks for an epoch bump of that id (KIP-360). */
export async function initTransactionalId(
  coordinator: CoordinatorLookup,
  timeoutMs: number,
  current: ProducerIdentity | null,
): Promise<ProducerIdentity> {
  const response = await coordinator.send(InitProducerId, {
    transactionalId: coordinator.key,
    transactionTimeoutMs: timeoutMs,
    producerId: current?.producerId ?? -1n,
    producerEpoch: current?.producerEpoch ?? -1,
  })
  coordinator.check(response.errorCode, 'InitProducerId')
  return { producerId: response.producerId, producerEpoch: response.producerEpoch }
}

export interface TopicPartitionRef {
  topic: string
  partition: number
}

/** AddPartitionsToTxn (client versions only: v4+ is the brokers' batched form). Throws the first partition error. */
export async function addPartitionsToTxn(
  coordinator: CoordinatorLookup,
  id: ProducerIdentity,
  partitions: readonly TopicPartitionRef[],
): Promise<void> {
  const byTopic = new Map<string, number[]>()
  for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition])
  const response = await coordinator.send(
    AddPartitionsToTxn,
    {
      v3AndBelowTransactionalId: coordinator.key,
      v3AndBelowProducerId: id.producerId,
      v3AndBelowProducerEpoch: id.producerEpoch,
      v3AndBelowTopics: [...byTopic].map(([name, list]) => ({ name, partitions: list })),
    },
    { max: 3 },
  )
  // OPERATION_NOT_ATTEMPTED marks partitions skipped because another one failed: report the cause.
  let first: number = ErrorCode.NONE
  for (const t of response.resultsByTopicV3AndBelow)
    for (const p of t.resultsByPartition)
      if (
        p.partitionErrorCode !== ErrorCode.NONE &&
        (first === ErrorCode.NONE || first === ErrorCode.OPERATION_NOT_ATTEMPTED)
      )
        first = p.partitionErrorCode
  coordinator.check(first, 'AddPartitionsToTxn')
}

export async function addOffsetsToTxn(
  coordinator: CoordinatorLookup,
  id: ProducerIdentity,
  groupId: string,
): Promise<void> {
  const response = await coordinator.send(AddOffsetsToTxn, {
    transactionalId: coordinator.key,
    producerId: id.producerId,
    producerEpoch: id.producerEpoch,
    groupId,
  })
  coordinator.check(response.errorCode, 'AddOffsetsToTxn')
}

/** What KIP-447 sends of the Reader's membership (Java's ConsumerGroupMetadata). */
export interface GroupMetadata {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
}

export interface TxnOffset extends TopicPartitionRef {
  offset: bigint
  leaderEpoch: number
  /** Committed with the offset (e.g. Kafka Streams' partition time); none when absent. */
  metadata?: string | undefined
}

/** TxnOffsetCommit to the group's coordinator; throws the first partition error. */
export async function txnOffsetCommit(
  groupCoordinator: CoordinatorLookup,
  transactionalId: string,
  id: ProducerIdentity,
  group: GroupMetadata,
  offsets: readonly TxnOffset[],
): Promise<void> {
  const byTopic = new Map<string, TxnOffset[]>()
  for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o])
  const response = await groupCoordinator.send(TxnOffsetCommit, (version) => ({
    transactionalId,
    groupId: group.groupId,
    producerId: id.producerId,
    producerEpoch: id.producerEpoch,
    // v3+ (KIP-447): the group coordinator fences a commit from an older generation or member.
    ...(version >= 3
      ? {
          generationIdOrMemberEpoch: group.generationId,
          memberId: group.memberId,
          groupInstanceId: group.groupInstanceId,
        }
      : {}),
    topics: [...byTopic].map(([name, list]) => ({
      name,
      partitions: list.map((o) => ({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: o.leaderEpoch,
        committedMetadata: o.metadata ?? null,
      })),
    })),
  }))
  for (const t of response.topics) for (const p of t.partitions) groupCoordinator.check(p.errorCode, 'TxnOffsetCommit')
}

/** EndTxn; v5+ (transaction version 2) answers the producer id and epoch of the next transaction. */
export async function endTxn(
  coordinator: CoordinatorLookup,
  id: ProducerIdentity,
  committed: boolean,
  maxVersion: number,
): Promise<ProducerIdentity | null> {
  const response = await coordinator.send(
    EndTxn,
    { transactionalId: coordinator.key, producerId: id.producerId, producerEpoch: id.producerEpoch, committed },
    { max: maxVersion },
  )
  coordinator.check(response.errorCode, 'EndTxn')
  return response.producerEpoch >= 0 && response.producerId >= 0n
    ? { producerId: response.producerId, producerEpoch: response.producerEpoch }
    : null
}
