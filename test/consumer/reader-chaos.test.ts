// @integration: runs against the real Kafka at KAFKA_BOOTSTRAP when it is set (npm run test:kafka)
// The Reader chaos suite, sized for CI (issue 11, item 8; the long run is `npm run chaos:reader`).
// 3 group members in child processes (test/chaos/reader-member.ts) process the messages of a
// 6-partition topic with manual commits after processing, while members are killed with SIGKILL
// (each replaced by a new one) and a broker node crashes and restarts (reference cluster in
// process: stopBroker/startBroker; real Kafka: scripts/kafka.sh kill-node/start-node). From the
// members' own logs: every offset processed, duplicates only within what the killed members had
// processed and not committed, no partition processed by two members at once, and the group's
// committed offsets (raw OffsetFetch) reach the log ends.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { realKafka } from '../helpers/real-kafka.js'
import { runReaderChaos } from '../chaos/reader-chaos.js'
import { formatReaderFigures } from '../chaos/reader-verify.js'
import { realKafkaTarget, referenceTarget, type ChaosTarget } from '../chaos/targets.js'

const MESSAGES = 6000
const KILLS = 3

describe.sequential('Reader chaos (members killed with SIGKILL, a node crash)', () => {
  let target: ChaosTarget

  beforeAll(async () => {
    target = realKafka ? await realKafkaTarget(process.env.KAFKA_BOOTSTRAP!.split(','), 6) : await referenceTarget()
  })

  afterAll(async () => {
    await target?.stop()
  })

  it(
    'processes every message at least once, re-processes only uncommitted work, never on two members at once',
    { timeout: 240_000 },
    async () => {
      const r = await runReaderChaos(target, {
        seed: 1,
        messages: MESSAGES,
        kills: KILLS,
        nodeCrashes: 1,
        timeLimitMs: 180_000,
      })
      const f = r.figures
      console.log(
        `${target.name}: ${r.kills} kills, ${r.nodeCrashes} node crashes, ${(r.elapsedMs / 1000).toFixed(1)} s\n${formatReaderFigures(f)}\nlogs: ${r.logDir}`,
      )
      expect(r.problems).toEqual([])
      expect({ kills: r.kills, nodeCrashes: r.nodeCrashes, committedAtEnd: r.committedAtEnd }).toEqual({
        kills: KILLS,
        nodeCrashes: 1,
        committedAtEnd: true,
      })
      expect({ messages: f.messages, missing: f.missing, unexplained: f.unexplained, overlaps: f.overlaps }).toEqual({
        messages: MESSAGES,
        missing: 0,
        unexplained: 0,
        overlaps: 0,
      })
      expect(f.duplicates).toBeLessThanOrEqual(f.duplicateBound)
    },
  )
})
