// The Admin against a broker that speaks Kafka 3.9.2's versions (its real ApiVersions answer,
// test/fixtures/kafka-answers): where 3.9 answers differently from Kafka 4.x, the Admin reports
// what Kafka 4.x would, as Java's admin client does.

import { afterEach, describe, expect, it } from 'vitest'

import { Admin, AdminBatchError } from '../../src/index.js'
import { readResponseFrame } from '../../src/protocol/frame.js'
import { ApiVersions } from '../../src/protocol/messages/index.js'
import { FakeBroker } from '../client/fake-broker.js'
import { exchangeOf, loadKafkaAnswers } from '../fixtures/kafka-answers/answers.js'

const kafka39 = readResponseFrame(
  Buffer.from(exchangeOf(loadKafkaAnswers('3.9.2'), 'ApiVersions', 3).response, 'hex'),
  ApiVersions,
  3,
).body

let broker: FakeBroker | undefined
let admin: Admin | undefined
afterEach(async () => {
  await admin?.close()
  await broker?.stop()
  admin = broker = undefined
})

/** One broker, coordinator of every group, answering ConsumerGroupDescribe and DescribeGroups for an unknown group as Kafka does. */
async function startBroker(apiKeys: typeof kafka39.apiKeys): Promise<FakeBroker> {
  const b = await FakeBroker.start((r) => {
    const self = { nodeId: 1, host: '127.0.0.1', port: b.port }
    switch (r.api.name) {
      case 'Metadata':
        return { brokers: [{ ...self, rack: null }], clusterId: 'c', controllerId: 1, topics: [] }
      case 'FindCoordinator':
        return { coordinators: r.body.coordinatorKeys.map((key: string) => ({ key, ...self, errorCode: 0 })) }
      case 'ConsumerGroupDescribe':
        // Kafka 3.9.2 advertises it, and without the consumer protocol enabled (its default)
        // answers each group UNSUPPORTED_VERSION (35) with no message (seen on 3.9.2).
        return {
          groups: r.body.groupIds.map((groupId: string) => ({ groupId, errorCode: 35, errorMessage: null })),
        }
      case 'DescribeGroups':
        return {
          groups: r.body.groups.map((groupId: string) =>
            // Before v6 (Kafka 3.x) an unknown group is described as Dead; v6 (KIP-1043) says GROUP_ID_NOT_FOUND.
            r.version >= 6
              ? { groupId, errorCode: 69, groupState: 'Dead', protocolType: '', protocolData: '', members: [] }
              : { groupId, errorCode: 0, groupState: 'Dead', protocolType: '', protocolData: '', members: [] },
          ),
        }
      default:
        return undefined
    }
  })
  b.apiVersions = apiKeys
  return b
}

describe('Admin against Kafka 3.9 versions', () => {
  it('describes a group that does not exist as GROUP_ID_NOT_FOUND, as on Kafka 4.x (3.9 answers Dead)', async () => {
    broker = await startBroker(kafka39.apiKeys)
    admin = new Admin({ brokers: [broker.address] })
    const err = await admin.describeGroups(['nope']).catch((e: unknown) => e)
    expect(broker.received('ConsumerGroupDescribe').map((r) => r.version)).toEqual([0])
    expect(broker.received('DescribeGroups').map((r) => r.version)).toEqual([5])
    expect(err).toBeInstanceOf(AdminBatchError)
    expect((err as AdminBatchError).errors.get('nope')).toMatchObject({ errorName: 'GROUP_ID_NOT_FOUND' })
  })

  it('the same with DescribeGroups v6 (the broker says so itself)', async () => {
    broker = await startBroker(
      kafka39.apiKeys.map((k) => (k.apiKey === ApiVersions.apiKey ? k : k.apiKey === 15 ? { ...k, maxVersion: 6 } : k)),
    )
    admin = new Admin({ brokers: [broker.address] })
    const err = await admin.describeGroups(['nope']).catch((e: unknown) => e)
    expect(broker.received('DescribeGroups').map((r) => r.version)).toEqual([6])
    expect((err as AdminBatchError).errors.get('nope')).toMatchObject({ errorName: 'GROUP_ID_NOT_FOUND' })
  })
})
