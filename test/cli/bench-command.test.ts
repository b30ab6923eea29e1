// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// `kafkats bench produce|consume`, run as the binary against a 3-broker reference cluster, or
// real Kafka when KAFKA_BOOTSTRAP is set. The counts it reports are checked against the broker
// (log end offsets, a group's committed offsets, the records a Reader reads back), the --rate
// throttle against the clock, and the summary's latencies for consistency (p50 ≤ p99 ≤ p99.9 ≤
// max). Progress: plain lines when stderr is not a terminal (the spawned binary's case), a
// cli-progress bar on a terminal (in-process, with a stand-in TTY), plain lines again when
// cli-progress is missing. The latency histogram's percentiles are checked against nearest-rank
// percentiles of the sorted samples.

import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import { UsageError } from '../../src/cli/args.js'
import { runBenchCommand } from '../../src/cli/bench-command.js'
import { loadBarLibrary, startProgress } from '../../src/cli/bench-progress.js'
import { BenchCounters, LatencyHistogram, type BenchSummary } from '../../src/cli/bench-stats.js'
import { Reader } from '../../src/consumer/reader.js'
import { Writer } from '../../src/producer/writer.js'
import { startTarget, unique, waitFor, type Target } from '../consumer/helpers.js'

let target: Target
let admin: Admin

beforeAll(async () => {
  target = await startTarget()
  admin = new Admin({ brokers: target.bootstrap })
}, 60_000)

afterAll(async () => {
  await admin?.close()
  await target?.stop()
})

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs the binary asynchronously (the reference cluster lives in this process). */
function kafkats(
  args: string[],
  options: { onStderr?: (text: string, interrupt: () => void) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, KAFKA_BOOTSTRAP: target.bootstrap.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
      options.onStderr?.(stderr, () => child.kill('SIGINT'))
    })
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

const replication = (): number => Math.min(3, target.brokerIds.length)

async function createTopic(partitions = 3): Promise<string> {
  const topic = unique('bench')
  await admin.createTopics([{ name: topic, partitions, replicationFactor: replication() }], { waitForLeaders: true })
  return topic
}

async function endOffsets(topic: string, partitions = 3): Promise<bigint> {
  const latest = await admin.listOffsets(
    Array.from({ length: partitions }, (_, partition) => ({ topic, partition, spec: 'latest' as const })),
  )
  return latest.reduce((n, l) => n + (l.offset ?? 0n), 0n)
}

function summaryOf(run: Run): BenchSummary {
  expect(run.stderr).not.toMatch(/kafkats: .*failed/)
  return JSON.parse(run.stdout) as BenchSummary
}

function expectLatencies(s: BenchSummary): void {
  const l = s.latencyMs!
  expect(l.p50).toBeLessThanOrEqual(l.p99)
  expect(l.p99).toBeLessThanOrEqual(l.p999)
  expect(l.p999).toBeLessThanOrEqual(l.max)
  expect(l.avg).toBeLessThanOrEqual(l.max)
  expect(l.p50).toBeGreaterThanOrEqual(0)
}

describe('kafkats bench produce', () => {
  it('writes N messages of the given size (as the broker counts them) and reports rates and ack latency', async () => {
    const topic = await createTopic()
    const run = await kafkats([
      'bench',
      'produce',
      topic,
      '--messages',
      '3000',
      '--size',
      '64',
      '--batch-size',
      '50',
      '--linger',
      '2',
      '-z',
      'gzip',
      '--report-interval',
      '0',
      '--json',
    ])
    expect(run.status, run.stderr).toBe(0)
    const s = summaryOf(run)
    expect(s).toMatchObject({ mode: 'produce', topic, messages: 3000, bytes: 3000 * 64, errors: 0 })
    // elapsedMs is rounded to whole milliseconds in the summary, the rates are not.
    const near = (actual: number, expected: number): void =>
      expect(Math.abs(actual - expected) / expected).toBeLessThan(0.02)
    near(s.messagesPerSec, (s.messages * 1000) / s.elapsedMs)
    near(s.mbPerSec, (s.bytes * 1000) / s.elapsedMs / 1024 / 1024)
    expectLatencies(s)
    expect(await endOffsets(topic)).toBe(3000n)

    // What the broker holds: 64 random capital letters per record.
    const reader = new Reader({ brokers: target.bootstrap, topic, partition: 0, maxWait: 100 })
    try {
      const m = await reader.fetchMessage({ signal: AbortSignal.timeout(15_000) })
      expect(m.value?.toString('latin1')).toMatch(/^[A-Z]{64}$/)
      expect(m.key).toBeNull()
    } finally {
      await reader.close()
    }
  })

  it('throttles to --rate, runs for --duration, and prints progress lines and a summary for people', async () => {
    const topic = await createTopic()
    const run = await kafkats([
      'bench',
      'produce',
      topic,
      '--messages',
      '600',
      '--rate',
      '1000',
      '--report-interval',
      '100',
    ])
    expect(run.status, run.stderr).toBe(0)
    // The 600th message is due 599 ms after the first: the run cannot be shorter.
    const [, messages, seconds] = /^(\d+) messages \([\d.]+ MB\) in ([\d.]+) s: [\d.]+ msg\/s, [\d.]+ MB\/s$/m.exec(
      run.stdout,
    )!
    expect(Number(messages)).toBe(600)
    expect(Number(seconds)).toBeGreaterThanOrEqual(0.59)
    expect(run.stdout).toMatch(/^ack latency ms: avg [\d.]+, p50 \d+, p99 \d+, p99\.9 \d+, max \d+$/m)
    const progress = run.stderr.split('\n').filter((l) => l.startsWith(`kafkats bench produce ${topic}: `))
    expect(progress.length).toBeGreaterThanOrEqual(3)
    for (const line of progress) expect(line).toMatch(/: \d+ messages, [\d.]+ msg\/s, [\d.]+ MB\/s/)
    expect(await endOffsets(topic)).toBe(600n)

    const timed = await kafkats([
      'bench',
      'produce',
      topic,
      '--duration',
      '1',
      '--size',
      '10',
      '--report-interval',
      '0',
      '--json',
    ])
    expect(timed.status, timed.stderr).toBe(0)
    const s = summaryOf(timed)
    expect(s.messages).toBeGreaterThan(0)
    expect(s.elapsedMs).toBeGreaterThanOrEqual(900)
    expect(await endOffsets(topic)).toBe(600n + BigInt(s.messages))
  }, 120_000)

  it('ends on Ctrl-C with the summary of what was acknowledged, exit 130', async () => {
    const topic = await createTopic()
    let interrupted = false
    const run = await kafkats(
      ['bench', 'produce', topic, '--duration', '60', '--rate', '2000', '--report-interval', '100', '--json'],
      {
        onStderr: (text, interrupt) => {
          if (!interrupted && /: [1-9]\d* messages/.test(text)) {
            interrupted = true
            interrupt()
          }
        },
      },
    )
    expect(run.status).toBe(130)
    const s = summaryOf(run)
    expect(s.messages).toBeGreaterThan(0)
    expect(s.elapsedMs).toBeLessThan(30_000)
    expect(await endOffsets(topic)).toBe(BigInt(s.messages))
  })
})

describe('kafkats bench consume', () => {
  it('reads a topic from the beginning to its end, and as a group member committing what it read', async () => {
    const topic = await createTopic()
    const produced = await kafkats([
      'bench',
      'produce',
      topic,
      '--messages',
      '2000',
      '--size',
      '32',
      '--report-interval',
      '0',
      '--json',
    ])
    expect(produced.status, produced.stderr).toBe(0)

    const run = await kafkats(['bench', 'consume', topic, '--report-interval', '0', '--json'])
    expect(run.status, run.stderr).toBe(0)
    const s = summaryOf(run)
    expect(s).toMatchObject({ mode: 'consume', topic, messages: 2000, bytes: 2000 * 32, errors: 0 })
    expect(s.firstMessageMs).toBeGreaterThanOrEqual(0)
    expectLatencies(s)

    const groupId = unique('bench-group')
    const grouped = await kafkats([
      'bench',
      'consume',
      topic,
      '-g',
      groupId,
      '--messages',
      '2000',
      '--report-interval',
      '0',
      '--json',
    ])
    expect(grouped.status, grouped.stderr).toBe(0)
    expect(summaryOf(grouped)).toMatchObject({ messages: 2000, bytes: 2000 * 32 })
    const committed = await admin.committedOffsets(groupId)
    expect(committed.reduce((n, c) => n + (c.offset ?? 0n), 0n)).toBe(2000n)

    // An empty topic ends at once.
    const empty = await createTopic(1)
    const none = await kafkats(['bench', 'consume', empty, '--report-interval', '0', '--json'])
    expect(none.status, none.stderr).toBe(0)
    expect(summaryOf(none)).toMatchObject({ messages: 0, latencyMs: null, firstMessageMs: null })
  }, 120_000)
})

describe('kafkats bench consume of a transactional topic', () => {
  it('ends at the end offsets though the last offset is a commit marker, not a record', async () => {
    const topic = await createTopic(1)
    const writer = new Writer({ brokers: target.bootstrap, topic, transactionalId: unique('bench-tx') })
    try {
      await writer.transaction((tx) => tx.writeMessages([{ value: 'a' }, { value: 'b' }, { value: 'c' }]))
    } finally {
      await writer.close()
    }
    // Three records and the marker (written after the commit returns): the log ends at 4, the
    // last record is at 2.
    await waitFor(async () => (await endOffsets(topic, 1)) === 4n, 30_000, 'the commit marker')
    const run = await kafkats(['bench', 'consume', topic, '--report-interval', '0', '--json'])
    expect(run.status, run.stderr).toBe(0)
    expect(summaryOf(run)).toMatchObject({ messages: 3, bytes: 3 })
  }, 120_000)
})

describe('kafkats bench errors', () => {
  it('exits 1 for a topic that does not exist and 2 for a bad command line; --help lists the flags', async () => {
    const missing = await kafkats(['bench', 'produce', unique('missing'), '--messages', '10'])
    expect(missing.status).toBe(1)
    expect(missing.stderr).toMatch(/UNKNOWN_TOPIC_OR_PARTITION/)
    const missingConsume = await kafkats(['bench', 'consume', unique('missing')])
    expect(missingConsume.status).toBe(1)

    const usage = await kafkats(['bench', 'produce', 't', '--size', 'x'])
    expect(usage.status).toBe(2)
    expect(usage.stderr).toMatch(/^kafkats: --size: .+\n\nusage: kafkats bench produce/)
    const help = await kafkats(['bench', '--help'])
    expect(help.status).toBe(0)
    for (const flag of [
      '--messages',
      '--duration',
      '--size',
      '--acks',
      '--batch-size',
      '--linger',
      '--compression',
      '--rate',
      '--group',
      '--json',
    ])
      expect(help.stdout).toContain(flag)
    expect((await kafkats(['--help'])).stdout).toMatch(/^ {2}bench {5}/m)
  }, 120_000)

  it('names the flag of every bad command line (UsageError, exit 2) before connecting', async () => {
    // In-process: the binary turns a UsageError into exit 2 with the usage (checked above).
    const bootstrap = '127.0.0.1:1' // nothing listens: a usage error must come before any connection
    for (const [args, flag] of [
      [['bench'], 'mode'],
      [['bench', 'nope', 't'], 'nope'],
      [['bench', 'produce'], 'topic'],
      [['bench', 'produce', 't', 'u'], 'u'],
      [['bench', 'produce', 't', '--messages', '0'], '--messages'],
      [['bench', 'produce', 't', '--duration', '0'], '--duration'],
      [['bench', 'produce', 't', '--duration', 'soon'], '--duration'],
      [['bench', 'produce', 't', '--acks', '2'], '--acks'],
      [['bench', 'produce', 't', '-z', 'brotli'], '--compression'],
      [['bench', 'produce', 't', '--rate', '0'], '--rate'],
      [['bench', 'produce', 't', '--group', 'g'], '--group'],
      [['bench', 'consume', 't', '-g', 'g'], '--group'],
      [['bench', 'consume', 't', '--rate', '5'], '--rate'],
      [['bench', 'consume', 't', '--size', '5'], '--size'],
      [['bench', 'produce', 't', '--nope'], '--nope'],
    ] as const) {
      const argv = args.length > 1 ? [...args.slice(1), '-b', bootstrap] : []
      const err = await runBenchCommand(argv, AbortSignal.timeout(5000), {
        out: { line: () => {}, write: () => {} },
        progress: { write: () => true },
      }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err, args.join(' ')).toBeInstanceOf(UsageError)
      expect(err, args.join(' ')).toMatchObject({ option: flag })
    }
  })
})

describe('bench progress and statistics (in-process)', () => {
  const tty = (): { text: string; isTTY: true; write(t: string): boolean } => ({
    text: '',
    isTTY: true,
    write(t: string) {
      this.text += t
      return true
    },
  })

  it('draws a cli-progress bar on a terminal, plain lines elsewhere or without cli-progress', async () => {
    const counters = new BenchCounters()
    const stream = tty()
    const bar = startProgress({
      label: 'produce t',
      counters,
      messages: 100,
      durationMs: undefined,
      stream,
      intervalMs: 50,
    })
    expect(bar.kind).toBe('bar')
    counters.add(40, 4000)
    counters.latency.record(7)
    await new Promise((r) => setTimeout(r, 450))
    bar.stop()
    expect(loadBarLibrary()).not.toBeNull()
    expect(stream.text).toContain('produce t')
    expect(stream.text).toMatch(/[\u2588\u2591]{10,}/) // the shades_classic bar
    expect(stream.text).toContain('40/100 msgs')
    expect(stream.text).toContain('p99 7 ms')

    const fallback = tty()
    const lines = startProgress({
      label: 'consume t',
      counters,
      messages: undefined,
      durationMs: 5000,
      stream: fallback,
      intervalMs: 50,
      library: null,
    })
    expect(lines.kind).toBe('lines')
    await new Promise((r) => setTimeout(r, 180))
    lines.stop()
    expect(fallback.text).toMatch(/^kafkats bench consume t: 40 messages, [\d.]+ msg\/s, [\d.]+ MB\/s, p99 7 ms$/m)

    const piped = { text: '', write: (t: string) => (piped.text += t) }
    const plain = startProgress({
      label: 'x',
      counters,
      messages: 1,
      durationMs: undefined,
      stream: piped,
      intervalMs: 50,
    })
    expect(plain.kind).toBe('lines')
    plain.stop()
    expect(
      startProgress({ label: 'x', counters, messages: 1, durationMs: undefined, stream: tty(), intervalMs: 0 }).kind,
    ).toBe('off')
  })

  it('computes nearest-rank percentiles of whole milliseconds, bounded at a minute', () => {
    const h = new LatencyHistogram()
    const samples: number[] = []
    let seed = 7
    for (let i = 0; i < 10_007; i++) {
      seed = (seed * 48271) % 0x7fffffff
      const ms = seed % 5000 === 0 ? 90_000 : seed % 300
      samples.push(ms)
      h.record(ms)
    }
    const sorted = [...samples].sort((a, b) => a - b)
    const nearestRank = (q: number): number => sorted[Math.ceil(q * sorted.length) - 1]!
    for (const q of [0.5, 0.9, 0.99, 0.999, 1]) expect(h.percentile(q), `q=${q}`).toBe(nearestRank(q))
    expect(h.summary()!.max).toBe(sorted.at(-1))
    expect(new LatencyHistogram().summary()).toBeNull()
  })
})
