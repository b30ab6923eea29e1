// `Admin`: topics, configs, the cluster, consumer groups, offsets and lag, records and producers.
// A thin front over one module per family (topics.ts, configs.ts, cluster.ts, groups.ts,
// offsets.ts, records.ts); it owns its KafkaClient (connections, and the metadata and version
// tables unless made by `Kafka.admin()`) and closes it. Every call takes an AbortSignal and negotiates versions like the rest of the client.

import { KafkaClient, type ClientConfig, type ClientSharing } from '../cluster/client.js'
import { ClosedError } from '../net/errors.js'
import { networkMetrics } from '../metrics/network.js'
import { MetricsRegistry, type MetricsSnapshot } from '../metrics/registry.js'
import type { ListedOffset } from '../consumer/list-offsets.js'
import { createAcls, deleteAcls, describeAcls, type AclBinding, type AclFilter, type NewAcl } from './acls.js'
import {
  alterUserScramCredentials,
  describeUserScramCredentials,
  type ScramCredentialChange,
  type UserScramCredentials,
} from './scram.js'
import {
  describeTransactions,
  listTransactions,
  type ListTransactionsOptions,
  type TransactionDescription,
  type TransactionListing,
} from './transactions.js'
import { apiVersions, describeCluster, type ApiVersionInfo, type ClusterDescription } from './cluster.js'
import {
  alterConfigs,
  describeConfigs,
  type ConfigChange,
  type ConfigResource,
  type ResourceConfigs,
} from './configs.js'
import type { AdminCallOptions, AdminContext } from './context.js'
import {
  deleteGroupOffsets,
  deleteGroups,
  describeGroups,
  listGroups,
  type GroupDescription,
  type GroupListing,
  type ListGroupsOptions,
} from './groups.js'
import {
  alterGroupOffsets,
  committedOffsets,
  groupLag,
  listOffsets,
  resetGroupOffsets,
  type CommittedOffset,
  type GroupLag,
  type ListOffsetsOptions,
  type OffsetReset,
  type OffsetSpec,
  type ResetOffsetsOptions,
  type ResetTarget,
  type TopicPartitionRef,
} from './offsets.js'
import { deleteRecords, describeProducers, type DeletedRecords, type PartitionProducers } from './records.js'
import {
  createPartitions,
  createTopics,
  deleteTopics,
  describeTopics,
  listTopics,
  type CreatedTopic,
  type CreatePartitionsOptions,
  type CreateTopicsOptions,
  type ListTopicsOptions,
  type NewTopic,
  type TopicDescription,
} from './topics.js'

export type AdminConfig = ClientConfig

export class Admin {
  readonly #client: KafkaClient
  readonly #ctx: AdminContext
  readonly #metrics: MetricsRegistry
  #closed = false

  /** `sharing` is internal: `Kafka.admin()` passes it so the Admin uses the instance's metadata. */
  constructor(config: AdminConfig, sharing?: ClientSharing) {
    this.#client = new KafkaClient({ clientId: 'kafkats-admin', ...config }, sharing)
    const pool = this.#client.pool
    this.#metrics = new MetricsRegistry('admin', this.#client.clientId)
    pool.observer = networkMetrics(this.#metrics, 'admin-client-metrics', () => pool.inFlight)
    this.#ctx = { client: this.#client, policy: this.#client.retryPolicy, timeoutMs: this.#client.requestTimeoutMs }
  }

  /** The Java admin client's network metrics (request-rate, incoming-byte-rate, ...); reading never resets them. */
  metrics(): MetricsSnapshot {
    return this.#metrics.snapshot()
  }

  #live(): AdminContext {
    if (this.#closed) throw new ClosedError('Admin')
    return this.#ctx
  }

  // Topics

  /** Creates topics; a topic that fails (e.g. TOPIC_ALREADY_EXISTS) is named in an AdminBatchError. */
  createTopics(topics: readonly NewTopic[], options?: CreateTopicsOptions): Promise<CreatedTopic[]> {
    return createTopics(this.#live(), topics, options)
  }

  deleteTopics(topics: readonly string[], options?: AdminCallOptions): Promise<void> {
    return deleteTopics(this.#live(), topics, options)
  }

  listTopics(options?: ListTopicsOptions): Promise<string[]> {
    return listTopics(this.#live(), options)
  }

  describeTopics(topics: readonly string[], options?: AdminCallOptions): Promise<TopicDescription[]> {
    return describeTopics(this.#live(), topics, options)
  }

  /** Raises partition counts: `[{ topic: 'orders', count: 12 }]`. */
  createPartitions(
    topics: readonly { topic: string; count: number; assignments?: readonly (readonly number[])[] }[],
    options?: CreatePartitionsOptions,
  ): Promise<void> {
    return createPartitions(this.#live(), topics, options)
  }

  // Configs

  describeConfigs(
    resources: readonly ConfigResource[],
    options?: AdminCallOptions & { names?: readonly string[] },
  ): Promise<ResourceConfigs[]> {
    return describeConfigs(this.#live(), resources, options)
  }

  /** Incremental changes (set / delete / append / subtract) to topic, broker or group configs. */
  alterConfigs(
    changes: readonly ConfigChange[],
    options?: AdminCallOptions & { validateOnly?: boolean },
  ): Promise<void> {
    return alterConfigs(this.#live(), changes, options)
  }

  // Cluster

  describeCluster(options?: AdminCallOptions): Promise<ClusterDescription> {
    return describeCluster(this.#live(), options)
  }

  /** What broker `nodeId` speaks and the version kafkats uses for each API. */
  apiVersions(nodeId: number, options?: AdminCallOptions): Promise<ApiVersionInfo[]> {
    return apiVersions(this.#live(), nodeId, options)
  }

  // Groups

  listGroups(options?: ListGroupsOptions): Promise<GroupListing[]> {
    return listGroups(this.#live(), options)
  }

  describeGroups(groupIds: readonly string[], options?: AdminCallOptions): Promise<GroupDescription[]> {
    return describeGroups(this.#live(), groupIds, options)
  }

  deleteGroups(groupIds: readonly string[], options?: AdminCallOptions): Promise<void> {
    return deleteGroups(this.#live(), groupIds, options)
  }

  deleteGroupOffsets(
    groupId: string,
    partitions: readonly TopicPartitionRef[],
    options?: AdminCallOptions,
  ): Promise<void> {
    return deleteGroupOffsets(this.#live(), groupId, partitions, options)
  }

  // Offsets and lag

  /** Log offsets: `[{ topic, partition, spec: 'earliest' | 'latest' | 'max-timestamp' | { timestamp } }]`. */
  listOffsets(
    partitions: readonly (TopicPartitionRef & { spec: OffsetSpec })[],
    options?: ListOffsetsOptions,
  ): Promise<ListedOffset[]> {
    return listOffsets(this.#live(), partitions, options)
  }

  committedOffsets(
    groupId: string,
    options?: AdminCallOptions & { topics?: readonly string[] },
  ): Promise<CommittedOffset[]> {
    return committedOffsets(this.#live(), groupId, options)
  }

  /** Sets committed offsets of a group that has no members. */
  alterGroupOffsets(
    groupId: string,
    offsets: readonly (TopicPartitionRef & { offset: bigint | number; metadata?: string })[],
    options?: AdminCallOptions,
  ): Promise<void> {
    return alterGroupOffsets(this.#live(), groupId, offsets, options)
  }

  /** kafka-consumer-groups.sh --reset-offsets: refuses (GroupNotEmptyError) unless the group is empty. */
  resetGroupOffsets(groupId: string, target: ResetTarget, options?: ResetOffsetsOptions): Promise<OffsetReset[]> {
    return resetGroupOffsets(this.#live(), groupId, target, options)
  }

  /** The group's lag per partition: committed offset vs log end (the LSO with read_committed). */
  groupLag(groupId: string, options?: ListOffsetsOptions): Promise<GroupLag> {
    return groupLag(this.#live(), groupId, options)
  }

  // Records and producers

  /** Deletes records before each offset (-1: all); resolves with the new log start offsets. */
  deleteRecords(
    partitions: readonly (TopicPartitionRef & { offset: bigint | number })[],
    options?: AdminCallOptions,
  ): Promise<DeletedRecords[]> {
    return deleteRecords(this.#live(), partitions, options)
  }

  describeProducers(
    partitions: readonly TopicPartitionRef[],
    options?: AdminCallOptions,
  ): Promise<PartitionProducers[]> {
    return describeProducers(this.#live(), partitions, options)
  }

  // Transactions

  /** Transactional ids and their states from every broker's transaction coordinator. */
  listTransactions(options?: ListTransactionsOptions): Promise<TransactionListing[]> {
    return listTransactions(this.#live(), options)
  }

  /** State, timeout, start time, producer id/epoch and partitions of each transactional id. */
  describeTransactions(
    transactionalIds: readonly string[],
    options?: AdminCallOptions,
  ): Promise<TransactionDescription[]> {
    return describeTransactions(this.#live(), transactionalIds, options)
  }

  // ACLs (the broker needs an authorizer: SECURITY_DISABLED otherwise)

  /** Creates ACLs (pattern 'literal' and host '*' by default); refused ones are named in an AdminBatchError. */
  createAcls(acls: readonly NewAcl[], options?: AdminCallOptions): Promise<void> {
    return createAcls(this.#live(), acls, options)
  }

  /** The ACLs matching the filter (every ACL without one). */
  describeAcls(filter?: AclFilter, options?: AdminCallOptions): Promise<AclBinding[]> {
    return describeAcls(this.#live(), filter, options)
  }

  /** Deletes the ACLs matching each filter; resolves with what each filter deleted. */
  deleteAcls(filters: readonly AclFilter[], options?: AdminCallOptions): Promise<AclBinding[][]> {
    return deleteAcls(this.#live(), filters, options)
  }

  // SCRAM credentials

  /** Users' SCRAM mechanisms and iterations (every user with credentials when `users` is omitted). */
  describeUserScramCredentials(users?: readonly string[], options?: AdminCallOptions): Promise<UserScramCredentials[]> {
    return describeUserScramCredentials(this.#live(), users, options)
  }

  /** Sets (salted here: the password is never sent) or deletes SCRAM credentials. */
  alterUserScramCredentials(changes: readonly ScramCredentialChange[], options?: AdminCallOptions): Promise<void> {
    return alterUserScramCredentials(this.#live(), changes, options)
  }

  /** Closes the Admin's connections; later calls throw ClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#client.close()
  }
}
