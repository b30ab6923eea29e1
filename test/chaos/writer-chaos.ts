// The Writer chaos run (issue 10, item 9), shared by test/producer/writer-chaos.test.ts and
// scripts/chaos-writer.ts: a Writer with the default settings (idempotent, acks=all, maxAttempts,
// deliveryTimeout...; only the balancer is Hash, so a key keeps its partition and per-key order
// can be checked) writes N numbered messages while a seeded schedule of faults (plan.ts) hits the
// cluster; then kcat reads every partition and verify.ts counts lost, duplicated and reordered
// messages and failed writes.

import { Hash, Writer, WriteErrors } from '../../src/index.js'
import { createTopic, uniqueTopic } from '../producer/helpers.js'
import { describeFault, planFaults, type FaultEvent, type ScheduledFault } from './plan.js'
import type { ChaosTarget } from './targets.js'
import { readWithKcat, verify, valueOf, type Figures, type Outcome } from './verify.js'

export interface ChaosOptions {
  seed: number
  messages: number
  partitions?: number
  keys?: number
  /** About one fault per this many messages. */
  faultEvery?: number
  /** Messages per writeMessages call, and how many calls are in flight at once. */
  chunk?: number
  window?: number
  /**
   * At most this many messages per second (default: as fast as the Writer goes). Real Kafka's
   * faults take seconds (a restart, an election), so a paced run spreads them over the writes.
   */
  rate?: number
  /** Writing stops being started after this; what is still pending counts as unresolved. */
  timeLimitMs?: number
  log?: (line: string) => void
}

export interface ChaosResult {
  topic: string
  figures: Figures
  schedule: ScheduledFault[]
  /** Faults (and undo events) applied, and faults not applied because the writes were over. */
  applied: number
  skipped: number
  /** Faults that could not be applied (e.g. a real-Kafka leader move that timed out). */
  faultErrors: string[]
  /** The first error of each kind the Writer reported, by error name, with counts. */
  writeErrors: Map<string, number>
  elapsedMs: number
  epochBumps: number
  retries: number
}

export async function runWriterChaos(target: ChaosTarget, o: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now()
  const partitions = o.partitions ?? 6
  const keys = o.keys ?? 64
  const chunk = o.chunk ?? 500
  const window = o.window ?? 4
  const log = o.log ?? (() => {})
  const deadline = started + (o.timeLimitMs ?? 30 * 60_000)
  const topic = uniqueTopic('chaos-writer')
  // Kafka's durable setup: 3 replicas, two of which must have a write before it is acknowledged.
  await createTopic(target.bootstrap, topic, {
    partitions,
    replicationFactor: 3,
    configs: { 'min.insync.replicas': '2' },
  })
  const schedule = planFaults({
    seed: o.seed,
    messages: o.messages,
    partitions,
    brokerIds: target.brokerIds,
    kinds: target.kinds,
    every: o.faultEvery ?? Math.max(500, Math.floor(o.messages / 40)),
    moveLeaderNeedsAllUp: target.moveLeaderNeedsAllUp,
    undoWithinMs: target.undoWithinMs,
    ...(target.longUndoWithinMs === undefined ? {} : { longUndoWithinMs: target.longUndoWithinMs }),
  })
  log(`chaos writer: ${target.name}, topic ${topic}, seed ${o.seed}, ${o.messages} messages, ${schedule.length} faults`)

  // Faults run one after another on their own chain, so a slow one (a real node restart) delays
  // the faults after it, never the writes.
  const faultErrors: string[] = []
  let faults: Promise<void> = Promise.resolve()
  const fired = new Set<ScheduledFault>()
  // Once every write has been answered, only undo events still run: a fault nobody writes through
  // proves nothing and, on real Kafka, costs a node restart.
  let writesDone = false
  let applied = 0
  let skipped = 0
  const undoTimers = new Set<NodeJS.Timeout>()
  const fire = (f: ScheduledFault, why = '') => {
    if (fired.has(f)) return // an undo that its timer fired already
    fired.add(f)
    faults = faults.then(async () => {
      if (writesDone && !isUndo(f.event)) return void skipped++
      try {
        await target.apply(topic, f.event)
        applied++
        log(`  @${f.at}${why} ${describeFault(f.event)}`)
      } catch (err) {
        const line = `@${f.at} ${describeFault(f.event)}: ${(err as Error).message}`
        faultErrors.push(line)
        log(`  fault failed: ${line}`)
      }
    })
    const undo = f.undo
    if (undo !== undefined && f.undoWithinMs !== undefined) {
      const timer = setTimeout(() => {
        undoTimers.delete(timer)
        fire(undo, ` (after ${f.undoWithinMs} ms)`)
      }, f.undoWithinMs)
      undoTimers.add(timer)
    }
  }

  const outcomes: Outcome[] = new Array<Outcome>(o.messages).fill('unresolved')
  const writeErrors = new Map<string, number>()
  const noteError = (err: unknown) => {
    const name = errorName(err)
    writeErrors.set(name, (writeErrors.get(name) ?? 0) + 1)
  }
  const writer = new Writer({ brokers: target.bootstrap, topic, balancer: new Hash() })
  let epochBumps = 0
  let retries = 0
  try {
    let next = 0 // next message to hand to the Writer
    let nextFault = 0
    const inFlight = new Set<Promise<void>>()
    while (next < o.messages && Date.now() < deadline) {
      const from = next
      const to = Math.min(o.messages, from + chunk)
      while (nextFault < schedule.length && schedule[nextFault]!.at < to) {
        fire(schedule[nextFault++]!)
      }
      if (o.rate !== undefined) {
        const due = started + (from / o.rate) * 1000
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()))
      }
      const batch = Array.from({ length: to - from }, (_, j) => valueOf(from + j, keys))
      const write = writer.writeMessages(batch).then(
        () => void outcomes.fill('acked', from, to),
        (err: unknown) => {
          // WriteErrors says message by message; any other error is the whole call's.
          const each = err instanceof WriteErrors ? err.errors : undefined
          for (let i = from; i < to; i++) {
            const e = each === undefined ? err : each[i - from]
            outcomes[i] = e === undefined ? 'acked' : 'failed'
            if (e !== undefined) noteError(e)
          }
        },
      )
      const tracked: Promise<void> = write.finally(() => inFlight.delete(tracked))
      inFlight.add(tracked)
      next = to
      if (inFlight.size >= window) await bounded(Promise.race(inFlight), deadline + GRACE_MS)
      if (next % (chunk * 40) === 0) log(`  ${next} messages handed to the Writer`)
    }
    // Faults still scheduled (the undo events) fire now, so the run ends on a healed cluster.
    while (nextFault < schedule.length) fire(schedule[nextFault++]!)
    for (const timer of undoTimers) clearTimeout(timer)
    await bounded(Promise.all(inFlight), deadline + GRACE_MS)
    writesDone = true
    await bounded(faults, deadline + GRACE_MS)
  } finally {
    const stats = writer.stats()
    epochBumps = stats.epochBumps
    retries = stats.retries
    await writer.close().catch(noteError)
  }
  await target.heal(topic)
  const records = await readWithKcat(target.bootstrap, topic, 5 * 60_000)
  const figures = verify(records, outcomes, partitions)
  return {
    topic,
    figures,
    schedule,
    applied,
    skipped,
    faultErrors,
    writeErrors,
    elapsedMs: Date.now() - started,
    epochBumps,
    retries,
  }
}

/** How long past the time limit pending writes (deliveryTimeout: 120 s by default) may take. */
const GRACE_MS = 150_000

/** Waits for `p`, but not past `until` (epoch ms): a hung write must not hang the run. */
async function bounded(p: Promise<unknown>, until: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, until - Date.now()))))
  try {
    await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

function isUndo(e: FaultEvent): boolean {
  return e.kind === 'restart' || e.kind === 'restoreIsr' || (e.kind === 'lagMetadata' && !e.on)
}

function errorName(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const e = err as Error & { errorName?: string; cause?: unknown }
  const own = e.errorName ?? e.constructor.name
  return e.cause instanceof Error ? `${own} (${errorName(e.cause)})` : own
}

/** Fault counts by kind, e.g. "crash 3, moveLeader 5, ...". */
export function faultCounts(schedule: readonly ScheduledFault[]): string {
  const counts = new Map<string, number>()
  for (const f of schedule) counts.set(f.event.kind, (counts.get(f.event.kind) ?? 0) + 1)
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ')
}
