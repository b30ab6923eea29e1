// One broker node: its loopback listener, its connections, and request dispatch.
//
// Dispatch mirrors Kafka's SocketServer + KafkaApis:
// - A request for an API this broker does not serve, or at a version outside the served range,
//   closes the connection (SocketServer.parseRequestHeader throws InvalidRequestException
//   "Received request api key ... which is not enabled"). ApiVersions is the exception
//   (KIP-511): any version is accepted, and an unknown one is answered with a v0 body carrying
//   UNSUPPORTED_VERSION and the ApiVersions range.
// - A request body that does not parse closes the connection too (RequestContext.parseRequest);
//   bytes after a whole body are ignored, as Kafka does (readRequestFrame says where).
// - An unexpected failure inside a handler is answered with the request's error response and
//   UNKNOWN_SERVER_ERROR (KafkaApis.handleError), never by crashing the process.

import { createServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import type { ApiDefinition } from '../protocol/api.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { readRequestFrame, writeResponseFrame } from '../protocol/frame.js'
import { ApiVersions } from '../protocol/messages/api-versions.js'
import type { RequestHeader } from '../protocol/messages/request-header.js'
import { SaslAuthenticate } from '../protocol/messages/sasl-authenticate.js'
import { SaslHandshake } from '../protocol/messages/sasl-handshake.js'
import { Writer } from '../protocol/writer.js'
import type { Cluster } from './cluster.js'
import { Connection, type Response } from './connection.js'
import { FetchSessionCache } from './fetch-sessions.js'
import { HANDLERS } from './handlers/index.js'

/** ConsumerGroupHeartbeat and ConsumerGroupDescribe: served only when the consumer protocol is enabled. */
const CONSUMER_GROUP_APIS = new Set([68, 69])
import { evaluateRawToken, saslSession } from './handlers/sasl.js'
import type { AnyHandler, RequestContext } from './handlers/types.js'
import type { Log } from './logger.js'
import type { MetadataView } from './metadata-view.js'
import { BrokerMetrics, type BrokerMetricsSnapshot } from './metrics.js'

export class BrokerNode {
  running = false
  /** Fault: requests are read and never answered; connections stay open. */
  blackholed = false
  readonly connections = new Set<Connection>()
  readonly fetchSessions = new FetchSessionCache()
  /** Fault: Metadata is answered from this frozen view (faults.lagMetadata) instead of the cluster's. */
  metadataView: MetadataView | undefined
  /** Meters and histograms recorded as requests are handled (metrics.ts). */
  readonly metricsRecorder: BrokerMetrics
  private server: Server | undefined
  private readonly log: Log

  constructor(
    readonly cluster: Cluster,
    readonly id: number,
    readonly host: string,
    public port: number,
    readonly rack: string | null,
  ) {
    this.log = cluster.log.child(`broker ${id}`)
    this.metricsRecorder = new BrokerMetrics(id)
  }

  /** What this broker reports, with Kafka's metric names; a stopped broker reports no gauges. */
  metrics(): BrokerMetricsSnapshot {
    const options = this.cluster.options
    // Kafka's security protocol names: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL.
    const listener = `${options.sasl !== undefined ? 'SASL_' : ''}${options.tls !== undefined ? 'SSL' : 'PLAINTEXT'}`
    return this.metricsRecorder.snapshot({
      running: this.running,
      isController: this.cluster.controllerId === this.id,
      listener,
      connectionCount: this.connections.size,
      partitions: () => this.cluster.partitions(),
    })
  }

  get address(): string {
    return `${this.host}:${this.port}`
  }

  /** Starts listening; the port chosen on the first start is kept for restarts. */
  async start(): Promise<void> {
    if (this.running) return
    const tlsOptions = this.cluster.options.tls
    const server: Server =
      tlsOptions === undefined
        ? createServer((socket) => this.accept(socket))
        : createTlsServer(tlsOptions, (socket) => this.accept(socket))
    // A TLS handshake that fails never reaches accept(); it must not crash the process.
    server.on('tlsClientError', (err: Error) => this.log.debug(`TLS handshake failed: ${err.message}`))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    server.on('error', (err) => this.log.error(`listener error: ${err.message}`))
    const address = server.address()
    if (address !== null && typeof address === 'object') this.port = address.port
    this.server = server
    this.running = true
    this.log.info(`listening on ${this.address}`)
  }

  /** Stops listening and closes every connection (a crashed or stopped broker). */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    const server = this.server
    this.server = undefined
    this.dropConnections('broker stopped')
    this.fetchSessions.clear()
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Closes every client connection (the listener stays up). */
  dropConnections(reason = 'connections dropped'): void {
    for (const c of [...this.connections]) c.close(reason)
  }

  private accept(socket: Socket): void {
    if (!this.running || !this.cluster.ready) {
      socket.destroy()
      return
    }
    const conn = new Connection(
      socket,
      this.cluster.options.maxRequestBytes,
      (frame, c) => this.onFrame(frame, c),
      this.log,
      (c) => this.connections.delete(c),
    )
    this.connections.add(conn)
  }

  private async onFrame(frame: Buffer, conn: Connection): Promise<Response> {
    if (this.blackholed) return this.never(conn)
    if (this.cluster.options.sasl !== undefined) {
      const session = saslSession(conn)
      if (!session.authenticated) {
        if (session.raw) return evaluateRawToken(session, frame)
        // Before authentication only ApiVersions and the SASL requests are allowed (SaslServerAuthenticator).
        const key = frame.length >= 2 ? frame.readInt16BE(0) : -1
        if (
          key !== ApiVersions.apiKey &&
          key !== SaslHandshake.apiKey &&
          !(key === SaslAuthenticate.apiKey && session.exchange !== undefined)
        ) {
          throw new Error(`Unexpected Kafka request of type ${key} during SASL handshake`)
        }
      }
    }
    // RequestMetrics TotalTimeMs: from reading the request to its response being ready.
    const started = performance.now()
    const { header, api, body, trailingBytes } = readRequestFrame(frame)
    const version = header.requestApiVersion
    if (trailingBytes > 0)
      this.log.debug(`ignored ${trailingBytes} bytes after a ${api?.name} v${version} request body`)
    const handler = this.served(header.requestApiKey)
    if (header.requestApiKey === ApiVersions.apiKey && body === undefined) {
      // KIP-511: an ApiVersions version we do not know gets a v0 response with the supported range.
      return encode(ApiVersions, 0, header.correlationId, {
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        apiKeys: [
          { apiKey: ApiVersions.apiKey, minVersion: ApiVersions.minVersion, maxVersion: ApiVersions.maxStableVersion },
        ],
      })
    }
    if (api === undefined || handler === undefined || body === undefined) {
      throw new Error(`Received request api key ${header.requestApiKey} with version ${version} which is not enabled`)
    }
    if (version < (handler.minVersion ?? api.minVersion) || version > api.maxStableVersion) {
      throw new Error(`Received request api key ${api.name} with version ${version} which is not enabled`)
    }
    try {
      return await this.handle(conn, api, handler, header, version, body)
    } finally {
      // RequestMetrics: Fetch counts as Fetch and as FetchConsumer (every fetcher here is a consumer).
      const ms = performance.now() - started
      this.metricsRecorder.request(api.name, version, ms)
      if (api.apiKey === 1) this.metricsRecorder.request('FetchConsumer', version, ms)
    }
  }

  /** One request whose API and version are served: faults, the handler, persistence, the response. */
  private async handle(
    conn: Connection,
    api: ApiDefinition<unknown, unknown>,
    handler: AnyHandler,
    header: RequestHeader,
    version: number,
    body: unknown,
  ): Promise<Response> {
    // stop() closes every connection, so the connection's signal also covers a broker stop.
    const signal = conn.signal
    const ctx: RequestContext = { cluster: this.cluster, broker: this, connection: conn, header, version, signal }
    const fault = this.cluster.faults.take(this.id, api.apiKey, api.name)
    this.cluster.security.counted(this.id)
    if (fault.delayMs > 0) await sleep(fault.delayMs, signal)
    if (signal.aborted) return null
    if (this.blackholed) return this.never(conn)
    let result: unknown
    if (fault.errorCode !== undefined) {
      this.log.debug(`injected ${fault.errorCode} for ${api.name}`)
      result = handler.errorResponse(ctx, body, fault.errorCode)
    } else {
      try {
        result = await handler.handle(ctx, body)
      } catch (err) {
        this.log.error(
          `${api.name} v${version} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        )
        result = handler.errorResponse(ctx, body, ErrorCode.UNKNOWN_SERVER_ERROR)
      }
    }
    // With a data dir, what the response acknowledges is on disk first (throws: no response).
    this.cluster.persist(api.apiKey)
    if (fault.dropResponse === true) {
      // Applied, answer lost: the client only sees its connection go away.
      conn.close(`fault: dropResponse after ${api.name} was applied`)
      return null
    }
    if (result === null || signal.aborted) return null
    if (this.blackholed) return this.never(conn)
    try {
      return encode(api, version, header.correlationId, result)
    } catch (err) {
      // A response that does not encode at the request's version is a broker bug.
      this.log.error(
        `${api.name} v${version} response does not encode: ${err instanceof Error ? err.message : String(err)}`,
      )
      throw err
    }
  }

  /** The handler of an API this broker serves (the consumer group APIs only with `groupProtocols` 'consumer'). */
  private served(apiKey: number) {
    if (CONSUMER_GROUP_APIS.has(apiKey) && !this.cluster.options.groupProtocols.includes('consumer')) return undefined
    return HANDLERS.get(apiKey)
  }

  /** The API table ApiVersions advertises: every served API, lowest to highest stable version. */
  advertisedApis(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...HANDLERS.values()]
      .filter((h) => this.served(h.api.apiKey) !== undefined)
      .map((h) => ({
        apiKey: h.api.apiKey,
        minVersion: h.advertisedMinVersion ?? h.minVersion ?? h.api.minVersion,
        maxVersion: h.api.maxStableVersion,
      }))
      .sort((a, b) => a.apiKey - b.apiKey)
  }

  /** A response that never comes: resolves (with nothing to send) only when the connection closes. */
  private never(conn: Connection): Promise<null> {
    return new Promise((resolve) => {
      if (conn.closed) return resolve(null)
      conn.signal.addEventListener('abort', () => resolve(null), { once: true })
    })
  }
}

/**
 * Byte fields (a Fetch response's stored batches) at least this long go to the socket from where
 * they are, not copied into the response buffer (see Writer.spliceMin).
 */
const SPLICE_MIN = 8 * 1024

function encode(
  api: ApiDefinition<unknown, unknown>,
  version: number,
  correlationId: number,
  body: unknown,
): Uint8Array[] {
  const w = new Writer(256)
  w.spliceMin = SPLICE_MIN
  writeResponseFrame(w, api, version, correlationId, body as never)
  return w.chunks()
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
