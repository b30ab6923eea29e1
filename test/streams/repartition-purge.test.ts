// @integration: the runtime cases also run against real Kafka when KAFKA_BOOTSTRAP is set;
// otherwise on the in-process reference cluster (3 brokers).
// Repartition topics purged as Kafka Streams purges them (repartition.purge.interval.ms): after a
// commit, at most every interval, DeleteRecords below the committed offsets. The schedule is
// checked with a fake clock; on a cluster, the broker's log start offsets (ListOffsets earliest)
// must reach what the application committed, and the counts must stay exact across a restart.

import { describe, expect, it } from 'vitest'

import { Admin } from '../../src/admin/admin.js'
import type { AdminContext } from '../../src/admin/context.js'
import type { deleteRecords } from '../../src/admin/records.js'
import { ConfigError } from '../../src/errors.js'
import { KafkaStreams } from '../../src/streams/index.js'
import { RepartitionPurge } from '../../src/streams/repartition-purge.js'
import { resolveStreamsConfig } from '../../src/streams/streams-config.js'
import { createTopic, startTarget, targetName, unique, waitFor } from '../consumer/helpers.js'
import { useTarget } from '../helpers/use-target.js'
import { counts, expectExact, lastValues, reach, readUntil, total, writeInput } from './helpers/cluster.js'
import { wordCount } from './helpers/wordcount.js'

type Call = {
  partitions: { topic: string; partition: number; offset: bigint | number }[]
  settle: (ok: boolean) => void
}

/** A RepartitionPurge on a fake clock whose DeleteRecords calls are recorded and settled by the test. */
function fakePurge(interval: number) {
  let now = 1_000
  const calls: Call[] = []
  const del = ((_ctx, partitions) =>
    new Promise((resolve, reject) => {
      calls.push({
        partitions: [...partitions],
        settle: (ok) => (ok ? resolve([]) : reject(new Error('DeleteRecords failed'))),
      })
    })) as typeof deleteRecords
  const purge = new RepartitionPurge({
    admin: {} as AdminContext,
    interval,
    isRepartition: (t) => t.endsWith('-repartition'),
    signal: new AbortController().signal,
    deleteRecords: del,
    now: () => now,
  })
  return {
    purge,
    calls,
    advance: (ms: number) => {
      now += ms
    },
  }
}

const R = 'app-x-repartition'

describe('RepartitionPurge schedule (Kafka Streams: maybeCommit, maybePurgeCommittedRecords)', () => {
  it('purges after a commit at most every interval, one request at a time', async () => {
    const { purge, calls, advance } = fakePurge(30_000)
    purge.committed([{ topic: R, partition: 0, offset: 5n }])
    purge.maybePurge()
    expect(calls).toHaveLength(0) // the first purge comes one interval after the start
    advance(30_000)
    purge.maybePurge()
    expect(calls.map((c) => c.partitions)).toEqual([[{ topic: R, partition: 0, offset: 5n }]])

    purge.committed([{ topic: R, partition: 0, offset: 9n }])
    advance(10_000)
    purge.maybePurge()
    expect(calls).toHaveLength(1) // not due yet
    advance(20_000)
    purge.maybePurge()
    expect(calls).toHaveLength(1) // due, but the previous request has not answered: skipped
    calls[0]!.settle(true)
    await purge.settled()
    advance(29_999)
    purge.maybePurge()
    expect(calls).toHaveLength(1) // the skipped turn counted as a purge
    advance(1)
    purge.maybePurge()
    expect(calls.map((c) => c.partitions)[1]).toEqual([{ topic: R, partition: 0, offset: 9n }])
  })

  it('only repartition topics, the highest offset committed; a failed purge goes again with the next', async () => {
    const { purge, calls, advance } = fakePurge(0)
    purge.committed([
      { topic: 'user-input', partition: 0, offset: 100n },
      { topic: R, partition: 1, offset: 7n },
      { topic: R, partition: 1, offset: 4n },
    ])
    purge.maybePurge()
    expect(calls[0]!.partitions).toEqual([{ topic: R, partition: 1, offset: 7n }])
    purge.committed([{ topic: R, partition: 2, offset: 3n }])
    calls[0]!.settle(false)
    await purge.settled()
    advance(1)
    purge.maybePurge()
    expect(calls[1]!.partitions).toEqual([
      { topic: R, partition: 2, offset: 3n },
      { topic: R, partition: 1, offset: 7n },
    ])
    calls[1]!.settle(true)
    await purge.settled()
    // Nothing new committed: nothing sent.
    advance(1)
    purge.maybePurge()
    expect(calls).toHaveLength(2)
  })

  it('forgets revoked partitions; nothing is sent after the application stopped', async () => {
    const { purge, calls } = fakePurge(0)
    purge.committed([
      { topic: R, partition: 0, offset: 2n },
      { topic: R, partition: 1, offset: 2n },
    ])
    purge.forget([{ topic: R, partition: 0 }])
    purge.maybePurge()
    expect(calls[0]!.partitions).toEqual([{ topic: R, partition: 1, offset: 2n }])
    calls[0]!.settle(true)
    await purge.settled()

    const stop = new AbortController()
    const stopped = new RepartitionPurge({
      admin: {} as AdminContext,
      interval: 0,
      isRepartition: () => true,
      signal: stop.signal,
      deleteRecords: (() => {
        throw new Error('must not be called')
      }) as typeof deleteRecords,
    })
    stopped.committed([{ topic: R, partition: 0, offset: 1n }])
    stop.abort()
    stopped.maybePurge()
    await stopped.settled()
  })

  it('repartitionPurgeInterval: default 30 000 ms (repartition.purge.interval.ms), milliseconds >= 0', () => {
    expect(resolveStreamsConfig({ brokers: ['localhost:9092'], applicationId: 'a' }).repartitionPurgeInterval).toBe(
      30_000,
    )
    expect(
      resolveStreamsConfig({ brokers: ['localhost:9092'], applicationId: 'a', repartitionPurgeInterval: 0 })
        .repartitionPurgeInterval,
    ).toBe(0)
    expect(() =>
      resolveStreamsConfig({ brokers: ['localhost:9092'], applicationId: 'a', repartitionPurgeInterval: -1 }),
    ).toThrow(ConfigError)
  })
})

describe(`repartition topics purged on ${targetName}`, () => {
  const target = useTarget(startTarget)

  for (const guarantee of ['at_least_once', 'exactly_once_v2'] as const) {
    it(`${guarantee}: the log start reaches the committed offset; the counts stay exact across a restart`, async () => {
      const [input, output, appId] = [unique('rp-in'), unique('rp-out'), unique('rp')]
      const repartition = `${appId}-counts-repartition`
      await createTopic(target.bootstrap, input, 2, Math.min(3, target.brokerIds.length))
      await createTopic(target.bootstrap, output, 2, Math.min(3, target.brokerIds.length))
      const vocabulary = ['red', 'green', 'blue', 'cyan', 'teal', 'pink', 'gold']
      const lines = (from: number, n: number): string[] =>
        Array.from({ length: n }, (_, i) => `${vocabulary[(from + i) % 7]} ${vocabulary[(from + 3 * i) % 5]}`)
      const config = {
        brokers: target.bootstrap,
        applicationId: appId,
        processingGuarantee: guarantee,
        commitInterval: 100,
        repartitionPurgeInterval: 200,
      }
      const admin = new Admin({ brokers: target.bootstrap })
      /** Per repartition partition: log start, end and the group's committed offset. */
      const offsets = async () => {
        const parts = [0, 1].map((partition) => ({ topic: repartition, partition }))
        const [start, end, committed] = await Promise.all([
          admin.listOffsets(parts.map((p) => ({ ...p, spec: 'earliest' as const }))),
          admin.listOffsets(parts.map((p) => ({ ...p, spec: 'latest' as const }))),
          admin.committedOffsets(appId, { topics: [repartition] }),
        ])
        return parts.map((p) => ({
          start: start[p.partition]!.offset!,
          end: end[p.partition]!.offset!,
          committed: committed.find((c) => c.partition === p.partition)?.offset ?? -1n,
        }))
      }
      // Everything read is purged: what is left is nothing (at_least_once) or the final commit
      // marker (exactly_once_v2: records are purged up to the last one read, not past its marker).
      const purged = async () =>
        (await offsets()).every((o) => o.end === 0n || o.start === (guarantee === 'at_least_once' ? o.end : o.end - 1n))
      const first = lines(0, 120)
      const second = lines(120, 80)
      try {
        await writeInput(
          target.bootstrap,
          input,
          first.map((value, i) => ({ key: `k${i}`, value })),
        )
        const app1 = new KafkaStreams(wordCount(input, output), config)
        try {
          await app1.start()
          await reach(app1, 'RUNNING')
          await readUntil(target.bootstrap, output, (r) => r.length >= total(counts(first)))
          await waitFor(purged, 20_000, 'repartition topic purged up to the committed offsets')
        } finally {
          await app1.close()
        }
        const after1 = await offsets()
        expect(after1.some((o) => o.start > 0n)).toBe(true)
        // Never past what the group committed.
        for (const o of after1) if (o.end > 0n) expect(o.start <= o.committed).toBe(true)

        await writeInput(
          target.bootstrap,
          input,
          second.map((value, i) => ({ key: `m${i}`, value })),
        )
        const app2 = new KafkaStreams(wordCount(input, output), config)
        try {
          await app2.start()
          await reach(app2, 'RUNNING')
          const all = counts([...first, ...second])
          const records = await readUntil(target.bootstrap, output, (r) => r.length >= total(all))
          // No record was lost to the purge (nor, with a clean close, counted twice).
          expect(lastValues(records, (b) => Number(b.readBigInt64BE(0)))).toEqual(all)
          if (guarantee === 'exactly_once_v2') expectExact(records, all)
          await waitFor(purged, 20_000, 'repartition topic purged after the restart')
        } finally {
          await app2.close()
        }
        const after2 = await offsets()
        for (const [p, o] of after2.entries()) expect(o.start >= after1[p]!.start).toBe(true)
      } finally {
        await admin.close()
      }
    }, 120_000)
  }
})
