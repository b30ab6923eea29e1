// A socketFactory that records the API key of every request frame a client writes, so a test can
// check on the wire which requests went out (and in which order) without asking the client.

import * as net from 'node:net'

export function countingSockets(): {
  keys: number[]
  socketFactory: (o: { host: string; port: number }) => net.Socket
} {
  const keys: number[] = []
  const socketFactory = (o: { host: string; port: number }): net.Socket => {
    const socket = net.connect({ host: o.host, port: o.port })
    const write = socket.write.bind(socket) as (chunk: Uint8Array, cb?: (err?: Error | null) => void) => boolean
    socket.write = ((chunk: Uint8Array, cb?: (err?: Error | null) => void) => {
      const bytes = Buffer.from(chunk)
      // A write holds whole size-prefixed frames (the client corks a frame's parts together).
      for (let at = 0; at + 6 <= bytes.length; at += 4 + bytes.readInt32BE(at)) keys.push(bytes.readInt16BE(at + 4))
      return write(chunk, cb)
    }) as typeof socket.write
    return socket
  }
  return { keys, socketFactory }
}
