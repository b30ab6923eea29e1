// @integration
// Issue 17 item 4: reader.run({ partitionsConsumedConcurrently, eachMessage | eachBatch }):
// handlers run for several partitions at once, never twice at once for one partition, each
// partition in offset order; batches are committed once their handler finished (ownership-stamped
// as every commit), a handler that throws stops the run without committing its batch, and a
// rebalance waits for the batches in progress before the partition moves.

import { describe, expect, it } from 'vitest'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { Reader } from '../../src/consumer/reader.js'
import { ConfigError } from '../../src/errors.js'
import {
  committedOffsets,
  createTopic,
  produce,
  sleep,
  startTarget,
  targetName,
  unique,
  valueOf,
  waitFor,
} from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

const PARTITIONS = 4
const rf = (): number => Math.min(3, target.brokerIds.length)

async function topicWith(count: number): Promise<string> {
  const topic = unique('run')
  await createTopic(target.bootstrap, topic, PARTITIONS, rf())
  await produce(target.bootstrap, topic, count, { prefix: 'm-', batchSize: 10 })
  return topic
}

/** Runs eachMessage with a delay, recording per partition the offsets and the peak of partitions in a handler at once. */
async function runAndRecord(
  topic: string,
  concurrency: number,
  count: number,
): Promise<{ peak: number; overlapSamePartition: boolean; offsets: Map<number, bigint[]>; groupId: string }> {
  const groupId = unique('run-g')
  const reader = new Reader({ brokers: target.bootstrap, groupId, topic, maxWait: 100 })
  const active = new Set<number>()
  let peak = 0
  let overlapSamePartition = false
  let seen = 0
  const offsets = new Map<number, bigint[]>()
  const stop = new AbortController()
  try {
    await reader.run({
      partitionsConsumedConcurrently: concurrency,
      signal: stop.signal,
      eachMessage: async (m: FetchedMessage) => {
        if (active.has(m.partition)) overlapSamePartition = true
        active.add(m.partition)
        peak = Math.max(peak, active.size)
        await sleep(2)
        offsets.set(m.partition, [...(offsets.get(m.partition) ?? []), m.offset])
        active.delete(m.partition)
        if (++seen === count) stop.abort()
      },
    })
  } finally {
    await reader.close()
  }
  return { peak, overlapSamePartition, offsets, groupId }
}

describe(`Reader.run on ${targetName}`, () => {
  it('processes partitions concurrently, each in order, and commits what it processed', async () => {
    const topic = await topicWith(400)
    const { peak, overlapSamePartition, offsets, groupId } = await runAndRecord(topic, PARTITIONS, 400)
    expect(overlapSamePartition).toBe(false)
    expect(peak).toBeGreaterThan(1)
    expect(peak).toBeLessThanOrEqual(PARTITIONS)
    let total = 0
    for (const list of offsets.values()) {
      total += list.length
      // Strictly increasing from 0, without gaps (no compaction or transactions here).
      list.forEach((o, i) => expect(o).toBe(BigInt(i)))
    }
    expect(total).toBe(400)
    const committed = await committedOffsets(target.bootstrap, groupId, topic, PARTITIONS)
    for (const [p, list] of offsets) expect(committed.get(p)).toBe(BigInt(list.length))
  }, 60_000)

  it('with partitionsConsumedConcurrently 1, one partition at a time', async () => {
    const topic = await topicWith(80)
    const { peak, overlapSamePartition } = await runAndRecord(topic, 1, 80)
    expect(peak).toBe(1)
    expect(overlapSamePartition).toBe(false)
  }, 60_000)

  it('stops on a handler error without committing its batch, and runs eachBatch', async () => {
    const topic = await topicWith(40)
    const groupId = unique('run-err')
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, maxWait: 100 })
    const boom = new Error('handler failed')
    let failedAt: FetchedMessage | undefined
    try {
      await expect(
        reader.run({
          partitionsConsumedConcurrently: 2,
          eachBatch: async (batch) => {
            if (failedAt === undefined && batch.partition === 1) {
              failedAt = batch.messages[0]
              throw boom
            }
            await sleep(5)
          },
        }),
      ).rejects.toBe(boom)
    } finally {
      await reader.close()
    }
    const committed = await committedOffsets(target.bootstrap, groupId, topic, PARTITIONS)
    expect(failedAt).toBeDefined()
    expect(committed.get(1) ?? -1n).toBeLessThanOrEqual(failedAt!.offset)
  }, 60_000)

  it('refuses bad options with a ConfigError', async () => {
    const reader = new Reader({ brokers: target.bootstrap, groupId: unique('run-opt'), topic: unique('none') })
    try {
      await expect(reader.run({ partitionsConsumedConcurrently: 0, eachMessage: () => {} })).rejects.toBeInstanceOf(
        ConfigError,
      )
      await expect(reader.run({})).rejects.toBeInstanceOf(ConfigError)
      await expect(reader.run({ eachMessage: () => {}, eachBatch: () => {} })).rejects.toBeInstanceOf(ConfigError)
    } finally {
      await reader.close()
    }
  })

  it('a rebalance waits for the batches in progress: no record processed by two members', async () => {
    const topic = await topicWith(0)
    const groupId = unique('run-reb')
    const config = {
      brokers: target.bootstrap,
      groupId,
      topic,
      maxWait: 100,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 300,
    }
    const processed = new Map<string, number>()
    const byB = new Set<string>()
    const handler =
      (member: 'a' | 'b') =>
      async (m: FetchedMessage): Promise<void> => {
        await sleep(20)
        processed.set(valueOf(m), (processed.get(valueOf(m)) ?? 0) + 1)
        if (member === 'b') byB.add(valueOf(m))
      }
    const a = new Reader(config)
    const stopA = new AbortController()
    const stopB = new AbortController()
    const runA = a.run({ partitionsConsumedConcurrently: PARTITIONS, eachMessage: handler('a'), signal: stopA.signal })
    let b: Reader | undefined
    let runB: Promise<void> | undefined
    try {
      await waitFor(() => a.assignment().length === PARTITIONS, 30_000, 'a owns everything')
      await produce(target.bootstrap, topic, 800, { prefix: 'x-', batchSize: 10 })
      await waitFor(() => processed.size > 50, 30_000, 'a started processing')
      b = new Reader(config)
      runB = b.run({ partitionsConsumedConcurrently: PARTITIONS, eachMessage: handler('b'), signal: stopB.signal })
      await waitFor(() => processed.size === 800, 90_000, 'every record processed')
      // Committed after each batch and handed over only once processed: nothing comes twice.
      expect([...processed.entries()].filter(([, n]) => n > 1)).toEqual([])
      expect(byB.size).toBeGreaterThan(0)
    } finally {
      stopA.abort()
      stopB.abort()
      await Promise.all([runA, runB])
      await Promise.all([a.close(), b?.close()])
    }
  }, 120_000)
})
