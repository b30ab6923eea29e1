// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// The transactional Writer (issue 12) on a 3-broker reference cluster, or on real Kafka when
// KAFKA_BOOTSTRAP is set: commit, abort, the transaction() callback, fencing by a second Writer
// with the same transactionalId, sendOffsets (KIP-447) committed with the transaction and not
// after an abort, a stale generation fenced by the group. What is visible is read back with kcat
// (librdkafka, isolation.level=read_committed) and committed offsets with a raw OffsetFetch, so no
// assertion trusts the Reader or Writer under test. Faults (coordinator errors, lost EndTxn
// answers) are in transactions-faults.test.ts.

import { afterAll, describe, expect, it } from 'vitest'
import {
  CommitRejectedError,
  ConfigError,
  ProducerFencedError,
  Reader,
  TransactionAbortableError,
  TransactionStateError,
  Writer,
  type WriterConfig,
} from '../../src/index.js'
import {
  committedLeaderEpochs,
  committedOffsets,
  createTopic,
  produce,
  startTarget,
  targetName,
  unique,
  waitFor,
} from '../consumer/helpers.js'
import { useTarget } from '../helpers/use-target.js'
import { readAll } from './helpers.js'
import { KafkaClient } from '../../src/cluster/client.js'
import { DescribeProducers, EndTxn, UpdateFeatures } from '../../src/protocol/messages/index.js'

const target = useTarget(startTarget)
const closers: { close(): Promise<void> }[] = []

afterAll(async () => {
  await Promise.allSettled(closers.map((c) => c.close()))
})

function writer(config: Omit<WriterConfig, 'brokers'>): Writer {
  const w = new Writer({ brokers: target.bootstrap, writeBackoffMin: 20, ...config })
  closers.push(w)
  return w
}

async function topic(prefix: string, partitions = 3): Promise<string> {
  const name = unique(prefix)
  await createTopic(target.bootstrap, name, partitions, Math.min(3, target.brokerIds.length))
  return name
}

/** Values visible to a read_committed consumer (kcat), sorted. */
async function committedValues(name: string, expected?: number): Promise<string[]> {
  const records = await readAll(target.bootstrap, name, expected, ['-X', 'isolation.level=read_committed'])
  return records.map((r) => r.value ?? '').sort()
}

async function uncommittedValues(name: string, expected?: number): Promise<string[]> {
  const records = await readAll(target.bootstrap, name, expected, ['-X', 'isolation.level=read_uncommitted'])
  return records.map((r) => r.value ?? '').sort()
}

/** The producer epoch the partition's leader holds for `producerId`'s last batch (DescribeProducers: the broker's view). */
async function leaderEpochOfProducer(name: string): Promise<number[]> {
  const client = new KafkaClient({ brokers: target.bootstrap, clientId: 'test-admin' })
  try {
    await client.metadata.refresh([name])
    const leader = client.metadata.partition(name, 0)!.leader
    const response = await client.request(leader, DescribeProducers, { topics: [{ name, partitionIndexes: [0] }] })
    return response.topics[0]!.partitions[0]!.activeProducers.map((p) => p.producerEpoch)
  } finally {
    await client.close()
  }
}

/** The cluster's finalized transaction.version (ApiVersions v3+), as a bootstrap broker reports it. */
async function finalizedTransactionVersion(): Promise<number> {
  return (await transactionSupport()).level
}

/**
 * What a bootstrap broker says of transactions: the finalized transaction.version and whether it
 * can run Transactions V2 at all (EndTxn v5, Kafka 4.0+; Kafka 3.x tops at v4).
 */
async function transactionSupport(): Promise<{ level: number; v2Capable: boolean }> {
  const client = new KafkaClient({ brokers: target.bootstrap, clientId: 'test-admin' })
  try {
    const { versions } = await client.pool.get(target.bootstrap.map(parseEndpoint)[0]!, 'admin')
    return {
      level: versions.featureLevel('transaction.version'),
      v2Capable: (versions.range(EndTxn.apiKey)?.max ?? 0) >= 5,
    }
  } finally {
    await client.close()
  }
}

function parseEndpoint(s: string): { host: string; port: number; nodeId: number } {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)), nodeId: -1 }
}

/** Three transactions (commit, abort, commit): the Writer's version and the epochs the partition leader saw. */
async function checkTransactionVersion(version: 1 | 2): Promise<void> {
  const name = await topic(`tx-v${version}`, 1)
  const w = writer({ topic: name, transactionalId: unique(`tx-v${version}`) })
  expect(w.transactionVersion).toBe(0)
  const epochs: number[] = []
  for (const [i, outcome] of (['commit', 'abort', 'commit'] as const).entries()) {
    await w.beginTransaction()
    await w.writeMessages({ value: `${outcome}-${i}` })
    if (outcome === 'commit') await w.commitTransaction()
    else await w.abortTransaction()
    // Once read_committed reads past it, the marker is in the log (Kafka writes markers after
    // EndTxn answers; under TV2 they carry the bumped epoch).
    await committedValues(name, i === 0 ? 1 : 2)
    epochs.push(...(await leaderEpochOfProducer(name)))
  }
  expect(w.transactionVersion).toBe(version)
  const step = version === 2 ? 1 : 0
  expect(epochs).toEqual([epochs[0]!, epochs[0]! + step, epochs[0]! + 2 * step])
  expect(await committedValues(name, 2)).toEqual(['commit-0', 'commit-2'])
}

/** UpdateFeatures (real Kafka only): finalizes transaction.version at `level`, then waits until the brokers say so. */
async function setTransactionVersion(level: number): Promise<void> {
  const client = new KafkaClient({ brokers: target.bootstrap, clientId: 'test-admin' })
  try {
    await client.metadata.refresh([])
    const response = await client.requestTo(client.anyBroker(), UpdateFeatures, (v) => ({
      timeoutMs: 30_000,
      featureUpdates: [
        {
          feature: 'transaction.version',
          maxVersionLevel: level,
          // 1 = UPGRADE, 2 = SAFE_DOWNGRADE (v1+); v0 has allowDowngrade instead.
          ...(v >= 1 ? { upgradeType: level < 2 ? 2 : 1 } : { allowDowngrade: level < 2 }),
        },
      ],
      validateOnly: false,
    }))
    expect(response.errorCode, response.errorMessage ?? '').toBe(0)
  } finally {
    await client.close()
  }
  for (let i = 0; (await finalizedTransactionVersion()) !== level; i++) {
    if (i > 100) throw new Error(`transaction.version did not become ${level}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe.sequential(`transactional Writer on ${targetName}`, () => {
  it('uses transaction version 2 where the cluster finalizes it (EndTxn bumps the epoch), version 1 otherwise', async () => {
    const { level, v2Capable } = await transactionSupport()
    if (target.real && !v2Capable) {
      // Kafka 3.x (3.9): no EndTxn v5 and no transaction.version feature, so the Writer falls
      // back to Transactions V1 (AddPartitionsToTxn, EndTxn v4, no epoch bump per transaction).
      expect(level).toBe(0)
      await checkTransactionVersion(1)
      return
    }
    // Kafka 4.0+ formats new clusters with transaction.version 2; the reference broker has none.
    if (target.real) expect(level).toBeGreaterThanOrEqual(2)
    await checkTransactionVersion(level >= 2 ? 2 : 1)
    if (!target.real) return
    // Real Kafka: the classic protocol too, with transaction.version finalized at 0 for a while.
    await setTransactionVersion(0)
    try {
      await checkTransactionVersion(1)
    } finally {
      await setTransactionVersion(level)
    }
  })

  it('checks its options: a transactional Writer is idempotent', () => {
    expect(() => new Writer({ brokers: target.bootstrap, transactionalId: 't', requiredAcks: 'leader' })).toThrow(
      ConfigError,
    )
    expect(() => new Writer({ brokers: target.bootstrap, transactionalId: 't', idempotent: false })).toThrow(
      /transactionalId: needs an idempotent Writer/,
    )
    expect(() => new Writer({ brokers: target.bootstrap, transactionalId: '' })).toThrow(ConfigError)
    expect(() => new Writer({ brokers: target.bootstrap, transactionTimeout: 1000 })).toThrow(/transactionTimeout/)
  })

  it('refuses writes outside a transaction and transactional calls on a plain Writer', async () => {
    const name = await topic('tx-state', 1)
    const w = writer({ topic: name, transactionalId: unique('tx-state') })
    await expect(w.writeMessages({ value: 'outside' })).rejects.toThrow(TransactionStateError)
    await expect(w.commitTransaction()).rejects.toThrow(TransactionStateError)
    const plain = writer({ topic: name })
    await expect(plain.beginTransaction()).rejects.toThrow(TransactionStateError)
    await w.beginTransaction()
    await expect(w.beginTransaction()).rejects.toThrow(/already open/)
    await w.abortTransaction()
    expect(await uncommittedValues(name)).toEqual([])
  })

  it('commits: a read_committed consumer sees exactly the committed records', async () => {
    const name = await topic('tx-commit')
    const w = writer({ topic: name, transactionalId: unique('tx-commit') })
    await w.beginTransaction()
    await w.writeMessages(Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `c${i}` })))
    // Open transaction: nothing is visible to read_committed yet (the LSO holds it back).
    expect(await committedValues(name)).toEqual([])
    await w.commitTransaction()
    const expected = Array.from({ length: 30 }, (_, i) => `c${i}`).sort()
    expect(await committedValues(name, 30)).toEqual(expected)
  })

  it('aborts: the records are in the log but a read_committed consumer never sees them', async () => {
    const name = await topic('tx-abort', 1)
    const w = writer({ topic: name, transactionalId: unique('tx-abort') })
    for (const [i, outcome] of (['commit', 'abort', 'commit', 'abort'] as const).entries()) {
      await w.beginTransaction()
      await w.writeMessages({ value: `${outcome}-${i}-a` }, { value: `${outcome}-${i}-b` })
      if (outcome === 'commit') await w.commitTransaction()
      else await w.abortTransaction()
    }
    expect(await committedValues(name, 4)).toEqual(['commit-0-a', 'commit-0-b', 'commit-2-a', 'commit-2-b'])
    expect(await uncommittedValues(name, 8)).toHaveLength(8)
  })

  it('transaction(fn): commits when fn resolves, aborts and rethrows when it throws', async () => {
    const name = await topic('tx-callback', 2)
    const w = writer({ topic: name, transactionalId: unique('tx-callback') })
    const result = await w.transaction(async (tx) => {
      await tx.writeMessages([{ value: 'kept' }])
      return 42
    })
    expect(result).toBe(42)
    const boom = new Error('handler failed')
    await expect(
      w.transaction(async (tx) => {
        await tx.writeMessages([{ value: 'dropped-1' }, { value: 'dropped-2' }])
        throw boom
      }),
    ).rejects.toBe(boom)
    // The Writer is ready for the next transaction.
    await w.transaction(async (tx) => {
      await tx.writeMessages({ value: 'kept-too' }) // the Writer's variadic form too
    })
    expect(await committedValues(name, 2)).toEqual(['kept', 'kept-too'])
  })

  it('is fenced by a second Writer with the same transactionalId; nothing it writes later is visible', async () => {
    const name = await topic('tx-fence', 1)
    const id = unique('tx-fence')
    const first = writer({ topic: name, transactionalId: id })
    await first.transaction(async (tx) => {
      await tx.writeMessages([{ value: 'first-committed' }])
    })
    await first.beginTransaction()
    await first.writeMessages({ value: 'first-open' })
    // The second instance's initialization aborts the open transaction and bumps the epoch.
    const second = writer({ topic: name, transactionalId: id })
    await second.transaction(async (tx) => {
      await tx.writeMessages([{ value: 'second-committed' }])
    })
    // Its next write is refused by the partition (INVALID_PRODUCER_EPOCH: abortable, KIP-588), so
    // it cannot commit; the abort's EndTxn is answered PRODUCER_FENCED.
    await expect(first.writeMessages({ value: 'first-late' })).rejects.toThrow(/INVALID_PRODUCER_EPOCH|fenced/)
    await expect(first.commitTransaction()).rejects.toThrow(TransactionAbortableError)
    await expect(first.abortTransaction()).rejects.toThrow(ProducerFencedError)
    // Fenced for good: every later call says so.
    await expect(first.beginTransaction()).rejects.toThrow(ProducerFencedError)
    await expect(first.writeMessages({ value: 'first-after' })).rejects.toThrow(ProducerFencedError)

    // A commit without a write in between meets the fence at EndTxn.
    await second.beginTransaction()
    await second.writeMessages({ value: 'second-open' })
    const third = writer({ topic: name, transactionalId: id })
    await third.beginTransaction()
    await expect(second.commitTransaction()).rejects.toThrow(ProducerFencedError)
    await expect(second.beginTransaction()).rejects.toThrow(ProducerFencedError)
    await third.abortTransaction()
    expect(await committedValues(name, 2)).toEqual(['first-committed', 'second-committed'])
  })

  it('close() aborts an open transaction, so read_committed readers are not held back', async () => {
    const name = await topic('tx-close', 1)
    const w = writer({ topic: name, transactionalId: unique('tx-close') })
    await w.beginTransaction()
    await w.writeMessages({ value: 'open-at-close' })
    await w.close()
    const other = writer({ topic: name, transactionalId: unique('tx-close-other') })
    await other.transaction(async (tx) => {
      await tx.writeMessages([{ value: 'after-close' }])
    })
    // Without the abort the open transaction would hold the LSO for transactionTimeout (60 s).
    expect(await committedValues(name, 1)).toEqual(['after-close'])
    expect(await uncommittedValues(name, 2)).toEqual(['after-close', 'open-at-close'])
  })

  describe('sendOffsets (KIP-447)', () => {
    async function readerOn(input: string, groupId: string): Promise<Reader> {
      const r = new Reader({ brokers: target.bootstrap, groupId, groupTopics: [input], commitInterval: 0 })
      closers.push(r)
      return r
    }

    it('commits the consumed offsets with the transaction, and not when it aborts', async () => {
      const input = await topic('tx-in', 1)
      const output = await topic('tx-out', 1)
      await produce(target.bootstrap, input, 6)
      const groupId = unique('tx-group')
      const reader = await readerOn(input, groupId)
      const w = writer({ topic: output, transactionalId: unique('tx-offsets') })
      const first = [await reader.fetchMessage(), await reader.fetchMessage(), await reader.fetchMessage()]
      await w.transaction(async (tx) => {
        await tx.writeMessages(first.map((m) => ({ value: `out-${m.value?.toString()}` })))
        await tx.sendOffsets(reader, first)
      })
      // The offsets become visible when the coordinator writes the commit marker to the offsets
      // partition, which it does after EndTxn answers (on Kafka as on the reference broker).
      await waitFor(
        async () => (await committedOffsets(target.bootstrap, groupId, input, 1)).get(0) === first[2]!.offset + 1n,
        10_000,
        'the transactional offset commit',
      )
      // With the leader epoch of the last message consumed (KIP-320 checks a restart against it).
      expect(first[2]!.leaderEpoch).toBeGreaterThanOrEqual(0)
      expect((await committedLeaderEpochs(target.bootstrap, groupId, input, 1)).get(0)).toBe(first[2]!.leaderEpoch)

      const second = [await reader.fetchMessage(), await reader.fetchMessage()]
      await w.beginTransaction()
      await w.writeMessages(second.map((m) => ({ value: `out-${m.value?.toString()}` })))
      await w.sendOffsets(reader, second)
      await w.abortTransaction()
      // Still the first transaction's offset.
      expect((await committedOffsets(target.bootstrap, groupId, input, 1)).get(0)).toBe(first[2]!.offset + 1n)
      expect(await committedValues(output, 3)).toEqual(first.map((m) => `out-${m.value?.toString()}`).sort())
    })

    it('a commit from a stale generation is fenced by the group: the transaction must abort', async () => {
      const input = await topic('tx-stale-in', 1)
      const output = await topic('tx-stale-out', 1)
      await produce(target.bootstrap, input, 2)
      const groupId = unique('tx-stale')
      const reader = await readerOn(input, groupId)
      const message = await reader.fetchMessage()
      const current = reader.groupMetadata()
      expect(current.generationId).toBeGreaterThan(0)
      expect(current.memberId).not.toBe('')
      // A zombie: the same member as seen one generation ago.
      const zombie = { groupMetadata: () => ({ ...current, generationId: current.generationId - 1 }) }
      const w = writer({ topic: output, transactionalId: unique('tx-stale') })
      await w.beginTransaction()
      await w.writeMessages({ value: 'from-zombie' })
      const err = await w.sendOffsets(zombie, [message]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(CommitRejectedError)
      expect((err as CommitRejectedError).reason).toBe('fenced')
      await expect(w.commitTransaction()).rejects.toThrow(TransactionAbortableError)
      await w.abortTransaction()
      // The Writer goes on; the live member's commit works.
      await w.transaction(async (tx) => {
        await tx.writeMessages([{ value: 'from-member' }])
        await tx.sendOffsets(reader, [message])
      })
      expect(await committedValues(output, 1)).toEqual(['from-member'])
      expect((await committedOffsets(target.bootstrap, groupId, input, 1)).get(0)).toBe(message.offset + 1n)
    })
  })
})
