// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// Commits are fenced by the ownership a message was fetched under (issue 11): a batch fetched
// before an eager rebalance that hands the partition back to the same member must not be
// committed after it, because the member restarted the partition from the offset committed at
// the rebalance and delivers those messages again. No broker fault injection here, so it runs
// the same on the reference cluster and on real Kafka.

import { describe, expect, it } from 'vitest'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { Reader } from '../../src/consumer/reader.js'
import type { ReaderConfig } from '../../src/consumer/config.js'
import { committedOffsets, createTopic, produce, startTarget, targetName, unique, valueOf, waitFor } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

describe.sequential(`commit fencing by ownership against ${targetName}`, () => {
  it('refuses the commit of a batch fetched before an eager rebalance that gave the partition back', async () => {
    const topic = unique('stale-batch')
    const groupId = unique('stale-batch-g')
    const total = 30
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, total)
    const config: ReaderConfig = {
      brokers: target.bootstrap,
      groupId,
      topic,
      // Classic: an eager rebalance is what gives the partition back (KIP-848 keeps it with A).
      groupProtocol: 'classic',
      sessionTimeout: 10_000,
      heartbeatInterval: 300,
      // The default balancers (range + cooperative-sticky) rebalance eagerly.
    }
    const a = new Reader(config)
    let b: Reader | undefined
    try {
      const signal = AbortSignal.timeout(60_000)
      // A fetches a batch and holds it, unprocessed and uncommitted.
      const old = await a.fetchBatch({ signal })
      expect(old.messages.length).toBeGreaterThan(0)
      const generation = a.generationId

      // An eager rebalance: B joins and leaves; A gives the partition up and gets it back, and
      // restarts it from the committed offset (none yet: the first message). The rebalance waits
      // for A to be done with the batch: A gives up on it without committing (release).
      b = new Reader(config)
      a.release()
      await waitFor(() => b!.generationId > generation, 30_000, 'B to join')
      await b.close()
      b = undefined
      await waitFor(
        () => a.generationId > generation + 1 && a.assignment().length === 1,
        30_000,
        'A to own the partition again after B left',
      )

      // Committing the old batch now would store offsets whose messages A delivers again.
      const error = await a.commitMessages(...old.messages).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CommitRejectedError)
      expect((error as CommitRejectedError).reason).toBe('not-owned')
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBeUndefined()

      // A reads everything from the committed offset on, committing as it goes; nothing whose
      // commit was accepted is delivered again.
      const committed = new Set<string>()
      const reads: FetchedMessage[] = []
      const seen = new Set<string>()
      while (seen.size < total) {
        const m = await a.fetchMessage({ signal })
        expect(committed.has(valueOf(m))).toBe(false)
        reads.push(m)
        seen.add(valueOf(m))
        await a.commitMessages(m)
        committed.add(valueOf(m))
      }
      expect(reads[0]!.offset).toBe(old.messages[0]!.offset)
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(BigInt(total))
    } finally {
      await b?.close()
      await a.close()
    }
  }, 90_000)

  it('for await with periodic commits: the batch held across the rebalance is not marked, nothing committed is read again', async () => {
    const topic = unique('stale-iter')
    const groupId = unique('stale-iter-g')
    const total = 30
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, total)
    const config: ReaderConfig = {
      brokers: target.bootstrap,
      groupId,
      topic,
      // Classic: an eager rebalance is what gives the partition back (KIP-848 keeps it with A).
      groupProtocol: 'classic',
      sessionTimeout: 10_000,
      heartbeatInterval: 300,
      commitInterval: 60_000, // marks; flushCommits commits them
      // The loop holds the batch across the rebalance: A's revocation waits this long for it,
      // then goes ahead (the coordinator stops waiting for A then too).
      rebalanceTimeout: 2000,
    }
    const a = new Reader(config)
    let b: Reader | undefined
    try {
      const signal = AbortSignal.timeout(60_000)
      const batches = a.batches({ signal })
      const first = await batches.next()
      expect(first.done).toBe(false)
      const generation = a.generationId

      // While the loop body "processes" the first batch, an eager rebalance replaces A's ownership.
      b = new Reader(config)
      await waitFor(() => b!.generationId > generation, 30_000, 'B to join')
      await b.close()
      b = undefined
      await waitFor(
        () => a.generationId > generation + 1 && a.assignment().length === 1,
        30_000,
        'A to own the partition again after B left',
      )

      // Asking for the next batch marks the first one, which is refused (quietly, as Java's
      // auto-commit does): A delivers those messages again, from the committed offset (none).
      const second = await batches.next()
      expect(second.done).toBe(false)
      expect(second.value!.messages[0]!.offset).toBe(first.value!.messages[0]!.offset)
      await a.flushCommits()
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBeUndefined()

      // The rest is read once; leaving the loop marks nothing, so the last batch is committed by hand.
      const seen = new Set<string>(second.value!.messages.map(valueOf))
      let last = second.value!
      while (seen.size < total) {
        const next = await batches.next()
        last = next.value!
        for (const m of last.messages) {
          expect(seen.has(valueOf(m))).toBe(false)
          seen.add(valueOf(m))
        }
      }
      await batches.return?.()
      await a.commitMessages(...last.messages)
      await a.flushCommits()
    } finally {
      await b?.close()
      await a.close()
    }
    expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(BigInt(total))
  }, 90_000)
})
