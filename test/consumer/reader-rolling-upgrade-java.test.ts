// @integration
// Java KafkaConsumers with group.protocol=classic (test/helpers/java-group.ts) and kafkats Readers
// with `groupProtocol: 'consumer'` in one group: the Readers joining upgrade the classic group
// online, the Java members keep reading inside the consumer group (JoinGroup/SyncGroup/Heartbeat
// served by the consumer group), and when the last Reader leaves the group is downgraded and the
// remaining Java member reads the rest. Every record is read once by the group. Reference cluster
// or real Kafka 4.x.

import { describe, expect, it } from 'vitest'
import { createTopic, produce, startTarget, targetName, unique, waitFor } from './helpers.js'
import { MixedGroup } from './mixed-group.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

describe(`Java classic members and kafkats consumer-protocol members in one group, against ${targetName}`, () => {
  it('upgrade by the Readers joining, downgrade when they leave; every record is read once', async () => {
    const topic = unique('mixed-migration')
    const groupId = unique('mixed-migration-g')
    const total = 1200
    await createTopic(target.bootstrap, topic, 6)
    await produce(target.bootstrap, topic, total / 2)

    const group = new MixedGroup(target.bootstrap, groupId, topic, total)
    const classic = { 'group.protocol': 'classic', 'session.timeout.ms': 10_000, 'heartbeat.interval.ms': 500 }
    try {
      group.joinJava('j1', classic)
      group.joinJava('j2', classic)
      await waitFor(
        () =>
          group.distinct >= 100 &&
          group.javas.get('j1')!.assigned.length > 0 &&
          group.javas.get('j2')!.assigned.length > 0,
        90_000,
        `J1 and J2 to read: ${group.progress()}`,
      )
      group.joinKafkats('a')
      group.joinKafkats('b')
      await waitFor(
        () =>
          group.readers.get('a')!.reader.assignment().length > 0 &&
          group.readers.get('b')!.reader.assignment().length > 0 &&
          group.javas.get('j2')!.assigned.length > 0,
        90_000,
        `A and B to receive partitions beside J2: ${group.progress()}`,
      )
      await produce(target.bootstrap, topic, total / 2, { from: total / 2 })
      await waitFor(() => group.distinct >= 800, 90_000, `the four to read: ${group.progress()}`)
      await group.leaveJava('j1')
      await group.leaveKafkats('a')
      await group.leaveKafkats('b')
      await waitFor(() => group.distinct >= total, 90_000, `J2 to read the rest: ${group.progress()}`)
      await waitFor(() => group.javas.get('j2')!.assigned.length === 6, 60_000, 'J2 to own every partition')
    } finally {
      await group.stop()
    }
    expect(group.tally()).toEqual({ duplicates: 0, missing: 0 })
    expect(group.byKind.kafkats).toBeGreaterThan(0)
    expect(group.byKind.java).toBeGreaterThan(0)
  }, 300_000)
})
