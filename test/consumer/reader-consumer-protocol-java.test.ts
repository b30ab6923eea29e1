// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// One KIP-848 consumer group of kafkats Readers (`groupProtocol: 'consumer'`) and Java
// KafkaConsumers (group.protocol=consumer, test/helpers/java-group.ts) sharing a topic, on a
// 3-broker reference cluster or real Kafka 4.x when KAFKA_BOOTSTRAP is set. Members of both kinds
// join and leave while the group reads and commits; every record is consumed exactly once.

import { describe, expect, it } from 'vitest'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import { Reader } from '../../src/consumer/reader.js'
import { startJavaMember, type JavaMember } from '../helpers/java-group.js'
import { createTopic, produce, startTarget, targetName, unique, valueOf, waitFor } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

describe(`a KIP-848 group of kafkats and Java members, against ${targetName}`, () => {
  it('members of both kinds join and leave; every record is consumed once by the group', async () => {
    const topic = unique('mixed')
    const groupId = unique('mixed-g')
    const total = 1200
    await createTopic(target.bootstrap, topic, 6)
    await produce(target.bootstrap, topic, total / 2)

    const counts = new Uint8Array(total)
    let distinct = 0
    const byKind = { kafkats: 0, java: 0 }
    const record = (value: string, kind: 'kafkats' | 'java') => {
      if (counts[Number(value)]!++ === 0) distinct++
      byKind[kind]++
    }
    const readers = new Map<string, { reader: Reader; stop: AbortController; done: Promise<void> }>()
    const javas = new Map<string, JavaMember>()
    const joinKafkats = (name: string) => {
      const reader = new Reader({
        brokers: target.bootstrap,
        groupId,
        topic,
        groupProtocol: 'consumer',
        maxWait: 200,
        partitionMaxBytes: 2048,
      })
      const stop = new AbortController()
      const done = (async () => {
        for (;;) {
          let batch
          try {
            batch = await reader.fetchBatch({ signal: stop.signal })
          } catch (err) {
            if (stop.signal.aborted) return
            throw err
          }
          for (const m of batch.messages) record(valueOf(m), 'kafkats')
          await reader.commitMessages(...batch.messages).catch((err: unknown) => {
            if (!(err instanceof CommitRejectedError)) throw err
          })
        }
      })()
      readers.set(name, { reader, stop, done })
    }
    const leaveKafkats = async (name: string) => {
      const r = readers.get(name)!
      r.stop.abort()
      await r.done
      await r.reader.close()
      readers.delete(name)
    }
    const joinJava = (name: string) =>
      javas.set(
        name,
        startJavaMember(target.bootstrap, groupId, topic, (v) => record(v, 'java')),
      )
    const leaveJava = async (name: string) => {
      await javas.get(name)!.stop()
      javas.delete(name)
    }
    const progress = () => `${distinct} of ${total} read (kafkats ${byKind.kafkats}, java ${byKind.java})`
    try {
      joinKafkats('a')
      joinJava('j1')
      await waitFor(
        () => distinct >= 200 && javas.get('j1')!.assigned.length > 0,
        90_000,
        `A and J1 to read: ${progress()}`,
      )
      joinKafkats('b')
      joinJava('j2')
      await waitFor(
        () => readers.get('b')!.reader.assignment().length > 0 && javas.get('j2')!.assigned.length > 0,
        90_000,
        'B and J2 to receive partitions',
      )
      await produce(target.bootstrap, topic, total / 2, { from: total / 2 })
      await waitFor(() => distinct >= 800, 90_000, `the four to read: ${progress()}`)
      await leaveJava('j1')
      await leaveKafkats('a')
      await waitFor(() => distinct >= total, 90_000, `B and J2 to read the rest: ${progress()}`)
    } finally {
      for (const name of [...readers.keys()]) await leaveKafkats(name)
      for (const name of [...javas.keys()]) await leaveJava(name)
    }
    let duplicates = 0
    let missing = 0
    for (const c of counts) {
      if (c === 0) missing++
      else duplicates += c - 1
    }
    expect({ duplicates, missing }).toEqual({ duplicates: 0, missing: 0 })
    expect(byKind.kafkats).toBeGreaterThan(0)
    expect(byKind.java).toBeGreaterThan(0)
  }, 300_000)
})
