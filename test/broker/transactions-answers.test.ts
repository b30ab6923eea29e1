// The reference broker answers a fixed sequence of transactional requests (Transactions V2 and
// V1: implicit partitions, EndTxn epoch bumps and retries, fencing, verification errors) exactly
// as real Kafka did: the answers were captured from Kafka 4.4.0 and 4.0.1 with
// test/fixtures/txn-answers/capture.ts (one node, scripts/kafka.sh).

import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { runTxnScript, type Answer } from './txn-script.js'

const captured = (file: string): Answer[] =>
  JSON.parse(readFileSync(new URL(`../fixtures/txn-answers/${file}`, import.meta.url), 'utf8')) as Answer[]

// Raw requests with exact answers expected: the clusters start with their group coordinators
// loaded (coordinatorLoadRequests: 0); the clients' retries of a load are tested elsewhere.
describe('transactional answers against a capture from real Kafka', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 1 })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  for (const version of ['4.4.0', '4.0.1']) {
    it(`Kafka ${version}`, async () => {
      const answers = await runTxnScript(cluster.bootstrapServers[0]!, version, 100)
      expect(answers).toEqual(captured(`kafka-${version}.json`))
    })
  }
})
