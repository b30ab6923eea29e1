// Writer options: the type users fill in, the defaults in one place, and one validation pass
// (table-driven for single options, then the cross-field rules) that throws a ConfigError naming
// the option and why. Each option documents its kafka-go name and its Java-client equivalent.

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
import type { Message } from '../message.js'
import type { CompressionCodec } from '../protocol/compression/index.js'
import type { ClientConfig } from '../cluster/client.js'
import { RoundRobin, type Balancer } from './balancers.js'

/** Acknowledgements the leader waits for before answering (Java's acks). */
export type RequiredAcks = 'none' | 'leader' | 'all'

/** acks=0: fire and forget; no response, no retries of lost data, no offsets. */
export const RequireNone = 'none' as const
/** acks=1: the leader wrote it. */
export const RequireOne = 'leader' as const
/** acks=all (-1): every in-sync replica wrote it; the default. */
export const RequireAll = 'all' as const

/** Called once per batch in async mode (kafka-go's Completion): the messages with partition/offset set, and the error if it failed. */
export type CompletionHandler = (messages: Message[], error: Error | null) => void

export interface WriterConfig extends ClientConfig {
  /** Topic of every message; leave unset to give each message its own `topic`. */
  topic?: string
  /** Chooses each message's partition; default RoundRobin (kafka-go's default). */
  balancer?: Balancer
  /** 'none' | 'leader' | 'all' (or kafka-go's 0 | 1 | -1); default 'all' (Java's acks=all). */
  requiredAcks?: RequiredAcks | 0 | 1 | -1
  /**
   * Idempotent produce (Java's enable.idempotence): sequence numbers per partition let the broker
   * drop duplicates from retries, and order holds across retries. Needs acks 'all' and at most 5
   * requests in flight. Default: on unless requiredAcks says otherwise (then off, as in Java).
   */
  idempotent?: boolean
  /**
   * Attempts per batch, the first included (kafka-go MaxAttempts, default 10; Java's retries + 1),
   * when idempotence is off. Idempotent batches are retried until deliveryTimeout instead: giving
   * up on an attempt count could leave a batch whose outcome is unknown.
   */
  maxAttempts?: number
  /** First backoff between attempts (ms); kafka-go WriteBackoffMin, Java's retry.backoff.ms. Default 100. */
  writeBackoffMin?: number
  /** Backoff cap (ms); kafka-go WriteBackoffMax, Java's retry.backoff.max.ms. Default 1000. */
  writeBackoffMax?: number
  /** Messages per batch before it is sent (kafka-go BatchSize). Default 100. */
  batchSize?: number
  /** Bytes per batch before it is sent, and the largest message accepted (kafka-go BatchBytes; Java's max.request.size). Default 1 MiB. */
  batchBytes?: number
  /** Linger: how long a partial batch waits for more messages (ms); Java's linger.ms. Default 5. Synchronous writes do not wait for it. */
  batchTimeout?: number
  /** Compression of each batch; default 'none'. zstd needs a broker with Produce v7+. */
  compression?: CompressionCodec
  /** When true, writeMessages returns once the messages are buffered; results go to `completion`. Default false. */
  async?: boolean
  completion?: CompletionHandler
  /** Bytes of messages buffered and not yet acknowledged; writeMessages waits for room beyond it (Java's buffer.memory). Default 32 MiB. */
  bufferMaxBytes?: number
  /**
   * A batch not acknowledged this long after it was cut (ms) is not sent again; records waiting
   * for a partition leader fail after it too. Java's delivery.timeout.ms. Default 120 000.
   */
  deliveryTimeout?: number
  /** Time close() allows for flushing before failing what is left (ms). Default 30 000. */
  closeTimeout?: number
  /** Produce requests in flight per broker connection (Java's max.in.flight.requests.per.connection). Default 5. */
  maxInFlightRequests?: number
  /** Aborting it closes the Writer. */
  signal?: AbortSignal
  /** Where the Writer reports trouble it handles itself (pino-compatible); see the Reader's `logger`. */
  logger?: Logger
  /**
   * OpenTelemetry (optional peer @opentelemetry/api): spans per message from `tracerProvider`
   * (W3C `traceparent` headers), the Writer's metrics as observable instruments of
   * `meterProvider`; `'global'` for the providers registered with the API. README "Monitoring".
   */
  telemetry?: TelemetryOptions
  /**
   * Makes the Writer transactional (Java's transactional.id): writes only inside a transaction,
   * and a newer Writer with the same id fences this one. Implies idempotence (acks 'all').
   */
  transactionalId?: string
  /** How long the coordinator lets a transaction stay open before aborting it (ms); Java's transaction.timeout.ms. Default 60 000. */
  transactionTimeout?: number
}

export interface ResolvedWriterConfig {
  client: ClientConfig
  topic: string | undefined
  balancer: Balancer
  acks: RequiredAcks
  /** The wire value: 0, 1 or -1. */
  acksValue: number
  idempotent: boolean
  maxAttempts: number
  writeBackoffMin: number
  writeBackoffMax: number
  batchSize: number
  batchBytes: number
  batchTimeout: number
  compression: CompressionCodec
  async: boolean
  completion: CompletionHandler | undefined
  bufferMaxBytes: number
  deliveryTimeout: number
  closeTimeout: number
  maxInFlightRequests: number
  requestTimeout: number
  signal: AbortSignal | undefined
  logger: Logger | undefined
  telemetry: TelemetryOptions | undefined
  transactionalId: string | null
  transactionTimeout: number
}

export const WRITER_DEFAULTS = {
  maxAttempts: 10,
  writeBackoffMin: 100,
  writeBackoffMax: 1000,
  batchSize: 100,
  batchBytes: 1024 * 1024,
  batchTimeout: 5,
  compression: 'none' as CompressionCodec,
  bufferMaxBytes: 32 * 1024 * 1024,
  deliveryTimeout: 120_000,
  closeTimeout: 30_000,
  maxInFlightRequests: 5,
  requestTimeout: 30_000,
  transactionTimeout: 60_000,
}

/**
 * The broker-side timeout a Produce request carries (how long the leader waits for acks=all):
 * shorter than the client's request timeout, so the broker's REQUEST_TIMED_OUT answer arrives
 * before the client gives up and drops a connection that other requests are pipelined on
 * (franz-go keeps a 10 s margin; Java sends request.timeout.ms for both). 30 s → 25 s.
 */
export function produceTimeoutMs(requestTimeout: number): number {
  return Math.max(1, requestTimeout - Math.min(5_000, Math.floor(requestTimeout / 5)))
}

/** The most batches in flight per partition that idempotent produce allows (the broker caches 5). */
export const MAX_IDEMPOTENT_IN_FLIGHT = 5

const CODECS: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

const RULES: Record<string, Check> = {
  topic: (v) =>
    typeof v === 'string' && v.length > 0 && v.length <= 249
      ? null
      : `must be a topic name (1-249 characters), got ${show(v)}`,
  balancer: (v) =>
    typeof v === 'object' && v !== null && typeof (v as { balance?: unknown }).balance === 'function'
      ? null
      : 'must be an object with a balance(message, partitions) method',
  requiredAcks: (v) =>
    v === 'none' || v === 'leader' || v === 'all' || v === 0 || v === 1 || v === -1
      ? null
      : `must be 'none', 'leader' or 'all' (or 0, 1, -1), got ${show(v)}`,
  idempotent: isBoolean,
  maxAttempts: integerIn(1, 1_000_000),
  writeBackoffMin: milliseconds(0),
  writeBackoffMax: milliseconds(0),
  batchSize: integerIn(1, 1_000_000),
  batchBytes: integerIn(128, INT32_MAX),
  batchTimeout: milliseconds(0),
  compression: (v) =>
    CODECS.includes(v as CompressionCodec) ? null : `must be one of ${CODECS.join(', ')}, got ${show(v)}`,
  async: isBoolean,
  completion: (v) => (typeof v === 'function' ? null : 'must be a function (messages, error) => void'),
  bufferMaxBytes: integerIn(1024, Number.MAX_SAFE_INTEGER),
  deliveryTimeout: milliseconds(1),
  closeTimeout: milliseconds(0),
  maxInFlightRequests: integerIn(1, 1000),
  connectionsMaxIdle: milliseconds(1),
  allowAutoTopicCreation: isBoolean,
  signal: isAbortSignal,
  logger: isLogger,
  telemetry: checkTelemetry,
  transactionalId: (v) =>
    typeof v === 'string' && v.length > 0 && v.length <= 32767 ? null : `must be a non-empty string, got ${show(v)}`,
  transactionTimeout: integerIn(1, INT32_MAX),
}

const REMOVED: Record<string, string> = {
  acks: "use requiredAcks: 'none' | 'leader' | 'all'",
  linger: 'use batchTimeout (ms)',
  lingerMs: 'use batchTimeout (ms)',
  retries: 'use maxAttempts (attempts in total, the first included)',
  writeTimeout: 'use requestTimeout (ms)',
}

/** Validates and fills in defaults; never mutates `config`. */
export function resolveWriterConfig(config: WriterConfig): ResolvedWriterConfig {
  checkOptions('Writer', config, RULES, REMOVED)

  const acks = normalizeAcks(config.requiredAcks ?? 'all')
  const maxInFlightRequests = config.maxInFlightRequests ?? WRITER_DEFAULTS.maxInFlightRequests
  // Java enables idempotence by default only when nothing conflicts; asking for it explicitly
  // together with a conflicting setting is an error there too.
  if (config.idempotent === true && acks !== 'all') {
    throw new ConfigError(
      'idempotent',
      `needs requiredAcks 'all' (got '${acks}'): the broker can only deduplicate what every in-sync replica wrote`,
    )
  }
  if (config.idempotent === true && maxInFlightRequests > MAX_IDEMPOTENT_IN_FLIGHT) {
    throw new ConfigError(
      'idempotent',
      `allows at most ${MAX_IDEMPOTENT_IN_FLIGHT} requests in flight (maxInFlightRequests is ${maxInFlightRequests})`,
    )
  }
  const idempotent = config.idempotent ?? (acks === 'all' && maxInFlightRequests <= MAX_IDEMPOTENT_IN_FLIGHT)
  const transactional = config.transactionalId !== undefined
  // Transactions are built on idempotence (Java: transactional.id requires enable.idempotence).
  if (transactional && !idempotent) {
    const why =
      acks !== 'all'
        ? `requiredAcks 'all' (got '${acks}')`
        : maxInFlightRequests > MAX_IDEMPOTENT_IN_FLIGHT
          ? `at most ${MAX_IDEMPOTENT_IN_FLIGHT} maxInFlightRequests (got ${maxInFlightRequests})`
          : 'idempotent: true (got false)'
    throw new ConfigError('transactionalId', `needs an idempotent Writer: ${why}`)
  }
  if (config.transactionTimeout !== undefined && !transactional)
    throw new ConfigError('transactionTimeout', 'only applies to a transactional Writer (set transactionalId)')

  const writeBackoffMin = config.writeBackoffMin ?? WRITER_DEFAULTS.writeBackoffMin
  const writeBackoffMax = config.writeBackoffMax ?? Math.max(WRITER_DEFAULTS.writeBackoffMax, writeBackoffMin)
  if (writeBackoffMax < writeBackoffMin) {
    throw new ConfigError(
      'writeBackoffMax',
      `must be at least writeBackoffMin (${writeBackoffMin}), got ${writeBackoffMax}`,
    )
  }
  const batchBytes = config.batchBytes ?? WRITER_DEFAULTS.batchBytes
  const bufferMaxBytes = config.bufferMaxBytes ?? Math.max(WRITER_DEFAULTS.bufferMaxBytes, batchBytes)
  if (bufferMaxBytes < batchBytes) {
    throw new ConfigError(
      'bufferMaxBytes',
      `must be at least batchBytes (${batchBytes}) so that the largest message fits, got ${bufferMaxBytes}`,
    )
  }
  if (config.completion !== undefined && config.async !== true) {
    throw new ConfigError('completion', 'is only called in async mode; set async: true, or await writeMessages instead')
  }

  const maxAttempts = config.maxAttempts ?? WRITER_DEFAULTS.maxAttempts
  const requestTimeout = config.requestTimeout ?? WRITER_DEFAULTS.requestTimeout
  // The client waits for topic metadata with the Writer's own retry policy (one owner, one budget).
  const client: ClientConfig = {
    ...config,
    requestTimeout,
    retry: { maxAttempts, backoffMs: writeBackoffMin, backoffMaxMs: writeBackoffMax },
    maxInFlight: { ...config.maxInFlight, produce: maxInFlightRequests },
  }
  return {
    client,
    topic: config.topic,
    balancer: config.balancer ?? new RoundRobin(),
    acks,
    acksValue: acks === 'none' ? 0 : acks === 'leader' ? 1 : -1,
    idempotent,
    maxAttempts,
    writeBackoffMin,
    writeBackoffMax,
    batchSize: config.batchSize ?? WRITER_DEFAULTS.batchSize,
    batchBytes,
    batchTimeout: config.batchTimeout ?? WRITER_DEFAULTS.batchTimeout,
    compression: config.compression ?? WRITER_DEFAULTS.compression,
    async: config.async ?? false,
    completion: config.completion,
    bufferMaxBytes,
    deliveryTimeout: config.deliveryTimeout ?? WRITER_DEFAULTS.deliveryTimeout,
    closeTimeout: config.closeTimeout ?? WRITER_DEFAULTS.closeTimeout,
    maxInFlightRequests,
    requestTimeout,
    signal: config.signal,
    logger: config.logger,
    telemetry: config.telemetry,
    transactionalId: config.transactionalId ?? null,
    transactionTimeout: config.transactionTimeout ?? WRITER_DEFAULTS.transactionTimeout,
  }
}

function normalizeAcks(value: RequiredAcks | 0 | 1 | -1): RequiredAcks {
  if (value === 0) return 'none'
  if (value === 1) return 'leader'
  if (value === -1) return 'all'
  return value
}
