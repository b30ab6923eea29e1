// Cluster options and the configuration tables the broker serves through DescribeConfigs and
// IncrementalAlterConfigs. Defaults are Apache Kafka 4.0's (LogConfig, ServerLogConfigs,
// GroupCoordinatorConfig, TransactionStateManagerConfig) unless a comment says otherwise.

import type { TlsOptions } from 'node:tls'
import type { BrokerLogger } from './logger.js'
import type { AuthorizerOptions } from './acls.js'
import { MIGRATION_POLICIES, type MigrationPolicy } from './group-migration.js'
import { ALL_MECHANISMS, type SaslOptions } from './sasl.js'

export interface ClusterOptions {
  /** Number of brokers (node ids 0..n-1). Default 1. */
  brokers?: number
  /** Listener port per broker; 0 or missing = chosen by the OS. Kept across stopBroker/startBroker. */
  ports?: number[]
  /** Listener host (loopback). Default '127.0.0.1'. */
  host?: string
  /** The cluster id reported in Metadata/DescribeCluster. Default: random. */
  clusterId?: string
  /** auto.create.topics.enable. Default true (Kafka's default). */
  autoCreateTopics?: boolean
  /** num.partitions for auto-created topics and CreateTopics with -1. Default 1. */
  defaultPartitions?: number
  /** default.replication.factor. Default min(3, brokers). */
  defaultReplicationFactor?: number
  /** socket.request.max.bytes: larger frames close the connection. Default 100 MiB. */
  maxRequestBytes?: number
  /**
   * group.initial.rebalance.delay.ms. Kafka's default is 3000: the first rebalance of an empty
   * group waits that long for more members. Tests usually pass 0.
   */
  groupInitialRebalanceDelayMs?: number
  /** group.min.session.timeout.ms. Default 6000. */
  groupMinSessionTimeoutMs?: number
  /** group.max.session.timeout.ms. Default 1800000. */
  groupMaxSessionTimeoutMs?: number
  /** group.max.size. Default unlimited. */
  groupMaxSize?: number
  /**
   * group.coordinator.rebalance.protocols: ['classic', 'consumer'] (default, as Kafka 4.x) or
   * ['classic'] for a broker without KIP-848 (Kafka 3.x's default): ConsumerGroupHeartbeat and
   * ConsumerGroupDescribe are then neither advertised nor served.
   */
  groupProtocols?: readonly ('classic' | 'consumer')[]
  /** group.consumer.session.timeout.ms (KIP-848 groups). Default 45000. */
  consumerGroupSessionTimeoutMs?: number
  /** group.consumer.heartbeat.interval.ms, told to KIP-848 members. Default 5000. */
  consumerGroupHeartbeatIntervalMs?: number
  /** group.consumer.assignment.interval.ms: at most one target assignment per interval. Default 1000 (Kafka 4.4). */
  consumerGroupAssignmentIntervalMs?: number
  /**
   * group.consumer.migration.policy: whether a classic group with members is upgraded by a joining
   * consumer-protocol member, and a consumer group downgraded when its last one leaves
   * (group-migration.ts). Default 'bidirectional' (Kafka 4.x).
   */
  consumerGroupMigrationPolicy?: MigrationPolicy
  /**
   * Share groups (KIP-932): on by default, as on a cluster Kafka 4.4.0 formats (share.version 2
   * finalized); false finalizes no share.version and answers every share request
   * UNSUPPORTED_VERSION (the APIs stay advertised, as on Kafka 4.4.0 with share.version 0).
   */
  shareGroups?: boolean
  /** group.share.heartbeat.interval.ms, told to share group members. Default 5000. */
  shareGroupHeartbeatIntervalMs?: number
  /** group.share.session.timeout.ms: a share member that does not heartbeat this long is removed. Default 45000. */
  shareGroupSessionTimeoutMs?: number
  /** group.share.record.lock.duration.ms: how long an acquired record stays locked. Default 30000. */
  shareRecordLockDurationMs?: number
  /**
   * group.share.min.record.lock.duration.ms: the least share.record.lock.duration.ms a group may
   * set. Default 15000 (Kafka's); scripts/kafka.sh and the tests' reference cluster use 1000.
   */
  shareMinRecordLockDurationMs?: number
  /** group.share.delivery.count.limit: deliveries before a record is archived. Default 5. */
  shareDeliveryCountLimit?: number
  /** group.share.partition.max.record.locks: records in flight per share-partition. Default 2000. */
  sharePartitionMaxRecordLocks?: number
  /** share.auto.offset.reset: where a share-partition starts when first loaded. Default 'latest'. */
  shareAutoOffsetReset?: 'latest' | 'earliest'
  /** offsets.topic.num.partitions: how groups are spread over coordinators. Default 50. */
  offsetsTopicPartitions?: number
  /**
   * How many group requests a coordinator answers with COORDINATOR_LOAD_IN_PROGRESS for an
   * offsets partition it has just taken over (at startup, or after a broker stopped or
   * started), as Kafka does while it loads the partition. A count, not a time, so tests stay
   * deterministic. Default 1, so every client meets a loading coordinator once per group
   * partition at start and after a move, as on Kafka; 0 turns it off; `faults.loadCoordinator`
   * starts one at a chosen moment.
   */
  coordinatorLoadRequests?: number
  /**
   * The most a load at startup or after a move lasts, in ms, answered or not: Kafka loads an
   * offsets partition once, so a group first seen later is served at once. Default 2000; 0: a
   * load lasts until its coordinatorLoadRequests are answered (deterministic tests).
   */
  coordinatorLoadMs?: number
  /**
   * How long a crashed broker stays registered (Kafka's broker.session.timeout.ms, 9000 there):
   * until then metadata still names it as leader and coordinator, so clients see refused
   * connections, as they do on Kafka before the controller fences the broker. Default 0: leaders
   * and coordinators move at once. `faults.stopBroker(id, { sessionTimeoutMs })` sets it per crash.
   */
  brokerSessionTimeoutMs?: number
  /** transaction.max.timeout.ms. Default 900000. */
  transactionMaxTimeoutMs?: number
  /**
   * The finalized `transaction.version` feature ApiVersions advertises: 2 (Kafka 4.x's default,
   * KIP-890 Transactions V2: clients skip AddPartitionsToTxn and get a new epoch from every
   * EndTxn) or 0/1 (clients use the V1 protocol). Default 2.
   */
  transactionVersion?: number
  /**
   * How long after EndTxn the coordinator writes the transaction markers (Kafka sends them to
   * the partition leaders asynchronously): meanwhile the LSO stays below the transaction and
   * InitProducerId, AddPartitionsToTxn and EndTxn for the id answer CONCURRENT_TRANSACTIONS.
   * Default 5 ms; 0 writes them on the next tick.
   */
  transactionMarkerDelayMs?: number
  /** How often retention and compaction run (log.retention.check.interval.ms). Default 300000. */
  retentionCheckIntervalMs?: number
  /** Broker-level defaults for topic configs (e.g. { 'retention.ms': '1000' }). */
  topicDefaults?: Record<string, string>
  /** Rack per broker id. */
  racks?: (string | null)[]
  /**
   * Kafka's replica.selector.class (KIP-392): 'leader' (Kafka's default, LeaderSelector) or
   * 'rack-aware' (RackAwareReplicaSelector: a consumer that sends its rack is pointed at a replica
   * in that rack). Consumers may fetch from any replica either way (Fetch v11+). Default 'leader'.
   */
  replicaSelector?: 'leader' | 'rack-aware'
  /** Where logs are written. Default: silent. */
  logger?: BrokerLogger
  /** Persist topics, logs, committed offsets and producer ids here across restarts. */
  dataDir?: string
  /** Require SASL authentication (PLAIN, SCRAM-SHA-256/512) on every listener. */
  sasl?: SaslOptions
  /**
   * Enable the authorizer (Kafka's StandardAuthorizer): ACLs through CreateAcls/DescribeAcls/
   * DeleteAcls, enforced on every request. Without it the ACL APIs answer SECURITY_DISABLED.
   */
  authorizer?: AuthorizerOptions
  /** Serve TLS on every listener (node:tls server options: key, cert, ca, requestCert...). */
  tls?: TlsOptions
}

export interface ResolvedOptions {
  brokers: number
  ports: number[]
  host: string
  clusterId: string
  autoCreateTopics: boolean
  defaultPartitions: number
  defaultReplicationFactor: number
  maxRequestBytes: number
  groupInitialRebalanceDelayMs: number
  groupMinSessionTimeoutMs: number
  groupMaxSessionTimeoutMs: number
  groupMaxSize: number
  groupProtocols: readonly ('classic' | 'consumer')[]
  consumerGroupSessionTimeoutMs: number
  consumerGroupHeartbeatIntervalMs: number
  consumerGroupAssignmentIntervalMs: number
  consumerGroupMigrationPolicy: MigrationPolicy
  shareGroups: boolean
  shareGroupHeartbeatIntervalMs: number
  shareGroupSessionTimeoutMs: number
  shareRecordLockDurationMs: number
  shareMinRecordLockDurationMs: number
  shareDeliveryCountLimit: number
  sharePartitionMaxRecordLocks: number
  shareAutoOffsetReset: 'latest' | 'earliest'
  offsetsTopicPartitions: number
  coordinatorLoadRequests: number
  coordinatorLoadMs: number
  brokerSessionTimeoutMs: number
  transactionMaxTimeoutMs: number
  transactionVersion: number
  transactionMarkerDelayMs: number
  retentionCheckIntervalMs: number
  topicDefaults: Record<string, string>
  racks: (string | null)[]
  replicaSelector: 'leader' | 'rack-aware'
  logger: BrokerLogger | undefined
  dataDir: string | undefined
  sasl: Required<SaslOptions> | undefined
  authorizer: AuthorizerOptions | undefined
  tls: TlsOptions | undefined
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`)
  return value
}

function shareAutoOffsetReset(value: string | undefined): 'latest' | 'earliest' {
  if (value === undefined || value === 'latest' || value === 'earliest') return value ?? 'latest'
  throw new RangeError(`shareAutoOffsetReset must be 'latest' or 'earliest', got ${JSON.stringify(value)}`)
}

function groupProtocols(value: readonly string[] | undefined): readonly ('classic' | 'consumer')[] {
  if (value === undefined) return ['classic', 'consumer']
  if (!Array.isArray(value) || !value.includes('classic') || value.some((p) => p !== 'classic' && p !== 'consumer'))
    throw new RangeError(`groupProtocols must list 'classic' and optionally 'consumer', got ${JSON.stringify(value)}`)
  return value as readonly ('classic' | 'consumer')[]
}

function migrationPolicy(value: string | undefined): MigrationPolicy {
  if (value === undefined) return 'bidirectional'
  if (!(MIGRATION_POLICIES as readonly string[]).includes(value))
    throw new RangeError(
      `consumerGroupMigrationPolicy must be one of ${MIGRATION_POLICIES.join(', ')}, got ${JSON.stringify(value)}`,
    )
  return value as MigrationPolicy
}

function boundedInt(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = positiveInt(name, value, fallback, min)
  if (v > max) throw new RangeError(`${name} must be an integer <= ${max}, got ${v}`)
  return v
}

export function resolveOptions(opts: ClusterOptions): ResolvedOptions {
  const brokers = positiveInt('brokers', opts.brokers, 1)
  const ports = opts.ports ?? []
  if (ports.length > brokers) throw new RangeError(`ports has ${ports.length} entries for ${brokers} brokers`)
  const replication = positiveInt('defaultReplicationFactor', opts.defaultReplicationFactor, Math.min(3, brokers))
  for (const [name, value] of Object.entries(opts.topicDefaults ?? {})) {
    const error = validateTopicConfig(name, value)
    if (error !== undefined) throw new RangeError(`topicDefaults: ${error}`)
  }
  return {
    brokers,
    ports: Array.from({ length: brokers }, (_, i) => ports[i] ?? 0),
    host: opts.host ?? '127.0.0.1',
    clusterId: opts.clusterId ?? randomClusterId(),
    autoCreateTopics: opts.autoCreateTopics ?? true,
    defaultPartitions: positiveInt('defaultPartitions', opts.defaultPartitions, 1),
    defaultReplicationFactor: replication,
    maxRequestBytes: positiveInt('maxRequestBytes', opts.maxRequestBytes, 100 * 1024 * 1024),
    groupInitialRebalanceDelayMs: positiveInt(
      'groupInitialRebalanceDelayMs',
      opts.groupInitialRebalanceDelayMs,
      3000,
      0,
    ),
    groupMinSessionTimeoutMs: positiveInt('groupMinSessionTimeoutMs', opts.groupMinSessionTimeoutMs, 6000, 0),
    groupMaxSessionTimeoutMs: positiveInt('groupMaxSessionTimeoutMs', opts.groupMaxSessionTimeoutMs, 1800000, 0),
    groupMaxSize: positiveInt('groupMaxSize', opts.groupMaxSize, 0x7fffffff),
    groupProtocols: groupProtocols(opts.groupProtocols),
    consumerGroupSessionTimeoutMs: positiveInt(
      'consumerGroupSessionTimeoutMs',
      opts.consumerGroupSessionTimeoutMs,
      45000,
    ),
    consumerGroupHeartbeatIntervalMs: positiveInt(
      'consumerGroupHeartbeatIntervalMs',
      opts.consumerGroupHeartbeatIntervalMs,
      5000,
    ),
    consumerGroupAssignmentIntervalMs: positiveInt(
      'consumerGroupAssignmentIntervalMs',
      opts.consumerGroupAssignmentIntervalMs,
      1000,
      0,
    ),
    consumerGroupMigrationPolicy: migrationPolicy(opts.consumerGroupMigrationPolicy),
    shareGroups: opts.shareGroups ?? true,
    shareGroupHeartbeatIntervalMs: positiveInt(
      'shareGroupHeartbeatIntervalMs',
      opts.shareGroupHeartbeatIntervalMs,
      5000,
    ),
    shareGroupSessionTimeoutMs: positiveInt('shareGroupSessionTimeoutMs', opts.shareGroupSessionTimeoutMs, 45000),
    shareRecordLockDurationMs: positiveInt('shareRecordLockDurationMs', opts.shareRecordLockDurationMs, 30000),
    shareMinRecordLockDurationMs: positiveInt('shareMinRecordLockDurationMs', opts.shareMinRecordLockDurationMs, 15000),
    shareDeliveryCountLimit: positiveInt('shareDeliveryCountLimit', opts.shareDeliveryCountLimit, 5),
    sharePartitionMaxRecordLocks: positiveInt('sharePartitionMaxRecordLocks', opts.sharePartitionMaxRecordLocks, 2000),
    shareAutoOffsetReset: shareAutoOffsetReset(opts.shareAutoOffsetReset),
    offsetsTopicPartitions: positiveInt('offsetsTopicPartitions', opts.offsetsTopicPartitions, 50),
    coordinatorLoadRequests: positiveInt('coordinatorLoadRequests', opts.coordinatorLoadRequests, 1, 0),
    coordinatorLoadMs: positiveInt('coordinatorLoadMs', opts.coordinatorLoadMs, 2000, 0),
    brokerSessionTimeoutMs: positiveInt('brokerSessionTimeoutMs', opts.brokerSessionTimeoutMs, 0, 0),
    transactionMaxTimeoutMs: positiveInt('transactionMaxTimeoutMs', opts.transactionMaxTimeoutMs, 900000),
    transactionVersion: boundedInt('transactionVersion', opts.transactionVersion, 2, 0, 2),
    transactionMarkerDelayMs: positiveInt('transactionMarkerDelayMs', opts.transactionMarkerDelayMs, 5, 0),
    retentionCheckIntervalMs: positiveInt('retentionCheckIntervalMs', opts.retentionCheckIntervalMs, 300000),
    topicDefaults: { ...(opts.topicDefaults ?? {}) },
    racks: opts.racks ?? [],
    replicaSelector: replicaSelectorOf(opts.replicaSelector),
    logger: opts.logger,
    dataDir: opts.dataDir,
    sasl:
      opts.sasl === undefined
        ? undefined
        : { mechanisms: opts.sasl.mechanisms ?? ALL_MECHANISMS, users: { ...opts.sasl.users } },
    authorizer:
      opts.authorizer === undefined
        ? undefined
        : {
            superUsers: [...(opts.authorizer.superUsers ?? [])],
            allowEveryoneIfNoAclFound: opts.authorizer.allowEveryoneIfNoAclFound ?? false,
          },
    tls: opts.tls,
  }
}

/** Kafka cluster ids are base64url UUIDs (22 characters). */
export function randomClusterId(): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return Buffer.from(bytes).toString('base64url')
}

// ---------------------------------------------------------------------------------------------
// Config definitions.

/** DescribeConfigs config_type (KIP-569). */
export const ConfigType = {
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const

/** DescribeConfigs config_source. */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const

export interface ConfigDef {
  name: string
  type: number
  default: string
  /** The broker config this topic config defaults from (its synonym), e.g. log.retention.ms. */
  brokerSynonym?: string
  /** Returns an error message for an invalid value. */
  validate?: (value: string) => string | undefined
  sensitive?: boolean
}

const LONG_MAX = '9223372036854775807'

function isLong(v: string): boolean {
  return /^-?\d+$/.test(v) && BigInt(v) >= -(2n ** 63n) && BigInt(v) < 2n ** 63n
}
function isInt(v: string): boolean {
  return /^-?\d+$/.test(v) && Number(v) >= -(2 ** 31) && Number(v) < 2 ** 31
}
const atLeast =
  (min: number, type: 'int' | 'long' = 'long') =>
  (v: string): string | undefined => {
    if (!(type === 'int' ? isInt(v) : isLong(v)))
      return `Invalid value ${v}: expected ${type === 'int' ? 'an int' : 'a long'}`
    return BigInt(v) < BigInt(min) ? `Invalid value ${v}: value must be at least ${min}` : undefined
  }
const oneOf =
  (...values: string[]) =>
  (v: string): string | undefined =>
    values.includes(v) ? undefined : `Invalid value ${v}: string must be one of: ${values.join(', ')}`
const bool = (v: string): string | undefined =>
  v === 'true' || v === 'false' ? undefined : `Invalid value ${v}: expected a boolean`
const ratio = (v: string): string | undefined => {
  const n = Number(v)
  return v.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 1
    ? undefined
    : `Invalid value ${v}: value must be between 0 and 1`
}
const cleanupPolicy = (v: string): string | undefined => {
  const parts = v.split(',').map((s) => s.trim())
  return parts.length > 0 && parts.every((p) => p === 'delete' || p === 'compact')
    ? undefined
    : `Invalid value ${v}: string must be a list of: [delete, compact]`
}

/** Topic configs (LogConfig at 4.0), their types, defaults and broker synonyms. */
export const TOPIC_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'cleanup.policy',
    type: ConfigType.LIST,
    default: 'delete',
    brokerSynonym: 'log.cleanup.policy',
    validate: cleanupPolicy,
  },
  { name: 'compression.gzip.level', type: ConfigType.INT, default: '-1', brokerSynonym: 'compression.gzip.level' },
  { name: 'compression.lz4.level', type: ConfigType.INT, default: '9', brokerSynonym: 'compression.lz4.level' },
  {
    name: 'compression.type',
    type: ConfigType.STRING,
    default: 'producer',
    brokerSynonym: 'compression.type',
    validate: oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
  },
  { name: 'compression.zstd.level', type: ConfigType.INT, default: '3', brokerSynonym: 'compression.zstd.level' },
  {
    name: 'delete.retention.ms',
    type: ConfigType.LONG,
    default: '86400000',
    brokerSynonym: 'log.cleaner.delete.retention.ms',
    validate: atLeast(0),
  },
  {
    name: 'file.delete.delay.ms',
    type: ConfigType.LONG,
    default: '60000',
    brokerSynonym: 'log.segment.delete.delay.ms',
    validate: atLeast(0),
  },
  {
    name: 'flush.messages',
    type: ConfigType.LONG,
    default: LONG_MAX,
    brokerSynonym: 'log.flush.interval.messages',
    validate: atLeast(1),
  },
  {
    name: 'flush.ms',
    type: ConfigType.LONG,
    default: LONG_MAX,
    brokerSynonym: 'log.flush.interval.ms',
    validate: atLeast(0),
  },
  {
    name: 'index.interval.bytes',
    type: ConfigType.INT,
    default: '4096',
    brokerSynonym: 'log.index.interval.bytes',
    validate: atLeast(0, 'int'),
  },
  {
    name: 'local.retention.bytes',
    type: ConfigType.LONG,
    default: '-2',
    brokerSynonym: 'log.local.retention.bytes',
    validate: atLeast(-2),
  },
  {
    name: 'local.retention.ms',
    type: ConfigType.LONG,
    default: '-2',
    brokerSynonym: 'log.local.retention.ms',
    validate: atLeast(-2),
  },
  {
    name: 'max.compaction.lag.ms',
    type: ConfigType.LONG,
    default: LONG_MAX,
    brokerSynonym: 'log.cleaner.max.compaction.lag.ms',
    validate: atLeast(1),
  },
  {
    name: 'max.message.bytes',
    type: ConfigType.INT,
    default: '1048588',
    brokerSynonym: 'message.max.bytes',
    validate: atLeast(0, 'int'),
  },
  {
    name: 'message.timestamp.after.max.ms',
    type: ConfigType.LONG,
    default: LONG_MAX,
    brokerSynonym: 'log.message.timestamp.after.max.ms',
    validate: atLeast(0),
  },
  {
    name: 'message.timestamp.before.max.ms',
    type: ConfigType.LONG,
    default: LONG_MAX,
    brokerSynonym: 'log.message.timestamp.before.max.ms',
    validate: atLeast(0),
  },
  {
    name: 'message.timestamp.type',
    type: ConfigType.STRING,
    default: 'CreateTime',
    brokerSynonym: 'log.message.timestamp.type',
    validate: oneOf('CreateTime', 'LogAppendTime'),
  },
  {
    name: 'min.cleanable.dirty.ratio',
    type: ConfigType.DOUBLE,
    default: '0.5',
    brokerSynonym: 'log.cleaner.min.cleanable.ratio',
    validate: ratio,
  },
  {
    name: 'min.compaction.lag.ms',
    type: ConfigType.LONG,
    default: '0',
    brokerSynonym: 'log.cleaner.min.compaction.lag.ms',
    validate: atLeast(0),
  },
  {
    name: 'min.insync.replicas',
    type: ConfigType.INT,
    default: '1',
    brokerSynonym: 'min.insync.replicas',
    validate: atLeast(1, 'int'),
  },
  { name: 'preallocate', type: ConfigType.BOOLEAN, default: 'false', brokerSynonym: 'log.preallocate', validate: bool },
  { name: 'remote.storage.enable', type: ConfigType.BOOLEAN, default: 'false', validate: bool },
  {
    name: 'retention.bytes',
    type: ConfigType.LONG,
    default: '-1',
    brokerSynonym: 'log.retention.bytes',
    validate: atLeast(-1),
  },
  {
    name: 'retention.ms',
    type: ConfigType.LONG,
    default: '604800000',
    brokerSynonym: 'log.retention.ms',
    validate: atLeast(-1),
  },
  {
    name: 'segment.bytes',
    type: ConfigType.INT,
    default: '1073741824',
    brokerSynonym: 'log.segment.bytes',
    validate: atLeast(14, 'int'),
  },
  {
    name: 'segment.index.bytes',
    type: ConfigType.INT,
    default: '10485760',
    brokerSynonym: 'log.index.size.max.bytes',
    validate: atLeast(4, 'int'),
  },
  {
    name: 'segment.jitter.ms',
    type: ConfigType.LONG,
    default: '0',
    brokerSynonym: 'log.roll.jitter.ms',
    validate: atLeast(0),
  },
  {
    name: 'segment.ms',
    type: ConfigType.LONG,
    default: '604800000',
    brokerSynonym: 'log.roll.ms',
    validate: atLeast(1),
  },
  {
    name: 'unclean.leader.election.enable',
    type: ConfigType.BOOLEAN,
    default: 'false',
    brokerSynonym: 'unclean.leader.election.enable',
    validate: bool,
  },
]

export const TOPIC_CONFIG_BY_NAME: ReadonlyMap<string, ConfigDef> = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]))

/** An error message when `name=value` is not a valid topic config, else undefined. */
export function validateTopicConfig(name: string, value: string | null): string | undefined {
  const def = TOPIC_CONFIG_BY_NAME.get(name)
  if (def === undefined) return `Unknown topic config name: ${name}`
  if (value === null) return `Null value not supported for topic configs: ${name}`
  return def.validate?.(value)
}

/**
 * Broker configs served by DescribeConfigs(BROKER). Read-only here except where Kafka allows a
 * dynamic update (IncrementalAlterConfigs on a broker resource accepts the cluster-wide
 * topic defaults, e.g. log.retention.ms, like Kafka's dynamic broker configs).
 */
export function brokerConfigDefs(opts: ResolvedOptions): ConfigDef[] {
  const defs: ConfigDef[] = [
    { name: 'auto.create.topics.enable', type: ConfigType.BOOLEAN, default: String(opts.autoCreateTopics) },
    { name: 'num.partitions', type: ConfigType.INT, default: String(opts.defaultPartitions) },
    { name: 'default.replication.factor', type: ConfigType.INT, default: String(opts.defaultReplicationFactor) },
    { name: 'socket.request.max.bytes', type: ConfigType.INT, default: String(opts.maxRequestBytes) },
    {
      name: 'group.initial.rebalance.delay.ms',
      type: ConfigType.INT,
      default: String(opts.groupInitialRebalanceDelayMs),
    },
    { name: 'group.min.session.timeout.ms', type: ConfigType.INT, default: String(opts.groupMinSessionTimeoutMs) },
    { name: 'group.max.session.timeout.ms', type: ConfigType.INT, default: String(opts.groupMaxSessionTimeoutMs) },
    { name: 'group.max.size', type: ConfigType.INT, default: String(opts.groupMaxSize) },
    { name: 'offsets.topic.num.partitions', type: ConfigType.INT, default: String(opts.offsetsTopicPartitions) },
    { name: 'offsets.topic.replication.factor', type: ConfigType.SHORT, default: String(Math.min(3, opts.brokers)) },
    { name: 'transaction.max.timeout.ms', type: ConfigType.INT, default: String(opts.transactionMaxTimeoutMs) },
    { name: 'transactional.id.expiration.ms', type: ConfigType.INT, default: '604800000' },
    { name: 'log.retention.check.interval.ms', type: ConfigType.LONG, default: String(opts.retentionCheckIntervalMs) },
    { name: 'replica.lag.time.max.ms', type: ConfigType.LONG, default: '30000' },
    { name: 'delete.topic.enable', type: ConfigType.BOOLEAN, default: 'true' },
    { name: 'max.incremental.fetch.session.cache.slots', type: ConfigType.INT, default: '1000' },
  ]
  for (const def of TOPIC_CONFIGS) {
    if (def.brokerSynonym === undefined || defs.some((d) => d.name === def.brokerSynonym)) continue
    const synonymDef: ConfigDef = { name: def.brokerSynonym, type: def.type, default: def.default }
    if (def.validate !== undefined) synonymDef.validate = def.validate
    defs.push(synonymDef)
  }
  return defs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

function replicaSelectorOf(v: unknown): 'leader' | 'rack-aware' {
  if (v === undefined) return 'leader'
  if (v === 'leader' || v === 'rack-aware') return v
  throw new RangeError(`replicaSelector must be 'leader' or 'rack-aware', got ${String(v)}`)
}
