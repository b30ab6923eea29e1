// The Reader's Java-named metrics (metrics()) on a one-broker reference cluster: records and
// bytes handed out, lag and lead per partition after reading part of what was produced, fetch,
// commit and rebalance counts, each checked against values known from the scenario.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Reader, metricValue, type MetricsSnapshot } from '../../src/index.js'
import { startReferenceCluster } from '../producer/helpers.js'
import { createTopic, produce, readMessages, unique, waitFor } from './helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

function value(snapshot: MetricsSnapshot, name: string, tags: Record<string, string> = {}): number {
  const v = metricValue(snapshot, name, tags)
  if (v === undefined) throw new Error(`no metric ${name} ${JSON.stringify(tags)}`)
  return v
}

describe.sequential('Reader metrics (Java consumer names)', () => {
  let cluster: Cluster
  let bootstrap: string[]
  const readers: Reader[] = []

  beforeAll(async () => {
    cluster = await startReferenceCluster({ brokers: 1 })
    bootstrap = cluster.bootstrapServers
  })

  afterAll(async () => {
    await Promise.allSettled(readers.map((r) => r.close()))
    await cluster?.stop()
  })

  it('after k records produced and m read: records-lag k − m, records-lead m, consumed totals m', async () => {
    const topic = unique('m-lag')
    await createTopic(bootstrap, topic, 1, 1)
    await produce(bootstrap, topic, 7) // values '0'..'6'
    const reader = new Reader({ brokers: bootstrap, topic, partition: 0, clientId: 'metrics-reader' })
    readers.push(reader)
    const read = await readMessages(reader, 3)
    const tags = { topic, partition: '0' }
    let snap = reader.metrics()
    await waitFor(() => metricValue((snap = reader.metrics()), 'records-lag', tags) === 4, 5_000, 'records-lag 4')
    expect(snap.client).toBe('consumer')
    expect(value(snap, 'records-lead', tags)).toBe(3)
    expect(value(snap, 'records-consumed-total')).toBe(3)
    const bytes = read.reduce((n, m) => n + (m.value?.length ?? 0) + (m.key?.length ?? 0), 0)
    expect(value(snap, 'bytes-consumed-total')).toBe(bytes)
    expect(value(snap, 'records-consumed-rate')).toBeGreaterThan(0)
    // Recorded when the first answer arrived, before anything was handed out: the whole partition.
    expect(value(snap, 'records-lag-max')).toBe(7)
    expect(value(snap, 'records-lead-min')).toBe(0)
    expect(value(snap, 'fetch-total')).toBeGreaterThanOrEqual(1)
    expect(value(snap, 'fetch-latency-max')).toBeGreaterThanOrEqual(value(snap, 'fetch-latency-avg'))
    expect(value(snap, 'assigned-partitions')).toBe(1)
    const pollAgo = value(snap, 'last-poll-seconds-ago')
    expect(pollAgo).toBeGreaterThanOrEqual(0)
    expect(pollAgo).toBeLessThan(10)
    expect(value(snap, 'request-total')).toBeGreaterThan(0)
    expect(value(snap, 'incoming-byte-total')).toBeGreaterThan(0)
    for (const m of snap.metrics) expect(m.tags['client-id']).toBe('metrics-reader')
    // stats() resets only its own counters.
    expect(reader.stats().messages).toBe(3)
    expect(reader.stats().messages).toBe(0)
    expect(value(reader.metrics(), 'records-consumed-total')).toBe(3)
  })

  it('in a group: one rebalance, the partitions assigned, the commit counted, lag 0 once all is read', async () => {
    const topic = unique('m-group')
    await createTopic(bootstrap, topic, 3, 1)
    await produce(bootstrap, topic, 30)
    const reader = new Reader({ brokers: bootstrap, topic, groupId: unique('m-group') })
    readers.push(reader)
    const messages = await readMessages(reader, 30)
    await reader.commitMessages(...messages)
    let snap = reader.metrics()
    expect(value(snap, 'commit-total')).toBe(1)
    expect(value(snap, 'commit-latency-max')).toBeGreaterThanOrEqual(value(snap, 'commit-latency-avg'))
    expect(value(snap, 'rebalance-total')).toBe(1)
    expect(value(snap, 'rebalance-latency-avg')).toBeGreaterThan(0)
    expect(value(snap, 'rebalance-latency-total')).toBe(value(snap, 'rebalance-latency-avg'))
    expect(value(snap, 'assigned-partitions')).toBe(3)
    await waitFor(
      () =>
        [0, 1, 2].every(
          (p) => metricValue((snap = reader.metrics()), 'records-lag', { topic, partition: `${p}` }) === 0,
        ),
      5_000,
      'lag 0 on every partition',
    )
    expect(value(snap, 'records-consumed-total')).toBe(30)
  })
})
