// The reference broker answers a fixed sequence of share group (KIP-932) requests (membership
// and its validation, member epochs, the simple assignor, ShareGroupDescribe, share sessions and
// their epochs, acquisitions of whole batches, piggybacked and separate acknowledgements, the
// delivery count limit, an acquisition lock that times out) exactly as real Kafka did: the
// answers were captured from a 3-node Kafka 4.4.0 with test/fixtures/share-answers/capture.ts.

import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { runShareScript, type ShareAnswer } from './share-script.js'

const captured = (file: string): ShareAnswer[] =>
  JSON.parse(readFileSync(new URL(`../fixtures/share-answers/${file}`, import.meta.url), 'utf8')) as ShareAnswer[]

describe('share group (KIP-932) answers against a capture from real Kafka', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 3 })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  // The script waits out one 30 s acquisition lock (Kafka's default lock duration).
  it('Kafka 4.4.0', async () => {
    const answers = await runShareScript(cluster.bootstrapServers, '4.4.0', { settleMs: 150, replicas: 3 })
    expect(answers).toEqual(captured('kafka-4.4.0.json'))
  }, 60_000)
})
