// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// read_committed exactness, judged by Kafka's Java client (test/helpers/java-tx.ts): its
// KafkaProducer writes interleaved committed, aborted and non-transactional records, its
// read_committed KafkaConsumer says what is visible and where its position ends, and a kafkats
// Reader must see exactly that, in order, and commit up to the same offsets (past the final
// transaction marker: librdkafka issue 3400), never past data it has not read.

import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Reader } from '../../src/consumer/reader.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { javaConsume, javaProduce, type SentRecord, type TxStep } from '../helpers/java-tx.js'
import {
  commitAsAdmin,
  committedOffsets,
  committedWithMetadata,
  createTopic,
  sleep,
  startTarget,
  targetName,
  unique,
  waitFor,
  readMessages,
} from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

const PARTITIONS = 2

/** Reads `count` messages (bounded by `timeoutMs`). */
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
      const messages = await readMessages(reader, visible.length)
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
      const messages = await readMessages(reader, visible.length)
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
        expect(byPartition(fromReader(await readMessages(committed, want.length)))).toEqual(byPartition(want))
        // The position moves past the final marker once it is fetched.
        const end = BigInt(ends.get(p)!)
        const deadline = Date.now() + 10_000
        while (committed.offset < end && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
        expect(committed.offset).toBe(end)
        const all = sent.filter((r) => r.partition === p)
        expect(byPartition(fromReader(await readMessages(uncommitted, all.length)))).toEqual(byPartition(all))
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
      const [m] = await readMessages(reader, 1, 60_000)
      // Visible only once the coordinator aborted the open transaction (after its timeout).
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000)
      expect(after[0]!.offset).toBeGreaterThan(open[0]!.offset)
      expect({ key: m!.key?.toString(), offset: m!.offset }).toEqual({ key: 'after', offset: BigInt(after[0]!.offset) })
    } finally {
      await reader.close()
    }
  }, 120_000)
})

// librdkafka issue 3400 when the final marker is fetched after the last message: partitionMaxBytes
// 1 makes every fetch return one batch (KIP-74: at least the first), so the marker (and aborted
// data after it) always comes in a later fetch than the last record. On the reference cluster
// every Fetch is also delayed 1 s, so the application commits before the marker's fetch answers.
describe.sequential(`a trailing marker fetched after the last message, on ${targetName}`, () => {
  /** Writes the steps to a new one-partition topic; returns the records and the log end (after the final marker). */
  async function setup(steps: TxStep[]): Promise<{ topic: string; sent: SentRecord[]; end: bigint }> {
    const topic = unique('txtail')
    await createTopic(target.bootstrap, topic, 1, Math.min(3, target.brokerIds.length))
    const sent = await javaProduce(target.bootstrap, unique('java-tail'), topic, steps)
    // Both logs end in a marker right after the last record (checked against Java above).
    const last = sent[sent.length - 1]!
    return { topic, sent, end: BigInt(last.offset + (last.op === 'plain' ? 1 : 2)) }
  }

  function tailReader(topic: string, groupId: string, commitInterval = 0): Reader {
    return new Reader({
      brokers: target.bootstrap,
      groupId,
      topic,
      isolationLevel: 'read_committed',
      partitionMaxBytes: 1,
      commitInterval,
    })
  }

  const position = (reader: Reader): bigint => reader.lag().find((l) => l.partition === 0)?.position ?? -1n
  const committed = async (groupId: string, topic: string): Promise<bigint | undefined> =>
    (await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)

  /** Waits until the group's committed offset and the Reader's lag say it is at the log end. */
  async function expectAtEnd(reader: Reader, groupId: string, topic: string, end: bigint): Promise<void> {
    await waitFor(async () => (await committed(groupId, topic)) === end, 10_000, `committed offset ${end}`)
    expect(await committed(groupId, topic)).toBe(end)
    expect(position(reader)).toBe(end)
    expect(reader.lag().find((l) => l.partition === 0)?.lag).toBe(0n)
  }

  const slowFetches = (): void => target.cluster?.faults.delay('Fetch', 1000)
  afterEach(() => target.cluster?.faults.clear())

  it('committing the last message after the position moved past the markers commits the log end', async () => {
    const { topic, end } = await setup([
      { op: 'commit', records: [{ partition: 0, key: 'd', value: 'committed' }] },
      { op: 'abort', records: [{ partition: 0, key: 'a', value: 'aborted' }] },
    ])
    const groupId = unique('txtail-hold')
    const reader = tailReader(topic, groupId)
    try {
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      expect(m.key?.toString()).toBe('d')
      // The application still holds it while the Reader fetches the marker, the aborted record
      // and its marker, one fetch each.
      await waitFor(() => position(reader) === end, 10_000, `position ${end}`)
      await reader.commitMessages(m)
      await expectAtEnd(reader, groupId, topic, end)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('a message committed before its marker is fetched: the Reader commits past the marker', async () => {
    const { topic, end } = await setup([{ op: 'commit', records: [{ partition: 0, key: 'd', value: 'committed' }] }])
    const groupId = unique('txtail-early')
    slowFetches()
    const reader = tailReader(topic, groupId)
    try {
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      await reader.commitMessages(m)
      if (target.cluster !== undefined) expect(position(reader)).toBe(m.offset + 1n) // the marker is not fetched yet
      await expectAtEnd(reader, groupId, topic, end)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('the commit past the marker carries the metadata committed with the message', async () => {
    const { topic, end } = await setup([{ op: 'commit', records: [{ partition: 0, key: 'd', value: 'committed' }] }])
    const groupId = unique('txtail-meta')
    slowFetches()
    const reader = tailReader(topic, groupId)
    try {
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      // As Kafka Streams commits a partition time: the Reader's own commit of the marker must keep it.
      await reader.commitMessages([m], { metadata: () => 'partition-time' })
      await expectAtEnd(reader, groupId, topic, end)
      expect((await committedWithMetadata(target.bootstrap, groupId, topic, 1)).get(0)).toEqual({
        offset: end,
        metadata: 'partition-time',
      })
    } finally {
      await reader.close()
    }
  }, 60_000)

  for (const commitInterval of [0, 200]) {
    it(`for await with commitInterval ${commitInterval}: the group commits past the trailing marker`, async () => {
      const { topic, end } = await setup([{ op: 'commit', records: [{ partition: 0, key: 'd', value: 'committed' }] }])
      const groupId = unique('txtail-iter')
      slowFetches()
      const reader = tailReader(topic, groupId, commitInterval)
      try {
        const iterator = reader.messages()
        const first = await iterator.next()
        expect(first.done === false && first.value.key?.toString()).toBe('d')
        // The loop asks for more (so `d` was processed) and waits: nothing else is visible.
        const waiting = iterator.next()
        await expectAtEnd(reader, groupId, topic, end)
        await reader.close()
        expect((await waiting).done).toBe(true)
      } finally {
        await reader.close()
      }
    }, 60_000)
  }

  it('a member starting just below a trailing marker (committed offset + 1) commits past it without reading', async () => {
    const { topic, sent, end } = await setup([
      { op: 'commit', records: [{ partition: 0, key: 'd', value: 'committed' }] },
    ])
    const groupId = unique('txtail-restart')
    // What a commit of the last message records when the marker was not fetched with it (Java's
    // commitSync of offset + 1, or this Reader before issue 12).
    await commitAsAdmin(target.bootstrap, groupId, topic, new Map([[0, BigInt(sent[0]!.offset + 1)]]))
    const reader = tailReader(topic, groupId)
    try {
      await waitFor(() => position(reader) === end, 10_000, `position ${end}`)
      await expectAtEnd(reader, groupId, topic, end)
      await expect(reader.fetchMessage({ signal: AbortSignal.timeout(1000) })).rejects.toThrow()
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('never commits past data after the marker that the application has not read', async () => {
    const { topic, sent, end } = await setup([
      { op: 'commit', records: [{ partition: 0, key: 'd', value: 'committed' }] },
      { op: 'plain', records: [{ partition: 0, key: 'p', value: 'plain' }] },
    ])
    const plain = BigInt(sent[1]!.offset)
    const groupId = unique('txtail-data')
    slowFetches()
    const reader = tailReader(topic, groupId)
    try {
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      expect(m.key?.toString()).toBe('d')
      await reader.commitMessages(m)
      // Time for the marker's fetch and the plain record's (queued, not handed out).
      await sleep(3000)
      const held = await committed(groupId, topic)
      // Past the marker at most (on the reference cluster, where the marker's fetch came after
      // the commit, exactly past it), never past the unread record.
      if (target.cluster !== undefined) expect(held).toBe(plain)
      else expect(held! >= m.offset + 1n && held! <= plain).toBe(true)
      expect(reader.lag().find((l) => l.partition === 0)?.lag).toBe(1n)
      const p = await reader.fetchMessage({ signal: AbortSignal.timeout(30_000) })
      expect(p.offset).toBe(plain)
      await reader.commitMessages(p)
      await expectAtEnd(reader, groupId, topic, end)
    } finally {
      await reader.close()
    }
  }, 60_000)
})
