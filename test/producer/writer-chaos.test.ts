// @integration: runs against the real Kafka at KAFKA_BOOTSTRAP when it is set (npm run test:kafka)
// The Writer chaos suite, sized for CI (issue 10, item 9; the long run is `npm run chaos:writer`).
// A Writer with default settings (idempotent, acks=all) writes numbered messages while a seeded
// schedule of faults hits the cluster, then kcat reads every partition: 0 acknowledged messages
// lost, 0 duplicated, per-key order kept, 0 writes failed.
//
// On the reference cluster (in process): crashes (stopBroker/startBroker), leader moves, dropped
// connections, Produce responses lost after the append, one partition failing with a retriable
// code, a broker answering Metadata from a stale view, the ISR below min.insync.replicas. On real
// Kafka (KAFKA_BOOTSTRAP, scripts/kafka.sh): nodes killed with SIGKILL and restarted, leader moves.
// The same harness (test/chaos/writer-chaos.ts) drives both; only the fault kinds differ.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { realKafka } from '../helpers/real-kafka.js'
import { realKafkaTarget, referenceTarget, type ChaosTarget } from '../chaos/targets.js'
import { formatFigures } from '../chaos/verify.js'
import { faultCounts, runWriterChaos } from '../chaos/writer-chaos.js'

const PARTITIONS = 6
// Real Kafka: a node restart takes seconds, so fewer messages and faults spread wider.
const MESSAGES = realKafka ? 20_000 : 30_000
const FAULT_EVERY = realKafka ? 4_000 : 750
// Real Kafka: paced, so a fault (seconds long) meets writes: 20k messages over about 40 s.
const RATE = realKafka ? 500 : undefined
// Real Kafka: one seed (its run is 40 s of CI's budget); more seeds are `npm run chaos:writer`.
const SEEDS = realKafka ? [1] : [1, 2]

describe.sequential('Writer chaos (default settings, kcat reads back)', () => {
  let target: ChaosTarget

  beforeAll(async () => {
    target = realKafka
      ? await realKafkaTarget(process.env.KAFKA_BOOTSTRAP!.split(','), PARTITIONS)
      : await referenceTarget()
  })

  afterAll(async () => {
    await target?.stop()
  })

  for (const seed of SEEDS) {
    it(`seed ${seed}: nothing lost, duplicated, reordered or failed`, { timeout: 300_000 }, async () => {
      const result = await runWriterChaos(target, {
        seed,
        messages: MESSAGES,
        partitions: PARTITIONS,
        faultEvery: FAULT_EVERY,
        timeLimitMs: 180_000,
        ...(RATE === undefined ? {} : { rate: RATE }),
      })
      const f = result.figures
      const errors = [...result.writeErrors].map(([name, n]) => `${name} x${n}`).join(', ')
      console.log(
        `${formatFigures(f, `${target.name}, seed ${seed}`)}\nfaults: ${faultCounts(result.schedule)} (${result.applied} applied, ${result.skipped} skipped); ` +
          `writer: ${result.retries} retries, ${result.epochBumps} epoch bumps${errors ? `; write errors: ${errors}` : ''}`,
      )
      expect(result.faultErrors).toEqual([])
      expect({
        lost: f.lost,
        duplicated: f.duplicated,
        reordered: f.reordered,
        failed: f.failed,
        unresolved: f.unresolved,
        foreign: f.foreign,
        acked: f.acked,
      }).toEqual({ lost: 0, duplicated: 0, reordered: 0, failed: 0, unresolved: 0, foreign: 0, acked: MESSAGES })
    })
  }
})
