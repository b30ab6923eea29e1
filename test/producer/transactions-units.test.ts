// Pure parts of the transactional Writer: the offsets sendOffsets commits (KIP-447: the next offset
// to read per partition, with the leader epoch of the message it follows, as Java's
// OffsetAndMetadata(offset + 1, leaderEpoch)) and the checks on what it is given.

import { describe, expect, it } from 'vitest'
import { KafkaTsError, TransactionStateError, Writer } from '../../src/index.js'
import { offsetsToCommit } from '../../src/producer/transactions.js'

describe('offsetsToCommit', () => {
  it('takes the highest offset + 1 per partition, with that message’s leader epoch', () => {
    const offsets = offsetsToCommit([
      { topic: 'a', partition: 0, offset: 7n, value: null, leaderEpoch: 3 } as never,
      { topic: 'a', partition: 0, offset: 9n, value: null, leaderEpoch: 4 } as never,
      { topic: 'a', partition: 0, offset: 8n, value: null, leaderEpoch: 4 } as never,
      { topic: 'a', partition: 1, offset: 0n, value: null } as never,
      { topic: 'b', partition: 0, offset: 41n, value: null, leaderEpoch: 0 } as never,
    ])
    expect(offsets).toEqual([
      { topic: 'a', partition: 0, offset: 10n, leaderEpoch: 4 },
      { topic: 'a', partition: 1, offset: 1n, leaderEpoch: -1 },
      { topic: 'b', partition: 0, offset: 42n, leaderEpoch: 0 },
    ])
  })

  it('refuses messages without topic, partition and offset', () => {
    expect(() => offsetsToCommit([{ value: 'x' }])).toThrow(KafkaTsError)
    expect(() => offsetsToCommit([{ topic: 'a', partition: 0, value: 'x' }])).toThrow(/message 0 has no topic/)
  })
})

describe('sendOffsets arguments', () => {
  it('needs a Reader in a group and an open transaction', async () => {
    const w = new Writer({ brokers: ['127.0.0.1:1'], transactionalId: 'units' })
    const message = { topic: 'a', partition: 0, offset: 1n, value: null }
    // No transaction is open: nothing is sent.
    await expect(
      w.sendOffsets(
        { groupMetadata: () => ({ groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null }) },
        [message],
      ),
    ).rejects.toThrow(TransactionStateError)
    await w.close()
  })
})
