// A socketFactory that decodes every Fetch request a client writes, so a test can see on the wire
// what fetch sessions (KIP-227) save: the session id and epoch, the partitions listed and
// forgotten, and the request's size in bytes.

import * as net from 'node:net'
import { readRequestFrame } from '../../src/protocol/frame.js'
import { Fetch, type FetchRequest } from '../../src/protocol/messages/index.js'

export interface WireFetch {
  /** Broker address the request went to. */
  address: string
  /** Frame size in bytes, the 4-byte length prefix included. */
  bytes: number
  version: number
  sessionId: number
  sessionEpoch: number
  /** Partitions listed, as `topic-or-id:partition`. */
  partitions: string[]
  forgotten: string[]
  rackId: string
}

function describe(address: string, frameBytes: number, version: number, body: FetchRequest): WireFetch {
  const name = (t: { topic: string; topicId: string }): string => (version >= 13 ? t.topicId : t.topic)
  return {
    address,
    bytes: frameBytes,
    version,
    sessionId: body.sessionId,
    sessionEpoch: body.sessionEpoch,
    partitions: body.topics.flatMap((t) => t.partitions.map((p) => `${name(t)}:${p.partition}`)),
    forgotten: body.forgottenTopicsData.flatMap((t) => t.partitions.map((p) => `${name(t)}:${p}`)),
    rackId: body.rackId,
  }
}

export function fetchWire(): {
  fetches: WireFetch[]
  socketFactory: (o: { host: string; port: number }) => net.Socket
} {
  const fetches: WireFetch[] = []
  const socketFactory = (o: { host: string; port: number }): net.Socket => {
    const socket = net.connect({ host: o.host, port: o.port })
    const address = `${o.host}:${o.port}`
    let pending = Buffer.alloc(0)
    const write = socket.write.bind(socket) as (chunk: Uint8Array, cb?: (err?: Error | null) => void) => boolean
    socket.write = ((chunk: Uint8Array, cb?: (err?: Error | null) => void) => {
      // Frames may be split over writes or share one: reassemble by the size prefix.
      pending = Buffer.concat([pending, Buffer.from(chunk)])
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0)
        const frame = pending.subarray(4, 4 + size)
        if (frame.readInt16BE(0) === Fetch.apiKey) {
          const decoded = readRequestFrame(frame)
          fetches.push(describe(address, size + 4, decoded.header.requestApiVersion, decoded.body as FetchRequest))
        }
        pending = pending.subarray(4 + size)
      }
      return write(chunk, cb)
    }) as typeof socket.write
    return socket
  }
  return { fetches, socketFactory }
}
