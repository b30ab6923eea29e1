// `kafkats consume TOPIC`: as kcat -C, one value per line by default. A group (-g) reads and
// commits as a member; otherwise every partition (or -p) is read directly. -o beginning|end|N|
// time picks the start, -n stops after N messages, and without --follow the command ends at the
// end offsets it saw when it started (kcat -e). Ctrl-C ends it cleanly (commits flushed).

import { Admin } from '../admin/admin.js'
import type { FetchedMessage } from '../consumer/fetch-result.js'
import { FirstOffset, LastOffset } from '../consumer/offsets.js'
import { Reader } from '../consumer/reader.js'
import { AbortError, ClosedError } from '../net/errors.js'
import { UsageError } from './args.js'
import {
  clientConfig,
  CONNECTION_FLAGS,
  onePositional,
  optionalInt,
  parseCommand,
  toJson,
  type Output,
} from './common.js'

export const CONSUME_USAGE = `usage: kafkats consume TOPIC [-g GROUP | -p N] [-o beginning|end|OFFSET|TIME] [-n N] [--follow]
                       [--format plain|json|FORMAT] [flags]
  Prints one message per line: its value (plain, as kcat), a JSON object (json), or FORMAT as
  kcat -f: %t topic, %p partition, %o offset, %k key, %s value, %K/%S key/value length (-1 for
  null), %T timestamp (ms), %h headers (k=v,...), \\n, \\t.
  -g/--group reads as a member of GROUP and commits what it printed; -p/--partition reads one
  partition; -o/--offset where to start (default beginning; with a group, only where it has no
  committed offset): beginning, end, an offset (with -p) or an ISO time. -n/--count stops after
  N messages; without -f/--follow it stops at the end of the partitions.`

const FLAGS = {
  ...CONNECTION_FLAGS,
  group: { type: 'string', short: 'g' },
  partition: { type: 'string', short: 'p' },
  offset: { type: 'string', short: 'o' },
  count: { type: 'string', short: 'n' },
  follow: { type: 'boolean', short: 'f' },
  format: { type: 'string' },
} as const

/** How often an idle reader checks whether it reached the end (without --follow). */
const END_CHECK_MS = 250

export async function runConsumeCommand(args: string[], signal: AbortSignal, out: Output): Promise<number> {
  const { values, positionals } = parseCommand(args, FLAGS)
  const topic = onePositional(positionals, 'topic')
  const partition = optionalInt('--partition', values.partition)
  const limit = optionalInt('--count', values.count, 1)
  const follow = values.follow === true
  const groupId = values.group
  if (groupId !== undefined && partition !== undefined)
    throw new UsageError('--partition', 'cannot be used with --group')
  const start = startOffset(values.offset, partition !== undefined)
  const formatName = values.json === true ? 'json' : (values.format ?? 'plain')
  const format = formatter(formatName)
  // A FORMAT string says where lines end (kcat -f '%k %s\n'); plain and json print lines.
  const raw = formatName !== 'plain' && formatName !== 'json'
  const config = clientConfig(values)

  const admin = new Admin(config)
  let partitions: number[]
  let ends: Map<number, bigint>
  try {
    const [described] = await admin.describeTopics([topic], { signal })
    partitions = partition !== undefined ? [partition] : described!.partitions.map((p) => p.partition)
    if (partition !== undefined && !described!.partitions.some((p) => p.partition === partition)) {
      throw new UsageError('--partition', `topic ${topic} has no partition ${partition}`)
    }
    const latest = await admin.listOffsets(
      partitions.map((p) => ({ topic, partition: p, spec: 'latest' as const })),
      { signal },
    )
    ends = new Map(latest.map((l) => [l.partition, l.offset ?? 0n]))
  } finally {
    await admin.close()
  }

  const readers =
    groupId !== undefined
      ? [
          new Reader({
            ...config,
            groupId,
            topic,
            startOffset: start as typeof FirstOffset | Date,
            commitInterval: 1000,
          }),
        ]
      : partitions.map((p) => {
          // An exact offset is a seek (startOffset takes the beginning, the end or a time).
          const reader = new Reader({
            ...config,
            topic,
            partition: p,
            startOffset: typeof start === 'bigint' ? FirstOffset : start,
          })
          if (typeof start === 'bigint') reader.seek(p, start)
          return reader
        })
  let printed = 0
  const done = new AbortController()
  const stop = (): void => done.abort()
  signal.addEventListener('abort', stop, { once: true })
  try {
    await Promise.all(
      readers.map(async (reader) => {
        while (!done.signal.aborted) {
          const message = await next(reader, done.signal, follow)
          if (message === null) {
            if (!follow && (await atEnd(reader, topic, ends, done.signal))) return
            continue
          }
          if (limit !== undefined && printed >= limit) break
          await (raw ? out.write(format(message)) : out.line(format(message)))
          printed++
          if (groupId !== undefined) await reader.commitMessages(message)
          if (limit !== undefined && printed >= limit) stop()
        }
      }),
    )
  } finally {
    signal.removeEventListener('abort', stop)
    // Closing a group member commits what was printed and leaves the group.
    await Promise.allSettled(readers.map((r) => r.close()))
  }
  return 0
}

/** The next message, or null when none came within END_CHECK_MS (never null with --follow) or on stop. */
async function next(reader: Reader, stop: AbortSignal, follow: boolean): Promise<FetchedMessage | null> {
  const tick = new AbortController()
  const onStop = (): void => tick.abort()
  stop.addEventListener('abort', onStop, { once: true })
  const timer = follow ? undefined : setTimeout(() => tick.abort(), END_CHECK_MS)
  try {
    return await reader.fetchMessage({ signal: tick.signal })
  } catch (err) {
    if (err instanceof AbortError || err instanceof ClosedError) return null
    throw err
  } finally {
    clearTimeout(timer)
    stop.removeEventListener('abort', onStop)
  }
}

/** Whether every partition this reader reads is at or past the end offset seen at the start. */
async function atEnd(
  reader: Reader,
  topic: string,
  ends: ReadonlyMap<number, bigint>,
  signal: AbortSignal,
): Promise<boolean> {
  const assigned = reader.assignment().filter((tp) => tp.topic === topic)
  if (assigned.length === 0) return false
  for (const tp of assigned) {
    const position = await reader.position(tp.topic, tp.partition, { signal }).catch(() => -1n)
    if (position < (ends.get(tp.partition) ?? 0n)) return false
  }
  return true
}

function startOffset(
  value: string | undefined,
  onePartition: boolean,
): typeof FirstOffset | typeof LastOffset | bigint | Date {
  if (value === undefined || value === 'beginning') return FirstOffset
  if (value === 'end') return LastOffset
  if (/^\d+$/.test(value)) {
    if (!onePartition) throw new UsageError('--offset', 'an offset needs --partition (offsets are per partition)')
    return BigInt(value)
  }
  const ms = Date.parse(value)
  if (Number.isNaN(ms))
    throw new UsageError('--offset', `expected beginning, end, an offset or an ISO time, got '${value}'`)
  return new Date(ms)
}

type Format = (m: FetchedMessage) => string

const text = (b: Buffer | null): string => (b === null ? '' : b.toString('utf8'))

function formatter(format: string): Format {
  if (format === 'plain') return (m) => text(m.value)
  if (format === 'json') {
    return (m) =>
      toJson({
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
        timestamp: m.timestamp,
        key: m.key === null ? null : text(m.key),
        value: m.value === null ? null : text(m.value),
        headers: Object.fromEntries(m.headers.map((h) => [h.key, h.value === null ? null : text(h.value)])),
      })
  }
  // kcat -f: %-tokens and backslash escapes.
  return (m) =>
    format.replace(/%[tpoksKSTh%]|\\[nt\\]/g, (token) => {
      switch (token) {
        case '%t':
          return m.topic
        case '%p':
          return String(m.partition)
        case '%o':
          return String(m.offset)
        case '%k':
          return text(m.key)
        case '%s':
          return text(m.value)
        case '%K':
          return String(m.key?.length ?? -1)
        case '%S':
          return String(m.value?.length ?? -1)
        case '%T':
          return String(m.timestamp)
        case '%h':
          return m.headers.map((h) => `${h.key}=${text(h.value)}`).join(',')
        case '%%':
          return '%'
        case '\\n':
          return '\n'
        case '\\t':
          return '\t'
        default:
          return '\\'
      }
    })
}
