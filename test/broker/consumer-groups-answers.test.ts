// The reference broker answers a fixed sequence of KIP-848 consumer group requests (validation,
// member epochs, incremental hand-over, uniform and range assignors, static members, regex
// subscriptions, commits and fetches with member epochs, classic groups converted or not) exactly
// as real Kafka did: the answers were captured from Kafka 4.4.0 with
// test/fixtures/cgh-answers/capture.ts (one node, scripts/kafka.sh).

import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { runCghScript, type Answer } from './cgh-script.js'

const captured = (file: string): Answer[] =>
  JSON.parse(readFileSync(new URL(`../fixtures/cgh-answers/${file}`, import.meta.url), 'utf8')) as Answer[]

// Raw requests with exact answers expected: the clusters start with their group coordinators
// loaded (coordinatorLoadRequests: 0); the clients' retries of a load are tested elsewhere.
describe('consumer group (KIP-848) answers against a capture from real Kafka', () => {
  let cluster: Cluster
  beforeAll(async () => {
    // Kafka computes a target at most once a second; the script waits settleMs after each change.
    cluster = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 1, consumerGroupAssignmentIntervalMs: 50 })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('Kafka 4.4.0', async () => {
    const answers = await runCghScript(cluster.bootstrapServers[0]!, '4.4.0', 150)
    expect(answers).toEqual(captured('kafka-4.4.0.json'))
  }, 30_000)
})
