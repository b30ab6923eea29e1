// The Reader against coordinators that load like Kafka's (issue 11, item 7): every group
// request of a coordinator that has just taken over the group's offsets partition is answered
// COORDINATOR_LOAD_IN_PROGRESS a few times (at startup and after the coordinator's broker
// stopped). The Reader retries them: it joins, commits and keeps reading through a move.

import { afterAll, beforeAll, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { Reader } from '../../src/consumer/reader.js'
import { committedOffsets, createTopic, produce, unique, valueOf } from './helpers.js'

let cluster: Cluster

beforeAll(async () => {
  cluster = await Cluster.start({
    brokers: 3,
    groupInitialRebalanceDelayMs: 0,
    coordinatorLoadRequests: 3,
    coordinatorLoadMs: 0,
  })
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

it('joins, commits and reads on through a coordinator move while coordinators load', async () => {
  const bootstrap = cluster.bootstrapServers
  const topic = unique('loading')
  const groupId = unique('loading-g')
  await createTopic(bootstrap, topic, 1)
  await produce(bootstrap, topic, 10)
  const reader = new Reader({ brokers: bootstrap, groupId, topic, heartbeatInterval: 200, readBackoffMin: 20 })
  try {
    const signal = AbortSignal.timeout(60_000)
    const seen: string[] = []
    for (let i = 0; i < 5; i++) {
      const m = await reader.fetchMessage({ signal })
      seen.push(valueOf(m))
      await reader.commitMessages(m)
    }
    // The coordinator's broker stops; the next one loads the group before serving it.
    const coordinator = cluster.coordinatorFor(groupId)!.id
    await cluster.faults.stopBroker(coordinator)
    await produce(cluster.bootstrapServers, topic, 5, { from: 10 })
    while (seen.length < 15) {
      const m = await reader.fetchMessage({ signal })
      seen.push(valueOf(m))
      await reader.commitMessages(m)
    }
    expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => String(i)))
    expect(cluster.coordinatorFor(groupId)!.id).not.toBe(coordinator)
    expect((await committedOffsets(cluster.bootstrapServers, groupId, topic, 1)).get(0)).toBe(15n)
  } finally {
    await reader.close()
  }
}, 90_000)
