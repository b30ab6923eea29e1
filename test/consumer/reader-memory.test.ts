// What the Reader costs in memory, measured on the heap after a forced GC: waits that end leave
// nothing behind (on Node 20 every AbortSignal.any call leaves an entry in each source signal that
// GC never removes, nodejs/node#55351), and the prefetch queue holds about what
// queueCapacityBytes says, however small the messages.

import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { describe, expect, it, vi } from 'vitest'
import { Reader } from '../../src/consumer/reader.js'
import { Notifier, deadlineSignal } from '../../src/consumer/wait.js'
import { AbortError } from '../../src/net/errors.js'
import { createTopic, produce, readMessages, startTarget, unique } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

// The test process runs without --expose-gc; this turns it on for the functions made from now on.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Live heap (JS objects plus Buffer memory) after collecting garbage. */
async function liveBytes(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

const MiB = 1024 * 1024
/** One abort reason for every wait, so each abort does not build a DOMException. */
const REASON = new Error('test abort')

describe('waits that end leave nothing on long-lived signals', () => {
  it('Notifier.wait on a long-lived signal: 200k waits that end leave the heap as it was', async () => {
    const notifier = new Notifier()
    const longLived = new AbortController()
    // Half end by notify(), half by the caller's own signal: both must drop their listeners.
    const waitOnce = async (i: number): Promise<void> => {
      const short = new AbortController()
      const waiting = notifier.wait([short.signal, longLived.signal, undefined])
      if (i % 2 === 0) notifier.notify()
      else short.abort(REASON)
      await waiting.catch((err: unknown) => {
        if (!(err instanceof AbortError)) throw err
      })
    }
    for (let i = 0; i < 10_000; i++) await waitOnce(i)
    const before = await liveBytes()
    for (let i = 0; i < 200_000; i++) await waitOnce(i)
    const growth = (await liveBytes()) - before
    // What AbortSignal.any leaked here on Node 20: ~40 bytes per wait, 8 MB for 200k.
    expect(growth).toBeLessThan(2 * MiB)
    expect(notifier.waiting).toBe(0)
  }, 180_000)

  it('the long-lived signal still aborts a wait, with its own reason', async () => {
    const notifier = new Notifier()
    const longLived = new AbortController()
    const waiting = notifier.wait([new AbortController().signal, longLived.signal], undefined, 'probe')
    longLived.abort(new Error('closing'))
    await expect(waiting).rejects.toBeInstanceOf(AbortError)
    expect(notifier.waiting).toBe(0)
  })
})

describe('deadlineSignal', () => {
  it('fires with the parent, or at the deadline with a TimeoutError', async () => {
    const parent = new AbortController()
    const first = deadlineSignal(60_000, parent.signal)
    parent.abort(REASON)
    expect(first.aborted).toBe(true)
    expect(first.reason).toBe(REASON)

    const second = deadlineSignal(10, new AbortController().signal)
    await new Promise((resolve) => second.addEventListener('abort', resolve))
    expect((second.reason as Error).name).toBe('TimeoutError')
  })
})

describe('Reader memory, against the reference cluster', () => {
  const target = useTarget(() => startTarget({ reference: true }))

  it('100k fetchMessage calls that wait and are aborted leave the heap as it was', async () => {
    const topic = unique('waits')
    await createTopic(target.bootstrap, topic, 1, 1)
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0 })
    try {
      const waitOnce = async (): Promise<void> => {
        const abort = new AbortController()
        const reading = reader.fetchMessage({ signal: abort.signal })
        abort.abort(REASON)
        await reading.catch((err: unknown) => {
          if (!(err instanceof AbortError)) throw err
        })
      }
      for (let i = 0; i < 10_000; i++) await waitOnce()
      const before = await liveBytes()
      // Fewer than above: each aborted read builds an error, and the machine running this is shared.
      for (let i = 0; i < 100_000; i++) await waitOnce()
      const growth = (await liveBytes()) - before
      // The leak was ~4 MB here (one entry per wait on the Reader's close signal).
      expect(growth).toBeLessThan(1.5 * MiB)
    } finally {
      await reader.close()
    }
  }, 180_000)

  // A group member lives through many rebalances: the revocation wait and the heartbeat loop of each
  // generation listen to the Reader's close signal, and an AbortSignal.any link from it would stay
  // for the life of the Reader on Node 20 (one per rebalance).
  for (const groupProtocol of ['classic', 'consumer'] as const) {
    it(`rebalances (${groupProtocol} protocol) link no signal through AbortSignal.any`, async () => {
      const topic = unique('rebal-signals')
      await createTopic(target.bootstrap, topic, 2, 1)
      await produce(target.bootstrap, topic, 20)
      const any = vi.spyOn(AbortSignal, 'any')
      const groupId = unique('rebal-signals-g')
      // The consumer protocol's heartbeat interval is the coordinator's (setting it is a ConfigError).
      const heartbeat = groupProtocol === 'classic' ? { heartbeatInterval: 100 } : {}
      const options = { brokers: target.bootstrap, topic, groupId, groupProtocol, ...heartbeat }
      const first = new Reader(options)
      // Commits what it read, so that a revocation does not wait for held records.
      const readOne = async (reader: Reader): Promise<void> => {
        await reader.commitMessages(await readMessages(reader, 1, 20_000))
      }
      try {
        await readOne(first)
        for (let i = 0; i < 2; i++) {
          const second = new Reader(options)
          // The second member reads only once the rebalance handed it a partition (first revoked it).
          await readOne(second)
          await second.close()
        }
        await readOne(first)
        expect(any).not.toHaveBeenCalled()
      } finally {
        any.mockRestore()
        await first.close()
      }
    }, 120_000)
  }

  it('a Reader that does not read holds about queueCapacityBytes of 300k tiny messages, and then reads them all', async () => {
    const topic = unique('tiny')
    await createTopic(target.bootstrap, topic, 1, 1)
    const count = 300_000
    await produce(target.bootstrap, topic, count, { prefix: 'value-' }) // 7 to 12-byte values
    const capacity = 4 * MiB
    const before = await liveBytes()
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0, queueCapacityBytes: capacity })
    try {
      // Start the fetch loop, then let it prefetch until the queue stops growing.
      const first = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      expect(first.offset).toBe(0n)
      let queued = -1
      while (reader.stats().queueLength !== queued) {
        queued = reader.stats().queueLength
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
      const growth = (await liveBytes()) - before
      // Counting payload only, 4 MiB admitted all 300k messages: ~80 MB of heap.
      expect(queued).toBeGreaterThan(1000)
      expect(queued).toBeLessThan(count / 4)
      expect(growth).toBeLessThan(4 * capacity)

      // Budget cuts inside record batches lose and repeat nothing.
      let next = 1n
      while (next < BigInt(count)) {
        const m = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
        expect(m.offset).toBe(next)
        expect(m.value?.toString()).toBe(`value-${next}`)
        next++
      }
    } finally {
      await reader.close()
    }
  }, 300_000)
})
