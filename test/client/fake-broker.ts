// A scriptable fake broker for the client's unit tests: a loopback TCP server that decodes
// request frames with the shared codec and answers with whatever the test's handler returns.
// Handlers can answer late, out of order, never, or in odd chunkings.

import * as net from 'node:net'
import type { ApiDefinition, Input } from '../../src/protocol/api.js'
import { readRequestFrame, writeResponseFrame } from '../../src/protocol/frame.js'
import type { RequestHeader } from '../../src/protocol/messages/index.js'
import { Writer } from '../../src/protocol/writer.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- test handlers read and answer arbitrary request bodies */

export interface ReceivedRequest {
  header: RequestHeader
  api: ApiDefinition<any, any>
  version: number
  body: any
  socket: net.Socket
  /** Sends a response body for this request (encoded at the request's version). */
  respond(body: unknown): void
  /** The encoded response frame, for tests that deliver bytes themselves. */
  encode(body: unknown): Buffer
}

/** What a handler returns: a body to answer with, 'none' (never answer), or a promise of either. */
export type Handler = (request: ReceivedRequest) => unknown

export const ALL_VERSIONS = [
  { apiKey: 0, minVersion: 0, maxVersion: 12 },
  { apiKey: 3, minVersion: 0, maxVersion: 13 },
  { apiKey: 17, minVersion: 0, maxVersion: 1 },
  { apiKey: 18, minVersion: 0, maxVersion: 4 },
  { apiKey: 22, minVersion: 0, maxVersion: 5 },
  { apiKey: 36, minVersion: 0, maxVersion: 2 },
]

export class FakeBroker {
  readonly server: net.Server
  readonly requests: ReceivedRequest[] = []
  readonly sockets = new Set<net.Socket>()
  /** Bytes received per 'data' event, to observe corking. */
  readonly chunks: number[] = []
  handler: Handler
  /** The ApiVersions ranges this broker advertises. */
  apiVersions = ALL_VERSIONS

  private constructor(handler: Handler) {
    this.handler = handler
    this.server = net.createServer((socket) => this.#onConnection(socket))
  }

  static async start(handler: Handler = () => undefined): Promise<FakeBroker> {
    const broker = new FakeBroker(handler)
    await new Promise<void>((resolve) => broker.server.listen(0, '127.0.0.1', resolve))
    return broker
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port
  }

  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  /** Requests of one API (by name) received so far. */
  received(apiName: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.api.name === apiName)
  }

  /** Closes every client socket (simulates a broker crash). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy()
  }

  async stop(): Promise<void> {
    this.dropConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  #onConnection(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => {})
    let pending = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk.length)
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0)
        if (pending.length < 4 + size) break
        const frame = pending.subarray(4, 4 + size)
        pending = pending.subarray(4 + size)
        this.#onFrame(socket, frame)
      }
    })
  }

  #onFrame(socket: net.Socket, frame: Buffer): void {
    const decoded = readRequestFrame(frame)
    const api = decoded.api!
    const version = decoded.header.requestApiVersion
    const encode = (body: unknown): Buffer => {
      const w = new Writer()
      writeResponseFrame(w, api, version, decoded.header.correlationId, body as Input<unknown>)
      return w.toBuffer()
    }
    const request: ReceivedRequest = {
      header: decoded.header,
      api,
      version,
      body: decoded.body,
      socket,
      encode,
      respond: (body) => {
        if (!socket.destroyed) socket.write(encode(body))
      },
    }
    this.requests.push(request)
    // ApiVersions is answered by default so every test need not script it.
    const handled = api.name === 'ApiVersions' ? this.#apiVersions(request) : this.handler(request)
    void Promise.resolve(handled).then((body) => {
      if (body !== 'none' && body !== undefined) request.respond(body)
    })
  }

  #apiVersions(request: ReceivedRequest): unknown {
    const custom = this.handler(request)
    if (custom !== undefined) return custom
    return { errorCode: 0, apiKeys: this.apiVersions, throttleTimeMs: 0 }
  }
}
