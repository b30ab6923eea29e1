// A minimal protocol client for broker tests: the shared codec over a raw socket (never the
// kafkats client, so the broker is tested independently of it).

import { spawn } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import type { ApiDefinition, Input } from '../../src/protocol/api.js'
import { peekCorrelationId, readResponseFrame, writeRequestFrame } from '../../src/protocol/frame.js'
import { encodeRecordBatch, type RecordInput } from '../../src/protocol/record-batch.js'
import { Writer } from '../../src/protocol/writer.js'

interface Pending {
  api: ApiDefinition<unknown, unknown>
  version: number
  resolve: (body: unknown, frame: Buffer) => void
  reject: (err: Error) => void
}

/** One request and its answer as bytes (frames without the size prefix) and decoded. */
export interface Exchange<Res> {
  request: Buffer
  response: Buffer
  body: Res
}

export class TestClient {
  private chunks: Buffer[] = []
  private buffered = 0
  private readonly pending = new Map<number, Pending>()
  private nextCorrelationId = 1
  readonly closed: Promise<void>
  /** Frames received that matched no pending request. */
  readonly unexpected: Buffer[] = []

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('connection closed'))
      this.pending.clear()
    })
  }

  static connect(address: string): Promise<TestClient> {
    const [host, port] = address.split(':')
    return new Promise((resolve, reject) => {
      const socket = connect({ host: host!, port: Number(port) }, () => resolve(new TestClient(socket)))
      socket.once('error', reject)
    })
  }

  /** Sends one request and resolves with the decoded response body. */
  send<Req, Res>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: Input<Req>,
    clientId: string | null = 'test',
  ): Promise<Res> {
    const correlationId = this.nextCorrelationId++
    const w = new Writer()
    writeRequestFrame(w, api, version, correlationId, clientId, body)
    return new Promise<Res>((resolve, reject) => {
      this.pending.set(correlationId, {
        api: api as ApiDefinition<unknown, unknown>,
        version,
        resolve: resolve as (b: unknown) => void,
        reject,
      })
      this.socket.write(w.toBuffer())
    })
  }

  /** Like `send`, also returning the request and response frames as bytes (fixture captures). */
  exchange<Req, Res>(api: ApiDefinition<Req, Res>, version: number, body: Input<Req>): Promise<Exchange<Res>> {
    const correlationId = this.nextCorrelationId++
    const w = new Writer()
    writeRequestFrame(w, api, version, correlationId, 'test', body)
    const request = w.toBuffer()
    return new Promise<Exchange<Res>>((resolve, reject) => {
      this.pending.set(correlationId, {
        api: api as ApiDefinition<unknown, unknown>,
        version,
        resolve: (decoded, frame) => resolve({ request: request.subarray(4), response: frame, body: decoded as Res }),
        reject,
      })
      this.socket.write(request)
    })
  }

  /** Sends a request that gets no response (Produce acks=0). */
  sendOneWay<Req, Res>(api: ApiDefinition<Req, Res>, version: number, body: Input<Req>): void {
    const w = new Writer()
    writeRequestFrame(w, api, version, this.nextCorrelationId++, 'test', body)
    this.socket.write(w.toBuffer())
  }

  /** Writes raw bytes. */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  close(): void {
    this.socket.destroy()
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    for (;;) {
      if (this.buffered < 4) return
      const all = Buffer.concat(this.chunks, this.buffered)
      const size = all.readInt32BE(0)
      if (all.length < 4 + size) {
        this.chunks = [all]
        return
      }
      const frame = all.subarray(4, 4 + size)
      const rest = all.subarray(4 + size)
      this.chunks = rest.length > 0 ? [rest] : []
      this.buffered = rest.length
      // Raw SASL tokens (SaslHandshake v0) have no correlation id.
      const p = frame.length >= 4 ? this.pending.get(peekCorrelationId(frame)) : undefined
      if (p === undefined) {
        this.unexpected.push(frame)
        continue
      }
      this.pending.delete(peekCorrelationId(frame))
      try {
        p.resolve(readResponseFrame(frame, p.api, p.version).body, Buffer.from(frame))
      } catch (err) {
        p.reject(err as Error)
      }
    }
  }
}

/** An uncompressed (or compressed) batch of `n` records "value-i" with optional keys. */
export function makeBatch(
  n: number,
  opts: {
    key?: (i: number) => string | null
    producerId?: bigint
    producerEpoch?: number
    baseSequence?: number
    transactional?: boolean
    timestamp?: number
    valuePrefix?: string
    compression?: 'none' | 'gzip'
  } = {},
): Promise<Buffer> {
  const records: RecordInput[] = []
  for (let i = 0; i < n; i++) {
    const key = opts.key?.(i)
    records.push({
      key: key === undefined || key === null ? null : Buffer.from(key),
      value: Buffer.from(`${opts.valuePrefix ?? 'value'}-${i}`),
      timestamp: opts.timestamp ?? Date.now(),
    })
  }
  return encodeRecordBatch({
    records,
    compression: opts.compression ?? 'none',
    producerId: opts.producerId ?? -1n,
    producerEpoch: opts.producerEpoch ?? -1,
    baseSequence: opts.baseSequence ?? -1,
    transactional: opts.transactional ?? false,
  })
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

/**
 * Runs an external program (a path from `peer()`) with a hard timeout (SIGKILL), collecting its
 * output. Rejects, naming the program, when it cannot be started.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; input?: string | Buffer; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, opts.timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(new Error(`could not start ${cmd}: ${e.message}`, { cause: e }))
    })
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.stdin.on('error', () => {})
    if (opts.input !== undefined) child.stdin.end(opts.input)
    else child.stdin.end()
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      })
    })
  })
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(20)
  }
  throw new Error(`timed out waiting for ${what}`)
}
