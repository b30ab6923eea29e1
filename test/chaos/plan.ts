// The chaos schedule: which fault, at which message count, on which broker or partition, drawn
// from a seeded PRNG so a seed names one schedule exactly (the interleaving with the Writer's
// requests still depends on timing). The plan also tracks which broker is down, so it never
// crashes a second broker, never moves a leader to a stopped one, and always restarts what it
// crashed before the run ends.

import { ErrorCode } from '../../src/protocol/error-codes.js'

/** mulberry32: a tiny 32-bit PRNG, good enough to spread faults and fully determined by the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Retriable codes a partition can fail with; the Writer must retry each without duplicating. */
export const RETRIABLE_PARTITION_CODES = [
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.REQUEST_TIMED_OUT,
] as const

export type FaultEvent =
  | { kind: 'crash'; broker: number }
  | { kind: 'restart'; broker: number }
  | { kind: 'moveLeader'; partition: number; broker: number }
  | { kind: 'dropConnections'; broker: number }
  | { kind: 'dropResponse'; broker: number; count: number }
  | { kind: 'failPartition'; partition: number; code: number; count: number }
  | { kind: 'lagMetadata'; broker: number; on: boolean }
  | { kind: 'shrinkIsr'; partition: number }
  | { kind: 'restoreIsr'; partition: number }

/**
 * A fault and the message count at which it fires (once that many messages were handed to the
 * Writer). A fault that is undone later (crash, lagMetadata, shrinkIsr) names its undo event,
 * which fires at its own message count or `undoWithinMs` after the fault, whichever comes first:
 * a fault that stalls the Writer (the ISR below min.insync.replicas) must not wait for messages
 * that cannot be written while it lasts.
 */
export interface ScheduledFault {
  at: number
  event: FaultEvent
  undo?: ScheduledFault
  undoWithinMs?: number
}

export type FaultKind = FaultEvent['kind']

/** What the reference cluster can inject; real Kafka only crashes nodes and moves leaders. */
export const REFERENCE_KINDS: readonly FaultKind[] = [
  'crash',
  'moveLeader',
  'dropConnections',
  'dropResponse',
  'failPartition',
  'lagMetadata',
  'shrinkIsr',
]
export const REAL_KAFKA_KINDS: readonly FaultKind[] = ['crash', 'moveLeader']

export interface PlanOptions {
  seed: number
  messages: number
  partitions: number
  brokerIds: readonly number[]
  /** Fault kinds to draw from (the undo events, restart/restoreIsr/lagMetadata off, come with them). */
  kinds: readonly FaultKind[]
  /** About one fault per this many messages. */
  every: number
  /** Real Kafka cannot move a leader while a replica is down (the reassignment waits for it). */
  moveLeaderNeedsAllUp?: boolean
  /** An undo event fires at most this long after its fault: drawn from [min, max] ms. */
  undoWithinMs?: readonly [number, number]
  /**
   * One undone fault in four lasts this long instead: an outage longer than a few retries but
   * far below the Writer's deliveryTimeout (120 s), like a leader election after a kill -9.
   */
  longUndoWithinMs?: readonly [number, number]
}

/**
 * Draws the schedule. Faults start after the first 2% of messages and every undo event fires
 * before the last 10%, so the run ends on a healed cluster and the last writes meet no fault.
 */
export function planFaults(o: PlanOptions): ScheduledFault[] {
  const rand = prng(o.seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const end = Math.floor(o.messages * 0.9)
  const schedule: ScheduledFault[] = []
  let down: number | undefined
  let restartAt = -1
  const pending: ScheduledFault[] = [] // undo events not yet reached
  const undone = (fault: ScheduledFault, undo: ScheduledFault) => {
    const long = o.longUndoWithinMs !== undefined && rand() < 0.25
    const [minMs, maxMs] = (long ? o.longUndoWithinMs : o.undoWithinMs) ?? [1000, 5000]
    fault.undo = undo
    fault.undoWithinMs = minMs + Math.floor(rand() * (maxMs - minMs))
    schedule.push(fault)
    pending.push(undo)
  }

  for (let at = Math.floor(o.messages * 0.02); at < end; at += 1 + Math.floor(rand() * 2 * o.every)) {
    // Undo events due by now go first, so the state the next draw sees is the state at `at`.
    pending.sort((a, b) => a.at - b.at)
    while (pending.length > 0 && pending[0]!.at <= at) schedule.push(pending.shift()!)
    if (down !== undefined && restartAt <= at) down = undefined
    const live = o.brokerIds.filter((b) => b !== down)
    const span = () => Math.max(1, Math.floor(o.every * (0.5 + rand())))
    const undoAt = (): number => Math.min(end, at + span())
    const kind = pick(o.kinds)
    switch (kind) {
      case 'crash': {
        if (down !== undefined) continue // one broker down at a time: RF 3, min.insync.replicas 2
        down = pick(o.brokerIds)
        restartAt = undoAt()
        undone(
          { at, event: { kind: 'crash', broker: down } },
          { at: restartAt, event: { kind: 'restart', broker: down } },
        )
        break
      }
      case 'moveLeader':
        if (o.moveLeaderNeedsAllUp && down !== undefined) continue
        schedule.push({
          at,
          event: { kind: 'moveLeader', partition: Math.floor(rand() * o.partitions), broker: pick(live) },
        })
        break
      case 'dropConnections':
        schedule.push({ at, event: { kind: 'dropConnections', broker: pick(live) } })
        break
      case 'dropResponse':
        schedule.push({ at, event: { kind: 'dropResponse', broker: pick(live), count: 1 + Math.floor(rand() * 3) } })
        break
      case 'failPartition':
        schedule.push({
          at,
          event: {
            kind: 'failPartition',
            partition: Math.floor(rand() * o.partitions),
            code: pick(RETRIABLE_PARTITION_CODES),
            count: 1 + Math.floor(rand() * 3),
          },
        })
        break
      case 'lagMetadata': {
        const broker = pick(live)
        undone(
          { at, event: { kind: 'lagMetadata', broker, on: true } },
          { at: undoAt(), event: { kind: 'lagMetadata', broker, on: false } },
        )
        break
      }
      case 'shrinkIsr': {
        const partition = Math.floor(rand() * o.partitions)
        // Briefly: below min.insync.replicas nothing of the partition can be written meanwhile.
        undone(
          { at, event: { kind: 'shrinkIsr', partition } },
          { at: undoAt(), event: { kind: 'restoreIsr', partition } },
        )
        break
      }
      case 'restart':
      case 'restoreIsr':
        break // only as undo events
    }
  }
  pending.sort((a, b) => a.at - b.at)
  schedule.push(...pending)
  return schedule
}

/** "crash broker 1", "failPartition p3 NOT_ENOUGH_REPLICAS x2": for logs and reports. */
export function describeFault(e: FaultEvent): string {
  const codeName = (code: number) => Object.entries(ErrorCode).find(([, v]) => v === code)?.[0] ?? String(code)
  switch (e.kind) {
    case 'crash':
    case 'restart':
    case 'dropConnections':
      return `${e.kind} broker ${e.broker}`
    case 'dropResponse':
      return `dropResponse broker ${e.broker} x${e.count}`
    case 'moveLeader':
      return `moveLeader p${e.partition} -> ${e.broker}`
    case 'failPartition':
      return `failPartition p${e.partition} ${codeName(e.code)} x${e.count}`
    case 'lagMetadata':
      return `lagMetadata broker ${e.broker} ${e.on ? 'on' : 'off'}`
    case 'shrinkIsr':
    case 'restoreIsr':
      return `${e.kind} p${e.partition}`
  }
}
