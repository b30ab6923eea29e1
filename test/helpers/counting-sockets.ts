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
    // A frame may span writes (the client writes large record batches from where they are, so
    // a frame's parts arrive in several corked writes): follow the size prefixes across them.
    let held = Buffer.alloc(0)
    socket.write = ((chunk: Uint8Array, cb?: (err?: Error | null) => void) => {
      held = Buffer.concat([held, chunk])
      while (held.length >= 6) {
        const size = held.readInt32BE(0)
        if (held.length < 4 + size) break
        keys.push(held.readInt16BE(4))
        held = held.subarray(4 + size)
      }
      return write(chunk, cb)
    }) as typeof socket.write
    return socket
  }
  return { keys, socketFactory }
}
