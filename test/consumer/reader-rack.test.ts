// @integration
// Issue 17 item 4: fetch from the closest replica (KIP-392). The Reader's `rack` goes out in every
// Fetch (v11+); a leader with a rack-aware replica selector answers with preferredReadReplica, and
// the Reader then fetches from that follower. Against real Kafka the cluster must give its brokers
// racks and replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector
// (scripts/kafka.sh with KAFKATS_KAFKA_RACKS, which npm run test:kafka sets); on the reference
// cluster: `racks` and `replicaSelector: 'rack-aware'`. The Fetch requests are decoded on the wire
// to see which broker served them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaClient } from '../../src/cluster/client.js'
import { Reader } from '../../src/consumer/reader.js'
import { fetchWire, type WireFetch } from '../helpers/fetch-wire.js'
import { createTopic, produce, readMessages, sleep, unique, valueOf } from './helpers.js'

const bootstrapEnv = process.env.KAFKA_BOOTSTRAP
const real = bootstrapEnv !== undefined && bootstrapEnv !== ''
let bootstrap: string[]
let stopCluster: () => Promise<void> = async () => {}

beforeAll(async () => {
  if (real) {
    bootstrap = bootstrapEnv.split(',')
    return
  }
  const { Cluster } = await import('../../src/broker/index.js')
  const cluster = await Cluster.start({
    brokers: 3,
    racks: ['rack-a', 'rack-b', 'rack-c'],
    replicaSelector: 'rack-aware',
    groupInitialRebalanceDelayMs: 0,
  })
  bootstrap = cluster.bootstrapServers
  stopCluster = () => cluster.stop()
}, 60_000)

afterAll(async () => {
  await stopCluster()
})

interface Placement {
  topic: string
  leader: number
  follower: number
  rackOf: Map<number, string | null>
  addressOf: Map<number, string>
}

/** A one-partition topic replicated on 3 brokers, with its leader and a follower in another rack. */
async function placedTopic(): Promise<Placement> {
  const topic = unique('rack')
  await createTopic(bootstrap, topic, 1, 3)
  const client = new KafkaClient({ brokers: bootstrap, clientId: 'test-rack' })
  try {
    await client.metadata.refresh([topic])
    const rackOf = new Map<number, string | null>()
    const addressOf = new Map<number, string>()
    for (const b of client.metadata.brokers.values()) {
      rackOf.set(b.nodeId, b.rack)
      addressOf.set(b.nodeId, `${b.host}:${b.port}`)
    }
    if ([...rackOf.values()].some((r) => r === null))
      throw new Error('the brokers have no racks: start Kafka with KAFKATS_KAFKA_RACKS (see scripts/kafka.sh)')
    const p = client.metadata.partition(topic, 0)!
    const follower = p.replicas.find((r) => r !== p.leader && rackOf.get(r) !== rackOf.get(p.leader))
    if (follower === undefined) throw new Error(`no follower of ${topic}-0 outside the leader's rack`)
    return { topic, leader: p.leader, follower, rackOf, addressOf }
  } finally {
    await client.close()
  }
}

function servedBy(fetches: readonly WireFetch[], address: string | undefined): WireFetch[] {
  return fetches.filter((f) => f.address === address && f.partitions.length + (f.sessionEpoch > 0 ? 1 : 0) > 0)
}

describe(`Reader rack (KIP-392) on ${real ? `Kafka at ${bootstrapEnv}` : 'the reference cluster'}`, () => {
  it('fetches from the follower in its own rack once the leader names it', async () => {
    const t = await placedTopic()
    const rack = t.rackOf.get(t.follower)!
    await produce(bootstrap, t.topic, 200, { prefix: 'r-' })
    const wire = fetchWire()
    const reader = new Reader({
      brokers: bootstrap,
      topic: t.topic,
      partition: 0,
      rack,
      maxWait: 100,
      socketFactory: wire.socketFactory,
    })
    try {
      const got = await readMessages(reader, 200)
      expect(new Set(got.map(valueOf)).size).toBe(200)
      await produce(bootstrap, t.topic, 50, { prefix: 's-', partition: 0 })
      expect(new Set((await readMessages(reader, 50)).map(valueOf)).size).toBe(50)
      for (const f of wire.fetches) expect(f.rackId).toBe(rack)
      // The records came from the follower: fetches to it, and after the first answer none that
      // lists the partition at the leader any more.
      const atFollower = wire.fetches.filter((f) => f.address === t.addressOf.get(t.follower))
      expect(atFollower.length).toBeGreaterThan(0)
      expect(atFollower[0]!.partitions).toHaveLength(1)
      const firstAtFollower = wire.fetches.indexOf(atFollower[0]!)
      const laterAtLeader = wire.fetches
        .slice(firstAtFollower)
        .filter((f) => f.address === t.addressOf.get(t.leader) && f.partitions.length > 0)
      expect(laterAtLeader).toEqual([])
    } finally {
      await reader.close()
    }
  }, 60_000)

  it("stays on the leader when the leader is in the client's rack, or no rack is given", async () => {
    const t = await placedTopic()
    await produce(bootstrap, t.topic, 100, { prefix: 'l-' })
    for (const rack of [t.rackOf.get(t.leader)!, undefined]) {
      const wire = fetchWire()
      const reader = new Reader({
        brokers: bootstrap,
        topic: t.topic,
        partition: 0,
        maxWait: 100,
        socketFactory: wire.socketFactory,
        ...(rack === undefined ? {} : { rack }),
      })
      try {
        expect(new Set((await readMessages(reader, 100)).map(valueOf)).size).toBe(100)
        await sleep(300)
        expect(servedBy(wire.fetches, t.addressOf.get(t.leader)).length).toBeGreaterThan(0)
        const others = wire.fetches.filter((f) => f.address !== t.addressOf.get(t.leader))
        expect(others).toEqual([])
        for (const f of wire.fetches) expect(f.rackId).toBe(rack ?? '')
      } finally {
        await reader.close()
      }
    }
  }, 60_000)

  it('a group member in a rack reads every record through its followers', async () => {
    const topic = unique('rack-g')
    await createTopic(bootstrap, topic, 6, 3)
    await produce(bootstrap, topic, 600, { prefix: 'g-' })
    const client = new KafkaClient({ brokers: bootstrap, clientId: 'test-rack' })
    let rack: string
    try {
      await client.metadata.refresh([topic])
      rack = [...client.metadata.brokers.values()][0]!.rack!
    } finally {
      await client.close()
    }
    const reader = new Reader({ brokers: bootstrap, topic, groupId: unique('rack-gid'), rack, maxWait: 100 })
    try {
      const got = await readMessages(reader, 600)
      expect(new Set(got.map(valueOf)).size).toBe(600)
    } finally {
      await reader.close()
    }
  }, 60_000)
})
