// The acknowledgement batches a ShareReader sends (ShareFetchRequest.json's AcknowledgementBatches:
// a range of offsets and either one type for the whole range or one per offset), Kafka's
// AcknowledgeType ids (0 gap, 1 accept, 2 release, 3 reject), and the ShareReader's option checks.

import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.js'
import { ACK_TYPE_ID, PartitionAcks, ackTypeId, offsetsIn } from '../../src/share/acknowledgements.js'
import { ShareAcknowledgeError, ShareReader } from '../../src/share/share-reader.js'

describe('share acknowledgements', () => {
  it("uses Kafka's AcknowledgeType ids", () => {
    // org.apache.kafka.clients.consumer.AcknowledgeType: ACCEPT 1, RELEASE 2, REJECT 3; GAP is 0 on the wire.
    expect([ackTypeId('accept'), ackTypeId('release'), ackTypeId('reject')]).toEqual([1, 2, 3])
    expect(ACK_TYPE_ID.gap).toBe(0)
    expect(() => ackTypeId('renew')).toThrow(ShareAcknowledgeError)
  })

  it('sends runs of consecutive offsets of one type as one batch, in offset order', () => {
    const acks = new PartitionAcks()
    for (const [offset, type] of [
      [7n, 1],
      [3n, 1],
      [4n, 1],
      [5n, 2],
      [6n, 1],
      [10n, 3],
      [11n, 3],
    ] as const)
      acks.add(offset, type)
    const batches = acks.drain()
    expect(batches).toEqual([
      { firstOffset: 3n, lastOffset: 4n, acknowledgeTypes: [1] },
      { firstOffset: 5n, lastOffset: 5n, acknowledgeTypes: [2] },
      { firstOffset: 6n, lastOffset: 7n, acknowledgeTypes: [1] },
      { firstOffset: 10n, lastOffset: 11n, acknowledgeTypes: [3] },
    ])
    expect(offsetsIn(batches)).toBe(7)
    expect(acks.size).toBe(0)
    expect(acks.drain()).toEqual([])
  })

  it('a later acknowledgement of the same offset replaces the earlier one', () => {
    const acks = new PartitionAcks()
    acks.add(1n, 2)
    acks.add(1n, 1)
    expect(acks.drain()).toEqual([{ firstOffset: 1n, lastOffset: 1n, acknowledgeTypes: [1] }])
  })

  it('checks the ShareReader options', () => {
    const base = { brokers: ['127.0.0.1:1'], groupId: 'g', topics: ['t'] }
    expect(() => new ShareReader({ ...base, groupId: '' })).toThrow(ConfigError)
    expect(() => new ShareReader({ ...base, topics: [] })).toThrow(ConfigError)
    expect(() => new ShareReader({ ...base, acknowledgementMode: 'auto' as never })).toThrow(/acknowledgementMode/)
    expect(() => new ShareReader({ ...base, maxRecords: 0 })).toThrow(/maxRecords/)
    expect(() => new ShareReader({ ...base, maxWait: -1 })).toThrow(/maxWait/)
  })
})
