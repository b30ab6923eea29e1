// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// `kafkats top --once --json` as the binary, against a 3-broker reference cluster or real Kafka
// when KAFKA_BOOTSTRAP is set: log ends equal to what a third-party producer (KafkaJS) wrote, lag
// against the offset KafkaJS's admin committed, and a stopped broker's partitions listed as
// under-replicated until it returns.

import { spawn } from 'node:child_process'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTarget, unique, waitFor, type Target } from '../consumer/helpers.js'

let target: Target
let kafka: Kafka

beforeAll(async () => {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
  target = await startTarget()
  kafka = new Kafka({ brokers: target.bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 10 } })
}, 60_000)

afterAll(async () => {
  await target?.stop()
})

interface JsonFrame {
  topics: { topic: string; partitions: number; endOffset: number }[]
  groups: {
    groupId: string
    partitions: { topic: string; partition: number; committedOffset: number; lag: number }[]
  }[]
  underReplicated: { topic: string; partition: number; replicas: number[]; isr: number[] }[]
}

/** One frame from the binary (run asynchronously: the reference cluster lives in this process). */
function topOnce(args: string[]): Promise<JsonFrame> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'top', '--once', '--json', '--interval', '0.2', ...args],
      { env: { ...process.env, KAFKA_BOOTSTRAP: target.bootstrap.join(',') }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(JSON.parse(stdout) as JsonFrame)
      else reject(new Error(`top exited with ${code}: ${stderr}`))
    })
  })
}

describe('kafkats top', () => {
  it('shows the log ends, the group lag and under-replicated partitions', async () => {
    const topic = unique('top')
    const group = unique('top-group')
    const admin = kafka.admin()
    await admin.connect()
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true })
      const producer = kafka.producer()
      await producer.connect()
      await producer.send({
        topic,
        messages: Array.from({ length: 30 }, (_, i) => ({ value: `v${i}`, partition: i % 3 })),
      })
      await producer.disconnect()
      await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 1, offset: '4' }] })

      const frame = await topOnce(['--topic', topic, '--group', group])
      expect(frame.topics).toEqual([expect.objectContaining({ topic, partitions: 3, endOffset: 30 })])
      expect(frame.groups[0]!.partitions).toEqual([
        expect.objectContaining({ topic, partition: 1, committedOffset: 4, lag: 6 }),
      ])
      expect(frame.underReplicated).toEqual([])

      // A stopped broker leaves the ISRs (real Kafka: controlled shutdown) of every partition.
      const stopped = target.brokerIds[target.brokerIds.length - 1]!
      await target.stopBroker(stopped)
      try {
        let last: JsonFrame | undefined
        await waitFor(
          async () => {
            last = await topOnce(['--topic', topic, '--group', group])
            return last.underReplicated.length === 3
          },
          60_000,
          'three under-replicated partitions',
        )
        for (const u of last!.underReplicated) {
          expect(u.replicas).toContain(stopped)
          expect(u.isr).not.toContain(stopped)
        }
      } finally {
        await target.startBroker(stopped)
      }
    } finally {
      await admin.disconnect()
    }
  }, 180_000)
})
