// The reference broker moves a group between the classic and the consumer (KIP-848) protocol as
// real Kafka does (group-migration.ts): a fixed sequence of raw requests (test/broker/migration-script.ts)
// answered exactly as Kafka 4.4.0 answered it (3 nodes, captured with
// test/fixtures/migration-answers/capture.ts).

import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import type { Answer } from './cgh-script.js'
import { runMigrationScript } from './migration-script.js'

const captured = (file: string): Answer[] =>
  JSON.parse(readFileSync(new URL(`../fixtures/migration-answers/${file}`, import.meta.url), 'utf8')) as Answer[]

describe('classic ⇄ consumer group migration against a capture from real Kafka', () => {
  let cluster: Cluster
  beforeAll(async () => {
    // As the captured Kafka: no initial rebalance delay; a target at most every 50 ms (the script waits).
    cluster = await Cluster.start({
      coordinatorLoadRequests: 0,
      brokers: 1,
      groupInitialRebalanceDelayMs: 0,
      consumerGroupAssignmentIntervalMs: 50,
    })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('Kafka 4.4.0', async () => {
    const answers = await runMigrationScript(cluster.bootstrapServers[0]!, '4.4.0', 150)
    expect(answers).toEqual(captured('kafka-4.4.0.json'))
  }, 30_000)
})
