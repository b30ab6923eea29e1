// The core under every role (Writer, Reader, Admin): bootstrap addresses, connections per broker
// and workload, per-broker version negotiation, and the metadata cache. It sends one request to
// one broker and reports what happened; it does not retry (the operation's owner does, through
// retry.ts), but it does mark metadata stale when a failure says so.
//
// A standalone role owns all of it. A role made from a `Kafka` instance (src/kafka.ts) gets a
// core of its own for its connections only (`ClientSharing`): bootstrap, the metadata cache and
// the version tables are the instance's, and closing the role leaves them open. Connections stay
// per role because a broker answers one request per connection at a time: one role's Fetch long
// poll or JoinGroup must not hold up another role's requests.

import { ConfigError, KafkaError, isRetriable } from '../errors.js'
import type { ApiDefinition, Input } from '../protocol/api.js'
import { Metadata, type MetadataResponse } from '../protocol/messages/index.js'
import type { TlsConfig, ConnectionOptions } from '../net/connection.js'
import { ConnectionError } from '../net/errors.js'
import { ConnectionPool, type BrokerEndpoint, type ReadyConnection, type Workload } from '../net/pool.js'
import { validateSaslConfig, type SaslConfig } from '../net/sasl.js'
import { VersionTableCache, type ApiVersionInfo, type VersionBounds } from '../net/versions.js'
import { MetadataCache } from './metadata.js'
import { DEFAULT_RETRY_POLICY, retry, type RetryPolicy } from './retry.js'

export interface ClientConfig {
  /** Bootstrap brokers, 'host:port' (port 9092 when left out); a comma-separated string works too. */
  brokers: readonly string[] | string
  /** Sent with every request (Java's client.id); default 'kafkats'. */
  clientId?: string
  tls?: TlsConfig
  sasl?: SaslConfig
  /** TCP connect + TLS handshake + SASL allowance (ms); default 10 000. */
  connectTimeout?: number
  /** Time allowed for each response (ms); Java's request.timeout.ms, default 30 000. */
  requestTimeout?: number
  /** Metadata older than this is refreshed (ms); Java's metadata.max.age.ms, default 300 000. */
  metadataMaxAge?: number
  /** Ask brokers to create topics that metadata requests name and that do not exist. Default false. */
  allowAutoTopicCreation?: boolean
  /**
   * Connections with nothing in flight for this long are closed (ms); Java's client-side
   * connections.max.idle.ms, default 540 000 (9 min, under the broker's 10 min, so the client
   * closes first rather than having a request cut by the broker's reaper).
   */
  connectionsMaxIdle?: number
  /** Requests in flight per connection, per workload (default 5). */
  maxInFlight?: Partial<Record<Workload, number>>
  /** Retry policy for operations this client owns (waiting for metadata, ...). */
  retry?: Partial<RetryPolicy>
  /** Test seam: creates the socket for each connection. */
  socketFactory?: ConnectionOptions['socketFactory']
}

export interface ClientRequestOptions {
  signal?: AbortSignal | undefined
  workload?: Workload
  timeoutMs?: number | undefined
  /** Bounds on the negotiated version. */
  versions?: VersionBounds | undefined
}

/**
 * How a core takes part in a `Kafka` instance: `'shared'` for the instance's own core (its
 * metadata cache and version tables serve every role), or a role's core on top of it.
 */
export type ClientSharing = 'shared' | { shared: KafkaClient; onClose: () => void }

/** A request body, or a function of the negotiated version returning it. */
export type BodyFor<Req> = Input<Req> | ((version: number) => Input<Req>)

const CLIENT_ID_PATTERN = /^[\x20-\x7e]{0,255}$/

export class KafkaClient {
  readonly clientId: string
  readonly bootstrap: readonly BrokerEndpoint[]
  readonly pool: ConnectionPool
  readonly metadata: MetadataCache
  readonly retryPolicy: RetryPolicy
  readonly requestTimeoutMs: number
  readonly allowAutoTopicCreation: boolean
  /** The version table per broker address, when this core is or uses a `Kafka` instance's. */
  readonly versionTables: VersionTableCache | undefined
  readonly #onClose: (() => void) | undefined
  #closed = false

  constructor(config: ClientConfig, sharing?: ClientSharing) {
    const shared = typeof sharing === 'object' ? sharing.shared : undefined
    const bootstrap = shared?.bootstrap ?? parseBrokers(config.brokers)
    const clientId = config.clientId ?? 'kafkats'
    if (typeof clientId !== 'string' || !CLIENT_ID_PATTERN.test(clientId)) {
      throw new ConfigError('clientId', 'must be printable ASCII of at most 255 characters')
    }
    if (config.sasl !== undefined) validateSaslConfig(config.sasl)
    const connectTimeout = positiveMs(config.connectTimeout, 'connectTimeout', 10_000)
    this.requestTimeoutMs = positiveMs(config.requestTimeout, 'requestTimeout', 30_000)
    const metadataMaxAge = positiveMs(config.metadataMaxAge, 'metadataMaxAge', 300_000)
    const connectionsMaxIdle = positiveMs(config.connectionsMaxIdle, 'connectionsMaxIdle', 540_000)
    this.clientId = clientId
    this.bootstrap = bootstrap
    this.allowAutoTopicCreation = shared?.allowAutoTopicCreation ?? config.allowAutoTopicCreation ?? false
    this.versionTables = shared?.versionTables ?? (sharing === 'shared' ? new VersionTableCache() : undefined)
    this.#onClose = typeof sharing === 'object' ? sharing.onClose : undefined
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...config.retry }
    this.pool = new ConnectionPool({
      clientId,
      tls: config.tls,
      sasl: config.sasl,
      connectTimeoutMs: connectTimeout,
      requestTimeoutMs: this.requestTimeoutMs,
      maxInFlight: config.maxInFlight,
      socketFactory: config.socketFactory,
      connectionsMaxIdleMs: connectionsMaxIdle,
      versionCache: this.versionTables,
    })
    // A shared cache sends its Metadata requests on the instance core's connections.
    this.metadata =
      shared?.metadata ??
      new MetadataCache({
        bootstrap,
        maxAgeMs: metadataMaxAge,
        fetch: (broker, topics, signal) => this.#fetchMetadata(broker, topics, signal),
      })
    // A broker that hung, dropped us or could not be reached, whichever role's request found out,
    // is asked for metadata (and cluster-wide requests) last for a while.
    this.pool.onBrokerFailure = (broker) => this.metadata.penalize(broker)
  }

  get closed(): boolean {
    return this.#closed
  }

  /** A ready connection to a broker by node id (the metadata must know it). */
  async connection(nodeId: number, workload: Workload, signal?: AbortSignal): Promise<ReadyConnection> {
    let broker = this.metadata.broker(nodeId)
    if (broker === undefined) {
      await this.metadata.refresh([], signal)
      broker = this.metadata.broker(nodeId)
      if (broker === undefined) throw new ConnectionError(`broker ${nodeId} is not in the cluster metadata`)
    }
    return this.pool.get(broker, workload, signal)
  }

  /**
   * Sends one request to broker `nodeId` at the highest version both sides speak and returns the
   * decoded response. Errors are thrown as they come (no retry here); a broken connection or
   * timeout marks the metadata stale.
   */
  async request<Req, Res>(
    nodeId: number,
    api: ApiDefinition<Req, Res>,
    body: BodyFor<Req>,
    options: ClientRequestOptions = {},
  ): Promise<Res> {
    const { connection, versions } = await this.connection(nodeId, options.workload ?? 'admin', options.signal)
    return this.#send(connection, versions.pick(api, options.versions), api, body, options)
  }

  /** Like `request`, to a broker endpoint that may not be in the metadata (bootstrap addresses). */
  async requestTo<Req, Res>(
    broker: BrokerEndpoint,
    api: ApiDefinition<Req, Res>,
    body: BodyFor<Req>,
    options: ClientRequestOptions = {},
  ): Promise<Res> {
    const { connection, versions } = await this.pool.get(broker, options.workload ?? 'admin', options.signal)
    return this.#send(connection, versions.pick(api, options.versions), api, body, options)
  }

  /** Sends a request that gets no response (Produce acks=0); resolves once written. */
  async requestNoResponse<Req>(
    nodeId: number,
    api: ApiDefinition<Req, unknown>,
    body: BodyFor<Req>,
    options: ClientRequestOptions = {},
  ): Promise<void> {
    const { connection, versions } = await this.connection(nodeId, options.workload ?? 'admin', options.signal)
    const version = versions.pick(api, options.versions)
    const input = typeof body === 'function' ? (body as (v: number) => Input<Req>)(version) : body
    try {
      await connection.sendNoResponse(api, version, input, { signal: options.signal, timeoutMs: options.timeoutMs })
    } catch (err) {
      this.#noteFailure(err)
      throw err
    }
  }

  /** The version that would be used for `api` on broker `nodeId`'s connection for `workload`. */
  async versionFor(nodeId: number, api: ApiVersionInfo, workload: Workload, bounds?: VersionBounds): Promise<number> {
    const { versions } = await this.connection(nodeId, workload)
    return versions.pick(api, bounds)
  }

  /**
   * A broker to send a cluster-wide request to: any known one that has not failed lately (as
   * Java's leastLoadedNode skips nodes in backoff), else any known one, else the first bootstrap
   * address.
   */
  anyBroker(): BrokerEndpoint {
    const known = [...this.metadata.brokers.values()]
    const healthy = known.filter((b) => !this.metadata.isPenalized(b))
    const candidates = healthy.length > 0 ? healthy : known
    if (candidates.length > 0) return candidates[Math.floor(Math.random() * candidates.length)]!
    return this.bootstrap[0]!
  }

  /**
   * Waits until the metadata has every topic in `topics` with partitions and no topic error,
   * retrying (this call is the retry owner) while the errors are retriable: a topic being
   * created, leaders being elected. Returns the partition ids by topic.
   */
  /** Whether waitForTopics(topics) would return at once: fresh metadata knows them, with partitions. */
  topicsReady(topics: readonly string[]): boolean {
    const metadata = this.metadata
    if (metadata.isStale || metadata.updatedAt <= 0) return false
    for (const name of topics) {
      const info = metadata.topic(name)
      if (info === undefined || info.errorCode !== 0 || info.partitions.length === 0) return false
    }
    return true
  }

  async waitForTopics(
    topics: readonly string[],
    signal?: AbortSignal,
    policy: RetryPolicy = this.retryPolicy,
  ): Promise<void> {
    await retry(
      policy,
      async () => {
        await this.metadata.ensure(topics, signal)
        for (const name of topics) {
          const info = this.metadata.topic(name)
          if (info === undefined) {
            this.metadata.markStale()
            throw KafkaError.fromCode(3, { topic: name, apiName: 'Metadata' })
          }
          if (info.errorCode !== 0 || info.partitions.length === 0) {
            this.metadata.markStale()
            throw KafkaError.fromCode(info.errorCode === 0 ? 5 : info.errorCode, { topic: name, apiName: 'Metadata' })
          }
        }
      },
      { what: `metadata for ${topics.join(', ')}`, signal },
    )
  }

  /** Closes this core's connections gracefully within `timeoutMs` (a `Kafka` instance's parts stay open). */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.pool.close(timeoutMs)
    } finally {
      this.#onClose?.()
    }
  }

  async #send<Req, Res>(
    connection: ReadyConnection['connection'],
    version: number,
    api: ApiDefinition<Req, Res>,
    body: BodyFor<Req>,
    options: ClientRequestOptions,
  ): Promise<Res> {
    const input = typeof body === 'function' ? (body as (v: number) => Input<Req>)(version) : body
    try {
      return await connection.send(api, version, input, { signal: options.signal, timeoutMs: options.timeoutMs })
    } catch (err) {
      this.#noteFailure(err)
      throw err
    }
  }

  #noteFailure(err: unknown): void {
    if (
      (err as { staleMetadata?: unknown }).staleMetadata === true ||
      (isRetriable(err) && err instanceof ConnectionError)
    ) {
      this.metadata.markStale()
    }
  }

  #fetchMetadata(
    broker: BrokerEndpoint,
    topics: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<MetadataResponse> {
    const autoCreate = this.allowAutoTopicCreation
    return this.requestTo(
      broker,
      Metadata,
      (version) => ({
        topics: topics.map((name) => ({ name })),
        // The field exists from v4; before it, brokers always auto-create (we ask for v4+ then).
        ...(version >= 4 ? { allowAutoTopicCreation: autoCreate } : {}),
      }),
      { signal, workload: 'admin', versions: autoCreate ? undefined : { min: 4 } },
    )
  }
}

/** Parses 'host:port' entries (IPv6 as '[::1]:9092'); the port defaults to 9092. */
export function parseBrokers(brokers: readonly string[] | string | undefined): BrokerEndpoint[] {
  const list = typeof brokers === 'string' ? brokers.split(',') : brokers
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError('brokers', 'must list at least one "host:port"')
  return list.map((raw, i) => {
    if (typeof raw !== 'string') throw new ConfigError('brokers', `entry ${i} is not a string`)
    const entry = raw.trim()
    const match = /^(?:\[([^\]]+)\]|([^:\s]+))(?::(\d+))?$/.exec(entry)
    if (match === null) throw new ConfigError('brokers', `"${raw}" is not "host:port"`)
    const host = match[1] ?? match[2]!
    const port = match[3] === undefined ? 9092 : Number(match[3])
    if (!(port > 0 && port < 65536)) throw new ConfigError('brokers', `"${raw}" has an invalid port`)
    return { nodeId: -1 - i, host, port }
  })
}

function positiveMs(value: number | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(option, `must be a positive number of milliseconds, got ${String(value)}`)
  }
  return value
}
