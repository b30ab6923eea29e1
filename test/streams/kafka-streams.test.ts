// @integration: also runs against real Kafka when KAFKA_BOOTSTRAP is set; otherwise on the
// in-process reference cluster (3 brokers).
// KafkaStreams on a cluster: word count end to end (internal topics created, final counts per
// word as Kafka Streams' without cache), state restored from the changelog by a restarted
// application, tasks moving between two instances of one applicationId, interactive queries,
// the state listener, and the errors start() gives for topologies that cannot run.

import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { KafkaClient } from '../../src/cluster/client.js'
import { ConfigError } from '../../src/errors.js'
import { DescribeConfigs } from '../../src/protocol/messages/index.js'
import {
  KafkaStreams,
  Serdes,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  TopologyError,
  WindowedSerdes,
} from '../../src/streams/index.js'
import { createTopic, startTarget, targetName, unique, type Target } from '../consumer/helpers.js'
import { counts, lastValues, reach, readUntil, total, writeInput } from './helpers/cluster.js'
import { wordCount } from './helpers/wordcount.js'

const S = Serdes.String
let target: Target

beforeAll(async () => {
  target = await startTarget()
}, 60_000)

afterAll(async () => {
  await target?.stop()
})

const long = (b: Buffer): number => Number(b.readBigInt64BE(0))

describe(`KafkaStreams on ${targetName}`, () => {
  it('counts words end to end, creates its internal topics, answers queries, reports its states', async () => {
    const input = unique('wc-in')
    const output = unique('wc-out')
    const appId = unique('wc')
    await createTopic(target.bootstrap, input, 3)
    await createTopic(target.bootstrap, output, 3)
    const lines = ['Hello world', 'hello Kafka Streams', 'the world, the end', 'a b c a b a']
    await writeInput(
      target.bootstrap,
      input,
      lines.map((value, i) => ({ key: `k${i}`, value, timestamp: 1000 + i })),
    )
    // The default guarantee, exactly_once_v2 (the other cases here say at_least_once).
    const app = new KafkaStreams(wordCount(input, output), {
      brokers: target.bootstrap,
      applicationId: appId,
      commitInterval: 100,
    })
    const states: string[] = [app.state]
    app.onStateChange((s) => states.push(s))
    await app.start()
    await reach(app, 'RUNNING')
    const expected = counts(lines)
    // No cache: one update per word occurrence, so the output ends with every count.
    const records = await readUntil(target.bootstrap, output, (r) => r.length >= total(expected))
    expect(records.length).toBe(total(expected))
    expect(lastValues(records, long)).toEqual(expected)
    // Interactive query on the store, once the last update is in.
    expect(app.store<string, number>('counts').get('a')).toBe(3)
    expect(app.store<string, number>('counts').get('world')).toBe(2)
    expect(app.store<string, number>('counts').get('nope')).toBeUndefined()
    await app.close()
    expect(states).toEqual(['CREATED', 'REBALANCING', 'RUNNING', 'PENDING_SHUTDOWN', 'NOT_RUNNING'])
    expect(app.metrics().processed).toBeGreaterThanOrEqual(lines.length + total(expected))

    // The internal topics exist with Kafka Streams' names; the changelog is compacted.
    const client = new KafkaClient({ brokers: target.bootstrap })
    try {
      const repartition = `${appId}-counts-repartition`
      const changelog = `${appId}-counts-changelog`
      await client.metadata.refresh([repartition, changelog])
      expect(client.metadata.topic(repartition)?.partitions.length).toBe(3)
      expect(client.metadata.topic(changelog)?.partitions.length).toBe(3)
      const r = await client.requestTo(client.anyBroker(), DescribeConfigs, {
        resources: [{ resourceType: 2, resourceName: changelog, configurationKeys: ['cleanup.policy'] }],
      })
      expect(r.results[0]?.configs.find((c) => c.name === 'cleanup.policy')?.value).toBe('compact')
    } finally {
      await client.close()
    }
  }, 90_000)

  it('a restarted application restores its counts from the changelog and goes on counting', async () => {
    const input = unique('wc2-in')
    const output = unique('wc2-out')
    const appId = unique('wc2')
    await createTopic(target.bootstrap, input, 2)
    await createTopic(target.bootstrap, output, 2)
    const first = ['red green', 'green blue', 'red']
    await writeInput(
      target.bootstrap,
      input,
      first.map((value, i) => ({ key: `a${i}`, value })),
    )
    const config = {
      brokers: target.bootstrap,
      applicationId: appId,
      processingGuarantee: 'at_least_once' as const,
      commitInterval: 100,
    }
    const app1 = new KafkaStreams(wordCount(input, output), config)
    await app1.start()
    await reach(app1, 'RUNNING')
    await readUntil(target.bootstrap, output, (r) => r.length >= total(counts(first)))
    await app1.close()

    const second = ['red blue', 'yellow']
    await writeInput(
      target.bootstrap,
      input,
      second.map((value, i) => ({ key: `b${i}`, value })),
    )
    const app2 = new KafkaStreams(wordCount(input, output), config)
    await app2.start()
    await reach(app2, 'RUNNING')
    const all = counts([...first, ...second])
    const records = await readUntil(target.bootstrap, output, (r) => r.length >= total(all))
    // The counts go on from the restored state (red 2 -> 3), not from zero, and nothing is
    // processed twice (the first run committed before closing).
    expect(lastValues(records, long)).toEqual(all)
    expect(records.length).toBe(total(all))
    expect(app2.metrics().restored).toBeGreaterThan(0)
    expect(app2.store<string, number>('counts').get('red')).toBe(3)
    await app2.close()
  }, 90_000)

  it('two instances share the tasks; when one closes the other takes its tasks over with their state', async () => {
    const input = unique('wc3-in')
    const output = unique('wc3-out')
    const appId = unique('wc3')
    await createTopic(target.bootstrap, input, 4)
    await createTopic(target.bootstrap, output, 4)
    const config = {
      brokers: target.bootstrap,
      applicationId: appId,
      processingGuarantee: 'at_least_once' as const,
      commitInterval: 100,
      sessionTimeout: 10_000,
    }
    const a = new KafkaStreams(wordCount(input, output), config)
    const b = new KafkaStreams(wordCount(input, output), config)
    await a.start()
    await reach(a, 'RUNNING')
    const words = Array.from({ length: 40 }, (_, i) => `w${i % 13}`)
    const first = words.slice(0, 20)
    await writeInput(
      target.bootstrap,
      input,
      first.map((value, i) => ({ key: `x${i}`, value })),
    )
    await readUntil(target.bootstrap, output, (r) => r.length >= first.length)
    expect(a.metrics().restored).toBe(0)
    await b.start()
    await reach(b, 'RUNNING')
    while (a.state !== 'RUNNING') await new Promise((r) => setTimeout(r, 20))
    // b restored the tasks it took over from their changelogs; a kept the stores of the tasks
    // it got back after the (eager) rebalance and restored nothing.
    expect(b.metrics().restored).toBeGreaterThan(0)
    expect(a.metrics().restored).toBe(0)
    // Both instances hold some of the counts.
    const local = (app: KafkaStreams): number => app.store<string, number>('counts').size
    expect(local(a)).toBeGreaterThan(0)
    expect(local(b)).toBeGreaterThan(0)
    expect(local(a) + local(b)).toBe(counts(first).size)
    await a.close()
    await reach(b, 'RUNNING')
    const rest = words.slice(20)
    await writeInput(
      target.bootstrap,
      input,
      rest.map((value, i) => ({ key: `y${i}`, value })),
    )
    const all = counts(words)
    const records = await readUntil(target.bootstrap, output, (r) => r.length >= words.length)
    expect(lastValues(records, long)).toEqual(all)
    expect(local(b)).toBe(all.size)
    await b.close()
  }, 120_000)

  it('runs a windowed count with suppress and a stream-table join over two co-partitioned topics', async () => {
    const clicks = unique('clicks')
    const users = unique('users')
    const perWindow = unique('per-window')
    const enriched = unique('enriched')
    for (const t of [clicks, users, perWindow, enriched]) await createTopic(target.bootstrap, t, 2)
    const b = new StreamsBuilder()
    const table = b.table(users, { key: S, value: S, storeName: 'users' })
    const stream = b.stream(clicks, { key: S, value: S })
    stream
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(100, 20))
      .count()
      .suppress(Suppressed.untilWindowCloses())
      .toStream()
      .to(perWindow, { value: Serdes.Long })
    stream.leftJoin(table, (page, user) => `${user ?? '?'}:${page}`, { value: S }).to(enriched)
    const app = new KafkaStreams(b, {
      brokers: target.bootstrap,
      applicationId: unique('win'),
      processingGuarantee: 'at_least_once',
      commitInterval: 100,
    })
    await app.start()
    await reach(app, 'RUNNING')
    await writeInput(target.bootstrap, users, [
      { key: 'u1', value: 'Ann', timestamp: 1 },
      { key: 'u2', value: 'Bob', timestamp: 1 },
    ])
    // The table is read before the clicks are written (the Reader does not order a task's
    // partitions by timestamp, as Kafka Streams does).
    const deadline = Date.now() + 20_000
    while (app.store<string, string>('users').get('u2') === undefined) {
      if (Date.now() > deadline) throw new Error('users table not loaded')
      await new Promise((r) => setTimeout(r, 50))
    }
    // Per key the records are in order; stream time is per task, so each key closes its windows.
    const click = (key: string, timestamp: number): { key: string; value: string; timestamp: number } => ({
      key,
      value: `/p${timestamp}`,
      timestamp,
    })
    await writeInput(target.bootstrap, clicks, [
      click('u1', 10),
      click('u1', 50),
      click('u2', 60),
      click('u3', 70),
      click('u1', 130), // [100, 200)
      click('u2', 140),
      click('u3', 150),
      click('u1', 90), // late: u1's task has seen 130, and [0, 100) closed at 100 + 20
      click('u1', 400),
      click('u2', 400),
      click('u3', 400),
    ])
    const windowSerde = WindowedSerdes.timeWindowed(S, 100)
    const finals = await readUntil(target.bootstrap, perWindow, (r) => r.length >= 6)
    const counts = new Map(
      finals.map((r) => {
        const w = windowSerde.deserialize(r.key!)
        return [`${w.key}@${w.window.start}`, long(r.value!)]
      }),
    )
    // u1's [0,100) closed before the late record at 90 arrived: it is dropped, not counted.
    expect(counts).toEqual(
      new Map([
        ['u1@0', 2],
        ['u1@100', 1],
        ['u2@0', 1],
        ['u2@100', 1],
        ['u3@0', 1],
        ['u3@100', 1],
      ]),
    )
    const joined = await readUntil(target.bootstrap, enriched, (r) => r.length >= 11)
    expect(new Set(joined.map((r) => r.value!.toString()))).toEqual(
      new Set([
        'Ann:/p10',
        'Ann:/p50',
        'Bob:/p60',
        '?:/p70',
        'Ann:/p130',
        'Bob:/p140',
        '?:/p150',
        'Ann:/p90',
        'Ann:/p400',
        'Bob:/p400',
        '?:/p400',
      ]),
    )
    expect(app.metrics().dropped.late).toBe(1)
    await app.close()
  }, 90_000)

  it('loses nothing when killed with SIGKILL before committing: the restart replays what was not committed (at-least-once)', async () => {
    const input = unique('crash-in')
    const output = unique('crash-out')
    const applicationId = unique('crash')
    await createTopic(target.bootstrap, input, 2)
    await createTopic(target.bootstrap, output, 2)
    const first = Array.from({ length: 30 }, (_, i) => `w${i % 7} w${(i * 3) % 5}`)
    await writeInput(
      target.bootstrap,
      input,
      first.map((value, i) => ({ key: `a${i}`, value })),
    )
    const child = fork(
      fileURLToPath(new URL('./helpers/wordcount-child.ts', import.meta.url)),
      [JSON.stringify({ brokers: target.bootstrap, applicationId, input, output })],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    )
    const exited = new Promise((resolve) => child.on('exit', resolve))
    try {
      await new Promise<void>((resolve, reject) => {
        child.on('message', (m) => (m === 'running' ? resolve() : undefined))
        child.on('exit', (code) => reject(new Error(`child exited with ${code}`)))
      })
      // Every update of the first run is out; none of its input offsets is committed.
      await readUntil(target.bootstrap, output, (r) => r.length >= total(counts(first)))
    } finally {
      child.kill('SIGKILL')
      await exited
    }
    const second = ['w1 w2', 'w9']
    await writeInput(
      target.bootstrap,
      input,
      second.map((value, i) => ({ key: `b${i}`, value })),
    )
    const app = new KafkaStreams(wordCount(input, output), {
      brokers: target.bootstrap,
      applicationId,
      processingGuarantee: 'at_least_once',
      commitInterval: 100,
      sessionTimeout: 6_000,
    })
    await app.start()
    await reach(app, 'RUNNING', 60_000)
    const once = counts([...first, ...second])
    // Nothing was committed, so the restart reads the first run's input again, and its
    // repartition records too (sub-topology 1's offsets were not committed either): the first
    // run's words reach the counts up to three times (restored from the changelog, replayed
    // input, replayed repartition records). At-least-once: never fewer than once.
    const thrice = counts([...first, ...first, ...first, ...second])
    const expectedRecords = 3 * total(counts(first)) + total(counts(second))
    const records = await readUntil(target.bootstrap, output, (r) => r.length >= expectedRecords, 60_000)
    const final = lastValues(records, long)
    expect(final.size).toBe(once.size)
    for (const [word, n] of once) {
      expect(final.get(word), word).toBeGreaterThanOrEqual(n)
      expect(final.get(word), word).toBeLessThanOrEqual(thrice.get(word)!)
    }
    // The replayed words were counted again: the restart did not skip the uncommitted input.
    expect(final.get('w0')).toBeGreaterThan(once.get('w0')!)
    await app.close()
  }, 120_000)

  it('refuses a stateful sub-topology over topics of different partition counts', async () => {
    const left = unique('cp-l')
    const right = unique('cp-r')
    await createTopic(target.bootstrap, left, 2)
    await createTopic(target.bootstrap, right, 3)
    const builder = new StreamsBuilder()
    builder
      .stream(left, { key: S, value: S })
      .merge(builder.stream(right, { key: S, value: S }))
      .groupByKey()
      .count()
    const app = new KafkaStreams(builder, { brokers: target.bootstrap, applicationId: unique('cp') })
    await expect(app.start()).rejects.toThrow(TopologyError)
    expect(app.state).toBe('ERROR')
    expect(String(app.error)).toMatch(/not co-partitioned.*\(2\).*\(3\)/)
    await app.close()
  }, 60_000)

  it('refuses a missing source topic, an unknown guarantee, a bad processId and a bad applicationId', async () => {
    const app = new KafkaStreams(wordCount(unique('missing'), 'x'), {
      brokers: target.bootstrap,
      applicationId: unique('m'),
    })
    await expect(app.start()).rejects.toThrow(/do not exist/)
    expect(app.state).toBe('ERROR')
    await app.close()
    expect(
      () =>
        new KafkaStreams(wordCount('a', 'b'), {
          brokers: target.bootstrap,
          applicationId: 'x',
          processingGuarantee: 'exactly_once' as 'exactly_once_v2',
        }),
    ).toThrow(ConfigError)
    expect(
      () =>
        new KafkaStreams(wordCount('a', 'b'), {
          brokers: target.bootstrap,
          applicationId: 'x',
          processingGuarantee: 'exactly_once_v2',
          processId: 'a b',
        }),
    ).toThrow(/processId/)
    expect(() => new KafkaStreams(wordCount('a', 'b'), { brokers: target.bootstrap, applicationId: 'bad id' })).toThrow(
      /applicationId/,
    )
  }, 60_000)
})
