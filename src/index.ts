// The kafkats package entry. Each role adds its section (the Reader goes under "Consumer").

// Messages
export type { Bytes, Header, Message } from './message.js'

// Producer
export { Writer, type Transaction, type WriteOptions } from './producer/writer.js'
export type { WriteResult } from './producer/tracker.js'
export {
  RequireAll,
  RequireNone,
  RequireOne,
  type CompletionHandler,
  type RequiredAcks,
  type WriterConfig,
} from './producer/config.js'
export type { DurationStats, SummaryStats, WriterStats } from './producer/stats.js'

// Metrics (Java's names; README "Monitoring")
export { metricValue } from './metrics/registry.js'
export type {
  ClientKind,
  MetricFamily,
  MetricType,
  MetricValue,
  MetricsSnapshot,
  MetricsSource,
} from './metrics/registry.js'
export {
  prometheusLabels,
  prometheusName,
  registerPrometheus,
  renderPrometheus,
  type PromClientRegistry,
} from './metrics/prometheus.js'
export { otelName, registerOpenTelemetryMetrics } from './telemetry/otel-metrics.js'
export { traceContextOf } from './telemetry/trace-context.js'
export { CHANNEL_NAMES, type ChannelName } from './telemetry/channels.js'
export type {
  OtelMeter,
  OtelMeterProvider,
  OtelSpanContext,
  OtelTracerProvider,
  TelemetryOptions,
} from './telemetry/otel-types.js'
export {
  ProducerFencedError,
  TransactionalIdAuthorizationError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionOutcomeUnknownError,
  TransactionStateError,
} from './producer/transaction-errors.js'
export type { GroupReader, TransactionState } from './producer/transactions.js'
export type { GroupMetadata } from './producer/txn-requests.js'
export {
  BalancerFunc,
  CRC32Balancer,
  Hash,
  LeastBytes,
  Murmur2Balancer,
  ReferenceHash,
  RoundRobin,
  Sticky,
  type Balancer,
  type ConsistentOptions,
  type HashOptions,
  type Hasher32,
  type RandomSource,
  type RoundRobinOptions,
  type StickyOptions,
} from './producer/balancers.js'
export type { CompressionCodec } from './protocol/compression/index.js'

// Consumer
export {
  Reader,
  ReaderErrorEvent,
  type CommitOptions,
  type IterateOptions,
  type ReadOptions,
} from './consumer/reader.js'
export type { CommitMetadata } from './consumer/commits.js'
export type { ListedOffset } from './consumer/list-offsets.js'
export type { RunOptions } from './consumer/run.js'
export {
  createDefaultLogger,
  silentLogger,
  type DefaultLoggerOptions,
  type LogFields,
  type LogFn,
  type Logger,
} from './logger.js'
export type { PartitionsCallback, ReaderConfig, TopicPartition } from './consumer/config.js'
export type { ReaderStats } from './consumer/stats.js'
// Share groups (KIP-932): src/share/.
export {
  ShareReader,
  ShareReaderStateError,
  ShareAcknowledgeError,
  type AcknowledgeType,
  type AcknowledgementMode,
  type AcknowledgementResult,
  type ShareMessage,
  type ShareReaderConfig,
  type ShareReaderStats,
} from './share/share-reader.js'
export type { PartitionLag } from './consumer/fetcher.js'
export type { MessageBatch } from './consumer/queue.js'
export type { FetchedHeader, FetchedMessage, IsolationLevel } from './consumer/fetch-result.js'
export { FirstOffset, LastOffset, type StartOffset } from './consumer/offsets.js'
export {
  CooperativeStickyGroupBalancer,
  RangeGroupBalancer,
  RoundRobinGroupBalancer,
  type GroupAssignment,
  type GroupBalancer,
  type GroupMember,
  type TopicPartitions,
} from './consumer/assignors/index.js'
export {
  CommitRejectedError,
  LogTruncatedError,
  PollIntervalExceededError,
  ReaderStateError,
  UnknownTopicError,
  type CommitRejectReason,
  type TopicPartitionOffset,
} from './consumer/errors.js'

// Exactly-once processing (a group Reader and a transactional Writer)
export {
  TransactionalProcessor,
  type BatchHandler,
  type BatchOutcome,
  type ProcessOptions,
  type Send,
  type TransactionalProcessorConfig,
  type TransactionalProcessorStats,
} from './eos/processor.js'

// Admin
export { Kafka, type KafkaConfig, type RoleConfig, type SharedOption } from './kafka.js'
export { Admin, type AdminConfig } from './admin/admin.js'
export { AdminBatchError, GroupNotEmptyError } from './admin/errors.js'
export type { AdminCallOptions } from './admin/context.js'
export type {
  CreatedTopic,
  CreatePartitionsOptions,
  CreateTopicsOptions,
  ListTopicsOptions,
  NewTopic,
  PartitionDescription,
  TopicDescription,
} from './admin/topics.js'
export type {
  ConfigChange,
  ConfigEntry,
  ConfigResource,
  ConfigResourceType,
  ConfigSource,
  ResourceConfigs,
} from './admin/configs.js'
export type { ApiVersionInfo, BrokerDescription, ClusterDescription } from './admin/cluster.js'
export type {
  GroupDescription,
  GroupListing,
  ListGroupsOptions,
  MemberDescription,
  TopicPartitionsList,
} from './admin/groups.js'
export type {
  CommittedOffset,
  GroupLag,
  ListOffsetsOptions,
  OffsetReset,
  OffsetSpec,
  PartitionLag as GroupPartitionLag,
  ResetOffsetsOptions,
  ResetTarget,
  TopicPartitionRef,
} from './admin/offsets.js'
export type { DeletedRecords, PartitionProducers, ProducerState } from './admin/records.js'
export type {
  AclBinding,
  AclFilter,
  AclOperation,
  AclPatternType,
  AclPermission,
  AclResourceType,
  NewAcl,
} from './admin/acls.js'
export type { ListTransactionsOptions, TransactionDescription, TransactionListing } from './admin/transactions.js'
export type { ScramCredentialChange, ScramMechanism, UserScramCredentials } from './admin/scram.js'

// Client core: shared configuration, for custom tools
export { KafkaClient, type ClientConfig } from './cluster/client.js'
export { DEFAULT_RETRY_POLICY, RetriesExhaustedError, type RetryPolicy } from './cluster/retry.js'
export type { TlsConfig } from './net/connection.js'
export type {
  OAuthBearerToken,
  SaslConfig,
  SaslOAuthBearerConfig,
  SaslPlainConfig,
  SaslScramConfig,
} from './net/sasl.js'

// Errors
export {
  CodecUnavailableError,
  ConfigError,
  CorruptRecordError,
  KafkaError,
  KafkaTsError,
  ProtocolDecodeError,
  ProtocolEncodeError,
  isRetriable,
  type KafkaErrorContext,
} from './errors.js'
export {
  AbortError,
  ClosedError,
  ConnectionError,
  RequestTimeoutError,
  SaslAuthenticationError,
  UnsupportedVersionError,
} from './net/errors.js'
export {
  AsyncWriteErrors,
  DeliveryTimeoutError,
  InvalidMessageError,
  MessageTooLargeError,
  WriteErrors,
} from './producer/errors.js'
export { ErrorCode, errorInfo, type ErrorCodeInfo, type ErrorCodeName } from './protocol/error-codes.js'
