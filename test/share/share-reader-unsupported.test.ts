// A ShareReader against a cluster without share groups (Kafka 4.4.0 with share.version 0, as the
// reference broker's `shareGroups: false` answers; Kafka 3.9 and 4.0, which do not know the APIs,
// fail the same way in version negotiation): reads reject with a typed error at once, never wait.

import { afterAll, beforeAll, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ShareReader, ShareReaderStateError } from '../../src/share/share-reader.js'
import { createTopic, unique } from '../consumer/helpers.js'
import { recorder } from '../helpers/log-recorder.js'

let cluster: Cluster

beforeAll(async () => {
  cluster = await Cluster.start({ brokers: 1, shareGroups: false })
})

afterAll(async () => {
  await cluster?.stop()
})

it('a cluster with share groups off: fetchMessages rejects with ShareReaderStateError, the broker answer as its cause', async () => {
  const topic = unique('share-off')
  await createTopic(cluster.bootstrapServers, topic, 1, 1)
  const log = recorder()
  const reader = new ShareReader({
    brokers: cluster.bootstrapServers,
    groupId: unique('share-off-g'),
    topics: [topic],
    logger: log,
  })
  try {
    const started = Date.now()
    const err = await reader.fetchMessages({ signal: AbortSignal.timeout(20_000) }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ShareReaderStateError)
    expect(String((err as Error).cause)).toMatch(/UNSUPPORTED_VERSION|not support/i)
    expect(Date.now() - started).toBeLessThan(15_000)
    // And the logger was told, with the broker's answer.
    expect(log.lines.some((l) => l.level === 'error' && String(l.fields.err).includes('UNSUPPORTED_VERSION'))).toBe(
      true,
    )
    // Still refused on the next read: the membership failed for good.
    await expect(reader.fetchMessages({ signal: AbortSignal.timeout(5_000) })).rejects.toBeInstanceOf(
      ShareReaderStateError,
    )
  } finally {
    await reader.close().catch(() => {})
  }
})
