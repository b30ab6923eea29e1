// flush() covers what was buffered when it was called (Java's KafkaProducer.flush, franz-go's
// Flush), not "until the Writer is idle": other tasks that keep writing cannot hold it up
// (review finding S2). An async Writer without `completion` reports its failures through flush()
// and close() instead of dropping them (review finding S4). Runs on a 3-broker reference cluster.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KafkaError } from '../../src/index.js'
import { AsyncWriteErrors, Writer, type Message } from '../../src/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { createTopic, readAll, startReferenceCluster, uniqueTopic } from './helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

describe.sequential('Writer.flush (reference cluster)', () => {
  let cluster: Cluster
  const writers: Writer[] = []

  beforeAll(async () => {
    cluster = await startReferenceCluster()
  })

  afterAll(async () => {
    await Promise.allSettled(writers.map((w) => w.close()))
    await cluster?.stop()
  })

  it('resolves once the messages buffered at the call are acknowledged, while 4 tasks keep writing', async () => {
    const topic = uniqueTopic('flush')
    await createTopic(cluster.bootstrapServers, topic, { partitions: 3 })
    const acknowledged = new Set<string>()
    const w = new Writer({
      brokers: cluster.bootstrapServers,
      topic,
      async: true,
      batchTimeout: 20,
      completion: (messages: Message[], error: Error | null) => {
        if (error === null) for (const m of messages) acknowledged.add(m.value as string)
      },
    })
    writers.push(w)
    let stop = false
    const handedOver = [0, 0, 0, 0] // per task: messages whose writeMessages resolved
    const tasks = handedOver.map(async (_, t) => {
      for (let i = 0; !stop; i++) {
        await w.writeMessages({ value: `t${t}:${i}` })
        handedOver[t] = i + 1
        if (i % 20 === 0) await new Promise((r) => setImmediate(r))
      }
    })
    const total = (): number => handedOver.reduce((a, b) => a + b, 0)
    try {
      while (total() < 400) await new Promise((r) => setTimeout(r, 5))
      const before = [...handedOver]
      const started = Date.now()
      const flushed = await Promise.race([
        w.flush().then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 3_000)),
      ])
      expect(flushed).toBe(true)
      expect(Date.now() - started).toBeLessThan(3_000)
      // Every message handed over before flush() was called is acknowledged by then.
      const missing: string[] = []
      before.forEach((n, t) => {
        for (let i = 0; i < n; i++) if (!acknowledged.has(`t${t}:${i}`)) missing.push(`t${t}:${i}`)
      })
      expect(missing).toEqual([])
      expect(total()).toBeGreaterThan(before.reduce((a, b) => a + b, 0)) // the tasks went on writing meanwhile
    } finally {
      stop = true
      await Promise.all(tasks)
    }
  }, 30_000)
  it('without completion, an async failure rejects the next flush() once, then close()', async () => {
    const topic = uniqueTopic('unreported')
    await createTopic(cluster.bootstrapServers, topic, { partitions: 1 })
    const w = new Writer({ brokers: cluster.bootstrapServers, topic, async: true, batchTimeout: 1 })
    writers.push(w)
    await w.writeMessages({ value: 'warm-up' })
    await w.flush()
    cluster.faults.failPartition(topic, 0, ErrorCode.INVALID_RECORD)
    expect(await w.writeMessages({ value: 'rejected 1' }, { value: 'rejected 2' })).toEqual([])
    const error = await w.flush().then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(AsyncWriteErrors)
    const failures = error as AsyncWriteErrors
    expect(failures.failed).toBe(2)
    expect(failures.errors).toHaveLength(1)
    expect((failures.errors[0] as KafkaError).errorName).toBe('INVALID_RECORD')
    expect(failures.message).toContain('INVALID_RECORD')
    // Reported once: the next flush has nothing new to say.
    await w.writeMessages({ value: 'after' })
    await expect(w.flush()).resolves.toBeUndefined()
    cluster.faults.failPartition(topic, 0, ErrorCode.INVALID_RECORD)
    await w.writeMessages({ value: 'rejected 3' })
    const closing = await w.close().then(
      () => null,
      (e: unknown) => e,
    )
    expect(closing).toBeInstanceOf(AsyncWriteErrors)
    expect((closing as AsyncWriteErrors).failed).toBe(1)
    expect((await readAll(cluster.bootstrapServers, topic, 2)).map((r) => r.value)).toEqual(['warm-up', 'after'])
  })

  it('with completion, failures go to it and flush() resolves', async () => {
    const topic = uniqueTopic('reported')
    await createTopic(cluster.bootstrapServers, topic, { partitions: 1 })
    const errors: (Error | null)[] = []
    const w = new Writer({
      brokers: cluster.bootstrapServers,
      topic,
      async: true,
      batchTimeout: 1,
      completion: (_messages, error) => errors.push(error),
    })
    writers.push(w)
    await w.writeMessages({ value: 'warm-up' })
    await w.flush()
    cluster.faults.failPartition(topic, 0, ErrorCode.INVALID_RECORD)
    await w.writeMessages({ value: 'rejected' })
    await expect(w.flush()).resolves.toBeUndefined()
    expect(errors.map((e) => (e as KafkaError | null)?.errorName ?? null)).toEqual([null, 'INVALID_RECORD'])
    await expect(w.close()).resolves.toBeUndefined()
  })
})
