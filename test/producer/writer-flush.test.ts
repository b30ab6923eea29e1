// flush() covers what was buffered when it was called (Java's KafkaProducer.flush, franz-go's
// Flush), not "until the Writer is idle": other tasks that keep writing cannot hold it up
// (review finding S2). Runs on a 3-broker reference cluster.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Writer, type Message } from '../../src/index.js'
import { createTopic, startReferenceCluster, uniqueTopic } from './helpers.js'

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
})
