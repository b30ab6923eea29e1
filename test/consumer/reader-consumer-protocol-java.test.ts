// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// One KIP-848 consumer group of kafkats Readers (`groupProtocol: 'consumer'`) and Java
// KafkaConsumers (group.protocol=consumer, test/helpers/java-group.ts) sharing a topic, on a
// 3-broker reference cluster or real Kafka 4.x when KAFKA_BOOTSTRAP is set. Members of both kinds
// join and leave while the group reads and commits; every record is consumed exactly once.

import { describe, expect, it } from 'vitest'
import { createTopic, produce, startTarget, targetName, unique, waitFor } from './helpers.js'
import { MixedGroup } from './mixed-group.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

describe(`a KIP-848 group of kafkats and Java members, against ${targetName}`, () => {
  it('members of both kinds join and leave; every record is consumed once by the group', async () => {
    const topic = unique('mixed')
    const groupId = unique('mixed-g')
    const total = 1200
    await createTopic(target.bootstrap, topic, 6)
    await produce(target.bootstrap, topic, total / 2)

    const group = new MixedGroup(target.bootstrap, groupId, topic, total)
    try {
      group.joinKafkats('a')
      group.joinJava('j1')
      await waitFor(
        () => group.distinct >= 200 && group.javas.get('j1')!.assigned.length > 0,
        90_000,
        `A and J1 to read: ${group.progress()}`,
      )
      group.joinKafkats('b')
      group.joinJava('j2')
      await waitFor(
        () => group.readers.get('b')!.reader.assignment().length > 0 && group.javas.get('j2')!.assigned.length > 0,
        90_000,
        'B and J2 to receive partitions',
      )
      await produce(target.bootstrap, topic, total / 2, { from: total / 2 })
      await waitFor(() => group.distinct >= 800, 90_000, `the four to read: ${group.progress()}`)
      await group.leaveJava('j1')
      await group.leaveKafkats('a')
      await waitFor(() => group.distinct >= total, 90_000, `B and J2 to read the rest: ${group.progress()}`)
    } finally {
      await group.stop()
    }
    expect(group.tally()).toEqual({ duplicates: 0, missing: 0 })
    expect(group.byKind.kafkats).toBeGreaterThan(0)
    expect(group.byKind.java).toBeGreaterThan(0)
  }, 300_000)
})
