// The KafkaStreams configuration: its options, their checks and defaults, and what of it goes
// to the client (Reader, Writer, admin client).

import { randomUUID } from 'node:crypto'

import type { ClientConfig } from '../cluster/client.js'
import { ConfigError } from '../errors.js'
import type { Logger } from '../logger.js'
import { MAX_TASK_IDLE_DISABLED } from './partition-group.js'

export type StreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'ERROR'

export type StateListener = (newState: StreamsState, oldState: StreamsState) => void

export interface StreamsConfig extends ClientConfig {
  /** The consumer group id, and the prefix of internal topics (`<applicationId>-...`). */
  applicationId: string
  /**
   * 'exactly_once_v2' (the default): outputs, changelog records and input offsets of every commit
   * in one transaction; or 'at_least_once' (see the README's Streams section).
   */
  processingGuarantee?: 'at_least_once' | 'exactly_once_v2'
  /**
   * How often tasks commit (ms). Default 30 000 under at_least_once, 100 under exactly_once_v2
   * (Kafka Streams' defaults).
   */
  commitInterval?: number
  /**
   * Kafka Streams' repartition.purge.interval.ms: after a successful commit, at most this often
   * (ms), records of the repartition topics the tasks read are deleted below the committed
   * offsets (DeleteRecords), so the topics do not grow until retention. Default 30 000.
   */
  repartitionPurgeInterval?: number
  /**
   * This instance's id; under exactly_once_v2 the transactional id is `<applicationId>-<processId>`.
   * Default a random UUID. Kafka Streams keeps it in its state directory so a restarted instance
   * fences its crashed predecessor at once; give the same value across restarts for that, otherwise
   * the crashed instance's open transaction blocks read_committed readers until transactionTimeout.
   */
  processId?: string
  /** exactly_once_v2: how long the coordinator lets a transaction stay open (ms). Default 10 000 (Kafka Streams' EOS default). */
  transactionTimeout?: number
  /** Replication factor of internal topics; default -1, the broker's default.replication.factor. */
  replicationFactor?: number
  /** close() gives up after this long (ms). Default 30 000. */
  closeTimeout?: number
  /** Group session timeout (ms); default 45 000. */
  sessionTimeout?: number
  /**
   * Where persistent stores live (Kafka Streams' state.dir): `<stateDir>/<applicationId>/<taskId>/`.
   * Default `<os.tmpdir()>/kafka-streams`, as Kafka Streams'. Unused without persistent stores.
   */
  stateDir?: string
  /**
   * The stores the DSL makes when none is given (Kafka Streams' default.dsl.store): 'in_memory'
   * (the default) or 'persistent' (on disk, the optional `lmdb` package). A store can also be
   * chosen one by one with `Stores.persistentKeyValueStore()` / `Stores.inMemoryKeyValueStore()`.
   */
  defaultDslStore?: 'in_memory' | 'persistent'
  /**
   * Kafka Streams' max.task.idle.ms (ms): how long a task whose other input partitions have
   * records waits for an empty one that is known to have nothing more on the broker before it
   * goes on without it. Default 0: no wait, but a partition whose records are on the broker and
   * not fetched yet (or whose lag is not known yet) is always waited for, so a task's records
   * are processed in timestamp order across its partitions. -1: process whatever is fetched.
   */
  maxTaskIdle?: number
  logger?: Logger
}

const APPLICATION_ID = /^[a-zA-Z0-9._-]{1,200}$/

/** A checked configuration with its defaults filled in. */
export type ResolvedStreamsConfig = StreamsConfig &
  Required<
    Pick<
      StreamsConfig,
      | 'processingGuarantee'
      | 'processId'
      | 'commitInterval'
      | 'repartitionPurgeInterval'
      | 'closeTimeout'
      | 'replicationFactor'
      | 'transactionTimeout'
      | 'defaultDslStore'
      | 'maxTaskIdle'
    >
  >

/** Checks a configuration (ConfigError naming the option) and fills in the defaults. */
export function resolveStreamsConfig(config: StreamsConfig): ResolvedStreamsConfig {
  if (typeof config.applicationId !== 'string' || !APPLICATION_ID.test(config.applicationId)) {
    throw new ConfigError('applicationId', "required: 1-200 of letters, digits, '.', '_' and '-'")
  }
  const guarantee = config.processingGuarantee ?? 'exactly_once_v2'
  if (guarantee !== 'at_least_once' && guarantee !== 'exactly_once_v2') {
    throw new ConfigError(
      'processingGuarantee',
      `must be 'at_least_once' or 'exactly_once_v2', got ${String(guarantee)}`,
    )
  }
  const ms = (
    name: 'commitInterval' | 'closeTimeout' | 'repartitionPurgeInterval',
    value: number | undefined,
    fallback: number,
  ): number => {
    if (value === undefined) return fallback
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(name, `must be milliseconds >= 0, got ${value}`)
    return value
  }
  const rf = config.replicationFactor ?? -1
  if (!Number.isInteger(rf) || rf === 0 || rf < -1 || rf > 32767) {
    throw new ConfigError('replicationFactor', `must be -1 (broker default) or 1..32767, got ${rf}`)
  }
  const processId = config.processId ?? randomUUID()
  if (!APPLICATION_ID.test(processId)) {
    throw new ConfigError('processId', "1-200 of letters, digits, '.', '_' and '-'")
  }
  const dslStore = config.defaultDslStore ?? 'in_memory'
  if (dslStore !== 'in_memory' && dslStore !== 'persistent') {
    throw new ConfigError('defaultDslStore', `must be 'in_memory' or 'persistent', got ${String(dslStore)}`)
  }
  const idle = config.maxTaskIdle ?? 0
  if (!Number.isFinite(idle) || (idle < 0 && idle !== MAX_TASK_IDLE_DISABLED)) {
    throw new ConfigError('maxTaskIdle', `must be milliseconds >= 0 or -1, got ${idle}`)
  }
  if (config.stateDir !== undefined && (typeof config.stateDir !== 'string' || config.stateDir === '')) {
    throw new ConfigError('stateDir', 'must be a directory path')
  }
  const txTimeout = config.transactionTimeout ?? 10_000
  if (!Number.isInteger(txTimeout) || txTimeout < 1 || txTimeout > 2 ** 31 - 1) {
    throw new ConfigError('transactionTimeout', `must be an integer of milliseconds >= 1, got ${txTimeout}`)
  }
  return {
    ...config,
    processingGuarantee: guarantee,
    processId,
    maxTaskIdle: idle,
    transactionTimeout: txTimeout,
    commitInterval: ms('commitInterval', config.commitInterval, guarantee === 'exactly_once_v2' ? 100 : 30_000),
    closeTimeout: ms('closeTimeout', config.closeTimeout, 30_000),
    repartitionPurgeInterval: ms('repartitionPurgeInterval', config.repartitionPurgeInterval, 30_000),
    replicationFactor: rf,
    defaultDslStore: dslStore,
  }
}

/** The client options of a configuration (without the streams ones). */
export function clientConfigOf(config: StreamsConfig): ClientConfig {
  const {
    applicationId: _a,
    processingGuarantee: _p,
    commitInterval: _c,
    repartitionPurgeInterval: _rp,
    replicationFactor: _r,
    closeTimeout: _t,
    sessionTimeout: _s,
    processId: _i,
    transactionTimeout: _x,
    stateDir: _d,
    defaultDslStore: _ds,
    maxTaskIdle: _mi,
    ...client
  } = config
  return client
}

export interface StreamsMetrics {
  /** Records processed since start. */
  processed: number
  /** Records dropped, by reason (null key or value, late, invalid timestamp). */
  dropped: Record<string, number>
  commits: number
  /** Duration of the last commit (ms). */
  lastCommitMs: number
  /** Changelog records restored since start. */
  restored: number
  /** exactly_once_v2: transactions aborted after a failure or a lost partition (each rewinds every task). */
  aborted: number
  /**
   * exactly_once_v2: times the producer was fenced or could not abort (a newer epoch for its
   * transactional id, or its transaction aborted by the coordinator after transactionTimeout);
   * each closed every task and started a new producer (Kafka Streams' TaskMigratedException).
   */
  fenced: number
}
