// Review S3 / issue 11 item 4: a partition's non-retriable error is never silent. It is raised
// by every read (fetchMessage, fetchBatch, the iterators) until the application seeks, pauses
// or loses the partition, as Java's consumer rethrows from every poll() until the position
// moves. The errors are injected by the reference cluster (faults.failPartition on Fetch, which
// answers the partition with the code as Kafka's ReplicaManager does for one partition).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { Reader } from '../../src/consumer/reader.js'
import { KafkaError } from '../../src/errors.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { createTopic, produce, unique, valueOf } from './helpers.js'

let cluster: Cluster

beforeAll(async () => {
  cluster = await Cluster.start({ brokers: 1 })
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

function direct(topic: string): Reader {
  return new Reader({ brokers: cluster.bootstrapServers, topic, partition: 0, maxWait: 100 })
}

describe('a non-retriable partition error', () => {
  // (CORRUPT_MESSAGE would not do: Kafka counts it retriable, and so does the Reader.)
  for (const code of ['UNKNOWN_SERVER_ERROR', 'TOPIC_AUTHORIZATION_FAILED'] as const) {
    it(`${code} on Fetch is raised by every read until a seek; reading then resumes`, async () => {
      const topic = unique('perr')
      await createTopic(cluster.bootstrapServers, topic, 1, 1)
      await produce(cluster.bootstrapServers, topic, 5)
      cluster.faults.failPartition(topic, 0, ErrorCode[code], { api: 'Fetch' })
      const reader = direct(topic)
      try {
        const signal = AbortSignal.timeout(10_000)
        const first = await reader.fetchMessage({ signal }).catch((e: unknown) => e)
        expect(first).toBeInstanceOf(KafkaError)
        expect((first as KafkaError).errorCode).toBe(ErrorCode[code])
        // Still failing: the second read, a batch read and the iterator all raise it.
        await expect(reader.fetchMessage({ signal })).rejects.toBe(first)
        await expect(reader.fetchBatch({ signal })).rejects.toBe(first)
        await expect(reader.messages().next()).rejects.toBe(first)
        reader.seek(0, 2n)
        const m = await reader.fetchMessage({ signal })
        expect(m.offset).toBe(2n)
        expect(valueOf(m)).toBe('2')
      } finally {
        await reader.close()
      }
    })
  }

  it('is cleared by pause: after resume the partition is fetched again', async () => {
    const topic = unique('perr-pause')
    await createTopic(cluster.bootstrapServers, topic, 1, 1)
    await produce(cluster.bootstrapServers, topic, 3)
    cluster.faults.failPartition(topic, 0, ErrorCode.UNKNOWN_SERVER_ERROR, { api: 'Fetch' })
    const reader = direct(topic)
    try {
      const signal = AbortSignal.timeout(10_000)
      await expect(reader.fetchMessage({ signal })).rejects.toBeInstanceOf(KafkaError)
      await expect(reader.fetchMessage({ signal })).rejects.toBeInstanceOf(KafkaError)
      reader.pause([0])
      reader.resume([0])
      expect((await reader.fetchMessage({ signal })).offset).toBe(0n)
    } finally {
      await reader.close()
    }
  })

  it('a request-level non-retriable Fetch error is raised by every read of its partitions until a seek', async () => {
    const topic = unique('perr-request')
    await createTopic(cluster.bootstrapServers, topic, 1, 1)
    await produce(cluster.bootstrapServers, topic, 3)
    // The whole Fetch answered UNKNOWN_SERVER_ERROR (the request-level errorCode too).
    cluster.faults.failNext('Fetch', 1, ErrorCode.UNKNOWN_SERVER_ERROR)
    const reader = direct(topic)
    try {
      const signal = AbortSignal.timeout(10_000)
      const first = await reader.fetchMessage({ signal }).catch((e: unknown) => e)
      expect((first as KafkaError).errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR)
      await expect(reader.fetchMessage({ signal })).rejects.toBe(first)
      reader.seek(0, 1n)
      expect((await reader.fetchMessage({ signal })).offset).toBe(1n)
    } finally {
      await reader.close()
    }
  })
})
