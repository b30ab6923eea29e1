// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// The ShareReader judged by Kafka's Java KafkaShareConsumer (kafka-clients 4.4.0): the same
// accept/release/reject script run by each, in its own share group over the same records, gives
// the same deliveries (offset, deliveryCount); and a group mixing Java and kafkats members gets
// every record accepted exactly once.

import { describe, expect, it } from 'vitest'
import { ShareReader } from '../../src/share/share-reader.js'
import { createTopic, produce, startTarget, targetName, unique } from '../consumer/helpers.js'
import { startJavaShareMember, type JavaShareRecord } from '../helpers/java-share.js'
import { useTarget } from '../helpers/use-target.js'
import { configureShareGroup, fetchUntil, text } from './helpers.js'

const target = useTarget(startTarget)

const waitUntil = async (done: () => boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const byDelivery = (a: [number, number, string], b: [number, number, string]) => a[1] - b[1] || a[0] - b[0]

describe.sequential(`ShareReader vs Java's KafkaShareConsumer, against ${targetName}`, () => {
  it('the same accept/release/reject script gives the same (offset, deliveryCount) deliveries', async () => {
    const topic = unique('share-java')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 9)
    const javaGroup = unique('share-java-g')
    const tsGroup = unique('share-ts-g')
    await configureShareGroup(target.bootstrap, javaGroup)
    await configureShareGroup(target.bootstrap, tsGroup)
    // 9 first deliveries, then the 3 released ones (offsets 1, 4, 7) once more.
    const expected = 12

    const javaSeen: [number, number, string][] = []
    const java = startJavaShareMember(target.bootstrap, javaGroup, topic, 'mod3', (r: JavaShareRecord) =>
      javaSeen.push([r.offset, r.deliveryCount, r.ack]),
    )
    try {
      await waitUntil(() => javaSeen.length >= expected, 60_000, 'the Java member')
    } finally {
      await java.stop()
    }

    const reader = new ShareReader({
      brokers: target.bootstrap,
      groupId: tsGroup,
      topics: [topic],
      acknowledgementMode: 'explicit',
    })
    const tsSeen: [number, number, string][] = []
    try {
      await fetchUntil(
        reader,
        (batch) => {
          for (const m of batch) {
            const o = Number(m.offset)
            const ack =
              m.deliveryCount === 1 && o % 3 === 1
                ? 'release'
                : m.deliveryCount === 1 && o % 3 === 2
                  ? 'reject'
                  : 'accept'
            reader.acknowledge(m, ack)
            tsSeen.push([o, m.deliveryCount, ack])
          }
        },
        () => tsSeen.length >= expected,
        60_000,
      )
      await reader.commit()
      // Neither gets anything more.
      expect(await reader.fetchMessages({ timeout: 1500 })).toEqual([])
    } finally {
      await reader.close()
    }
    expect(tsSeen.length).toBe(expected)
    expect(tsSeen.sort(byDelivery)).toEqual(javaSeen.sort(byDelivery))
  })

  it('a group of two Java members and two ShareReaders: every record accepted exactly once', async () => {
    const total = 1000
    const topic = unique('share-mixed')
    const groupId = unique('share-mixed-g')
    await createTopic(target.bootstrap, topic, 3)
    await configureShareGroup(target.bootstrap, groupId)
    const counts = new Uint16Array(total)
    let distinct = 0
    let javaCount = 0
    let tsCount = 0
    const seen = (value: string) => {
      if (counts[Number(value)]!++ === 0) distinct++
    }
    const javas = [0, 1].map(() =>
      startJavaShareMember(
        target.bootstrap,
        groupId,
        topic,
        'implicit',
        (r) => {
          javaCount++
          seen(r.value)
        },
        { 'max.poll.records': 50 },
      ),
    )
    const readers = [0, 1].map(
      () => new ShareReader({ brokers: target.bootstrap, groupId, topics: [topic], maxRecords: 50 }),
    )
    const stop = new AbortController()
    const loops = readers.map(async (r) => {
      while (!stop.signal.aborted) {
        for (const m of await r.fetchMessages({ timeout: 500 })) {
          tsCount++
          seen(text(m))
        }
      }
      await r.commit()
    })
    try {
      // Every member in the group before the records come (a JVM starts slower than a ShareReader).
      await Promise.all(javas.map((j) => j.polling))
      for (let from = 0; from < total; from += 100) {
        await produce(target.bootstrap, topic, 100, { from })
        await new Promise((r) => setTimeout(r, 200))
      }
      await waitUntil(() => distinct >= total, 90_000, 'every record')
      // A little longer: a record delivered twice would show up now.
      await new Promise((r) => setTimeout(r, 1500))
    } finally {
      stop.abort()
      await Promise.all(loops)
      await Promise.all(readers.map((r) => r.close()))
      await Promise.all(javas.map((j) => j.stop()))
    }
    expect(distinct).toBe(total)
    expect([...counts].filter((c) => c !== 1).length).toBe(0)
    // Both kinds of member took part.
    expect(tsCount).toBeGreaterThan(0)
    expect(javaCount).toBeGreaterThan(0)
    expect(tsCount + javaCount).toBe(total)
  })
})
