// @integration
// KIP-320 where a real broker truncates (also on the reference cluster, same steps): a topic
// with replicas [A, B] and unclean.leader.election.enable; B crashes, A alone takes two writes
// and a Reader reads them; A crashes, B comes back and is elected although it never had them
// (unclean), then takes a new write at the lost offsets. The Reader's next fetch carries the
// epoch of what it read (lastFetchedEpoch); the new leader answers where the logs diverge, and
// the Reader reports the lost range and resumes there: never a replay from the start, never a
// silent skip of what the new leader wrote.

import { describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import { LogTruncatedError } from '../../src/consumer/errors.js'
import { FirstOffset } from '../../src/consumer/offsets.js'
import { Reader } from '../../src/consumer/reader.js'
import { isr, leaders, produce, readMessages, startTarget, unique, valueOf, waitFor } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget, { startTimeout: 120_000 })

describe('KIP-320 after an unclean election', () => {
  it('reports the offsets the new leader never had and resumes at the divergence', async () => {
    const [a, b] = target.brokerIds as [number, number]
    const topic = unique('unclean')
    const admin = new Admin({ brokers: target.bootstrap })
    try {
      await admin.createTopics(
        [
          {
            name: topic,
            assignments: { 0: [a, b] },
            configs: { 'unclean.leader.election.enable': 'true', 'min.insync.replicas': '1' },
          },
        ],
        { waitForLeaders: true },
      )
    } finally {
      await admin.close()
    }
    await produce(target.bootstrap, topic, 2, { prefix: 'a' }) // offsets 0-1 on both replicas
    const reader = new Reader({
      brokers: target.bootstrap,
      topic,
      partition: 0,
      startOffset: FirstOffset,
      maxWait: 100,
    })
    let aDown = false
    let bDown = false
    try {
      expect((await readMessages(reader, 2, 30_000)).map(valueOf)).toEqual(['a0', 'a1'])

      // B stops; once the controller has taken it out of the ISR, A takes writes alone.
      await target.stopBroker(b)
      bDown = true
      await waitFor(async () => (await isr(target.bootstrap, topic, 0)).join() === String(a), 60_000, 'ISR = [A]')
      await produce(target.bootstrap, topic, 2, { prefix: 'lost' }) // offsets 2-3, on A only
      const read = await readMessages(reader, 2, 30_000)
      expect(read.map((m) => [m.offset, valueOf(m)])).toEqual([
        [2n, 'lost0'],
        [3n, 'lost1'],
      ])

      // A stops, B returns and is elected without the records A had alone.
      await target.stopBroker(a)
      aDown = true
      await target.startBroker(b)
      bDown = false
      await waitFor(async () => (await leaders(target.bootstrap, topic)).get(0) === b, 90_000, 'B elected (unclean)')
      await produce(target.bootstrap, topic, 1, { prefix: 'new' }) // offset 2, in B's new epoch

      const error = await reader.fetchMessage({ signal: AbortSignal.timeout(60_000) }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LogTruncatedError)
      const t = error as LogTruncatedError
      expect([t.topic, t.partition, t.firstLostOffset, t.endLostOffset, t.resumeOffset]).toEqual([topic, 0, 2n, 4n, 2n])
      // Reading goes on where the logs diverge: the new leader's record at the lost offset.
      const after = await readMessages(reader, 1, 30_000)
      expect(after.map((m) => [m.offset, valueOf(m)])).toEqual([[2n, 'new0']])
    } finally {
      await reader.close()
      if (aDown) await target.startBroker(a)
      if (bDown) await target.startBroker(b)
    }
  }, 300_000)
})
