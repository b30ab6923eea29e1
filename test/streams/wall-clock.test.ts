// @integration: also runs against real Kafka when KAFKA_BOOTSTRAP is set; otherwise on the
// in-process reference cluster (3 brokers).
// Wall-clock punctuation in the KafkaStreams runtime (PunctuationType.WALL_CLOCK_TIME): the
// runtime runs a task's due punctuators as system time passes, with no input arriving, and what
// they forward is written and committed like processed records (here under exactly_once_v2,
// read back read_committed).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { FirstOffset } from '../../src/consumer/offsets.js'
import { Reader } from '../../src/consumer/reader.js'
import { KafkaStreams, Serdes, StreamsBuilder, type Cancellable } from '../../src/streams/index.js'
import { createTopic, startTarget, targetName, unique, type Target } from '../consumer/helpers.js'
import { reach, writeInput } from './helpers/cluster.js'

const S = Serdes.String
const L = Serdes.Long

let target: Target
beforeAll(async () => {
  target = await startTarget()
}, 60_000)
afterAll(async () => {
  await target?.stop()
})

describe(`wall-clock punctuation on ${targetName}`, () => {
  it('runs as system time passes, without input, and its output commits', async () => {
    const [input, output] = [unique('wc-in'), unique('wc-out')]
    await createTopic(target.bootstrap, input, 1, Math.min(3, target.brokerIds.length))
    await createTopic(target.bootstrap, output, 1, Math.min(3, target.brokerIds.length))
    const b = new StreamsBuilder().addStateStore({ name: 'seen', key: S, value: L })
    b.stream(input, { key: S, value: S })
      .process<string, string>(
        () => {
          let tick: Cancellable | undefined
          let ticks = 0
          return {
            init(c) {
              const store = c.keyValueStore<string, number>('seen')
              tick = c.schedule(150, 'wall-clock-time', (now) => {
                ticks++
                c.forward({ key: 'tick', value: `${ticks}:${store.size}`, timestamp: now })
                if (ticks === 3) tick?.cancel()
              })
            },
            process(r, c) {
              if (r.key !== null) c.keyValueStore<string, number>('seen').put(r.key, r.timestamp)
            },
          }
        },
        { stores: ['seen'], key: S, value: S },
      )
      .to(output, { key: S, value: S })
    await writeInput(target.bootstrap, input, [
      { key: 'a', value: 'x', timestamp: 1 },
      { key: 'b', value: 'y', timestamp: 2 },
    ])
    const app = new KafkaStreams(b, { brokers: target.bootstrap, applicationId: unique('wc') })
    const reader = new Reader({
      brokers: target.bootstrap,
      topic: output,
      partition: 0,
      startOffset: FirstOffset,
      isolationLevel: 'read_committed',
    })
    try {
      const started = Date.now()
      await app.start()
      await reach(app, 'RUNNING')
      const values: string[] = []
      const signal = AbortSignal.timeout(20_000)
      while (values.length < 3) {
        const batch = await reader.fetchBatch({ signal })
        for (const m of batch.messages) values.push(m.value!.toString('utf8'))
      }
      // Three ticks (then cancelled), 150 ms apart at least; the later ones see both keys.
      expect(values).toHaveLength(3)
      expect(values.map((v) => v.split(':')[0])).toEqual(['1', '2', '3'])
      expect(values[2]).toBe('3:2')
      expect(Date.now() - started).toBeGreaterThanOrEqual(450)
      // No fourth: the punctuator cancelled itself.
      await new Promise((r) => setTimeout(r, 500))
      const more = await reader
        .fetchBatch({ signal: AbortSignal.timeout(300) })
        .then((bt) => bt.messages.length)
        .catch(() => 0)
      expect(more).toBe(0)
    } finally {
      await reader.close()
      await app.close()
    }
  }, 60_000)
})
