// One frame of `kafkats top`: what two samples of the cluster say, as text. Pure (no I/O), so
// the arithmetic is tested without a cluster:
//   - throughput per topic: the growth of the sum of its partitions' log end offsets (high
//     watermarks) between two samples, per second (transaction markers take offsets too);
//   - consumer-group lag per partition: log end minus committed offset;
//   - under-replicated partitions: fewer in-sync replicas than replicas (from Metadata), and
//     offline ones (no leader).

export interface PartitionSample {
  partition: number
  leader: number
  replicas: number[]
  isr: number[]
  /** Log end offset (high watermark). */
  endOffset: bigint
}

export interface GroupPartitionLag {
  topic: string
  partition: number
  committedOffset: bigint | null
  endOffset: bigint
  lag: bigint | null
}

export interface GroupSample {
  groupId: string
  state: string
  partitions: GroupPartitionLag[]
  /** Set when the group could not be read (it is shown, not fatal). */
  error?: string
}

export interface Sample {
  /** Milliseconds (Date.now()) when the sample was taken. */
  at: number
  brokers: number
  controller: number
  topics: Map<string, PartitionSample[]>
  groups: GroupSample[]
}

export interface TopicRate {
  topic: string
  partitions: number
  endOffset: bigint
  /** Messages per second since the previous sample; null for the first sample. */
  perSecond: number | null
}

export interface UnderReplicated {
  topic: string
  partition: number
  leader: number
  replicas: number[]
  isr: number[]
  offline: boolean
}

export interface Frame {
  at: number
  intervalMs: number | null
  brokers: number
  controller: number
  topics: TopicRate[]
  groups: GroupSample[]
  underReplicated: UnderReplicated[]
}

function sumEnd(partitions: readonly PartitionSample[]): bigint {
  return partitions.reduce((n, p) => n + p.endOffset, 0n)
}

/** The frame for `current`, with rates against `previous` when given. */
export function buildFrame(current: Sample, previous?: Sample): Frame {
  const intervalMs = previous === undefined ? null : current.at - previous.at
  const topics: TopicRate[] = []
  for (const [topic, partitions] of [...current.topics].sort(([a], [b]) => a.localeCompare(b))) {
    const end = sumEnd(partitions)
    const before = previous?.topics.get(topic)
    let perSecond: number | null = null
    if (before !== undefined && intervalMs !== null && intervalMs > 0) {
      // A topic deleted and created again between samples can shrink: no negative rates.
      const grown = end - sumEnd(before)
      perSecond = grown < 0n ? 0 : (Number(grown) * 1000) / intervalMs
    }
    topics.push({ topic, partitions: partitions.length, endOffset: end, perSecond })
  }
  const underReplicated: UnderReplicated[] = []
  for (const t of topics) {
    for (const p of current.topics.get(t.topic) ?? []) {
      const offline = p.leader < 0
      if (offline || p.isr.length < p.replicas.length)
        underReplicated.push({
          topic: t.topic,
          partition: p.partition,
          leader: p.leader,
          replicas: p.replicas,
          isr: p.isr,
          offline,
        })
    }
  }
  return {
    at: current.at,
    intervalMs,
    brokers: current.brokers,
    controller: current.controller,
    topics,
    groups: current.groups,
    underReplicated,
  }
}

/** Aligned columns (two spaces apart), header first. */
function columns(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  return all.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  )
}

function rate(perSecond: number | null): string {
  return perSecond === null ? '-' : perSecond.toFixed(1)
}

/** The frame as lines of text (no ANSI codes: the caller positions them). */
export function renderFrame(frame: Frame): string[] {
  const lines: string[] = []
  const interval = frame.intervalMs === null ? '-' : `${(frame.intervalMs / 1000).toFixed(1)}s`
  lines.push(
    `kafkats top  ${new Date(frame.at).toISOString()}  interval ${interval}  brokers ${frame.brokers}  controller ${frame.controller}`,
  )
  lines.push('')
  lines.push(
    ...columns(
      ['TOPIC', 'PARTITIONS', 'END-OFFSET', 'MSG/S'],
      frame.topics.map((t) => [t.topic, String(t.partitions), String(t.endOffset), rate(t.perSecond)]),
    ),
  )
  lines.push('')
  const groupRows: string[][] = []
  for (const g of frame.groups) {
    if (g.error !== undefined) {
      groupRows.push([g.groupId, g.state || '-', '-', '-', '-', '-', `error: ${g.error}`])
      continue
    }
    if (g.partitions.length === 0) groupRows.push([g.groupId, g.state, '-', '-', '-', '-', '-'])
    for (const p of g.partitions)
      groupRows.push([
        g.groupId,
        g.state,
        p.topic,
        String(p.partition),
        p.committedOffset === null ? '-' : String(p.committedOffset),
        String(p.endOffset),
        p.lag === null ? '-' : String(p.lag),
      ])
  }
  lines.push(...columns(['GROUP', 'STATE', 'TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG'], groupRows))
  lines.push('')
  lines.push(`UNDER-REPLICATED PARTITIONS: ${frame.underReplicated.length}`)
  if (frame.underReplicated.length > 0)
    lines.push(
      ...columns(
        ['TOPIC', 'PARTITION', 'LEADER', 'REPLICAS', 'ISR'],
        frame.underReplicated.map((u) => [
          u.topic,
          String(u.partition),
          u.offline ? 'none' : String(u.leader),
          u.replicas.join(','),
          u.isr.join(','),
        ]),
      ),
    )
  return lines
}
