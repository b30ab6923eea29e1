// One client connection on a broker listener: `int32 size` framing and in-order responses.
//
// Like Kafka's SocketServer, a connection handles one request at a time: Kafka mutes the channel
// once a request is read and unmutes it only after the response is sent, so requests a client
// pipelines are processed (and answered) strictly in order. We keep reading while a request is
// in flight (the kernel buffer would fill anyway) but stop reading when too many frames queue.
//
// Frames are cut without copying: while a frame is incomplete its chunks sit in a list, and once
// the size prefix says it is complete they are concatenated once and the frame is a `subarray`.
// A frame larger than socket.request.max.bytes, a negative size, or a request that fails to
// decode closes only this connection, with the reason logged (Kafka closes on
// InvalidReceiveException and on InvalidRequestException the same way).

import type { Socket } from 'node:net'
import type { Log } from './logger.js'

/** Handles one request frame (without its size prefix). Resolves with the response frame, or null for none. */
/** A response frame: one buffer, or its parts in order (written with one writev); null: nothing to send. */
export type Response = Buffer | readonly Uint8Array[] | null

const EMPTY = Buffer.alloc(0)

export type FrameHandler = (frame: Buffer, connection: Connection) => Promise<Response>

/** Frames queued beyond this pause the socket until the queue drains (bounded memory per client). */
const MAX_QUEUED_FRAMES = 64

let nextConnectionId = 1

export class Connection {
  readonly id: number
  readonly remoteAddress: string
  readonly remotePort: number
  /** Aborted when the connection closes, so long polls and timers stop. */
  private readonly closing = new AbortController()
  /** Per-connection state for handlers (SASL progress, client software name...). */
  readonly attributes = new Map<string, unknown>()

  private chunks: Buffer[] = []
  private buffered = 0
  private frameSize = -1
  private readonly queue: Buffer[] = []
  private processing = false
  private paused = false
  private closeAfterWrite = false
  /** Set once the connection is closing after a final response: further frames are ignored. */
  private halted = false

  constructor(
    readonly socket: Socket,
    private readonly maxRequestBytes: number,
    private readonly handler: FrameHandler,
    private readonly log: Log,
    private readonly onClose: (connection: Connection) => void,
  ) {
    this.id = nextConnectionId++
    this.remoteAddress = socket.remoteAddress ?? ''
    this.remotePort = socket.remotePort ?? 0
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', (err) => this.close(`socket error: ${err.message}`))
    socket.on('close', () => this.close('closed by peer'))
    socket.on('end', () => this.close('end of stream from peer'))
  }

  /** Closes the connection once the response being prepared is written (failed authentication). */
  closeAfterResponse(): void {
    this.closeAfterWrite = true
  }

  get signal(): AbortSignal {
    return this.closing.signal
  }

  get closed(): boolean {
    return this.closing.signal.aborted
  }

  /** Closes this connection (idempotent); the reason is logged. */
  close(reason: string): void {
    if (this.closed) return
    this.closing.abort()
    this.log.debug(`closing connection ${this.id} from ${this.remoteAddress}:${this.remotePort}: ${reason}`)
    this.chunks = []
    this.queue.length = 0
    this.socket.destroy()
    this.onClose(this)
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.halted) return
    this.chunks.push(chunk)
    this.buffered += chunk.length
    for (;;) {
      if (this.frameSize < 0) {
        if (this.buffered < 4) return
        const size = this.peekSize()
        if (size < 0 || size > this.maxRequestBytes) {
          this.log.warn(
            `connection ${this.id}: request frame of ${size} bytes exceeds socket.request.max.bytes (${this.maxRequestBytes}) or is negative`,
          )
          this.close('invalid frame size')
          return
        }
        this.frameSize = size
      }
      const total = 4 + this.frameSize
      if (this.buffered < total) return
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered)
      const frame = all.subarray(4, total)
      const rest = all.subarray(total)
      this.chunks = rest.length > 0 ? [rest] : []
      this.buffered = rest.length
      this.frameSize = -1
      this.enqueue(frame)
      if (this.closed) return
    }
  }

  private peekSize(): number {
    const first = this.chunks[0]!
    if (first.length >= 4) return first.readInt32BE(0)
    const head = Buffer.concat(this.chunks, this.buffered).subarray(0, 4)
    return head.readInt32BE(0)
  }

  private enqueue(frame: Buffer): void {
    this.queue.push(frame)
    if (this.queue.length >= MAX_QUEUED_FRAMES && !this.paused) {
      this.paused = true
      this.socket.pause()
    }
    if (!this.processing) void this.drainQueue()
  }

  private async drainQueue(): Promise<void> {
    this.processing = true
    try {
      while (!this.closed) {
        const frame = this.queue.shift()
        if (frame === undefined) break
        if (this.paused && this.queue.length < MAX_QUEUED_FRAMES / 2) {
          this.paused = false
          this.socket.resume()
        }
        let response: Response
        try {
          response = await this.handler(frame, this)
        } catch (err) {
          this.log.warn(`connection ${this.id}: ${err instanceof Error ? err.message : String(err)}`)
          this.close('request could not be processed')
          return
        }
        if (response === null || this.closed) continue
        if (this.closeAfterWrite) {
          // end() flushes the response first; destroying now could drop it. Nothing more is read.
          this.queue.length = 0
          this.halted = true
          if (!Buffer.isBuffer(response)) for (const part of response) this.socket.write(part)
          this.socket.end(Buffer.isBuffer(response) ? response : EMPTY, () => this.close('closed after the response'))
          return
        }
        // Wait for the kernel to take the response before reading on: the next request is not
        // processed until this one's response is sent, as in Kafka.
        if (!this.write(response)) await this.waitDrain()
      }
    } finally {
      this.processing = false
    }
  }

  /** Writes a response; its parts leave corked, in one writev (stored batches are not copied). */
  private write(response: Buffer | readonly Uint8Array[]): boolean {
    if (Buffer.isBuffer(response)) return this.socket.write(response)
    if (response.length === 1) return this.socket.write(response[0]!)
    this.socket.cork()
    let ok = true
    for (const part of response) ok = this.socket.write(part)
    this.socket.uncork()
    return ok
  }

  private waitDrain(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve()
      const done = (): void => {
        this.socket.off('drain', done)
        this.signal.removeEventListener('abort', done)
        resolve()
      }
      this.socket.on('drain', done)
      this.signal.addEventListener('abort', done)
    })
  }
}
