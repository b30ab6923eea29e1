// One TCP (or TLS) connection to one broker: size-prefixed framing, correlation ids, pipelining
// with a cap on requests in flight, writes corked per tick, deadlines on a shared coarse timer
// wheel, an AbortSignal per request, and requests that expect no response (Produce acks=0).
//
// Lifecycle: connecting → ready → closing (close(): no new requests, drain the pending ones,
// then FIN) → closed; destroy(err) goes straight to closed and fails everything still pending
// with a retriable ConnectionError, so the one retry owner above can send it again elsewhere.

import * as net from 'node:net'
import * as tls from 'node:tls'
import { KafkaTsError, ProtocolDecodeError } from '../errors.js'
import type { ApiDefinition, Input } from '../protocol/api.js'
import { peekCorrelationId, readResponseFrame, writeRequestFrame } from '../protocol/frame.js'
import { Writer } from '../protocol/writer.js'
import { ClosedError, ConnectionError, RequestTimeoutError, abortErrorFor, type BrokerAddress } from './errors.js'
import { clientThrottleMs } from './throttle.js'
import { requestTimers, type TimerWheel, type WheelEntry } from './timer-wheel.js'
import type { ApiVersionTable } from './versions.js'
import { channels } from '../telemetry/channels.js'

/** TLS options: `true` for defaults (verify against the system CAs), or node:tls options (ca, cert, key for mTLS, ...). */
export type TlsConfig = boolean | tls.ConnectionOptions

export interface ConnectionOptions {
  host: string
  port: number
  /** The broker's node id, for error messages; unset for bootstrap connections. */
  nodeId?: number
  /** Sent in every request header (Java's client.id). */
  clientId: string | null
  tls?: TlsConfig
  /** Time allowed for TCP connect plus the TLS handshake (ms). */
  connectTimeoutMs?: number
  /** Default time allowed for a response, from the moment the request is queued (ms). */
  requestTimeoutMs?: number
  /** Requests written and awaiting a response before further ones queue (Java's max.in.flight.requests.per.connection). */
  maxInFlight?: number
  /** Largest response frame accepted; a larger size prefix means a broken stream. */
  maxFrameBytes?: number
  /** A seam for tests and custom transports: returns a socket that is connecting (or connected). */
  socketFactory?: (options: ConnectionOptions) => net.Socket
  /** The timer wheel for deadlines (the process-wide one by default). */
  timers?: TimerWheel
  /** First correlation id (a test seam for the wrap at 2^31). */
  firstCorrelationId?: number
  /** Told the size of every request frame written and response frame read (the client's metrics). */
  observer?: NetObserver
}

/** Sizes include the 4-byte size prefix, as Java's outgoing-byte-rate and incoming-byte-rate count. */
export interface NetObserver {
  requestSent(bytes: number): void
  responseReceived(bytes: number): void
}

export interface RequestOptions {
  signal?: AbortSignal | undefined
  /** Overrides the connection's request timeout, e.g. a long-poll Fetch adds its max wait. */
  timeoutMs?: number | undefined
}

export const ConnectionState = {
  Connecting: 'connecting',
  Ready: 'ready',
  Closing: 'closing',
  Closed: 'closed',
} as const
export type ConnectionStateValue = (typeof ConnectionState)[keyof typeof ConnectionState]

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxInFlight: 5,
  maxFrameBytes: 256 * 1024 * 1024,
}

/** Writes are corked until the end of the tick, or sent at once past this many bytes (nats.js uses 32 KiB). */
const FLUSH_THRESHOLD = 64 * 1024

/**
 * Byte fields (record batches) at least this long are written to the socket from where they are
 * (writev) rather than copied into the request buffer; shorter ones are cheaper to copy.
 */
const SPLICE_MIN = 8 * 1024

type Mode = 'decode' | 'raw' | 'none'

/** Any API: the request and response types do not matter once the request is encoded. */
type AnyApi = ApiDefinition<never, unknown>

interface Pending {
  api: AnyApi
  version: number
  body: unknown
  mode: Mode
  resolve: (value: unknown) => void
  reject: (error: Error) => void
  timeoutMs: number
  timer: WheelEntry | null
  signal: AbortSignal | undefined
  onAbort: (() => void) | null
  /** queued: waiting for a slot; sent: written, awaiting its response; done: settled (an abandoned one may still hold its slot). */
  state: 'queued' | 'sent' | 'done'
  startedAt: number
}

let connectionIds = 0

export class Connection {
  readonly id = ++connectionIds
  readonly host: string
  readonly port: number
  readonly nodeId: number | undefined
  readonly clientId: string | null
  readonly requestTimeoutMs: number
  readonly maxInFlight: number
  readonly #maxFrameBytes: number
  readonly #timers: TimerWheel
  readonly #socket: net.Socket
  readonly #observer: NetObserver | undefined

  #state: ConnectionStateValue = ConnectionState.Connecting
  #closeError: Error | null = null
  #closeListeners: ((error: Error | null) => void)[] = []
  #closed: Promise<void>
  #resolveClosed!: () => void

  #nextCorrelationId = 0
  readonly #queue: Pending[] = []
  #queueHead = 0
  /** Requests written and awaiting a response, by correlation id (insertion order = wire order). */
  readonly #inFlight = new Map<number, Pending>()
  /** acks=0 requests handed to the socket whose write has not completed; they hold a slot too. */
  #unflushedNoResponse = 0

  #out = Connection.#newOut(4096)
  /** acks=0 requests encoded into #out, resolved when the socket has written them. */
  #outNoResponse: Pending[] = []
  #flushScheduled = false
  /** close() drained everything and sent FIN. */
  #ending = false
  #socketWritable = true

  // Framing: chunks received but not yet a whole frame, and the size of the frame being read.
  #chunks: Buffer[] = []
  #buffered = 0
  #frameSize = -1

  /** Set by SASL (KIP-368): when the broker will drop this connection; the pool replaces it before. */
  sessionExpiresAt = Infinity
  /** Filled in by version negotiation, for callers that want to pick a version from the connection. */
  apiVersions: ApiVersionTable | undefined = undefined
  lastUsedAt = Date.now()
  /** KIP-219: nothing is written before this time (ms since the epoch) after a throttled response. */
  #throttledUntil = 0
  #unthrottle: ReturnType<typeof setTimeout> | null = null

  private constructor(options: ConnectionOptions, socket: net.Socket) {
    this.host = options.host
    this.port = options.port
    this.nodeId = options.nodeId
    this.clientId = options.clientId
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs
    this.maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULTS.maxInFlight)
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULTS.maxFrameBytes
    this.#timers = options.timers ?? requestTimers
    this.#observer = options.observer
    this.#socket = socket
    this.#nextCorrelationId = (options.firstCorrelationId ?? 0) & 0x7fffffff
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve))
  }

  /** Opens a connection; rejects with a ConnectionError (or AbortError) when it cannot. */
  static #newOut(size: number): Writer {
    const out = new Writer(size)
    out.spliceMin = SPLICE_MIN
    return out
  }

  static connect(options: ConnectionOptions, signal?: AbortSignal): Promise<Connection> {
    const address: BrokerAddress = { host: options.host, port: options.port }
    if (options.nodeId !== undefined) address.nodeId = options.nodeId
    if (signal?.aborted) return Promise.reject(abortErrorFor(signal, 'connect'))

    let socket: net.Socket
    try {
      socket = createSocket(options)
    } catch (err) {
      return Promise.reject(
        new ConnectionError(`cannot open a socket: ${messageOf(err)}`, { broker: address, cause: err }),
      )
    }
    const connection = new Connection(options, socket)
    const timeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs
    const readyEvent = options.tls ? 'secureConnect' : 'connect'

    return new Promise<Connection>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer)
        socket.off(readyEvent, onReady)
        socket.off('error', onError)
        socket.off('close', onClose)
        signal?.removeEventListener('abort', onAbort)
      }
      const fail = (error: Error): void => {
        cleanup()
        socket.destroy()
        reject(error)
      }
      const onReady = (): void => {
        cleanup()
        connection.#attach()
        resolve(connection)
      }
      const onError = (err: Error): void => {
        // A certificate the client rejects will not become valid by retrying; a refused or
        // reset connection may (the broker restarting).
        const retriable = !isTlsVerificationError(err)
        fail(new ConnectionError(`cannot connect: ${err.message}`, { broker: address, cause: err, retriable }))
      }
      const onClose = (): void => fail(new ConnectionError('connection closed while connecting', { broker: address }))
      const onAbort = (): void => fail(abortErrorFor(signal!, 'connect'))
      // One timer per connection attempt (rare), not per request.
      const timer = setTimeout(
        () => fail(new ConnectionError(`connect timed out after ${timeoutMs} ms`, { broker: address })),
        timeoutMs,
      )
      socket.once(readyEvent, onReady)
      socket.once('error', onError)
      socket.once('close', onClose)
      signal?.addEventListener('abort', onAbort, { once: true })
      // A factory may hand over a socket that is already connected.
      if (!socket.connecting && !socket.destroyed && readyEvent === 'connect') queueMicrotask(onReady)
    })
  }

  get state(): ConnectionStateValue {
    return this.#state
  }

  get address(): BrokerAddress {
    const a: BrokerAddress = { host: this.host, port: this.port }
    if (this.nodeId !== undefined) a.nodeId = this.nodeId
    return a
  }

  /** True while the connection takes new requests. */
  get isReady(): boolean {
    return this.#state === ConnectionState.Ready
  }

  /** Requests written and awaiting a response (or a socket write, for acks=0). */
  get inFlight(): number {
    return this.#inFlight.size + this.#unflushedNoResponse
  }

  /** Requests waiting for an in-flight slot. */
  get queued(): number {
    return this.#queue.length - this.#queueHead
  }

  /** When the broker's last throttle time ends (ms since the epoch); 0 when never throttled. */
  get throttledUntil(): number {
    return this.#throttledUntil
  }

  /** Resolves once the socket is closed, whatever the reason. */
  get closed(): Promise<void> {
    return this.#closed
  }

  /** Calls `listener` once when the connection closes (with the error for a destroy, else null). */
  onClose(listener: (error: Error | null) => void): void {
    if (this.#state === ConnectionState.Closed) queueMicrotask(() => listener(this.#closeError))
    else this.#closeListeners.push(listener)
  }

  /** Sends a request and resolves with the decoded response body. */
  send<Req, Res>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: Input<Req>,
    options?: RequestOptions,
  ): Promise<Res> {
    return this.#enqueue(api as AnyApi, version, body, 'decode', options) as Promise<Res>
  }

  /**
   * Sends a request and resolves with the raw response frame (header included, size prefix not),
   * for callers that decode it themselves (ApiVersions falls back to v0 decoding, KIP-511). The
   * frame is a view into the receive buffer, not a copy.
   */
  sendRaw<Req>(
    api: ApiDefinition<Req, unknown>,
    version: number,
    body: Input<Req>,
    options?: RequestOptions,
  ): Promise<Buffer> {
    return this.#enqueue(api as AnyApi, version, body, 'raw', options) as Promise<Buffer>
  }

  /**
   * Sends a request the broker will not answer (Produce with acks=0); resolves once the socket
   * has written it.
   */
  sendNoResponse<Req>(
    api: ApiDefinition<Req, unknown>,
    version: number,
    body: Input<Req>,
    options?: RequestOptions,
  ): Promise<void> {
    return this.#enqueue(api as AnyApi, version, body, 'none', options) as Promise<void>
  }

  /**
   * Stops taking requests, waits for the pending ones (each bounded by its timeout, and the
   * whole by `timeoutMs`), then closes the socket.
   */
  async close(timeoutMs = this.requestTimeoutMs): Promise<void> {
    if (this.#state === ConnectionState.Closed) return
    if (this.#state !== ConnectionState.Closing) {
      this.#state = ConnectionState.Closing
      this.#maybeFinishClosing()
    }
    const timer = setTimeout(
      () => this.destroy(new ConnectionError('close timed out', { broker: this.address })),
      timeoutMs,
    )
    timer.unref()
    try {
      await this.#closed
    } finally {
      clearTimeout(timer)
    }
  }

  /** Closes at once; everything pending fails with `error` (a retriable ConnectionError by default). */
  destroy(error?: Error): void {
    this.#teardown(error ?? null)
  }

  #teardown(error: Error | null): void {
    if (this.#state === ConnectionState.Closed) return
    this.#state = ConnectionState.Closed
    this.#closeError = error
    if (this.#unthrottle !== null) clearTimeout(this.#unthrottle)
    this.#socket.destroy()
    this.#failAll(error ?? new ConnectionError('connection closed', { broker: this.address }))
    this.#chunks = []
    const listeners = this.#closeListeners
    this.#closeListeners = []
    for (const listener of listeners) listener(error)
    this.#resolveClosed()
  }

  // --- sending ----------------------------------------------------------------------------------

  #enqueue(api: AnyApi, version: number, body: unknown, mode: Mode, options?: RequestOptions): Promise<unknown> {
    if (this.#state !== ConnectionState.Ready) {
      return Promise.reject(
        this.#state === ConnectionState.Closed || this.#state === ConnectionState.Closing
          ? new ConnectionError(`connection is ${this.#state}`, { broker: this.address })
          : new ClosedError('connection'),
      )
    }
    const signal = options?.signal
    if (signal?.aborted) return Promise.reject(abortErrorFor(signal, api.name))

    return new Promise((resolve, reject) => {
      const timeoutMs = options?.timeoutMs ?? this.requestTimeoutMs
      const request: Pending = {
        api,
        version,
        body,
        mode,
        resolve,
        reject,
        timeoutMs,
        timer: null,
        signal,
        onAbort: null,
        state: 'queued',
        startedAt: Date.now(),
      }
      request.timer = this.#timers.schedule(request.startedAt + timeoutMs, () => this.#onTimeout(request))
      if (signal !== undefined) {
        request.onAbort = () => this.#onAbort(request)
        signal.addEventListener('abort', request.onAbort, { once: true })
      }
      this.#queue.push(request)
      this.#pump()
    })
  }

  /** Moves queued requests onto the wire while in-flight slots are free. */
  #pump(): void {
    while (this.#state === ConnectionState.Ready || this.#state === ConnectionState.Closing) {
      if (this.inFlight >= this.maxInFlight) break
      if (this.#throttled()) break
      const request = this.#dequeue()
      if (request === undefined) break
      this.#write(request)
    }
    this.#maybeFinishClosing()
  }

  /** True while muted by a throttle time; the pump runs again when it ends. */
  #throttled(): boolean {
    const wait = this.#throttledUntil - Date.now()
    if (wait <= 0 || this.queued === 0) return false
    this.#unthrottle ??= setTimeout(() => {
      this.#unthrottle = null
      this.#pump()
    }, wait)
    return true
  }

  #dequeue(): Pending | undefined {
    while (this.#queueHead < this.#queue.length) {
      const request = this.#queue[this.#queueHead]!
      this.#queue[this.#queueHead] = undefined as unknown as Pending
      this.#queueHead++
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#queueHead)
        this.#queueHead = 0
      }
      if (request.state === 'queued') return request
    }
    return undefined
  }

  #write(request: Pending): void {
    const correlationId = this.#nextCorrelationId
    // Correlation ids are int32 on the wire; wrap before 2^31 so they stay non-negative.
    this.#nextCorrelationId = (correlationId + 1) & 0x7fffffff
    const out = this.#out
    const start = out.mark()
    const startLength = out.length
    try {
      writeRequestFrame(out, request.api, request.version, correlationId, this.clientId, request.body as never)
    } catch (err) {
      out.truncate(start) // drop the partial frame
      this.#settle(request)
      request.reject(err instanceof Error ? err : new KafkaTsError('KAFKATS_ENCODE', String(err)))
      return
    }
    request.body = undefined // the bytes are in the buffer; let the message be collected
    this.#observer?.requestSent(out.length - startLength)
    this.lastUsedAt = Date.now()
    if (request.mode === 'none') {
      request.state = 'sent'
      this.#unflushedNoResponse++
      this.#outNoResponse.push(request)
    } else {
      request.state = 'sent'
      this.#inFlight.set(correlationId, request)
    }
    if (out.length >= FLUSH_THRESHOLD) this.#flush()
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true
      queueMicrotask(() => this.#flush())
    }
  }

  #flush(): void {
    this.#flushScheduled = false
    const out = this.#out
    if (out.length === 0 || this.#state === ConnectionState.Closed) return
    if (!this.#socketWritable) return // 'drain' flushes
    // Hand the buffer (and the batches spliced into it) to the socket and start a new one: the
    // socket holds on to them until written.
    const chunks = out.chunks()
    this.#out = Connection.#newOut(Math.min(Math.max(4096, out.offset), 1024 * 1024))
    const written = this.#outNoResponse
    this.#outNoResponse = []
    const done = (err?: Error | null): void => {
      if (written.length === 0) return
      this.#unflushedNoResponse -= written.length
      for (const request of written) {
        if (request.state === 'done') continue
        this.#settle(request)
        if (err)
          request.reject(new ConnectionError(`write failed: ${err.message}`, { broker: this.address, cause: err }))
        else request.resolve(undefined)
      }
      this.#pump()
    }
    const socket = this.#socket
    let ok: boolean
    if (chunks.length === 1) ok = socket.write(chunks[0]!, done)
    else {
      // Corked, the chunks leave in one writev: the batches are never copied into the frame.
      socket.cork()
      const last = chunks.length - 1
      for (let i = 0; i < last; i++) socket.write(chunks[i]!)
      ok = socket.write(chunks[last]!, done)
      socket.uncork()
    }
    if (!ok) this.#socketWritable = false
  }

  // --- receiving --------------------------------------------------------------------------------

  #attach(): void {
    const socket = this.#socket
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 60_000)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('drain', () => {
      this.#socketWritable = true
      this.#flush()
    })
    socket.on('error', (err) => this.destroy(new ConnectionError(err.message, { broker: this.address, cause: err })))
    socket.on('close', () => {
      if (this.#ending)
        this.#teardown(null) // the FIN we sent after draining
      else this.destroy(new ConnectionError('connection closed by the broker', { broker: this.address }))
    })
    this.#state = ConnectionState.Ready
  }

  /**
   * Collects chunks until the 4-byte size says a frame is complete, then makes one buffer and
   * hands out views into it (postgres.js and platformatic do the same): no copy per frame.
   */
  #onData(chunk: Buffer): void {
    let buffer: Buffer
    if (this.#buffered === 0) {
      buffer = chunk
    } else {
      this.#chunks.push(chunk)
      this.#buffered += chunk.length
      if (this.#frameSize >= 0 && this.#buffered < this.#frameSize + 4) return // still short: no concat yet
      buffer = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#buffered)
    }
    this.#chunks = []
    this.#buffered = 0
    this.#frameSize = -1

    let offset = 0
    while (buffer.length - offset >= 4) {
      const size = buffer.readInt32BE(offset)
      if (size < 4 || size > this.#maxFrameBytes) {
        this.destroy(new ProtocolDecodeError(`response frame size ${size} is out of range; the stream is broken`))
        return
      }
      if (buffer.length - offset - 4 < size) {
        this.#frameSize = size
        break
      }
      const frame = buffer.subarray(offset + 4, offset + 4 + size)
      offset += 4 + size
      this.#onFrame(frame)
      if (this.#state === ConnectionState.Closed) return
    }
    if (offset < buffer.length) {
      const rest = buffer.subarray(offset)
      this.#chunks.push(rest)
      this.#buffered = rest.length
    }
    this.#pump()
  }

  #onFrame(frame: Buffer): void {
    const correlationId = peekCorrelationId(frame)
    const request = this.#inFlight.get(correlationId)
    if (request === undefined) {
      this.destroy(new ProtocolDecodeError(`response with unknown correlation id ${correlationId}`))
      return
    }
    this.#inFlight.delete(correlationId)
    this.lastUsedAt = Date.now()
    this.#observer?.responseReceived(frame.length + 4)
    if (channels.request.hasSubscribers) this.#publishRequest(request, frame.length + 4)
    if (request.state === 'done') return // aborted or timed out meanwhile: the slot is free now
    this.#settle(request)
    if (request.mode === 'raw') {
      request.resolve(frame)
      return
    }
    let body: unknown
    try {
      // Bytes after the body are ignored, as by Kafka's Java client (a too-short body still fails).
      body = readResponseFrame(frame, request.api, request.version, { ignoreTrailingBytes: true }).body
    } catch (err) {
      request.reject(err as Error)
      return
    }
    const throttleMs = clientThrottleMs(request.api, request.version, body)
    if (throttleMs > 0) this.#throttledUntil = Math.max(this.#throttledUntil, Date.now() + throttleMs)
    request.resolve(body)
  }

  #publishRequest(request: Pending, responseBytes: number): void {
    channels.request.publish({
      clientId: this.clientId,
      broker: this.address,
      apiKey: request.api.apiKey,
      apiName: request.api.name,
      apiVersion: request.version,
      responseBytes,
      durationMs: Date.now() - request.startedAt,
    })
  }

  // --- deadlines, aborts, teardown ----------------------------------------------------------------

  #settle(request: Pending): void {
    request.state = 'done'
    if (request.timer !== null) {
      this.#timers.cancel(request.timer)
      request.timer = null
    }
    if (request.onAbort !== null) {
      request.signal?.removeEventListener('abort', request.onAbort)
      request.onAbort = null
    }
  }

  #onTimeout(request: Pending): void {
    request.timer = null
    if (request.state === 'done') return
    const wasSent = request.state === 'sent'
    this.#settle(request)
    request.reject(
      new RequestTimeoutError(`${request.api.name} v${request.version} request`, request.timeoutMs, this.address),
    )
    // A broker that does not answer in time is treated as gone, as Java's NetworkClient does: a
    // late response to a request we already retried elsewhere must not be trusted, and the next
    // request should not queue behind a stuck one.
    if (wasSent)
      this.destroy(
        new ConnectionError(`${request.api.name} request timed out; connection dropped`, { broker: this.address }),
      )
    else this.#pump()
  }

  #onAbort(request: Pending): void {
    if (request.state === 'done') return
    const signal = request.signal!
    request.onAbort = null
    this.#settle(request)
    // A request already on the wire keeps its slot until its response arrives and is dropped.
    request.reject(abortErrorFor(signal, request.api.name))
    this.#pump()
  }

  #failAll(error: Error): void {
    const pending: Pending[] = []
    for (let i = this.#queueHead; i < this.#queue.length; i++) pending.push(this.#queue[i]!)
    this.#queue.length = 0
    this.#queueHead = 0
    for (const request of this.#inFlight.values()) pending.push(request)
    this.#inFlight.clear()
    for (const request of this.#outNoResponse) pending.push(request)
    this.#outNoResponse = []
    this.#unflushedNoResponse = 0
    for (const request of pending) {
      if (request.state === 'done') continue
      this.#settle(request)
      request.reject(error)
    }
  }

  #maybeFinishClosing(): void {
    if (this.#state !== ConnectionState.Closing) return
    if (this.#inFlight.size > 0 || this.queued > 0 || this.#unflushedNoResponse > 0) return
    if (this.#ending) return
    this.#ending = true
    this.#socketWritable = true // the socket buffers what it cannot write yet; end() flushes it
    if (this.#out.length > 0) this.#flush()
    this.#socket.end()
  }
}

function createSocket(options: ConnectionOptions): net.Socket {
  if (options.socketFactory !== undefined) return options.socketFactory(options)
  if (options.tls) {
    const tlsOptions: tls.ConnectionOptions = options.tls === true ? {} : options.tls
    const servername = tlsOptions.servername ?? (net.isIP(options.host) === 0 ? options.host : undefined)
    return tls.connect({ ...tlsOptions, host: options.host, port: options.port, ...(servername ? { servername } : {}) })
  }
  return net.connect({ host: options.host, port: options.port })
}

function isTlsVerificationError(err: Error): boolean {
  const code = (err as { code?: unknown }).code
  return (
    typeof code === 'string' &&
    /^(ERR_TLS_CERT|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code)
  )
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
