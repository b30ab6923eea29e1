// Issue 14 item 2f: `checkCrcs` (librdkafka and Java check.crcs). A batch whose bytes changed
// after the producer summed them is corrupted in the reference broker's stored log, so the
// broker serves it as it would a bit flipped on disk or on the wire.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { resolveReaderConfig } from '../../src/consumer/config.js'
import { Reader } from '../../src/consumer/reader.js'
import { ConfigError, CorruptRecordError } from '../../src/errors.js'
import { createTopic, produce, unique, valueOf } from './helpers.js'

let cluster: Cluster

beforeAll(async () => {
  cluster = await Cluster.start({ brokers: 1 })
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

/** Writes one message 'value-0', then turns its stored value into 'value-X' (CRC left as it was). */
async function corruptTopic(): Promise<string> {
  const topic = unique('crc')
  await createTopic(cluster.bootstrapServers, topic, 1, 1)
  await produce(cluster.bootstrapServers, topic, 1, { prefix: 'value-' })
  const partition = cluster.topics.get(topic)?.partitions[0]
  const stored = [...(partition?.log.batches() ?? [])]
  expect(stored).toHaveLength(1)
  const data = stored[0]!.data
  const at = data.lastIndexOf(Buffer.from('value-0'))
  expect(at).toBeGreaterThan(61)
  data[at + 6] = 0x58 // 'X'
  return topic
}

function reader(topic: string, checkCrcs?: boolean): Reader {
  return new Reader({
    brokers: cluster.bootstrapServers,
    topic,
    partition: 0,
    maxWait: 100,
    ...(checkCrcs === undefined ? {} : { checkCrcs }),
  })
}

describe('Reader checkCrcs', () => {
  it('defaults to true and takes only booleans', () => {
    expect(resolveReaderConfig({ brokers: ['b:9092'], topic: 't', partition: 0 }).checkCrcs).toBe(true)
    expect(resolveReaderConfig({ brokers: ['b:9092'], topic: 't', partition: 0, checkCrcs: false }).checkCrcs).toBe(
      false,
    )
    expect(() =>
      resolveReaderConfig({ brokers: ['b:9092'], topic: 't', partition: 0, checkCrcs: 'no' as never }),
    ).toThrow(ConfigError)
    expect(() =>
      resolveReaderConfig({ brokers: ['b:9092'], topic: 't', partition: 0, checkCrcs: 'no' as never }),
    ).toThrow(/checkCrcs/)
  })

  it('by default a batch whose CRC does not match is a CorruptRecordError', async () => {
    const r = reader(await corruptTopic())
    try {
      const err = await r.fetchMessage({ signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(CorruptRecordError)
    } finally {
      await r.close()
    }
  })

  it('checkCrcs: false hands the batch out unverified', async () => {
    const r = reader(await corruptTopic(), false)
    try {
      const m = await r.fetchMessage({ signal: AbortSignal.timeout(10_000) })
      expect(valueOf(m)).toBe('value-X')
    } finally {
      await r.close()
    }
  })
})
