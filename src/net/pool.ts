// Connections per broker, one per workload (produce, fetch, group, admin), opened lazily on first
// use. Separate workloads never share a socket, so a Fetch long poll or a JoinGroup that waits for
// a rebalance never delays a Produce or a Metadata request behind it (franz-go keeps separate
// produce/fetch/group/slow/normal connections for the same reason; kafkajs shares one and stalls).
//
// Hygiene, as in Java's NetworkClient/Selector: after a failed dial a broker is not dialled again
// before a backoff (reconnect.backoff.ms 50 doubling to reconnect.backoff.max.ms 1000, ±20%
// jitter), so a down broker is not hammered in a tight loop; and a connection with nothing in
// flight for connectionsMaxIdleMs (Java's connections.max.idle.ms, 9 min) is closed by us before
// the broker's own 10 min reaper cuts it, possibly just as a request goes out.

import { Connection, type ConnectionOptions, type NetObserver, type TlsConfig } from './connection.js'
import { ClosedError, abortErrorFor } from './errors.js'
import { authenticate, type SaslConfig } from './sasl.js'
import { negotiateApiVersions, type ApiVersionTable, type VersionTableCache } from './versions.js'
import { publish } from '../telemetry/channels.js'

export type Workload = 'produce' | 'fetch' | 'group' | 'admin'

export interface BrokerEndpoint {
  /** Node id, or a negative id for a bootstrap address whose id is not known yet. */
  nodeId: number
  host: string
  port: number
}

export interface PoolOptions {
  clientId: string | null
  tls?: TlsConfig | undefined
  sasl?: SaslConfig | undefined
  connectTimeoutMs?: number | undefined
  requestTimeoutMs?: number | undefined
  /** Requests in flight per connection, per workload (default 5 each). */
  maxInFlight?: Partial<Record<Workload, number>> | undefined
  socketFactory?: ConnectionOptions['socketFactory'] | undefined
  /** Close connections with nothing in flight for this long (ms); default 540 000 (Java's). */
  connectionsMaxIdleMs?: number | undefined
  /**
   * Version tables shared by the pools of one `Kafka` instance's roles (a broker is asked
   * ApiVersions once, not once per role and workload); an address is forgotten when a dial to it
   * fails or one of its connections breaks. Unset: every connection negotiates (standalone roles).
   */
  versionCache?: VersionTableCache | undefined
}

/** A connection that has negotiated versions (and authenticated), with its version table. */
export interface ReadyConnection {
  connection: Connection
  versions: ApiVersionTable
}

interface Entry {
  ready: ReadyConnection | null
  dialing: Promise<ReadyConnection> | null
}

/** Replace a SASL session this long before the broker would cut it (KIP-368). */
const REAUTH_MARGIN_MS = 10_000

/** Java's reconnect.backoff.ms and reconnect.backoff.max.ms, and its ±20% jitter. */
const RECONNECT_BACKOFF_MS = 50
const RECONNECT_BACKOFF_MAX_MS = 1000
const RECONNECT_JITTER = 0.2

/** Java's client-side connections.max.idle.ms (brokers use 10 min, so clients close first). */
export const DEFAULT_CONNECTIONS_MAX_IDLE_MS = 540_000

/** The wait before the next dial after `failures` consecutive failed ones. */
export function reconnectBackoff(failures: number, random = Math.random): number {
  const exp = Math.min(RECONNECT_BACKOFF_MAX_MS, RECONNECT_BACKOFF_MS * 2 ** Math.min(failures - 1, 20))
  return Math.min(RECONNECT_BACKOFF_MAX_MS, exp * (1 - RECONNECT_JITTER + 2 * RECONNECT_JITTER * random()))
}

export class ConnectionPool {
  readonly #options: PoolOptions
  readonly #entries = new Map<string, Entry>()
  /** Per broker address: consecutive failed dials, and when the next dial may start. */
  readonly #dialFailures = new Map<string, { failures: number; notBefore: number }>()
  readonly connectionsMaxIdleMs: number
  /** Dials sleeping out their backoff: ended at once by close/destroy. */
  readonly #backoffs = new Set<() => void>()
  #idleSweep: ReturnType<typeof setInterval> | null = null
  #closed = false
  /** Dials made and their total duration, for stats. */
  dials = 0
  dialTimeMs = 0
  /** Called after every successful dial with its duration (ms). */
  onDial: ((ms: number) => void) | undefined
  /** Given to every connection dialled from now on (request and response sizes, for metrics). */
  observer: NetObserver | undefined
  /**
   * Called when a dial to a broker fails or one of its connections breaks (a timeout, a reset,
   * garbage), whichever role's request saw it; the client asks that broker for metadata last.
   */
  onBrokerFailure: ((broker: BrokerEndpoint, error: Error) => void) | undefined

  constructor(options: PoolOptions) {
    this.#options = options
    this.connectionsMaxIdleMs = options.connectionsMaxIdleMs ?? DEFAULT_CONNECTIONS_MAX_IDLE_MS
  }

  /** Requests written on the pool's ready connections and not answered yet (Java's requests-in-flight). */
  get inFlight(): number {
    let n = 0
    for (const e of this.#entries.values()) n += e.ready?.connection.inFlight ?? 0
    return n
  }

  /** A ready connection to `broker` for `workload`, dialling one if there is none (or it broke). */
  get(broker: BrokerEndpoint, workload: Workload, signal?: AbortSignal): Promise<ReadyConnection> {
    if (this.#closed) return Promise.reject(new ClosedError('connection pool'))
    if (signal?.aborted) return Promise.reject(abortErrorFor(signal, 'connect'))
    const key = `${broker.host}:${broker.port}/${workload}`
    let entry = this.#entries.get(key)
    if (entry === undefined) this.#entries.set(key, (entry = { ready: null, dialing: null }))

    const ready = entry.ready
    if (ready !== null) {
      const connection = ready.connection
      if (connection.isReady && connection.sessionExpiresAt - Date.now() > REAUTH_MARGIN_MS)
        return Promise.resolve(ready)
      entry.ready = null
      // Let an expiring session finish what it has in flight; new requests go to a new connection.
      if (connection.isReady) void connection.close().catch(() => {})
    }
    if (entry.dialing === null) {
      const dialing = this.#dial(broker, workload)
      entry.dialing = dialing
      const owner = entry
      dialing.then(
        (result) => {
          if (owner.dialing !== dialing) return
          owner.dialing = null
          if (this.#closed) result.connection.destroy()
          else {
            owner.ready = result
            this.#startIdleSweep()
            // A graceful close (ours, idle or re-authentication) passes null: not a failure.
            result.connection.onClose((error) => {
              publish('disconnect', () => ({ clientId: this.#options.clientId, broker: brokerOf(broker), error }))
              if (error !== null && !this.#closed) this.#brokerFailed(broker, error)
            })
          }
        },
        (error: unknown) => {
          if (owner.dialing === dialing) owner.dialing = null
          if (!this.#closed) this.#brokerFailed(broker, error instanceof Error ? error : new Error(String(error)))
        },
      )
    }
    // The dial is shared, so one caller's abort must not cancel it for the others.
    return raceAbort(entry.dialing, signal)
  }

  #brokerFailed(broker: BrokerEndpoint, error: Error): void {
    this.#options.versionCache?.forget(`${broker.host}:${broker.port}`)
    this.onBrokerFailure?.(broker, error)
  }

  /** Every open connection, for callers that want to look (tests, stats). */
  connections(): Connection[] {
    const out: Connection[] = []
    for (const entry of this.#entries.values()) if (entry.ready !== null) out.push(entry.ready.connection)
    return out
  }

  /** Drops every connection to a broker address (e.g. after it left the cluster). */
  closeBroker(host: string, port: number): void {
    const prefix = `${host}:${port}/`
    for (const [key, entry] of this.#entries) {
      if (!key.startsWith(prefix)) continue
      entry.ready?.connection.destroy()
      this.#entries.delete(key)
    }
  }

  /** Closes the connections nothing has used for connectionsMaxIdleMs (run by a timer). */
  closeIdle(now = Date.now()): void {
    for (const entry of this.#entries.values()) {
      const c = entry.ready?.connection
      if (c === undefined || c.inFlight > 0 || c.queued > 0 || now - c.lastUsedAt < this.connectionsMaxIdleMs) continue
      entry.ready = null
      void c.close().catch(() => {})
    }
  }

  #startIdleSweep(): void {
    if (this.#idleSweep !== null || this.#closed) return
    // A quarter of the limit: a connection is closed at most 25% after it became idle too long.
    const period = Math.max(10, Math.min(60_000, this.connectionsMaxIdleMs / 4))
    this.#idleSweep = setInterval(() => this.closeIdle(), period)
    this.#idleSweep.unref()
  }

  #stopIdleSweep(): void {
    if (this.#idleSweep !== null) clearInterval(this.#idleSweep)
    this.#idleSweep = null
    for (const done of [...this.#backoffs]) done()
  }

  /** Closes every connection gracefully (pending requests finish first), within `timeoutMs`. */
  async close(timeoutMs?: number): Promise<void> {
    this.#closed = true
    this.#stopIdleSweep()
    const closing: Promise<void>[] = []
    for (const entry of this.#entries.values()) {
      if (entry.ready !== null) closing.push(entry.ready.connection.close(timeoutMs))
      if (entry.dialing !== null)
        closing.push(
          entry.dialing.then(
            (r) => r.connection.destroy(),
            () => {},
          ),
        )
    }
    this.#entries.clear()
    await Promise.allSettled(closing)
  }

  /** Closes every connection at once; pending requests fail. */
  destroy(error?: Error): void {
    this.#closed = true
    this.#stopIdleSweep()
    for (const entry of this.#entries.values()) entry.ready?.connection.destroy(error)
    this.#entries.clear()
  }

  async #dial(broker: BrokerEndpoint, workload: Workload): Promise<ReadyConnection> {
    const address = `${broker.host}:${broker.port}`
    const wait = (this.#dialFailures.get(address)?.notBefore ?? 0) - Date.now()
    if (wait > 0) await this.#backoff(wait)
    if (this.#closed) throw new ClosedError('connection pool')
    try {
      const ready = await this.#connect(broker, workload)
      this.#dialFailures.delete(address)
      return ready
    } catch (err) {
      const failures = (this.#dialFailures.get(address)?.failures ?? 0) + 1
      this.#dialFailures.set(address, { failures, notBefore: Date.now() + reconnectBackoff(failures) })
      throw err
    }
  }

  /** Sleeps out a reconnect backoff; closing the pool ends it at once. */
  #backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#backoffs.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#backoffs.add(done)
    })
  }

  async #connect(broker: BrokerEndpoint, workload: Workload): Promise<ReadyConnection> {
    const options = this.#options
    const started = Date.now()
    const connectionOptions: ConnectionOptions = { host: broker.host, port: broker.port, clientId: options.clientId }
    if (broker.nodeId >= 0) connectionOptions.nodeId = broker.nodeId
    if (options.tls !== undefined) connectionOptions.tls = options.tls
    if (options.connectTimeoutMs !== undefined) connectionOptions.connectTimeoutMs = options.connectTimeoutMs
    if (options.requestTimeoutMs !== undefined) connectionOptions.requestTimeoutMs = options.requestTimeoutMs
    const maxInFlight = options.maxInFlight?.[workload]
    if (maxInFlight !== undefined) connectionOptions.maxInFlight = maxInFlight
    if (options.socketFactory !== undefined) connectionOptions.socketFactory = options.socketFactory
    if (this.observer !== undefined) connectionOptions.observer = this.observer

    const connection = await Connection.connect(connectionOptions)
    try {
      const versions =
        options.versionCache === undefined
          ? await negotiateApiVersions(connection)
          : await options.versionCache.tableFor(`${broker.host}:${broker.port}`, connection)
      if (options.sasl !== undefined) await authenticate(connection, versions, options.sasl)
      const ms = Date.now() - started
      this.dials++
      this.dialTimeMs += ms
      this.onDial?.(ms)
      publish('connect', () => ({ clientId: options.clientId, broker: brokerOf(broker), durationMs: ms }))
      return { connection, versions }
    } catch (err) {
      connection.destroy()
      throw err
    }
  }
}

/** A broker as the diagnostics channels name it. */
function brokerOf(b: BrokerEndpoint): { nodeId: number; host: string; port: number } {
  return { nodeId: b.nodeId, host: b.host, port: b.port }
}

/** `promise`, or an AbortError as soon as `signal` fires (the promise itself goes on). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, what = 'operation'): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(abortErrorFor(signal, what))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortErrorFor(signal, what))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
