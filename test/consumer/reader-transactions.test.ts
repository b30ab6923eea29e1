// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// read_committed exactness, judged by Kafka's Java client (test/helpers/java-tx.ts): its
// KafkaProducer writes interleaved committed, aborted and non-transactional records, its
// read_committed KafkaConsumer says what is visible and where its position ends, and a kafkats
// Reader must see exactly that, in order, and commit up to the same offsets (past the final
// transaction marker: librdkafka issue 3400), never past data it has not read.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Reader } from '../../src/consumer/reader.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { javaConsume, javaProduce, type SentRecord, type TxStep } from '../helpers/java-tx.js'
import { committedOffsets, createTopic, startTarget, targetName, unique, type Target } from './helpers.js'

let target: Target

beforeAll(async () => {
  target = await startTarget()
}, 60_000)

afterAll(async () => {
  await target?.stop()
})

const PARTITIONS = 2

/** Reads `count` messages (bounded by `timeoutMs`). */
async function read(reader: Reader, count: number, timeoutMs = 30_000): Promise<FetchedMessage[]> {
  const signal = AbortSignal.timeout(timeoutMs)
  const out: FetchedMessage[] = []
  while (out.length < count) out.push(await reader.fetchMessage({ signal }))
  return out
}

/** partition → "key=value@offset" in the order read. */
function byPartition(records: readonly { partition: number; key: string; value: string; offset: number }[]) {
  const out = new Map<number, string[]>()
  for (const r of records) {
    let list = out.get(r.partition)
    if (list === undefined) out.set(r.partition, (list = []))
    list.push(`${r.key}=${r.value}@${r.offset}`)
  }
  return out
}

function fromReader(messages: readonly FetchedMessage[]) {
  return messages.map((m) => ({
    partition: m.partition,
    offset: Number(m.offset),
    key: m.key?.toString() ?? '',
    value: m.value?.toString() ?? '',
  }))
}

/**
 * A fixed mix of steps over two partitions: commits, aborts and plain writes interleaved, some
 * transactions on both partitions, the last step of partition 0 a commit and of partition 1 an
 * abort (so both logs end in a marker).
 */
function script(): TxStep[] {
  const ops: TxStep['op'][] = ['commit', 'abort', 'plain', 'commit', 'abort', 'abort', 'commit', 'plain', 'commit']
  const steps: TxStep[] = ops.map((op, i) => ({
    op,
    records: Array.from({ length: 1 + (i % 3) }, (_, j) => ({
      partition: (i + j) % PARTITIONS,
      key: `k${i}-${j}`,
      value: `${op}${i}-${j}`,
    })),
  }))
  steps.push({ op: 'abort', records: [{ partition: 1, key: 'last-abort', value: 'x' }] })
  steps.push({ op: 'commit', records: [{ partition: 0, key: 'last-commit', value: 'y' }] })
  return steps
}

describe.sequential(`read_committed against the Java producer, on ${targetName}`, () => {
  let topic: string
  let sent: SentRecord[]
  let visible: SentRecord[]
  let ends: Map<number, number>

  beforeAll(async () => {
    topic = unique('txread')
    await createTopic(target.bootstrap, topic, PARTITIONS, Math.min(3, target.brokerIds.length))
    sent = await javaProduce(target.bootstrap, unique('java-tx'), topic, script())
    visible = sent.filter((r) => r.op === 'commit' || r.op === 'plain')
    // The Java consumer is the judge of what is visible and where the logs end.
    const java = await javaConsume(target.bootstrap, topic, 'read_committed', { expected: visible.length })
    expect(byPartition(java.records)).toEqual(byPartition(visible))
    ends = java.positions
  }, 180_000)

  it('the logs end in markers: past the last record of each partition', () => {
    for (let p = 0; p < PARTITIONS; p++) {
      const last = Math.max(...sent.filter((r) => r.partition === p).map((r) => r.offset))
      expect(ends.get(p)).toBe(last + 2)
    }
  })

  it('a read_committed group Reader sees exactly the committed records and commits up to the log end', async () => {
    const groupId = unique('txread-g')
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, isolationLevel: 'read_committed' })
    try {
      const messages = await read(reader, visible.length)
      expect(byPartition(fromReader(messages))).toEqual(byPartition(visible))
      // Nothing else arrives (the aborted records are not merely late).
      await expect(reader.fetchMessage({ signal: AbortSignal.timeout(1500) })).rejects.toThrow()
      await reader.commitMessages(messages)
      expect(await committedOffsets(target.bootstrap, groupId, topic, PARTITIONS)).toEqual(
        new Map([...ends].map(([p, o]) => [p, BigInt(o)])),
      )
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('a commit covers the markers and aborted data after a message, never the next unread record', async () => {
    const groupId = unique('txread-part')
    const reader = new Reader({ brokers: target.bootstrap, groupId, topic, isolationLevel: 'read_committed' })
    try {
      const messages = await read(reader, visible.length)
      const p0 = messages.filter((m) => m.partition === 0)
      for (const [i, m] of p0.entries()) {
        const next = p0[i + 1]
        // Where the next visible record (or the log end) is: nothing visible lies before it.
        const limit = next === undefined ? BigInt(ends.get(0)!) : next.offset
        await reader.commitMessages([m])
        const committed = (await committedOffsets(target.bootstrap, groupId, topic, PARTITIONS)).get(0)!
        expect(committed).toBe(limit)
      }
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('a direct read_committed Reader ends at the log end; read_uncommitted sees every data record', async () => {
    for (let p = 0; p < PARTITIONS; p++) {
      const committed = new Reader({ brokers: target.bootstrap, topic, partition: p, isolationLevel: 'read_committed' })
      const uncommitted = new Reader({
        brokers: target.bootstrap,
        topic,
        partition: p,
        isolationLevel: 'read_uncommitted',
      })
      try {
        const want = visible.filter((r) => r.partition === p)
        expect(byPartition(fromReader(await read(committed, want.length)))).toEqual(byPartition(want))
        // The position moves past the final marker once it is fetched.
        const end = BigInt(ends.get(p)!)
        const deadline = Date.now() + 10_000
        while (committed.offset < end && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
        expect(committed.offset).toBe(end)
        const all = sent.filter((r) => r.partition === p)
        expect(byPartition(fromReader(await read(uncommitted, all.length)))).toEqual(byPartition(all))
      } finally {
        await committed.close()
        await uncommitted.close()
      }
    }
  }, 60_000)
})

describe.sequential(`an open transaction holds read_committed readers back, on ${targetName}`, () => {
  it('nothing after the open transaction is visible until its timeout aborts it', async () => {
    const topic = unique('txopen')
    await createTopic(target.bootstrap, topic, 1, Math.min(3, target.brokerIds.length))
    const started = Date.now()
    // A producer that dies inside a transaction (timeout 3 s), then another that commits after it.
    const open = await javaProduce(
      target.bootstrap,
      unique('java-open'),
      topic,
      [{ op: 'open', records: [{ partition: 0, key: 'open', value: 'never' }] }],
      { config: { 'transaction.timeout.ms': 3000 } },
    )
    const after = await javaProduce(target.bootstrap, unique('java-after'), topic, [
      { op: 'commit', records: [{ partition: 0, key: 'after', value: 'visible' }] },
    ])
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0, isolationLevel: 'read_committed' })
    try {
      const [m] = await read(reader, 1, 60_000)
      // Visible only once the coordinator aborted the open transaction (after its timeout).
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000)
      expect(after[0]!.offset).toBeGreaterThan(open[0]!.offset)
      expect({ key: m!.key?.toString(), offset: m!.offset }).toEqual({ key: 'after', offset: BigInt(after[0]!.offset) })
    } finally {
      await reader.close()
    }
  }, 120_000)
})
