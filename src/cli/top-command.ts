// `kafkats top`: a live view of a cluster, refreshed in place. Every interval it samples the
// cluster through the Admin client (Metadata for leaders, replicas and ISR; ListOffsets for log
// ends; the groups' committed offsets) and draws a frame (top-frame.ts) over the previous one
// with ANSI cursor codes. Works against any Kafka, not only the reference broker: it reads what
// every broker answers, not broker metrics.

import { Admin } from '../admin/admin.js'
import { UsageError } from './args.js'
import { clientConfig, CONNECTION_FLAGS, parseCommand, toJson, type Output } from './common.js'
import { buildFrame, renderFrame, type GroupSample, type PartitionSample, type Sample } from './top-frame.js'

export const TOP_USAGE = `usage: kafkats top [--interval SECONDS] [--once] [--group G ...] [--topic T ...] [flags]
  A live view, refreshed in place every --interval (default 2) seconds: messages per second per
  topic (growth of the log end offsets), lag per partition of consumer groups (--group: only
  those; default every group), and under-replicated or offline partitions. Ctrl-C quits.
  --once samples twice, --interval apart, prints one frame and exits (--json: the frame as JSON).`

const FLAGS = {
  ...CONNECTION_FLAGS,
  interval: { type: 'string' },
  once: { type: 'boolean' },
  group: { type: 'string', multiple: true },
  topic: { type: 'string', multiple: true },
} as const

/** ANSI: hide/show the cursor, clear the screen, cursor home, clear to end of line/screen. */
const ANSI = { hide: '\x1b[?25l', show: '\x1b[?25h', clear: '\x1b[2J', home: '\x1b[H', eol: '\x1b[K', eos: '\x1b[J' }

export interface Terminal {
  isTTY: boolean
  columns: number
  rows: number
}

function terminal(): Terminal {
  return {
    isTTY: process.stdout.isTTY === true,
    columns: process.stdout.columns ?? 120,
    rows: process.stdout.rows ?? 40,
  }
}

function intervalMs(value: string | undefined): number {
  if (value === undefined) return 2000
  const s = Number(value)
  if (value.trim() === '' || !Number.isFinite(s) || s < 0.1 || s > 3600)
    throw new UsageError('--interval', `must be a number of seconds from 0.1 to 3600, got '${value}'`)
  return Math.round(s * 1000)
}

export async function runTopCommand(
  args: string[],
  signal: AbortSignal,
  out: Output,
  term: Terminal = terminal(),
): Promise<number> {
  const { values, positionals } = parseCommand(args, FLAGS)
  if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument')
  const interval = intervalMs(values.interval)
  const json = values.json === true
  const admin = new Admin(clientConfig(values))
  const scope = { topics: values.topic, groups: values.group }
  try {
    if (values.once === true) {
      const first = await sample(admin, scope, signal)
      await sleep(interval, signal)
      signal.throwIfAborted()
      const frame = buildFrame(await sample(admin, scope, signal, first), first)
      if (json) await out.line(toJson(frame))
      else for (const line of renderFrame(frame)) await out.line(line)
      return 0
    }
    await live(admin, scope, signal, out, term, interval, json)
    return 0
  } finally {
    await admin.close()
  }
}

async function live(
  admin: Admin,
  scope: Scope,
  signal: AbortSignal,
  out: Output,
  term: Terminal,
  interval: number,
  json: boolean,
): Promise<void> {
  const inPlace = term.isTTY && !json
  if (inPlace) await out.write(ANSI.hide + ANSI.clear)
  let previous: Sample | undefined
  try {
    while (!signal.aborted) {
      let lines: string[]
      try {
        const current = await sample(admin, scope, signal, previous)
        const frame = buildFrame(current, previous)
        previous = current
        lines = json ? [toJson(frame)] : renderFrame(frame)
      } catch (err) {
        if (signal.aborted) break
        // A failed sample (a broker going away...) is shown, and the next one tried.
        lines = [`kafkats top  ${new Date().toISOString()}  sample failed: ${(err as Error).message}`]
      }
      if (inPlace) {
        // Over the previous frame: each line cut to the terminal, its rest and the screen below cleared.
        const shown = lines.slice(0, Math.max(1, term.rows - 1)).map((l) => l.slice(0, term.columns) + ANSI.eol)
        await out.write(ANSI.home + shown.join('\n') + '\n' + ANSI.eos)
      } else {
        for (const line of lines) await out.line(line)
        if (!json) await out.line('')
      }
      await sleep(interval, signal)
    }
  } finally {
    if (inPlace) await out.write(ANSI.show)
  }
}

interface Scope {
  topics: string[] | undefined
  groups: string[] | undefined
}

/** One look at the cluster. Offline partitions (no leader to ask) keep their previous log end. */
async function sample(admin: Admin, scope: Scope, signal: AbortSignal, previous?: Sample): Promise<Sample> {
  const cluster = await admin.describeCluster({ signal })
  const names = scope.topics ?? (await admin.listTopics({ signal }))
  const described = names.length > 0 ? await admin.describeTopics(names, { signal }) : []
  const led = described.flatMap((t) =>
    t.partitions
      .filter((p) => p.leader >= 0)
      .map((p) => ({ topic: t.name, partition: p.partition, spec: 'latest' as const })),
  )
  const ends = new Map<string, bigint>()
  if (led.length > 0)
    for (const o of await admin.listOffsets(led, { signal })) ends.set(`${o.topic}\0${o.partition}`, o.offset ?? 0n)
  // The rates divide offsets by time: the time the log ends were read.
  const at = Date.now()
  const topics = new Map<string, PartitionSample[]>()
  for (const t of described) {
    const before = previous?.topics.get(t.name)
    topics.set(
      t.name,
      t.partitions.map((p) => ({
        partition: p.partition,
        leader: p.leader,
        replicas: p.replicas,
        isr: p.isr,
        endOffset:
          ends.get(`${t.name}\0${p.partition}`) ?? before?.find((b) => b.partition === p.partition)?.endOffset ?? 0n,
      })),
    )
  }
  const groupIds = scope.groups ?? (await admin.listGroups({ signal })).map((g) => g.groupId).sort()
  const groups: GroupSample[] = []
  for (const groupId of groupIds) {
    try {
      const lag = await admin.groupLag(groupId, { signal })
      groups.push({
        groupId,
        state: lag.state,
        partitions: lag.partitions.map((p) => ({
          topic: p.topic,
          partition: p.partition,
          committedOffset: p.committedOffset,
          endOffset: p.endOffset,
          lag: p.lag,
        })),
      })
    } catch (err) {
      if (signal.aborted) throw err
      groups.push({ groupId, state: '', partitions: [], error: (err as Error).message })
    }
  }
  return { at, brokers: cluster.brokers.length, controller: cluster.controllerId, topics, groups }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
