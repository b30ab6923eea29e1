// @integration: the runtime case also runs against real Kafka when KAFKA_BOOTSTRAP is set;
// otherwise on the in-process reference cluster (3 brokers).
// The next record of a task with several input partitions, as Kafka Streams' PartitionGroup
// chooses it (max.task.idle.ms): the buffered head with the smallest timestamp, once every
// partition has records buffered or is known to have none left on the broker. The same input
// through Java Kafka Streams on a cluster is in streams-vs-java-kafka.test.ts (the merge output).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { ConfigError } from '../../src/errors.js'
import { MAX_TASK_IDLE_DISABLED, PartitionGroup } from '../../src/streams/partition-group.js'
import { KafkaStreams, Serdes, StreamsBuilder, TopologyError } from '../../src/streams/index.js'
import { createTopic, startTarget, targetName, unique, type Target } from '../consumer/helpers.js'
import { lastValues, reach, readUntil, writeInput } from './helpers/cluster.js'

const S = Serdes.String
const rec = (timestamp: number, v = String(timestamp)): { timestamp: number; v: string } => ({ timestamp, v })

describe('PartitionGroup', () => {
  it('takes the head with the smallest timestamp; each partition stays in offset order', () => {
    const g = new PartitionGroup<{ timestamp: number; v: string }>(['a', 'b'], 0)
    g.add('a', [rec(5), rec(1), rec(9)])
    g.add('b', [rec(3), rec(7)])
    const order: string[] = []
    for (let n = g.next(); n !== undefined; n = g.next()) order.push(`${n.topic}${n.record.v}`)
    // a's 1 comes after its 5 (offset order); the heads decide: 5 vs 3, 5 vs 7, 1 vs 7, 9 vs 7.
    expect(order).toEqual(['b3', 'a5', 'a1', 'b7', 'a9'])
    expect(g.buffered()).toBe(0)
  })

  it('waits for an empty partition whose lag is unknown or positive, not for one known to be caught up', () => {
    const g = new PartitionGroup<{ timestamp: number; v: string }>(['a', 'b'], 0)
    expect(g.ready(0, () => 0n)).toBe(false) // nothing buffered
    g.add('a', [rec(1)])
    expect(g.ready(0, (t) => (t === 'b' ? -1n : 0n))).toBe(false)
    expect(g.ready(0, (t) => (t === 'b' ? 4n : 0n))).toBe(false)
    expect(g.ready(0, () => 0n)).toBe(true)
    g.add('b', [rec(2)])
    expect(g.ready(0, () => 5n)).toBe(true) // every partition has records buffered
  })

  it('max.task.idle.ms > 0 waits that long for a caught-up partition; -1 never waits', () => {
    const g = new PartitionGroup<{ timestamp: number; v: string }>(['a', 'b'], 100)
    g.add('a', [rec(1)])
    expect(g.ready(1000, () => 0n)).toBe(false)
    expect(g.ready(1099, () => 0n)).toBe(false)
    expect(g.ready(1100, () => 0n)).toBe(true)
    const off = new PartitionGroup<{ timestamp: number; v: string }>(['a', 'b'], MAX_TASK_IDLE_DISABLED)
    off.add('a', [rec(1)])
    expect(off.ready(0, () => -1n)).toBe(true)
  })

  it('maxTaskIdle must be milliseconds >= 0 or -1', () => {
    const b = new StreamsBuilder()
    b.stream('in', { key: S, value: S }).to('out')
    for (const bad of [-2, Number.NaN, Infinity]) {
      expect(() => new KafkaStreams(b, { brokers: ['127.0.0.1:1'], applicationId: 'a', maxTaskIdle: bad })).toThrow(
        ConfigError,
      )
    }
    expect(() => new KafkaStreams(b, { brokers: ['127.0.0.1:1'], applicationId: 'a', maxTaskIdle: -1 })).not.toThrow()
  })

  it('refuses a topic the task does not read', () => {
    const g = new PartitionGroup<{ timestamp: number; v: string }>(['a'], 0)
    expect(() => g.add('x', [rec(1)])).toThrow(TopologyError)
  })
})

describe(`a task of two partitions on ${targetName}`, () => {
  let target: Target
  beforeAll(async () => {
    target = await startTarget()
  }, 60_000)
  afterAll(async () => {
    await target?.stop()
  })

  it('processes them in timestamp order across the partitions (a merge and a reduce)', async () => {
    const [left, right, output] = [unique('pg-l'), unique('pg-r'), unique('pg-out')]
    for (const t of [left, right, output])
      await createTopic(target.bootstrap, t, 1, Math.min(3, target.brokerIds.length))
    // Written before the application starts: both partitions are on the broker when it reads them.
    const l = [10, 30, 20, 50, 70]
    const r = [5, 25, 40, 35, 60]
    await writeInput(
      target.bootstrap,
      left,
      l.map((ts) => ({ key: 'k', value: `l${ts}`, timestamp: ts })),
    )
    await writeInput(
      target.bootstrap,
      right,
      r.map((ts) => ({ key: 'k', value: `r${ts}`, timestamp: ts })),
    )
    const b = new StreamsBuilder()
    b.stream(left, { key: S, value: S })
      .merge(b.stream(right, { key: S, value: S }))
      .groupByKey({ key: S, value: S })
      .reduce((a, v) => `${a},${v}`)
      .toStream()
      .to(output, { key: S, value: S })
    const app = new KafkaStreams(b, {
      brokers: target.bootstrap,
      applicationId: unique('pg'),
      processingGuarantee: 'at_least_once',
      commitInterval: 100,
    })
    try {
      await app.start()
      await reach(app, 'RUNNING')
      const records = await readUntil(target.bootstrap, output, (rs) => rs.length >= l.length + r.length)
      // Heads compared: r5 < l10, l10 < r25, r25 < l30, l30 < r40, l20 < r40 (a's offset order),
      // r40 < l50, r35 < l50, l50 < r60, r60 < l70, then l70.
      expect(lastValues(records, (v) => v.toString('utf8')).get('k')).toBe('r5,l10,r25,l30,l20,r40,r35,l50,r60,l70')
    } finally {
      await app.close()
    }
  }, 60_000)
})
