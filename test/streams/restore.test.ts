// Restoring a store from its changelog (src/streams/restore.ts) on the reference cluster: a
// store kept across a rebalance restores from where it is up to, and when only a transaction
// marker is left the restore must still end. Its fetches wait a short time and then look at
// the position; on Node 20 a timeout signal combined with AbortSignal.any is collected by GC
// and never fires (fixed in Node 22), which left a restore waiting for ever: seen as a stalled
// rebalance of the exactly-once streams test in full CI runs.

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

import { afterAll, beforeAll, expect, it } from 'vitest'

import { Cluster } from '../../src/broker/index.js'
import { Writer } from '../../src/producer/writer.js'
import { restoreStore } from '../../src/streams/restore.js'
import { InMemoryBytesStore } from '../../src/streams/stores.js'
import { Reader } from '../../src/consumer/reader.js'
import { createTopic, unique, waitFor } from '../consumer/helpers.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let cluster: Cluster

beforeAll(async () => {
  // Markers trail the commit by 50 ms, so every round meets a commit whose marker is not written yet.
  cluster = await Cluster.start({ brokers: 1, transactionMarkerDelayMs: 50 })
})

afterAll(async () => {
  await cluster?.stop()
})

async function committedEnd(brokers: string[], topic: string): Promise<bigint> {
  const reader = new Reader({ brokers, topic, partition: 0 })
  try {
    return (await reader.endOffsets([0]))[0]?.offset ?? 0n
  } finally {
    await reader.close()
  }
}

it('restores up to a trailing transaction marker and ends, even with garbage collections while it waits', async () => {
  const brokers = cluster.bootstrapServers
  const topic = unique('restore-changelog')
  await createTopic(brokers, topic, 1, 1)
  const writer = new Writer({ brokers, transactionalId: unique('restore-tx'), requiredAcks: 'all' })
  try {
    for (let round = 0; round < 5; round++) {
      await writer.beginTransaction()
      const [written] = await writer.writeMessages([{ topic, partition: 0, key: `k${round}`, value: `v${round}` }])
      await writer.commitTransaction()
      // The markers follow the commit asynchronously (as on Kafka): until the commit marker is
      // written the read-committed end offset stays at this round's record.
      await waitFor(async () => (await committedEnd(brokers, topic)) > written!.offset, 10_000, 'the commit marker')
      const from = written!.offset + 1n // a store kept across a rebalance: only the marker is left
      const store = new InMemoryBytesStore()
      const collecting = setInterval(gc, 5)
      try {
        const outcome = await Promise.race([
          restoreStore({ brokers }, undefined, topic, 0, store, new AbortController().signal, from).then(() => 'ended'),
          new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000)),
        ])
        expect(outcome).toBe('ended')
      } finally {
        clearInterval(collecting)
      }
      // From the start, every record is restored.
      const full = new InMemoryBytesStore()
      const r = await restoreStore({ brokers }, undefined, topic, 0, full, new AbortController().signal)
      expect(r.records).toBe(round + 1)
      expect(full.get(Buffer.from(`k${round}`))?.toString()).toBe(`v${round}`)
    }
  } finally {
    await writer.close()
  }
}, 120_000)
