// @integration
// Java KafkaConsumers with group.protocol=classic (test/helpers/java-group.ts) and kafkats Readers
// with `groupProtocol: 'consumer'` in one group: the Readers joining upgrade the classic group
// online, the Java members keep reading inside the consumer group (JoinGroup/SyncGroup/Heartbeat
// served by the consumer group), and when the last Reader leaves the group is downgraded and the
// remaining Java member reads the rest. Every record is read once by the group. Reference cluster
// or real Kafka 4.x.

import { describe, expect, it } from 'vitest'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import { Reader } from '../../src/consumer/reader.js'
import { startJavaMember, type JavaMember } from '../helpers/java-group.js'
import { createTopic, produce, startTarget, targetName, unique, valueOf, waitFor } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

describe(`Java classic members and kafkats consumer-protocol members in one group, against ${targetName}`, () => {
  it('upgrade by the Readers joining, downgrade when they leave; every record is read once', async () => {
    const topic = unique('mixed-migration')
    const groupId = unique('mixed-migration-g')
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
        startJavaMember(target.bootstrap, groupId, topic, (v) => record(v, 'java'), {
          'group.protocol': 'classic',
          'session.timeout.ms': 10_000,
          'heartbeat.interval.ms': 500,
        }),
      )
    const leaveJava = async (name: string) => {
      await javas.get(name)!.stop()
      javas.delete(name)
    }
    const progress = () => `${distinct} of ${total} read (kafkats ${byKind.kafkats}, java ${byKind.java})`
    try {
      joinJava('j1')
      joinJava('j2')
      await waitFor(
        () => distinct >= 100 && javas.get('j1')!.assigned.length > 0 && javas.get('j2')!.assigned.length > 0,
        90_000,
        `J1 and J2 to read: ${progress()}`,
      )
      joinKafkats('a')
      joinKafkats('b')
      await waitFor(
        () =>
          readers.get('a')!.reader.assignment().length > 0 &&
          readers.get('b')!.reader.assignment().length > 0 &&
          javas.get('j2')!.assigned.length > 0,
        90_000,
        `A and B to receive partitions beside J2: ${progress()}`,
      )
      await produce(target.bootstrap, topic, total / 2, { from: total / 2 })
      await waitFor(() => distinct >= 800, 90_000, `the four to read: ${progress()}`)
      await leaveJava('j1')
      await leaveKafkats('a')
      await leaveKafkats('b')
      await waitFor(() => distinct >= total, 90_000, `J2 to read the rest: ${progress()}`)
      await waitFor(() => javas.get('j2')!.assigned.length === 6, 60_000, 'J2 to own every partition')
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
