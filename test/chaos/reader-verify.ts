// Checks the Reader chaos run from the members' own logs (reader-member.ts writes them): every
// offset processed at least once, duplicates only where a member had uncommitted work when it was
// killed (or a commit failed), and no partition processed by two members at once.

import { readFileSync } from 'node:fs'

/** One processing of offsets from..to of a partition, [start, end] in epoch ms. */
export interface Interval {
  member: string
  partition: number
  from: number
  to: number
  start: number
  /** Undefined while in flight when the member died: then its death time counts. */
  end: number | undefined
}

export interface MemberLog {
  member: string
  intervals: Interval[]
  /** Commits that resolved: partition, next offset, time. */
  commits: { partition: number; next: number; at: number }[]
  /** Commits that failed (the batch from..next-1 may be processed again). */
  failedCommits: { partition: number; from: number; next: number; error: string }[]
  /** Why the member stopped on its own (a fetch error), if it did. */
  fatal: string | undefined
}

/** A member the driver killed (or that died), with the time its death was seen. */
export interface Death {
  member: string
  at: number
  killed: boolean
}

export function parseMemberLog(member: string, file: string): MemberLog {
  const out: MemberLog = { member, intervals: [], commits: [], failedCommits: [], fatal: undefined }
  const open = new Map<string, Interval>()
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return out // never started far enough to write
  }
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    switch (f[0]) {
      case 'S': {
        const i: Interval = {
          member,
          partition: Number(f[1]),
          from: Number(f[2]),
          to: Number(f[3]),
          start: Number(f[4]),
          end: undefined,
        }
        out.intervals.push(i)
        open.set(`${f[1]} ${f[2]}`, i)
        break
      }
      case 'E': {
        const i = open.get(`${f[1]} ${f[2]}`)
        if (i !== undefined) i.end = Number(f[4])
        open.delete(`${f[1]} ${f[2]}`)
        break
      }
      case 'C':
        out.commits.push({ partition: Number(f[1]), next: Number(f[2]), at: Number(f[3]) })
        break
      case 'X': {
        const partition = Number(f[1])
        const next = Number(f[2])
        const last = [...out.intervals].reverse().find((i) => i.partition === partition && i.to === next - 1)
        out.failedCommits.push({ partition, from: last?.from ?? next - 1, next, error: f.slice(4).join(' ') })
        break
      }
      case 'F':
        out.fatal = f.slice(2).join(' ')
        break
    }
  }
  return out
}

/** What a killed member had processed (started) and not committed, per partition: offsets. */
export function uncommittedAtDeath(m: MemberLog): Map<number, number[]> {
  const committed = new Map<number, number>()
  for (const c of m.commits) committed.set(c.partition, Math.max(committed.get(c.partition) ?? -1, c.next))
  const out = new Map<number, number[]>()
  for (const i of m.intervals) {
    const from = Math.max(i.from, committed.get(i.partition) ?? -1)
    for (let o = from; o <= i.to; o++) {
      const list = out.get(i.partition) ?? []
      list.push(o)
      out.set(i.partition, list)
    }
  }
  return out
}

export interface ReaderFigures {
  messages: number
  /** Offsets processed, counting every processing. */
  processed: number
  missing: number
  duplicates: number
  /** Uncommitted work of the killed members at their deaths plus batches whose commit failed. */
  duplicateBound: number
  /** Duplicates outside that bound's offsets: each one is a defect. */
  unexplained: number
  failedCommits: number
  overlaps: number
  overlapExamples: string[]
  /** Times a partition's processing passed to another member, and the smallest gap between the two (ms). */
  handovers: number
  minGapMs: number
  /** Largest uncommitted work of one killed member (messages). */
  maxUncommitted: number
}

/**
 * `ends[p]` is partition p's log end (every offset below it is a message to process).
 */
export function verifyReaderRun(
  logs: readonly MemberLog[],
  deaths: readonly Death[],
  ends: readonly number[],
): ReaderFigures {
  const counts = ends.map((n) => new Uint16Array(n))
  // How many uncommitted sets cover each offset: that many re-processings are explained.
  const explained = ends.map((n) => new Uint16Array(n))
  let processed = 0
  for (const m of logs)
    for (const i of m.intervals) {
      const c = counts[i.partition]!
      for (let o = i.from; o <= i.to && o < c.length; o++) c[o]!++
      processed += i.to - i.from + 1
    }
  const dead = new Map(deaths.map((d) => [d.member, d]))
  let bound = 0
  let maxUncommitted = 0
  let failedCommits = 0
  for (const m of logs) {
    if (dead.has(m.member)) {
      let work = 0
      for (const [p, offsets] of uncommittedAtDeath(m)) {
        for (const o of offsets) if (o < explained[p]!.length) explained[p]![o]!++
        work += offsets.length
      }
      bound += work
      maxUncommitted = Math.max(maxUncommitted, work)
    }
    for (const x of m.failedCommits) {
      failedCommits++
      for (let o = x.from; o < x.next && o < explained[x.partition]!.length; o++) explained[x.partition]![o]!++
      bound += x.next - x.from
    }
  }
  let missing = 0
  let duplicates = 0
  let unexplained = 0
  counts.forEach((c, p) => {
    for (let o = 0; o < c.length; o++) {
      const n = c[o]!
      if (n === 0) missing++
      if (n > 1) {
        duplicates += n - 1
        unexplained += Math.max(0, n - 1 - explained[p]![o]!)
      }
    }
  })
  const { overlaps, examples, handovers, minGapMs } = findOverlaps(logs, dead)
  return {
    messages: ends.reduce((a, b) => a + b, 0),
    processed,
    missing,
    duplicates,
    duplicateBound: bound,
    unexplained,
    failedCommits,
    overlaps,
    overlapExamples: examples,
    handovers,
    minGapMs,
    maxUncommitted,
  }
}

/**
 * Pairs of processing intervals of one partition by two members that intersect. An interval left
 * open by a member that died ends at its death as the driver saw it (a little late, never early).
 */
export function findOverlaps(
  logs: readonly MemberLog[],
  dead: ReadonlyMap<string, Death>,
): { overlaps: number; examples: string[]; handovers: number; minGapMs: number } {
  const byPartition = new Map<number, (Interval & { until: number })[]>()
  for (const m of logs)
    for (const i of m.intervals) {
      const until = i.end ?? dead.get(m.member)?.at ?? Number.POSITIVE_INFINITY
      const list = byPartition.get(i.partition) ?? []
      list.push({ ...i, until })
      byPartition.set(i.partition, list)
    }
  let overlaps = 0
  let handovers = 0 // a partition's next processing by another member than the one before
  let minGapMs = Number.POSITIVE_INFINITY // the closest such hand-over: how much margin there was
  const examples: string[] = []
  const fmt = (i: Interval & { until: number }) =>
    `${i.member} ${i.from}..${i.to} [${i.start.toFixed(1)}, ${i.until.toFixed(1)}]`
  for (const [p, list] of byPartition) {
    list.sort((a, b) => a.start - b.start)
    // Per member, its interval with the latest end seen so far.
    const latest = new Map<string, Interval & { until: number }>()
    let previous: (Interval & { until: number }) | undefined
    for (const i of list) {
      if (previous !== undefined && previous.member !== i.member) {
        handovers++
        minGapMs = Math.min(minGapMs, i.start - previous.until)
      }
      previous = i
      for (const [member, other] of latest) {
        if (member === i.member || other.until <= i.start) continue
        overlaps++
        if (examples.length < 10) examples.push(`p${p}: ${fmt(other)} and ${fmt(i)}`)
      }
      const mine = latest.get(i.member)
      if (mine === undefined || mine.until < i.until) latest.set(i.member, i)
    }
  }
  return { overlaps, examples, handovers, minGapMs }
}

export function formatReaderFigures(f: ReaderFigures): string {
  return [
    `messages ${f.messages}, processed ${f.processed}, missing ${f.missing}`,
    `duplicates ${f.duplicates} (bound: uncommitted work at the kills and failed commits ${f.duplicateBound}; ` +
      `largest at one kill ${f.maxUncommitted}; outside the bound ${f.unexplained})`,
    `failed commits ${f.failedCommits}, overlapping processing intervals ${f.overlaps} ` +
      `(${f.handovers} hand-overs of a partition between members, closest ${f.minGapMs.toFixed(1)} ms apart)`,
    ...f.overlapExamples.map((e) => `  overlap ${e}`),
  ].join('\n')
}

/** The run's verdict: nothing missing, no duplicate beyond the bound, no overlap. */
export function readerClean(f: ReaderFigures): boolean {
  return f.missing === 0 && f.unexplained === 0 && f.duplicates <= f.duplicateBound && f.overlaps === 0
}
