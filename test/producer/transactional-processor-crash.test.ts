// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// The crash test of issue 12 (item 7): a consume-transform-produce process (eos-crash-child.ts, a
// TransactionalProcessor) is killed with SIGKILL several times at random moments while input
// flows, and restarted each time with the same transactionalId; an independent read_committed
// consumer (kcat, librdkafka) of the output then finds every input record transformed exactly
// once: no loss, no duplicate. Every second kill comes right after a batch's outputs were written,
// inside its open transaction, so the log holds aborted outputs too (checked). The kill moments come from a seed printed with any failure.

import type { ChildProcess } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Writer } from '../../src/index.js'
import { committedOffsets, createTopic, startTarget, targetName, unique, waitFor } from '../consumer/helpers.js'
import { useTarget } from '../helpers/use-target.js'
import { forkJsonChild } from '../helpers/json-child.js'
import { readAll } from './helpers.js'
import type { CrashChildArgs } from './eos-crash-child.js'

const CHILD = fileURLToPath(new URL('./eos-crash-child.ts', import.meta.url))
const KILLS = 4
const PARTITIONS = 3

const target = useTarget(startTarget)

/** A small deterministic generator (mulberry32) for the kill moments. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One run of the child: its progress (records committed since it started) and its end. */
interface Run {
  child: ChildProcess
  records: number
  /** Batches whose outputs were written (their transaction then open). */
  sent: number
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly stderr: string
}

function startChild(args: CrashChildArgs): Run {
  let records = 0
  let sent = 0
  const { child, stderr, exited } = forkJsonChild(CHILD, args, (event) => {
    if (typeof event.records === 'number') records = event.records
    if (event.sent !== undefined) sent++
  })
  return {
    child,
    exited,
    get records() {
      return records
    },
    get sent() {
      return sent
    },
    get stderr() {
      return stderr()
    },
  }
}

describe.sequential(`TransactionalProcessor crash test on ${targetName}`, () => {
  it(`killed with SIGKILL ${KILLS} times while input flows: every input record is in the output exactly once`, async () => {
    const seed = Number(process.env.KAFKATS_EOS_SEED ?? randomInt(1, 2 ** 31))
    const rand = random(seed)
    const input = unique('eos-crash-in')
    const output = unique('eos-crash-out')
    const replicas = Math.min(3, target.brokerIds.length)
    await createTopic(target.bootstrap, input, PARTITIONS, replicas)
    await createTopic(target.bootstrap, output, PARTITIONS, replicas)
    const args: CrashChildArgs = {
      bootstrap: target.bootstrap,
      input,
      output,
      groupId: unique('eos-crash'),
      transactionalId: unique('eos-crash'),
      workMs: 30,
    }

    // The input flows during the whole run: 20 records every 50 ms until the kills are done.
    const feeder = new Writer({ brokers: target.bootstrap, topic: input, batchSize: 20 })
    let fed = 0
    let feeding = true
    const feed = (async () => {
      while (feeding || fed < 600) {
        await feeder.writeMessages(Array.from({ length: 20 }, (_, i) => ({ value: `in${fed + i}` })))
        fed += 20
        await new Promise((r) => setTimeout(r, 50))
      }
    })()

    let run = startChild(args)
    const kills: string[] = []
    try {
      for (let k = 0; k < KILLS; k++) {
        // Killed at a random moment once it has committed something since its start (so every
        // restart proves progress), anywhere from at once to 1.5 s later.
        await waitFor(() => run.records > 0 || run.child.exitCode !== null, 90_000, `run ${k} to commit`)
        expect(run.child.exitCode, `run ${k} exited by itself:\n${run.stderr}`).toBeNull()
        const delay = Math.floor(rand() * 1500)
        await new Promise((r) => setTimeout(r, delay))
        // Every second kill waits for the next batch's outputs to be written: a kill inside an
        // open transaction for sure (the others land wherever the random moment falls).
        const sent = run.sent
        if (k % 2 === 1)
          await waitFor(() => run.sent > sent || run.child.exitCode !== null, 30_000, `run ${k} to write`)
        expect(run.child.exitCode, `run ${k} exited by itself:\n${run.stderr}`).toBeNull()
        run.child.kill('SIGKILL')
        const end = await run.exited
        expect(end.signal).toBe('SIGKILL')
        kills.push(`kill ${k + 1} after ${run.records} records and ${delay} ms${k % 2 === 1 ? ' + a write' : ''}`)
        run = startChild(args)
      }
      feeding = false
      await feed
      // The last run catches up: the group's offsets reach the log end of every input partition.
      const ends = new Map<number, bigint>()
      for (const r of await readAll(target.bootstrap, input, fed))
        ends.set(r.partition, BigInt(Math.max(Number(ends.get(r.partition) ?? 0n), r.offset + 1)))
      expect([...ends.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(fed))
      await waitFor(
        async () => {
          const committed = await committedOffsets(target.bootstrap, args.groupId, input, PARTITIONS)
          return [...ends].every(([p, end]) => committed.get(p) === end)
        },
        120_000,
        'the group to commit the whole input',
      )
      expect(run.child.exitCode, run.stderr).toBeNull()
    } finally {
      feeding = false
      await feed.catch(() => undefined)
      await feeder.close()
      if (run.child.exitCode === null) run.child.kill('SIGTERM')
      await run.exited
    }

    const records = await readAll(target.bootstrap, output, fed, ['-X', 'isolation.level=read_committed'])
    const counts = new Map<string, number>()
    for (const r of records) counts.set(r.value ?? '', (counts.get(r.value ?? '') ?? 0) + 1)
    const expected = Array.from({ length: fed }, (_, i) => `out-in${i}`)
    const missing = expected.filter((v) => !counts.has(v))
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([v]) => v)
    const unexpected = [...counts.keys()].filter((v) => !/^out-in\d+$/.test(v) || Number(v.slice(6)) >= fed)
    const uncommitted = await readAll(target.bootstrap, output, fed, ['-X', 'isolation.level=read_uncommitted'])
    const report = `seed ${seed}; ${kills.join('; ')}; ${fed} inputs, ${records.length} committed outputs, ${uncommitted.length} in the log`
    console.log(`eos crash test: ${report}`)
    expect({ missing, duplicated, unexpected }, report).toEqual({ missing: [], duplicated: [], unexpected: [] })
    expect(records.length, report).toBe(fed)
    // Kills landed in open transactions: their outputs are in the log, aborted, never read.
    expect(uncommitted.length, report).toBeGreaterThan(fed)
    expect(kills).toHaveLength(KILLS)
  }, 300_000)
})
