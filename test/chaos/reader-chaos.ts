// The Reader chaos run (issue 11, item 8), used by scripts/chaos-reader.ts: N messages are written
// to a 6-partition topic, then 3 group members (reader-member.ts, child processes) process them
// with manual commits after processing, while a seeded schedule kill -9s members (each replaced at
// once by a new one) and crashes broker nodes (target.apply: the reference cluster's stopBroker,
// or scripts/kafka.sh kill-node). It ends once the group's committed offsets equal the log ends;
// then reader-verify.ts checks the members' logs.

import { fork, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Reader, silentLogger, Writer } from '../../src/index.js'
import { committedOffsets } from '../consumer/helpers.js'
import { createTopic, uniqueTopic } from '../producer/helpers.js'
import { prng } from './plan.js'
import type { MemberArgs } from './reader-member.js'
import { parseMemberLog, uncommittedAtDeath, verifyReaderRun, type Death, type ReaderFigures } from './reader-verify.js'
import type { ChaosTarget } from './targets.js'

export interface ReaderChaosOptions {
  seed: number
  messages: number
  partitions?: number
  members?: number
  /** Members killed with SIGKILL (each replaced), and broker nodes crashed (one at a time). */
  kills?: number
  nodeCrashes?: number
  /** "Processing" time per message in ms, so the run lasts long enough for the kills to land mid-work. */
  workMs?: number
  timeLimitMs?: number
  log?: (line: string) => void
}

export interface ReaderChaosResult {
  topic: string
  figures: ReaderFigures
  kills: number
  nodeCrashes: number
  /** Members that stopped on their own (a fetch error) or a fault that failed to apply. */
  problems: string[]
  committedAtEnd: boolean
  elapsedMs: number
  logDir: string
}

interface Member {
  name: string
  child: ChildProcess
  logFile: string
  exited: Promise<void>
  killed: boolean
  /** Told to stop at the end of the run (SIGTERM). */
  stopping: boolean
}

const now = () => performance.timeOrigin + performance.now()

export async function runReaderChaos(target: ChaosTarget, o: ReaderChaosOptions): Promise<ReaderChaosResult> {
  const started = Date.now()
  const partitions = o.partitions ?? 6
  const size = o.members ?? 3
  const killsWanted = o.kills ?? 12
  const crashesWanted = o.nodeCrashes ?? 3
  const log = o.log ?? (() => {})
  const deadline = started + (o.timeLimitMs ?? 15 * 60_000)
  const topic = uniqueTopic('chaos-reader')
  const groupId = `${topic}-group`
  const logDir = mkdtempSync(join(tmpdir(), 'kafkats-reader-chaos-'))
  await createTopic(target.bootstrap, topic, {
    partitions,
    replicationFactor: 3,
    configs: { 'min.insync.replicas': '2' },
  })
  const ends = await writeAll(target.bootstrap, topic, o.messages, partitions)
  log(`chaos reader: ${target.name}, topic ${topic}, seed ${o.seed}, ${o.messages} messages, logs in ${logDir}`)

  // The schedule: at which processed count each kill and node crash fires (first 5% and last 15% quiet).
  const rand = prng(o.seed)
  const point = () => Math.floor(o.messages * (0.05 + 0.8 * rand()))
  const killAt = Array.from({ length: killsWanted }, point).sort((a, b) => a - b)
  const crashes = Array.from({ length: crashesWanted }, () => ({
    at: point(),
    broker: target.brokerIds[Math.floor(rand() * target.brokerIds.length)]!,
    downMs: target.undoWithinMs[0] + Math.floor(rand() * (target.undoWithinMs[1] - target.undoWithinMs[0])),
  })).sort((a, b) => a.at - b.at)

  const members: Member[] = []
  const deaths: Death[] = []
  const problems: string[] = []
  let processed = 0
  let nextName = 0
  const entry = fileURLToPath(new URL('./reader-member.ts', import.meta.url))
  const start = (): Member => {
    const name = `m${++nextName}`
    const logFile = join(logDir, `${name}.log`)
    const args: MemberArgs = { bootstrap: target.bootstrap, topic, groupId, name, logFile, workMs: o.workMs ?? 0.5 }
    const child = fork(entry, [JSON.stringify(args)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const m: Member = { name, child, logFile, killed: false, stopping: false, exited: Promise.resolve() }
    child.on('message', (msg: { processed?: number }) => (processed += msg.processed ?? 0))
    m.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        const at = now()
        if (m.killed) deaths.push({ member: name, at, killed: true })
        // A member started just before the end may get SIGTERM before it installed its handler.
        else if (m.stopping && signal === 'SIGTERM') deaths.push({ member: name, at, killed: true })
        else if (code !== 0) {
          deaths.push({ member: name, at, killed: false })
          problems.push(`${name} exited on its own (${code ?? signal}): ${parseMemberLog(name, logFile).fatal ?? ''}`)
        }
        resolve()
      }),
    )
    members.push(m)
    return m
  }
  const live = () => members.filter((m) => m.child.exitCode === null && m.child.signalCode === null && !m.killed)
  for (let i = 0; i < size; i++) start()

  let kills = 0
  let nodeCrashes = 0
  let down: Promise<void> | undefined // the restart of the node that is down
  let committedAtEnd = false
  try {
    for (;;) {
      if (Date.now() > deadline) {
        problems.push(`time limit: ${processed} processed, ${kills} kills, ${nodeCrashes} node crashes`)
        break
      }
      // A member that died on its own is replaced too, so the group stays `size` strong.
      while (live().length < size) start()
      if (killAt.length > 0 && processed >= killAt[0]!) {
        killAt.shift()
        const pool = live()
        const victim = pool[Math.floor(rand() * pool.length)]!
        victim.killed = true
        victim.child.kill('SIGKILL')
        await victim.exited
        kills++
        const work = [...uncommittedAtDeath(parseMemberLog(victim.name, victim.logFile))]
          .map(([p, offs]) => `p${p}: ${offs.length} (${offs[0]}..${offs[offs.length - 1]})`)
          .join(', ')
        log(`  @${processed} kill -9 ${victim.name}; uncommitted: ${work || 'none'}`)
        start()
      }
      if (down === undefined && crashes.length > 0 && processed >= crashes[0]!.at) {
        const c = crashes.shift()!
        try {
          await target.apply(topic, { kind: 'crash', broker: c.broker })
          nodeCrashes++
          log(`  @${processed} crash node ${c.broker} for ${c.downMs} ms`)
          down = new Promise<void>((r) => setTimeout(r, c.downMs))
            .then(() => target.apply(topic, { kind: 'restart', broker: c.broker }))
            .then(
              () => log(`  restart node ${c.broker}`),
              (err: unknown) => void problems.push(`restart node ${c.broker}: ${(err as Error).message}`),
            )
            .finally(() => (down = undefined))
        } catch (err) {
          problems.push(`crash node ${c.broker}: ${(err as Error).message}`)
        }
      }
      // Not gated on `processed` reaching the total: a member killed after its commit landed but
      // before it reported the batch leaves that batch uncounted and never read again, so the
      // count can stay short for good (seen: 5666 of 6000, every partition committed to its end).
      if (killAt.length === 0 && crashes.length === 0 && down === undefined) {
        // Bounded: one OffsetFetch that never answers (seen once on real Kafka after a node restart)
        // must not hang the run; the next round asks again.
        const committed = await withTimeout(
          committedOffsets(target.bootstrap, groupId, topic, partitions),
          10_000,
        ).catch((err: unknown) => void log(`  committed offsets not read: ${(err as Error).message}`))
        if (committed !== undefined && ends.every((end, p) => (committed.get(p) ?? 0n) === BigInt(end))) {
          committedAtEnd = true
          break
        }
      }
      await new Promise((r) => setTimeout(r, 200))
    }
  } finally {
    await down
    for (const m of live()) {
      m.stopping = true
      m.child.kill('SIGTERM')
    }
    await Promise.all(members.map((m) => m.exited))
  }
  const logs = members.map((m) => parseMemberLog(m.name, m.logFile))
  const figures = verifyReaderRun(logs, deaths, ends)
  return { topic, figures, kills, nodeCrashes, problems, committedAtEnd, elapsedMs: Date.now() - started, logDir }
}

/** Writes `count` messages (idempotent Writer, default settings); returns each partition's log end. */
async function writeAll(bootstrap: string[], topic: string, count: number, partitions: number): Promise<number[]> {
  const writer = new Writer({ brokers: bootstrap, topic, logger: silentLogger })
  try {
    for (let i = 0; i < count; i += 1000) {
      const n = Math.min(1000, count - i)
      await writer.writeMessages(Array.from({ length: n }, (_, j) => ({ value: `message ${i + j}` })))
    }
  } finally {
    await writer.close()
  }
  const reader = new Reader({ brokers: bootstrap, topic, partition: 0, logger: silentLogger })
  try {
    const list = Array.from({ length: partitions }, (_, p) => p)
    const ends = await reader.endOffsets(list)
    const total = ends.reduce((a, e) => a + Number(e.offset), 0)
    if (total !== count) throw new Error(`wrote ${count} messages but the log ends add up to ${total}`)
    return ends.map((e) => Number(e.offset))
  } finally {
    await reader.close()
  }
}

/** `p`, or a rejection after `ms`. */
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}
