// The chaos verifier: reads every partition with kcat (librdkafka, an independent reader) and
// compares the log with what the Writer reported for each message.
//
// Message i has key `k<i mod K>` and value `<i>:<key>:<n>`, n being its place among its key's
// messages, so the log alone shows which message a record is, and per-key order.

import { runKcat } from '../helpers/kcat.js'

export type Outcome = 'acked' | 'failed' | 'unresolved'

export interface LogRecord {
  partition: number
  offset: number
  value: string
}

export interface PartitionFigures {
  partition: number
  records: number
  duplicated: number
  reordered: number
}

export interface Figures {
  messages: number
  acked: number
  failed: number
  /** Neither acknowledged nor failed when the run's time ran out. */
  unresolved: number
  /** Acknowledged but not in the log. */
  lost: number
  /** Extra copies: records beyond the first of the same message. */
  duplicated: number
  /** First copies whose per-key number is below one already seen for the key (or whose key is in two partitions). */
  reordered: number
  /** Reported failed, yet in the log (the caller was told a lie; not counted as lost or duplicated). */
  failedButWritten: number
  /** Records that are not one of our messages. */
  foreign: number
  partitions: PartitionFigures[]
}

export function valueOf(i: number, keys: number): { key: string; value: string } {
  const key = `k${i % keys}`
  return { key, value: `${i}:${key}:${Math.floor(i / keys)}` }
}

/** Counts lost, duplicated and reordered messages; `outcomes[i]` is what the Writer said of message i. */
export function verify(records: readonly LogRecord[], outcomes: readonly Outcome[], partitions: number): Figures {
  const copies = new Uint32Array(outcomes.length)
  const perPartition = Array.from({ length: partitions }, (_, partition) => ({
    partition,
    records: 0,
    duplicated: 0,
    reordered: 0,
  }))
  const lastOfKey = new Map<string, { partition: number; n: number }>()
  let foreign = 0
  const sorted = [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  for (const r of sorted) {
    const figures = perPartition[r.partition]
    const m = /^(\d+):(k\d+):(\d+)$/.exec(r.value)
    const i = m === null ? NaN : Number(m[1])
    if (figures === undefined || m === null || !(i < outcomes.length)) {
      foreign++
      continue
    }
    figures.records++
    if (copies[i]!++ > 0) {
      figures.duplicated++
      continue
    }
    const key = m[2]!
    const n = Number(m[3])
    const last = lastOfKey.get(key)
    if (last !== undefined && (last.partition !== r.partition || n < last.n)) figures.reordered++
    if (last === undefined || n > last.n) lastOfKey.set(key, { partition: r.partition, n })
  }
  let lost = 0
  let failedButWritten = 0
  const count = (o: Outcome) => outcomes.filter((x) => x === o).length
  outcomes.forEach((o, i) => {
    if (o === 'acked' && copies[i] === 0) lost++
    if (o === 'failed' && copies[i]! > 0) failedButWritten++
  })
  return {
    messages: outcomes.length,
    acked: count('acked'),
    failed: count('failed'),
    unresolved: count('unresolved'),
    lost,
    duplicated: perPartition.reduce((s, p) => s + p.duplicated, 0),
    reordered: perPartition.reduce((s, p) => s + p.reordered, 0),
    failedButWritten,
    foreign,
    partitions: perPartition,
  }
}

/** True when the run met the promise: every message acknowledged, in the log exactly once, in key order. */
export function clean(f: Figures): boolean {
  return f.acked === f.messages && f.lost === 0 && f.duplicated === 0 && f.reordered === 0 && f.foreign === 0
}

/**
 * Reads the whole topic with kcat, from the beginning to the end of every partition. Retries a
 * few times when a broker does not know the topic yet; fails when kcat fails or times out.
 */
export async function readWithKcat(bootstrap: string[], topic: string, timeoutMs: number): Promise<LogRecord[]> {
  for (let attempt = 0; ; attempt++) {
    const args = ['-C', '-b', bootstrap.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-u']
    const result = await runKcat([...args, '-X', 'fetch.wait.max.ms=100', '-f', '%p %o %s\\n'], { timeoutMs })
    if (result.timedOut) throw new Error(`kcat did not finish reading ${topic} within ${timeoutMs} ms`)
    if (result.code !== 0) {
      if (/Unknown topic or partition/.test(result.stderr) && attempt < 10) {
        await new Promise((r) => setTimeout(r, 300))
        continue
      }
      throw new Error(`kcat failed (${result.code}): ${result.stderr}`)
    }
    const records: LogRecord[] = []
    for (const line of result.stdout.split('\n')) {
      if (line === '') continue
      const [p, o, ...rest] = line.split(' ')
      records.push({ partition: Number(p), offset: Number(o), value: rest.join(' ') })
    }
    return records
  }
}

/** One summary line, then a table per partition. */
export function formatFigures(f: Figures, context: string): string {
  const summary =
    `chaos writer: ${context}: messages=${f.messages} acked=${f.acked} failed=${f.failed} unresolved=${f.unresolved} ` +
    `lost=${f.lost} duplicated=${f.duplicated} reordered=${f.reordered} failed-but-written=${f.failedButWritten} ` +
    `foreign=${f.foreign} => ${clean(f) ? 'CLEAN' : 'NOT CLEAN'}`
  const header = ['partition', 'records', 'duplicated', 'reordered']
  const rows = f.partitions.map((p) => [p.partition, p.records, p.duplicated, p.reordered].map(String))
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padStart(widths[i]!)).join(' | ') + ' |'
  return [summary, line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join(
    '\n',
  )
}
