// A user-defined balancer: route each message by the FNV-1a hash of its key, computed by hand, and send keyless
// messages to the first partition. The hash is taken as unsigned (`fnv1a32(key) % n`), so keys whose hash has the
// top bit set land elsewhere than with `Hash`, which follows kafka-go and Sarama (signed int32, then negated). Any object with a `balance(message, partitions)` method is a Balancer; for a
// plain function, wrap it: `new BalancerFunc((message, partitions) => partitions[0]!)`.
//
// Run: npx tsx examples/custom-partitioner.ts

import { pathToFileURL } from 'node:url'
import type { Balancer, Message } from 'kafkats'

export class UserPartitioner implements Balancer {
  balance(message: Message, partitions: readonly number[]): number {
    // Keys are strings or bytes; hash the UTF-8 bytes of a string.
    const key = typeof message.key === 'string' ? Buffer.from(message.key) : message.key
    if (key === null || key === undefined) return partitions[0]!
    let h = 0x811c9dc5 // FNV-1a 32: offset basis, then xor each byte and multiply by the FNV prime
    for (const byte of key) h = Math.imul(h ^ byte, 0x01000193)
    return partitions[(h >>> 0) % partitions.length]!
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const balancer: Balancer = new UserPartitioner()
  const partitions = [0, 1, 2, 3, 4, 5]
  for (const key of ['user-1', 'user-2', 'order-42', 'a', null]) {
    const partition = balancer.balance({ key, value: 'hello' }, partitions)
    console.log(`key ${JSON.stringify(key)} -> partition ${partition}`)
  }
}
