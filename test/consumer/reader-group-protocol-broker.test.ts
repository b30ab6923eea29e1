// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// The default group protocol against the broker at hand: a Reader that leaves `groupProtocol`
// unset uses KIP-848's consumer protocol where the broker enables it, and falls back to the
// classic protocol where it does not. What to expect is read from the broker's ApiVersions answer,
// not its version string: ConsumerGroupHeartbeat listed and the `group.version` feature finalized
// at 1 or more (Kafka 4.x; Kafka 3.9 lists the API but finalizes no group.version and answers it
// UNSUPPORTED_VERSION). On the reference cluster, or real Kafka when KAFKA_BOOTSTRAP is set.

import { describe, expect, it } from 'vitest'
import { KafkaClient } from '../../src/cluster/client.js'
import { Reader } from '../../src/consumer/reader.js'
import { ConsumerGroupHeartbeat } from '../../src/protocol/messages/index.js'
import { silentLogger } from '../../src/logger.js'
import { createTopic, produce, startTarget, targetName, unique, valueOf } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

/** Whether the bootstrap broker's ApiVersions answer says the consumer group protocol is usable. */
async function brokerEnablesConsumerProtocol(): Promise<boolean> {
  const client = new KafkaClient({ brokers: target.bootstrap, clientId: 'test-admin' })
  try {
    const first = target.bootstrap[0]!
    const colon = first.lastIndexOf(':')
    const { versions } = await client.pool.get(
      { host: first.slice(0, colon), port: Number(first.slice(colon + 1)), nodeId: -1 },
      'admin',
    )
    return versions.range(ConsumerGroupHeartbeat.apiKey) !== undefined && versions.featureLevel('group.version') >= 1
  } finally {
    await client.close()
  }
}

describe(`the Reader's default group protocol, against ${targetName}`, () => {
  it("is 'consumer' where the broker enables KIP-848 and 'classic' where it does not; both read every record", async () => {
    const expected = (await brokerEnablesConsumerProtocol()) ? 'consumer' : 'classic'
    const topic = unique('gpd')
    await createTopic(target.bootstrap, topic, 3)
    await produce(target.bootstrap, topic, 30)
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: unique('gpd-g'),
      topic,
      maxWait: 200,
      logger: silentLogger,
    })
    try {
      const signal = AbortSignal.timeout(60_000)
      const seen = new Set<string>()
      while (seen.size < 30) {
        const m = await reader.fetchMessage({ signal })
        seen.add(valueOf(m))
        await reader.commitMessages(m)
      }
      expect(reader.groupProtocol).toBe(expected)
      expect(reader.assignment().length).toBe(3)
    } finally {
      await reader.close()
    }
  }, 120_000)
})
