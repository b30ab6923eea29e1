// @integration: also runs against real Kafka when KAFKA_BOOTSTRAP is set; otherwise on the
// in-process reference cluster (3 brokers). The injected-failure case needs the reference
// cluster's faults and starts its own.
// processingGuarantee 'exactly_once_v2': every commit is one transaction (outputs, changelog,
// input offsets). Checked from outside with read_committed readers: each word's count updates
// are exactly 1, 2, ..., n in order (a duplicate repeats a value, a lost or double-counted record
// skips one), after a normal run, after a kill -9 mid-run and a restart, and after a failed
// transaction that the application aborts and rewinds.

import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { ErrorCode } from '../../src/protocol/error-codes.js'
import { KafkaStreams, Serdes, StreamsBuilder, type StreamsConfig } from '../../src/streams/index.js'
import { createTopic, startTarget, targetName, unique, type Target } from '../consumer/helpers.js'
import { counts, expectExact, reach, readUntil, total, writeInput } from './helpers/cluster.js'
import { wordCount } from './helpers/wordcount.js'
import { recorder, type Line } from '../helpers/log-recorder.js'

let target: Target

beforeAll(async () => {
  target = await startTarget()
}, 60_000)

afterAll(async () => {
  await target?.stop()
})

const lines = (n: number, tag: string): string[] =>
  Array.from({ length: n }, (_, i) => `w${i % 7} w${(i * 3) % 5} ${tag}${i % 3}`)

function eos(applicationId: string, extra: Partial<StreamsConfig> = {}): StreamsConfig {
  return {
    brokers: target.bootstrap,
    applicationId,
    processingGuarantee: 'exactly_once_v2',
    sessionTimeout: 6_000,
    ...extra,
  }
}

describe(`KafkaStreams exactly_once_v2 on ${targetName}`, () => {
  it('counts words exactly: output and changelog are read_committed and hold each update once', async () => {
    const input = unique('eos-in')
    const output = unique('eos-out')
    const appId = unique('eos')
    await createTopic(target.bootstrap, input, 3)
    await createTopic(target.bootstrap, output, 3)
    const text = lines(40, 'a')
    await writeInput(
      target.bootstrap,
      input,
      text.map((value, i) => ({ key: `k${i}`, value })),
    )
    const app = new KafkaStreams(wordCount(input, output), eos(appId))
    await app.start()
    await reach(app, 'RUNNING')
    const truth = counts(text)
    const records = await readUntil(target.bootstrap, output, (r) => r.length >= total(truth), 60_000)
    expectExact(records, truth)
    // The changelog (what a restarted task restores from) holds the same updates, once each.
    const changelog = await readUntil(target.bootstrap, `${appId}-counts-changelog`, (r) => r.length >= total(truth))
    expect(changelog.length).toBe(total(truth))
    expect(app.store<string, number>('counts').get('w0')).toBe(truth.get('w0'))
    expect(app.metrics().aborted).toBe(0)
    await app.close()
    expect(app.state).toBe('NOT_RUNNING')
  }, 120_000)

  it('rebalances (an instance joins, then one leaves) while input flows: each update once, final counts exact', async () => {
    const input = unique('eos-reb-in')
    const output = unique('eos-reb-out')
    const appId = unique('eos-reb')
    await createTopic(target.bootstrap, input, 4)
    await createTopic(target.bootstrap, output, 4)
    // Each instance's log (its transitions, assignments, restores, its clients' warnings): a stall prints it.
    const logA = recorder()
    const logB = recorder()
    const a = new KafkaStreams(wordCount(input, output), eos(appId, { sessionTimeout: 10_000, logger: logA }))
    const b = new KafkaStreams(wordCount(input, output), eos(appId, { sessionTimeout: 10_000, logger: logB }))
    const batches = [lines(40, 'f'), lines(60, 'g'), lines(60, 'h'), lines(40, 'i')]
    const write = (n: number): Promise<void> =>
      writeInput(
        target.bootstrap,
        input,
        batches[n]!.map((value, i) => ({ key: `${n}-${i}`, value })),
      )
    await a.start()
    await reach(a, 'RUNNING')
    await write(0)
    await readUntil(target.bootstrap, output, (r) => r.length >= total(counts(batches[0]!)))
    // b joins while a has input to process (its open transaction meets the revocation).
    const writing = write(1)
    await b.start()
    await writing
    await reach(b, 'RUNNING')
    await write(2)
    // a leaves while b works: a commits on revocation, b takes over a's tasks and state.
    await a.close()
    await write(3)
    const truth = counts(batches.flat())
    // Under a loaded CI machine a rebalance, the restore of a's state and a transaction timeout
    // can take tens of seconds; a stall says where each instance stood.
    const records = await readUntil(target.bootstrap, output, (r) => r.length >= total(truth), 100_000).catch(
      (err: unknown) => {
        const where = (name: string, app: KafkaStreams, log: Line[]): string =>
          `${name}: ${app.state}${app.error !== undefined ? ` (${String(app.error)})` : ''} ${JSON.stringify(app.metrics())}\n` +
          log
            .slice(-40)
            .map(
              (l) =>
                `  ${l.at} ${l.level} ${l.message} ${JSON.stringify(l.fields, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
            )
            .join('\n')
        throw new Error(`${String(err)}\n${where('a', a, logA.lines)}\n${where('b', b, logB.lines)}`, { cause: err })
      },
    )
    expectExact(records, truth)
    expect(b.store<string, number>('counts').size).toBe(truth.size)
    await b.close()
  }, 160_000)

  it.each([
    ['its old processId (fencing the crashed instance at once)', 'crash'],
    ['a new processId', undefined],
  ])(
    'killed with SIGKILL mid-run and restarted with %s: one update per counted word, exact counts',
    async (_, restartId) => {
      const input = unique('eos-crash-in')
      const output = unique('eos-crash-out')
      const applicationId = unique('eos-crash')
      await createTopic(target.bootstrap, input, 2)
      await createTopic(target.bootstrap, output, 2)
      const first = lines(30, 'b')
      await writeInput(
        target.bootstrap,
        input,
        first.map((value, i) => ({ key: `a${i}`, value })),
      )
      const child = fork(
        fileURLToPath(new URL('./helpers/wordcount-child.ts', import.meta.url)),
        [JSON.stringify({ brokers: target.bootstrap, applicationId, input, output, eos: true, processId: 'crash' })],
        { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
      )
      const exited = new Promise((resolve) => child.on('exit', resolve))
      const second = lines(300, 'c')
      try {
        await new Promise<void>((resolve, reject) => {
          child.on('message', (m) => (m === 'running' ? resolve() : undefined))
          child.on('exit', (code) => reject(new Error(`child exited with ${code}`)))
        })
        await readUntil(target.bootstrap, output, (r) => r.length >= total(counts(first)), 60_000)
        // More input, and the kill once part of it is committed: mid-run, most likely with a
        // transaction open (not observed from here).
        await writeInput(
          target.bootstrap,
          input,
          second.map((value, i) => ({ key: `b${i}`, value })),
        )
        await readUntil(target.bootstrap, output, (r) => r.length > total(counts(first)), 60_000)
      } finally {
        child.kill('SIGKILL')
        await exited
      }
      const third = ['w1 w2', 'w9']
      await writeInput(
        target.bootstrap,
        input,
        third.map((value, i) => ({ key: `c${i}`, value })),
      )
      // The same processId (as Kafka Streams' state directory keeps it): the restart fences the
      // crashed instance's transactional id and its open transaction is aborted. A new one: the
      // coordinator aborts it after its transactionTimeout (10 s); until then it holds the LSO.
      const app = new KafkaStreams(
        wordCount(input, output),
        eos(applicationId, restartId === undefined ? {} : { processId: restartId }),
      )
      await app.start()
      await reach(app, 'RUNNING')
      const truth = counts([...first, ...second, ...third])
      const records = await readUntil(target.bootstrap, output, (r) => r.length >= total(truth), 60_000)
      expectExact(records, truth)
      await app.close()
    },
    180_000,
  )

  it('a zombie (stopped with SIGSTOP mid-transaction past its session and transaction timeouts) finds its transaction aborted and its generation gone, rejoins and works on: counts exact', async () => {
    const input = unique('eos-zombie-in')
    const output = unique('eos-zombie-out')
    const applicationId = unique('eos-zombie')
    await createTopic(target.bootstrap, input, 2)
    await createTopic(target.bootstrap, output, 2)
    const batches = [lines(20, 'z'), lines(300, 'y'), lines(30, 'x'), lines(30, 'v')]
    const write = (n: number): Promise<void> =>
      writeInput(
        target.bootstrap,
        input,
        batches[n]!.map((value, i) => ({ key: `${n}-${i}`, value })),
      )
    // The zombie: a child process (sessionTimeout 6 s, transactionTimeout 10 s) that says 'running' at each RUNNING.
    const child = fork(
      fileURLToPath(new URL('./helpers/wordcount-child.ts', import.meta.url)),
      [JSON.stringify({ brokers: target.bootstrap, applicationId, input, output, eos: true, processId: 'zombie' })],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    )
    let running = 0
    let exitCode: number | null | undefined
    child.on('message', (m) => (m === 'running' ? running++ : undefined))
    const exited = new Promise((resolve) => child.on('exit', (code) => resolve((exitCode = code))))
    const log = recorder()
    const other = new KafkaStreams(wordCount(input, output), eos(applicationId, { logger: log }))
    try {
      await expect.poll(() => running, { timeout: 60_000 }).toBe(1)
      await write(0)
      await readUntil(target.bootstrap, output, (r) => r.length >= total(counts(batches[0]!)), 60_000)
      // Stopped while it works through a large batch: most likely with a transaction open.
      await write(1)
      await readUntil(target.bootstrap, output, (r) => r.length > total(counts(batches[0]!)), 60_000)
      child.kill('SIGSTOP')
      // The other instance joins; the group drops the stopped member after its session timeout,
      // the coordinator aborts its transaction after its timeout, and the other takes all tasks.
      await other.start()
      await reach(other, 'RUNNING')
      await write(2)
      const before = counts(batches.slice(0, 3).flat())
      await readUntil(target.bootstrap, output, (r) => r.length >= total(before), 90_000)
      child.kill('SIGCONT')
      // The zombie's transaction was aborted (with transaction version 2 its own abort then succeeds
      // at the bumped epoch) and its generation is gone: it starts its tasks over and rejoins.
      await expect.poll(() => running, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(2)
      await write(3)
      const truth = counts(batches.flat())
      const records = await readUntil(target.bootstrap, output, (r) => r.length >= total(truth), 90_000)
      expectExact(records, truth)
      expect(exitCode).toBeUndefined() // it never went to ERROR (the child exits 1 then)
    } finally {
      child.kill('SIGKILL')
      await exited
      await other.close()
    }
  }, 240_000)
})

/** Counts records per key in one sub-topology: every transaction holds store (changelog) writes. */
function keyCount(input: string, output: string): StreamsBuilder {
  const b = new StreamsBuilder()
  b.stream(input, { key: Serdes.String, value: Serdes.String })
    .groupByKey()
    .count({ storeName: 'counts' })
    .toStream()
    .to(output, { key: Serdes.String, value: Serdes.Long })
  return b
}

describe('KafkaStreams exactly_once_v2: a failed transaction', () => {
  let ref: Target
  beforeAll(async () => {
    ref = await startTarget({ reference: true })
  }, 60_000)
  afterAll(async () => {
    await ref?.stop()
  })

  it.each([
    ['EndTxn', 'TRANSACTION_ABORTABLE'],
    ['TxnOffsetCommit', 'ILLEGAL_GENERATION'],
  ] as const)(
    '(%s answers %s) is aborted, the tasks rewind and their stores forget the aborted writes',
    async (api, code) => {
      const input = unique('eos-fail-in')
      const output = unique('eos-fail-out')
      const appId = unique('eos-fail')
      await createTopic(ref.bootstrap, input, 2)
      await createTopic(ref.bootstrap, output, 2)
      const words = (n: number, from: number): string[] => Array.from({ length: n }, (_, i) => `w${(from + i) % 5}`)
      const first = words(20, 0)
      await writeInput(
        ref.bootstrap,
        input,
        first.map((key) => ({ key, value: 'x' })),
      )
      const app = new KafkaStreams(keyCount(input, output), {
        ...eos(appId),
        brokers: ref.bootstrap,
        commitInterval: 300,
      })
      await app.start()
      await reach(app, 'RUNNING')
      await readUntil(ref.bootstrap, output, (r) => r.length >= first.length, 60_000)
      // The next transaction cannot commit (only the application sends these requests).
      ref.cluster!.faults.failNext(api, 1, ErrorCode[code])
      const second = words(20, 3)
      await writeInput(
        ref.bootstrap,
        input,
        second.map((key) => ({ key, value: 'x' })),
      )
      const truth = counts([...first, ...second])
      const records = await readUntil(ref.bootstrap, output, (r) => r.length >= total(truth), 60_000)
      // A count kept from the aborted transaction would skip a value here (its update is invisible
      // and the replay counts the record again).
      expectExact(records, truth)
      expect(app.metrics().aborted).toBeGreaterThanOrEqual(1)
      expect(app.state).toBe('RUNNING')
      expect(app.store<string, number>('counts').get('w0')).toBe(truth.get('w0'))
      await app.close()
    },
    120_000,
  )

  it.each([
    ['a newer producer epoch (EndTxn answers PRODUCER_FENCED)', 'fenced'],
    ["the coordinator's transaction timeout (a zombie's EndTxn arrives after it aborted the transaction)", 'late'],
  ] as const)(
    'fenced by %s: closes its tasks, gets a new producer, goes on RUNNING, counts stay exact',
    async (_, how) => {
      const input = unique('eos-fenced-in')
      const output = unique('eos-fenced-out')
      const appId = unique('eos-fenced')
      await createTopic(ref.bootstrap, input, 2)
      await createTopic(ref.bootstrap, output, 2)
      const words = (n: number, from: number): string[] => Array.from({ length: n }, (_, i) => `w${(from + i) % 5}`)
      const first = words(20, 0)
      await writeInput(
        ref.bootstrap,
        input,
        first.map((key) => ({ key, value: 'x' })),
      )
      const states: string[] = []
      const log = recorder()
      const app = new KafkaStreams(keyCount(input, output), {
        ...eos(appId),
        brokers: ref.bootstrap,
        commitInterval: 300,
        transactionTimeout: 1_000,
        logger: log,
      })
      app.onStateChange((s) => states.push(s))
      await app.start()
      await reach(app, 'RUNNING')
      await readUntil(ref.bootstrap, output, (r) => r.length >= first.length, 60_000)
      if (how === 'fenced') ref.cluster!.faults.failNext('EndTxn', 1, ErrorCode.PRODUCER_FENCED)
      // Held past the 1 s transaction timeout: the coordinator aborts it and bumps the epoch first.
      else ref.cluster!.faults.delay('EndTxn', 3_000, { count: 1 })
      const second = words(20, 3)
      await writeInput(
        ref.bootstrap,
        input,
        second.map((key) => ({ key, value: 'x' })),
      )
      const truth = counts([...first, ...second])
      const records = await readUntil(ref.bootstrap, output, (r) => r.length >= total(truth), 60_000).catch(
        (err: unknown) => {
          const fields = (l: Line): string =>
            JSON.stringify(l.fields, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
          const tail = log.lines.slice(-30).map((l) => `  ${l.at} ${l.level} ${l.message} ${fields(l)}`)
          throw new Error(
            `${String(err)}\n${app.state} ${String(app.error)} ${JSON.stringify(app.metrics())}\n${tail.join('\n')}`,
            { cause: err },
          )
        },
      )
      expectExact(records, truth)
      expect(app.metrics().fenced).toBe(1)
      expect(app.state).toBe('RUNNING')
      expect(states).not.toContain('ERROR')
      expect(app.store<string, number>('counts').get('w0')).toBe(truth.get('w0'))
      // The new producer works on: more input, counted once.
      const third = words(5, 1)
      await writeInput(
        ref.bootstrap,
        input,
        third.map((key) => ({ key, value: 'x' })),
      )
      const all = counts([...first, ...second, ...third])
      expectExact(await readUntil(ref.bootstrap, output, (r) => r.length >= total(all), 60_000), all)
      await app.close()
    },
    120_000,
  )
})
