// Reader options: the type users fill in, the defaults in one place, and one validation pass
// (table-driven for single options, then the cross-field rules) that throws a ConfigError naming
// the option and why. Each option documents its kafka-go name and its Java-consumer equivalent.

import type { ClientConfig } from '../cluster/client.js'
import {
  INT32_MAX,
  checkOptions,
  integerIn,
  isAbortSignal,
  isBoolean,
  isLogger,
  milliseconds,
  show,
  type Check,
} from '../config-rules.js'
import { ConfigError } from '../errors.js'
import type { Logger } from '../logger.js'
import { checkTelemetry, type TelemetryOptions } from '../telemetry/otel-types.js'
import { CooperativeStickyGroupBalancer, RangeGroupBalancer, type GroupBalancer } from './assignors/index.js'
import type { IsolationLevel } from './fetch-result.js'
import { FirstOffset, startOffsetTimestamp, type StartOffset } from './offsets.js'

export interface TopicPartition {
  topic: string
  partition: number
}

/** Called with the partitions gained or lost in a rebalance; the rebalance waits for it. */
export type PartitionsCallback = (partitions: TopicPartition[]) => void | Promise<void>

export interface ReaderConfig extends ClientConfig {
  /**
   * Consumer group (Java's group.id). With a group, the Reader joins it and reads the partitions
   * the group assigns it, and commits its progress there. Without one, it reads `topic` +
   * `partition` directly (no commits).
   */
  groupId?: string
  /** The topic: the one partition read directly (with `partition`), or the group's only topic. */
  topic?: string
  /** Direct mode only: the partition to read (kafka-go Partition). Default 0. */
  partition?: number
  /** Group mode: the topics to subscribe to (kafka-go GroupTopics); use instead of `topic`. */
  groupTopics?: readonly string[]
  /**
   * Group mode: subscribe to every topic whose whole name matches this regular expression; new
   * matching topics join the subscription by themselves. The consumer protocol's coordinator
   * resolves it (RE2/J syntax, as Java's `subscribe(SubscriptionPattern)`); with the classic
   * protocol the Reader does (a JavaScript RegExp). Use instead of `topic` / `groupTopics`.
   */
  topicPattern?: string
  /**
   * The group protocol (Java group.protocol): 'consumer' (KIP-848: the coordinator assigns, with
   * `groupRemoteAssignor`, and rebalances are incremental) or 'classic' (JoinGroup/SyncGroup, the
   * `groupBalancers` run in the leader). Unset: 'consumer', unless `groupBalancers`,
   * `sessionTimeout` or `heartbeatInterval` is set (only the classic protocol has them: with
   * KIP-848 they are the broker's), then 'classic'. Set to 'consumer' together with one of them
   * it is a ConfigError, as in Java's ConsumerConfig. 'consumer' (set or by default) falls back
   * to 'classic' against a coordinator without ConsumerGroupHeartbeat (Kafka before 4.0, or 3.x
   * without it enabled); `reader.groupProtocol` says which is in use.
   */
  groupProtocol?: 'classic' | 'consumer'
  /** `groupProtocol: 'consumer'`: the coordinator's assignor ('uniform' or 'range' on Kafka 4.x; default: the broker's, 'uniform'). */
  groupRemoteAssignor?: string
  /**
   * Where to start when the group has no committed offset for a partition, and where to go
   * after OFFSET_OUT_OF_RANGE (Java's auto.offset.reset; kafka-go StartOffset): FirstOffset,
   * LastOffset, or a Date / epoch milliseconds (the first record at or after that time).
   * Default FirstOffset, as in kafka-go: a new group reads what is already there. (Java defaults
   * to 'latest', which silently skips everything written before the group's first join.)
   */
  startOffset?: StartOffset | bigint
  /** The broker answers a fetch once it has this many bytes (Java fetch.min.bytes; kafka-go MinBytes). Default 1. */
  minBytes?: number
  /**
   * Bytes per fetch response, over every partition of one broker (Java fetch.max.bytes; kafka-go
   * MaxBytes). A record batch larger than this is still returned whole (KIP-74). Default 16 MiB.
   */
  maxBytes?: number
  /** Bytes per partition in one fetch response (Java max.partition.fetch.bytes). Default 1 MiB. */
  partitionMaxBytes?: number
  /**
   * How long the broker may hold a fetch waiting for minBytes (ms). Java's fetch.max.wait.ms
   * (500) rather than kafka-go's MaxWait (10 s): it bounds how soon a newly assigned partition,
   * or a resumed one, starts being fetched from a broker whose long poll is in flight. Default 500.
   */
  maxWait?: number
  /**
   * Prefetch bound: memory taken by fetched, not yet consumed messages, counted as their keys,
   * values and headers plus a measured per-message overhead (about 160 bytes, plus about 100 per
   * key, value and header value: see fetch-result.ts), so a 10-byte message counts ~270 bytes.
   * Messages are copied out of the fetch response, so they never pin it. Fetching stops while
   * the queue is this full (backpressure); a response is decoded only up to the room left (at
   * least one message). Beyond this: the fetch responses in flight (at most the room left, or
   * one record batch, per broker) while they are decoded. Default 32 MiB.
   */
  queueCapacityBytes?: number
  /**
   * 0 (default): commitMessages and readMessage commit synchronously before they resolve
   * (kafka-go's default). > 0: offsets are marked and committed every commitInterval ms, and on
   * rebalance and close (Java's auto.commit.interval.ms with manual marking).
   */
  commitInterval?: number
  /**
   * Heartbeat period (ms); Java heartbeat.interval.ms, kafka-go HeartbeatInterval. Default 3000.
   * Classic protocol only (setting it chooses it when `groupProtocol` is unset): with KIP-848
   * the coordinator sets the interval (group.consumer.heartbeat.interval.ms).
   */
  heartbeatInterval?: number
  /**
   * The coordinator removes the member when no heartbeat arrives for this long (ms); Java
   * session.timeout.ms (4.x default 45 000). Classic protocol only (setting it chooses it when
   * `groupProtocol` is unset): with KIP-848 it is the broker's group.consumer.session.timeout.ms.
   */
  sessionTimeout?: number
  /**
   * How long the coordinator waits for every member to rejoin during a rebalance (ms); Java uses
   * max.poll.interval.ms (300 000), kafka-go RebalanceTimeout (30 000). Default 60 000. Also how
   * long a member giving partitions up waits for the records of them it handed out to be
   * committed or released (the next read, or release()) before it revokes them anyway.
   */
  rebalanceTimeout?: number
  /**
   * How long the application may hold records it was handed (fetchMessage, fetchBatch, the
   * iterators) without reading again, committing them or calling release() (ms); past it the
   * member leaves the group so the others take its partitions over, and the next read throws
   * PollIntervalExceededError and rejoins (Java max.poll.interval.ms, KIP-62). Default 300 000.
   */
  maxPollInterval?: number
  /**
   * How often the subscribed topics' partition counts are checked (ms); a change triggers a
   * rebalance (kafka-go PartitionWatchInterval; Java checks on every metadata refresh,
   * metadata.max.age.ms). Default 5000.
   */
  partitionWatchInterval?: number
  /**
   * Assignment strategies offered to the group, preferred first (Java partition.assignment.strategy).
   * Default [Range, CooperativeSticky], Java 4.x's default: the group agrees on 'range' with
   * today's Java and kafka-go members. As in Java, rebalancing is cooperative (incremental) only
   * when every balancer listed is cooperative; otherwise every rebalance revokes everything first.
   * Classic protocol only (setting it chooses it when `groupProtocol` is unset): with KIP-848 the
   * coordinator assigns (`groupRemoteAssignor`).
   */
  groupBalancers?: readonly GroupBalancer[]
  /** Static membership (KIP-345; Java group.instance.id): restarts within sessionTimeout cause no rebalance. */
  groupInstanceId?: string
  /**
   * 'read_committed' (default) or 'read_uncommitted' (Java isolation.level). read_committed
   * returns only committed transactional data and stops at the last stable offset; for topics
   * without transactions the two are the same. The default is librdkafka's rather than Java's
   * or kafka-go's (read_uncommitted): kafkats writes transactions, and a reader that shows
   * aborted records by default breaks exactly-once pipelines silently.
   */
  isolationLevel?: IsolationLevel
  /**
   * Verify the CRC-32C of every fetched record batch (librdkafka check.crcs, Java check.crcs).
   * Default true, as in Java: a corrupt batch is a CorruptRecordError instead of wrong data.
   * false saves the checksum's CPU (8-11% of consuming with the portable CRC-32C, little with
   * @node-rs/crc32) where the network and brokers are trusted to keep bytes intact; decoding
   * still bounds-checks every field.
   */
  checkCrcs?: boolean
  /**
   * Incremental fetch sessions (KIP-227), as Java's consumer uses them: after one full fetch per
   * broker, a request lists only the partitions whose position changed, so its size no longer
   * grows with the partitions the broker leads. false sends every Fetch in full (sessionless).
   * Default true.
   */
  fetchSessions?: boolean
  /**
   * The client's rack (Java client.rack, KIP-392): sent with every Fetch (v11+) so a broker with
   * a rack-aware replica.selector.class can point the Reader at a replica in the same rack, which
   * it then fetches from (falling back to the leader on any error there). Default '' (none).
   */
  rack?: string
  /** First backoff after a failed fetch (ms); kafka-go ReadBackoffMin, Java retry.backoff.ms. Default 100. */
  readBackoffMin?: number
  /** Backoff cap (ms); kafka-go ReadBackoffMax, Java retry.backoff.max.ms. Default 1000. */
  readBackoffMax?: number
  /** Attempts for ListOffsets and for each FindCoordinator lookup, the first included (commits retry by commitTimeout). Default 10. */
  maxAttempts?: number
  /**
   * How long a commit or a committed-offset lookup retries retriable trouble (ms): an
   * unreachable or moving coordinator, COORDINATOR_LOAD_IN_PROGRESS, a rebalance in progress.
   * Java's default.api.timeout.ms, which bounds commitSync and committed(). On Kafka a crashed
   * coordinator stays named as coordinator until it is fenced (9 s), so an attempt count is not
   * the right bound. Default 60 000.
   */
  commitTimeout?: number
  /** close() gives up on committing and leaving the group after this long (ms). Default 30 000 (Java's close timeout). */
  closeTimeout?: number
  /** Called after a rebalance with the partitions gained, before they are fetched (Java onPartitionsAssigned). */
  onAssign?: PartitionsCallback
  /**
   * Called with the partitions about to be taken away in a rebalance, before they are (Java
   * onPartitionsRevoked). Commits made inside it for those partitions are still accepted. Also
   * called for lost partitions when onLost is not set (as Java's default onPartitionsLost does).
   */
  onRevoke?: PartitionsCallback
  /**
   * Called with partitions lost, after they were taken away (Java onPartitionsLost): the
   * coordinator fenced this member or reset its member id or generation (UNKNOWN_MEMBER_ID,
   * ILLEGAL_GENERATION on Heartbeat, JoinGroup, SyncGroup or OffsetCommit), so another member
   * may own them already. Nothing can be committed for them any more: commits of messages
   * fetched before are refused with CommitRejectedError ('fenced'). Default: onRevoke.
   */
  onLost?: PartitionsCallback
  /** Aborting it closes the Reader. */
  signal?: AbortSignal
  /**
   * Where retriable trouble is reported (unreachable brokers, no coordinator, failed metadata
   * refreshes and heartbeats, a missing topic, a balancer that threw): pino-compatible
   * (`warn({ fields }, 'message')`, `child`). Default: warnings on stderr, each cause at most once
   * a minute (createDefaultLogger); `silentLogger` for none. Credentials are never logged.
   */
  logger?: Logger
  /**
   * OpenTelemetry (optional peer @opentelemetry/api): spans per message from `tracerProvider`
   * (W3C `traceparent` headers), the Reader's metrics as observable instruments of
   * `meterProvider`; `'global'` for the providers registered with the API. README "Monitoring".
   */
  telemetry?: TelemetryOptions
  /**
   * How long a read waits for its topic or partition to exist (ms) before it rejects with
   * UnknownTopicError (direct Reader); a group Reader logs a warning and keeps waiting, as Java's
   * consumer does. Java's default.api.timeout.ms: default 60 000.
   */
  metadataTimeout?: number
}

export interface ResolvedReaderConfig {
  client: ClientConfig
  groupId: string | undefined
  /** Direct mode: the one partition. */
  direct: TopicPartition | undefined
  /** Group mode: the subscription, sorted. */
  topics: string[]
  topicPattern: string | null
  groupProtocol: 'classic' | 'consumer'
  groupRemoteAssignor: string | null
  startOffset: bigint
  minBytes: number
  maxBytes: number
  partitionMaxBytes: number
  maxWait: number
  queueCapacityBytes: number
  commitInterval: number
  heartbeatInterval: number
  sessionTimeout: number
  rebalanceTimeout: number
  maxPollInterval: number
  partitionWatchInterval: number
  groupBalancers: readonly GroupBalancer[]
  /** 'cooperative' only when every balancer is cooperative (Java's rule). */
  rebalanceProtocol: 'eager' | 'cooperative'
  groupInstanceId: string | null
  isolationLevel: IsolationLevel
  checkCrcs: boolean
  fetchSessions: boolean
  rack: string
  readBackoffMin: number
  readBackoffMax: number
  maxAttempts: number
  commitTimeout: number
  requestTimeout: number
  closeTimeout: number
  onAssign: PartitionsCallback | undefined
  onRevoke: PartitionsCallback | undefined
  onLost: PartitionsCallback | undefined
  signal: AbortSignal | undefined
  logger: Logger | undefined
  telemetry: TelemetryOptions | undefined
  metadataTimeout: number
}

export const READER_DEFAULTS = {
  startOffset: FirstOffset,
  minBytes: 1,
  maxBytes: 16 * 1024 * 1024,
  partitionMaxBytes: 1024 * 1024,
  maxWait: 500,
  queueCapacityBytes: 32 * 1024 * 1024,
  commitInterval: 0,
  heartbeatInterval: 3000,
  sessionTimeout: 45_000,
  rebalanceTimeout: 60_000,
  maxPollInterval: 300_000,
  partitionWatchInterval: 5000,
  isolationLevel: 'read_committed' as IsolationLevel,
  checkCrcs: true,
  fetchSessions: true,
  rack: '',
  readBackoffMin: 100,
  readBackoffMax: 1000,
  maxAttempts: 10,
  commitTimeout: 60_000,
  requestTimeout: 30_000,
  closeTimeout: 30_000,
  metadataTimeout: 60_000,
}

const topicName: Check = (v) =>
  typeof v === 'string' && /^[a-zA-Z0-9._-]{1,249}$/.test(v) && v !== '.' && v !== '..'
    ? null
    : `must be a topic name (1-249 of [a-zA-Z0-9._-]), got ${show(v)}`

const isFunction: Check = (v) =>
  typeof v === 'function' ? null : 'must be a function (partitions) => void | Promise<void>'

const RULES: Record<string, Check> = {
  groupId: (v) => (typeof v === 'string' && v.length > 0 ? null : `must be a non-empty string, got ${show(v)}`),
  topic: topicName,
  partition: integerIn(0, INT32_MAX),
  groupTopics: (v) => {
    if (!Array.isArray(v) || v.length === 0) return 'must be a non-empty array of topic names'
    for (const t of v) {
      const problem = topicName(t)
      if (problem !== null) return `entry ${show(t)} ${problem}`
    }
    return null
  },
  minBytes: integerIn(0, INT32_MAX),
  maxBytes: integerIn(1, INT32_MAX),
  partitionMaxBytes: integerIn(1, INT32_MAX),
  maxWait: milliseconds(0),
  queueCapacityBytes: integerIn(1024, Number.MAX_SAFE_INTEGER),
  commitInterval: milliseconds(0),
  heartbeatInterval: milliseconds(1),
  sessionTimeout: milliseconds(1),
  rebalanceTimeout: milliseconds(1),
  maxPollInterval: milliseconds(1),
  partitionWatchInterval: milliseconds(1),
  groupBalancers: (v) => {
    if (!Array.isArray(v) || v.length === 0) return 'must be a non-empty array of GroupBalancers'
    const names = new Set<string>()
    for (const b of v) {
      if (
        typeof b !== 'object' ||
        b === null ||
        typeof b.name !== 'string' ||
        b.name === '' ||
        typeof b.assign !== 'function'
      ) {
        return 'every entry must be a GroupBalancer { name, assign(members, partitionsPerTopic) }'
      }
      if (names.has(b.name)) return `lists the balancer '${b.name}' twice`
      names.add(b.name)
    }
    return null
  },
  topicPattern: (v) => {
    if (typeof v !== 'string' || v.length === 0) return `must be a non-empty string, got ${show(v)}`
    try {
      new RegExp(v)
      return null
    } catch (err) {
      return `must be a valid regular expression: ${(err as Error).message}`
    }
  },
  groupProtocol: (v) =>
    v === 'classic' || v === 'consumer' ? null : `must be 'classic' or 'consumer', got ${show(v)}`,
  groupRemoteAssignor: (v) =>
    typeof v === 'string' && v.length > 0 ? null : `must be a non-empty string, got ${show(v)}`,
  groupInstanceId: (v) =>
    typeof v === 'string' && v.length > 0 && v.length <= 249
      ? null
      : `must be a non-empty string of at most 249 characters, got ${show(v)}`,
  isolationLevel: (v) =>
    v === 'read_committed' || v === 'read_uncommitted'
      ? null
      : `must be 'read_committed' or 'read_uncommitted', got ${show(v)}`,
  checkCrcs: isBoolean,
  fetchSessions: isBoolean,
  rack: (v) =>
    typeof v === 'string' && v.length <= 255 ? null : `must be a string of at most 255 characters, got ${show(v)}`,
  readBackoffMin: milliseconds(0),
  readBackoffMax: milliseconds(0),
  maxAttempts: integerIn(1, 1_000_000),
  commitTimeout: milliseconds(1),
  closeTimeout: milliseconds(0),
  connectionsMaxIdle: milliseconds(1),
  onAssign: isFunction,
  onRevoke: isFunction,
  onLost: isFunction,
  signal: isAbortSignal,
  logger: isLogger,
  telemetry: checkTelemetry,
  metadataTimeout: milliseconds(1),
}

const REMOVED: Record<string, string> = {
  groupID: 'use groupId',
  autoOffsetReset: 'use startOffset: FirstOffset | LastOffset',
  autoCommit: 'use commitInterval (0 = commit synchronously in commitMessages/readMessage)',
  queueCapacity: 'use queueCapacityBytes: the prefetch queue is bounded in bytes',
  sessionTimeoutMs: 'use sessionTimeout (ms)',
  fetchMaxWaitMs: 'use maxWait (ms)',
}

/** Options only the classic protocol has: with KIP-848 the broker decides these (Java's CLASSIC_PROTOCOL_ONLY_CONFIGS). */
const CLASSIC_ONLY = ['groupBalancers', 'sessionTimeout', 'heartbeatInterval'] as const

/**
 * The consumer protocol unless the options ask for something only the classic one has. Java
 * rejects those options with group.protocol=consumer (ConfigException), and
 * group.remote.assignor with group.protocol=classic; so do we, when the protocol is explicit.
 */
function chooseGroupProtocol(config: ReaderConfig): 'classic' | 'consumer' {
  const classicOnly = CLASSIC_ONLY.find((option) => config[option] !== undefined)
  if (config.groupProtocol === 'consumer' && classicOnly !== undefined)
    throw new ConfigError(
      classicOnly,
      "cannot be set with groupProtocol: 'consumer' (the coordinator decides it); leave groupProtocol unset or 'classic'",
    )
  const protocol = config.groupProtocol ?? (classicOnly === undefined ? 'consumer' : 'classic')
  // A server-side choice: only the consumer protocol has it (topicPattern works with both).
  if (protocol === 'classic' && config.groupRemoteAssignor !== undefined)
    throw new ConfigError(
      'groupRemoteAssignor',
      config.groupProtocol === 'classic'
        ? "needs groupProtocol: 'consumer'"
        : `needs the consumer protocol, but ${classicOnly} chooses the classic one`,
    )
  return protocol
}

/** Validates and fills in defaults; never mutates `config`. */
export function resolveReaderConfig(config: ReaderConfig): ResolvedReaderConfig {
  checkOptions('Reader', config, RULES, REMOVED)

  const groupId = config.groupId
  let direct: TopicPartition | undefined
  let topics: string[] = []
  if (groupId === undefined) {
    if (config.groupTopics !== undefined)
      throw new ConfigError('groupTopics', 'needs a groupId (without a group, read one topic + partition)')
    if (config.topic === undefined)
      throw new ConfigError(
        'topic',
        'is required: set topic (+ partition) to read directly, or groupId + groupTopics to join a group',
      )
    for (const option of [
      'groupInstanceId',
      'onAssign',
      'onRevoke',
      'onLost',
      'topicPattern',
      'groupProtocol',
      'groupRemoteAssignor',
    ] as const) {
      if (config[option] !== undefined) throw new ConfigError(option, 'only applies to a consumer group; set groupId')
    }
    direct = { topic: config.topic, partition: config.partition ?? 0 }
  } else {
    if (config.partition !== undefined) {
      throw new ConfigError(
        'partition',
        'cannot be set with groupId: the group assigns partitions (as in kafka-go, set either partition or groupId)',
      )
    }
    if (config.topic !== undefined && config.groupTopics !== undefined)
      throw new ConfigError('groupTopics', 'set either topic or groupTopics, not both')
    if (config.topicPattern !== undefined && (config.topic !== undefined || config.groupTopics !== undefined))
      throw new ConfigError('topicPattern', 'set either topicPattern or topic / groupTopics, not both')
    topics = [...new Set(config.groupTopics ?? (config.topic === undefined ? [] : [config.topic]))].sort()
    if (topics.length === 0 && config.topicPattern === undefined)
      throw new ConfigError('groupTopics', 'a group Reader needs topic, groupTopics or topicPattern')
  }
  const groupProtocol = chooseGroupProtocol(config)

  const startOffset = startOffsetTimestamp(config.startOffset ?? READER_DEFAULTS.startOffset)
  const minBytes = config.minBytes ?? READER_DEFAULTS.minBytes
  const maxBytes = config.maxBytes ?? READER_DEFAULTS.maxBytes
  if (minBytes > maxBytes) throw new ConfigError('minBytes', `must not exceed maxBytes (${maxBytes}), got ${minBytes}`)
  const partitionMaxBytes = config.partitionMaxBytes ?? Math.min(READER_DEFAULTS.partitionMaxBytes, maxBytes)
  const sessionTimeout = config.sessionTimeout ?? READER_DEFAULTS.sessionTimeout
  const heartbeatInterval =
    config.heartbeatInterval ?? Math.min(READER_DEFAULTS.heartbeatInterval, Math.floor(sessionTimeout / 3))
  // Java's rule: heartbeats must come well within the session, or one lost heartbeat ends it.
  if (heartbeatInterval >= sessionTimeout) {
    throw new ConfigError(
      'heartbeatInterval',
      `must be below sessionTimeout (${sessionTimeout}), got ${heartbeatInterval}; a third of it is usual`,
    )
  }
  const readBackoffMin = config.readBackoffMin ?? READER_DEFAULTS.readBackoffMin
  const readBackoffMax = config.readBackoffMax ?? Math.max(READER_DEFAULTS.readBackoffMax, readBackoffMin)
  if (readBackoffMax < readBackoffMin)
    throw new ConfigError(
      'readBackoffMax',
      `must be at least readBackoffMin (${readBackoffMin}), got ${readBackoffMax}`,
    )
  const maxWait = config.maxWait ?? READER_DEFAULTS.maxWait
  const requestTimeout = config.requestTimeout ?? READER_DEFAULTS.requestTimeout
  const queueCapacityBytes = config.queueCapacityBytes ?? READER_DEFAULTS.queueCapacityBytes
  const groupBalancers = config.groupBalancers ?? [new RangeGroupBalancer(), new CooperativeStickyGroupBalancer()]
  const rebalanceProtocol = groupBalancers.every((b) => b.protocol === 'cooperative') ? 'cooperative' : 'eager'
  const maxAttempts = config.maxAttempts ?? READER_DEFAULTS.maxAttempts

  const client: ClientConfig = {
    ...config,
    requestTimeout,
    retry: { maxAttempts, backoffMs: readBackoffMin, backoffMaxMs: readBackoffMax },
  }
  return {
    client,
    groupId,
    direct,
    topics,
    topicPattern: config.topicPattern ?? null,
    groupProtocol,
    groupRemoteAssignor: config.groupRemoteAssignor ?? null,
    startOffset,
    minBytes,
    maxBytes,
    partitionMaxBytes,
    maxWait,
    queueCapacityBytes,
    commitInterval: config.commitInterval ?? READER_DEFAULTS.commitInterval,
    heartbeatInterval,
    sessionTimeout,
    rebalanceTimeout: config.rebalanceTimeout ?? READER_DEFAULTS.rebalanceTimeout,
    maxPollInterval: config.maxPollInterval ?? READER_DEFAULTS.maxPollInterval,
    partitionWatchInterval: config.partitionWatchInterval ?? READER_DEFAULTS.partitionWatchInterval,
    groupBalancers,
    rebalanceProtocol,
    groupInstanceId: config.groupInstanceId ?? null,
    isolationLevel: config.isolationLevel ?? READER_DEFAULTS.isolationLevel,
    checkCrcs: config.checkCrcs ?? READER_DEFAULTS.checkCrcs,
    fetchSessions: config.fetchSessions ?? READER_DEFAULTS.fetchSessions,
    rack: config.rack ?? READER_DEFAULTS.rack,
    readBackoffMin,
    readBackoffMax,
    maxAttempts,
    commitTimeout: config.commitTimeout ?? READER_DEFAULTS.commitTimeout,
    requestTimeout,
    closeTimeout: config.closeTimeout ?? READER_DEFAULTS.closeTimeout,
    onAssign: config.onAssign,
    onRevoke: config.onRevoke,
    onLost: config.onLost,
    signal: config.signal,
    logger: config.logger,
    telemetry: config.telemetry,
    metadataTimeout: config.metadataTimeout ?? READER_DEFAULTS.metadataTimeout,
  }
}
