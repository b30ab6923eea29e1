// `kafkats bench produce|consume TOPIC`: a load generator in the spirit of
// kafka-producer-perf-test / kafka-consumer-perf-test. Produce writes fixed-size messages
// asynchronously (each batch's acknowledgement timed from the record timestamps), optionally
// throttled to --rate; consume reads from the beginning (or as a group member) and reports fetch
// throughput and end-to-end latency (receipt minus the record's CreateTime). Both show live
// progress on stderr (bench-progress.ts) and end with a summary: lines for people, one JSON
// object with --json. Writers, Readers and the Admin come from one `Kafka` instance.

import { randomBytes } from 'node:crypto'
import { FirstOffset } from '../consumer/offsets.js'
import type { Reader } from '../consumer/reader.js'
import { Kafka } from '../kafka.js'
import type { Message } from '../message.js'
import { AbortError } from '../net/errors.js'
import type { CompressionCodec } from '../protocol/compression/index.js'
import { UsageError } from './args.js'
import { startProgress, type ProgressStream } from './bench-progress.js'
import { BenchCounters, describeSummary, type BenchSummary } from './bench-stats.js'
import {
  clientConfig,
  CONNECTION_FLAGS,
  onePositional,
  optionalInt,
  parseCommand,
  stdout,
  toJson,
  type Output,
} from './common.js'

export const BENCH_USAGE = `usage: kafkats bench produce TOPIC [--messages N] [--duration S] [--size BYTES] [--acks all|1|0]
                             [--batch-size N] [--batch-bytes B] [--linger MS] [-z CODEC] [--rate N] [flags]
       kafkats bench consume TOPIC [--messages N] [--duration S] [-g GROUP] [flags]
  produce: writes --messages N (default 100000) messages of --size bytes (default 100, random
  letters), or for --duration seconds (the first limit reached stops sending; what is buffered
  is still acknowledged); --acks all
  (default, idempotent), 1 or 0; --batch-size messages and --batch-bytes bytes per batch,
  --linger ms a batch waits for more; -z/--compression none|gzip|snappy|lz4|zstd; --rate N
  throttles to N messages/s. Reports msg/s, MB/s and acknowledgement latency (avg, p50, p99,
  p99.9, max; whole ms). Exits 1 if any message failed.
  consume: reads every partition from the beginning up to the end offsets seen at the start
  (or --messages N / --duration S); -g/--group reads as a member of GROUP from its committed
  offsets (then --messages or --duration is needed) and commits. Reports msg/s, MB/s, the time
  to the first message and end-to-end latency (receipt minus each record's timestamp).
  --report-interval MS: a progress line this often when stderr is not a terminal (default 2000;
  a terminal gets a progress bar when cli-progress is installed); 0: no progress.
  --json: the summary as one JSON object on stdout.`

const FLAGS = {
  ...CONNECTION_FLAGS,
  messages: { type: 'string', short: 'n' },
  duration: { type: 'string' },
  size: { type: 'string' },
  acks: { type: 'string' },
  'no-idempotent': { type: 'boolean' },
  'batch-size': { type: 'string' },
  'batch-bytes': { type: 'string' },
  linger: { type: 'string' },
  compression: { type: 'string', short: 'z' },
  rate: { type: 'string' },
  group: { type: 'string', short: 'g' },
  'report-interval': { type: 'string' },
} as const

type Values = ReturnType<typeof parseCommand<typeof FLAGS>>['values']

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
/** Messages handed to writeMessages at once: the Writer's buffer bounds what is in flight. */
const CHUNK = 1000
const DEFAULT_MESSAGES = 100_000
/** How long a reader of a bounded consume waits for records before it checks its position. */
const END_CHECK_MS = 250

/** Where the command reports progress; the binary uses stderr. */
export interface BenchIo {
  out: Output
  progress: ProgressStream
}

export async function runBenchCommand(
  args: string[],
  signal: AbortSignal,
  io: BenchIo = { out: stdout, progress: process.stderr },
): Promise<number> {
  const [mode, ...rest] = args
  if (mode !== 'produce' && mode !== 'consume')
    throw new UsageError(
      mode ?? 'mode',
      mode === undefined ? 'missing; expected produce or consume' : 'expected produce or consume',
    )
  const { values, positionals } = parseCommand(rest, FLAGS)
  const topic = onePositional(positionals, 'topic')
  const limits = {
    messages: optionalInt('--messages', values.messages, 1),
    durationMs: seconds('--duration', values.duration),
    reportMs: optionalInt('--report-interval', values['report-interval']) ?? 2000,
  }
  const kafka = new Kafka({ ...clientConfig(values), clientId: values['client-id'] ?? 'kafkats-bench' })
  let summary: BenchSummary
  try {
    summary =
      mode === 'produce'
        ? await benchProduce(kafka, topic, values, limits, signal, io.progress)
        : await benchConsume(kafka, topic, values, limits, signal, io.progress)
  } finally {
    await kafka.close().catch((err: unknown) => io.progress.write(`kafkats: closing: ${String(err)}\n`))
  }
  if (values.json === true) io.out.line(toJson(summary))
  else for (const line of describeSummary(summary)) io.out.line(line)
  if (signal.aborted) return 130
  return summary.errors > 0 ? 1 : 0
}

interface Limits {
  messages: number | undefined
  durationMs: number | undefined
  reportMs: number
}

async function benchProduce(
  kafka: Kafka,
  topic: string,
  values: Values,
  limits: Limits,
  signal: AbortSignal,
  progressStream: ProgressStream,
): Promise<BenchSummary> {
  const size = optionalInt('--size', values.size) ?? 100
  const rate = optionalInt('--rate', values.rate, 1)
  const compression = values.compression ?? 'none'
  if (!CODECS.includes(compression))
    throw new UsageError('--compression', `expected ${CODECS.join(', ')}, got '${compression}'`)
  const acks = values.acks ?? 'all'
  if (!['all', '-1', '1', '0'].includes(acks)) throw new UsageError('--acks', `expected all, 1 or 0, got '${acks}'`)
  const batchSize = optionalInt('--batch-size', values['batch-size'], 1)
  const batchBytes = optionalInt('--batch-bytes', values['batch-bytes'], 1)
  const linger = optionalInt('--linger', values.linger)
  if (values.group !== undefined) throw new UsageError('--group', 'is for bench consume')
  const total = limits.messages ?? (limits.durationMs === undefined ? DEFAULT_MESSAGES : Infinity)
  await kafka.admin().describeTopics([topic], { signal }) // a missing topic fails now, not after deliveryTimeout

  const counters = new BenchCounters()
  let firstError: Error | null = null
  const payload = randomLetters(size)
  const writer = kafka.writer({
    topic,
    async: true,
    compression: compression as CompressionCodec,
    requiredAcks: acks === 'all' ? -1 : (Number(acks) as -1 | 0 | 1),
    ...(values['no-idempotent'] === true ? { idempotent: false } : {}),
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(batchBytes !== undefined ? { batchBytes } : {}),
    ...(linger !== undefined ? { batchTimeout: linger } : {}),
    completion: (messages, error) => {
      if (error !== null) {
        firstError ??= error
        counters.errors += messages.length
        return
      }
      const now = Date.now()
      for (const m of messages) counters.latency.record(now - Number(m.timestamp))
      counters.add(messages.length, messages.length * size)
    },
  })
  const progress = startProgress({
    label: `produce ${topic}`,
    counters,
    messages: Number.isFinite(total) ? total : undefined,
    durationMs: limits.durationMs,
    stream: progressStream,
    intervalMs: limits.reportMs,
  })
  const deadline = limits.durationMs === undefined ? Infinity : counters.started + limits.durationMs
  let sent = 0
  try {
    while (sent < total && !signal.aborted && performance.now() < deadline) {
      let n = Math.min(CHUNK, total - sent)
      if (rate !== undefined) {
        // Never ahead of the schedule: at most what rate × elapsed allows, else sleep until one more is due.
        const due = Math.floor((rate * counters.elapsedMs()) / 1000) + 1 - sent
        if (due <= 0) {
          const wait = ((sent + 1) * 1000) / rate - counters.elapsedMs()
          await sleep(Math.min(wait, deadline - performance.now()), signal)
          continue
        }
        n = Math.min(n, due)
      }
      const chunk: Message[] = new Array<Message>(n)
      for (let i = 0; i < n; i++) chunk[i] = { value: payload }
      await writer.writeMessages(chunk, { signal })
      sent += n
    }
    await writer.flush()
  } catch (err) {
    if (!(err instanceof AbortError && signal.aborted)) throw err
  } finally {
    await writer.close().catch(() => {})
    progress.stop()
  }
  if (firstError !== null)
    progressStream.write(`kafkats: ${counters.errors} message(s) failed: ${(firstError as Error).message}\n`)
  return counters.summary('produce', topic)
}

async function benchConsume(
  kafka: Kafka,
  topic: string,
  values: Values,
  limits: Limits,
  signal: AbortSignal,
  progressStream: ProgressStream,
): Promise<BenchSummary> {
  for (const flag of [
    'size',
    'rate',
    'acks',
    'batch-size',
    'batch-bytes',
    'linger',
    'compression',
    'no-idempotent',
  ] as const)
    if (values[flag] !== undefined) throw new UsageError(`--${flag}`, 'is for bench produce')
  const groupId = values.group
  if (groupId !== undefined && limits.messages === undefined && limits.durationMs === undefined)
    throw new UsageError('--group', 'needs --messages or --duration (a group starts from its committed offsets)')
  const admin = kafka.admin()
  const [described] = await admin.describeTopics([topic], { signal })
  const partitions = described!.partitions.map((p) => p.partition)
  // Without a limit, the run ends at the end offsets seen now (as kafka-consumer-perf-test's --messages would).
  const ends = new Map<number, bigint>()
  let expected = 0
  if (groupId === undefined) {
    const spec = (s: 'earliest' | 'latest') => partitions.map((partition) => ({ topic, partition, spec: s }))
    const [earliest, latest] = await Promise.all([
      admin.listOffsets(spec('earliest'), { signal }),
      admin.listOffsets(spec('latest'), { signal }),
    ])
    for (const l of latest) {
      const start = earliest.find((e) => e.partition === l.partition)?.offset ?? 0n
      if ((l.offset ?? 0n) <= start) continue
      ends.set(l.partition, l.offset!)
      expected += Number(l.offset! - start)
    }
  }
  await admin.close()

  const counters = new BenchCounters()
  const total = limits.messages ?? Infinity
  const done = new AbortController()
  const stop = (): void => done.abort()
  signal.addEventListener('abort', stop, { once: true })
  const timer = limits.durationMs === undefined ? undefined : setTimeout(stop, limits.durationMs)
  let firstMessageMs: number | null = null

  const readers: { reader: Reader; partition: number; end: bigint | undefined }[] =
    groupId !== undefined
      ? [
          {
            reader: kafka.reader({ topic, groupId, startOffset: FirstOffset, commitInterval: 1000 }),
            partition: -1,
            end: undefined,
          },
        ]
      : partitions
          .filter((p) => limits.messages !== undefined || limits.durationMs !== undefined || ends.has(p))
          .map((p) => ({
            reader: kafka.reader({ topic, partition: p, startOffset: FirstOffset }),
            partition: p,
            end: ends.get(p),
          }))
  const bounded = groupId === undefined && limits.messages === undefined && limits.durationMs === undefined
  const progress = startProgress({
    label: `consume ${topic}`,
    counters,
    messages: Number.isFinite(total) ? total : bounded ? expected : undefined,
    durationMs: limits.durationMs,
    stream: progressStream,
    intervalMs: limits.reportMs,
  })
  try {
    await Promise.all(
      readers.map(async ({ reader, partition, end }) => {
        while (!done.signal.aborted) {
          let batch
          // Bounded: an idle reader checks its position, since the log may end with control
          // records (a transaction's marker) that no record reaches.
          const tick = new AbortController()
          const onDone = (): void => tick.abort()
          done.signal.addEventListener('abort', onDone, { once: true })
          const idle = bounded ? setTimeout(onDone, END_CHECK_MS) : undefined
          try {
            batch = await reader.fetchBatch({ signal: tick.signal })
          } catch (err) {
            if (!(err instanceof AbortError)) throw err
            if (done.signal.aborted) return
            const position = await reader.position(topic, partition, { signal: done.signal }).catch(() => -1n)
            if (end !== undefined && position >= end) return
            continue
          } finally {
            clearTimeout(idle)
            done.signal.removeEventListener('abort', onDone)
          }
          if (batch.messages.length > 0) firstMessageMs ??= Math.round(counters.elapsedMs())
          const now = Date.now()
          const take = Math.min(batch.messages.length, total - counters.messages)
          let bytes = 0
          for (let i = 0; i < take; i++) {
            const m = batch.messages[i]!
            bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0)
            counters.latency.record(now - m.timestamp)
          }
          counters.add(take, bytes)
          const last = batch.messages[take - 1]
          if (groupId !== undefined && last !== undefined) await reader.commitMessages(last)
          if (counters.messages >= total) stop()
          if (bounded && last !== undefined && end !== undefined && last.offset + 1n >= end) return
        }
      }),
    )
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', stop)
    progress.stop()
    // A group member commits what it read and leaves.
    await Promise.allSettled(readers.map((r) => r.reader.close()))
  }
  return { ...counters.summary('consume', topic), firstMessageMs }
}

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const s = Number(value)
  if (value.trim() === '' || !Number.isFinite(s) || s <= 0)
    throw new UsageError(flag, `must be a positive number of seconds, got '${value}'`)
  return s * 1000
}

/** Random A-Z, as kafka-producer-perf-test's payload (compressible about as much as text). */
function randomLetters(size: number): Buffer {
  const b = randomBytes(size)
  for (let i = 0; i < size; i++) b[i] = 65 + (b[i]! % 26)
  return b
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, Math.max(0, ms))
    signal.addEventListener('abort', done, { once: true })
  })
}
