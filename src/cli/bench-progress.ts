// Live progress of `kafkats bench` on stderr (stdout keeps the summary, for scripts): a bar drawn
// by `cli-progress` (an optional dependency) when stderr is a terminal, else one plain line per
// interval that a log file or CI keeps readable. Without cli-progress installed a terminal gets
// the plain lines too. Only the structural type below is used, so its types never reach ours.

import { createRequire } from 'node:module'
import type { BenchCounters } from './bench-stats.js'

/** What kafkats uses of cli-progress's SingleBar. */
export interface Bar {
  start(total: number, startValue: number, payload?: Record<string, unknown>): void
  update(value: number, payload?: Record<string, unknown>): void
  stop(): void
}

export interface BarLibrary {
  SingleBar: new (options: Record<string, unknown>, preset?: unknown) => Bar
  Presets: { shades_classic: unknown }
}

/** Where progress goes: stderr, or a test's stand-in. */
export interface ProgressStream {
  write(text: string): unknown
  isTTY?: boolean | undefined
}

export interface ProgressOptions {
  /** e.g. 'produce orders'. */
  label: string
  counters: BenchCounters
  /** The run ends after this many messages, or after durationMs, whichever comes first. */
  messages: number | undefined
  durationMs: number | undefined
  stream: ProgressStream
  /** Plain lines this often (ms); 0: no progress at all. */
  intervalMs: number
  /** Test seam: the cli-progress module, or null when it is not installed. */
  library?: BarLibrary | null
}

export interface Progress {
  /** 'bar' or 'lines' (what was chosen), or 'off'. */
  readonly kind: 'bar' | 'lines' | 'off'
  stop(): void
}

const require = createRequire(import.meta.url)

/** cli-progress, or null when it is not installed (it is an optional dependency). */
export function loadBarLibrary(): BarLibrary | null {
  try {
    const mod = require('cli-progress') as Partial<BarLibrary>
    return typeof mod.SingleBar === 'function' && mod.Presets !== undefined ? (mod as BarLibrary) : null
  } catch {
    return null
  }
}

/** A TTY redraws often; what a person reads needs no more than this. */
const BAR_REDRAW_MS = 200

export function startProgress(o: ProgressOptions): Progress {
  if (o.intervalMs === 0) return { kind: 'off', stop: () => {} }
  const library = o.stream.isTTY === true ? (o.library === undefined ? loadBarLibrary() : o.library) : null
  return library === null ? startLines(o) : startBar(o, library)
}

function startBar(o: ProgressOptions, library: BarLibrary): Progress {
  const c = o.counters
  // A message count is the natural total; a duration-only run fills the bar with time.
  const byCount = o.messages !== undefined
  const total = byCount ? o.messages! : Math.ceil(o.durationMs! / 1000)
  const bar = new library.SingleBar(
    {
      stream: o.stream,
      format:
        `${o.label} {bar} {percentage}% | ` +
        (byCount ? '{value}/{total} msgs' : '{value}/{total} s, {count} msgs') +
        ' | {rate} msg/s | {mb} MB/s | p99 {p99} ms',
      hideCursor: true,
      noTTYOutput: false,
      etaBuffer: 50,
    },
    library.Presets.shades_classic,
  )
  const payload = (): Record<string, unknown> => {
    const seconds = Math.max(c.elapsedMs(), 1) / 1000
    return {
      count: c.messages,
      rate: Math.round(c.messages / seconds),
      mb: (c.bytes / seconds / 1024 / 1024).toFixed(2),
      p99: c.latency.percentile(0.99) ?? '-',
    }
  }
  const value = (): number => (byCount ? c.messages : Math.min(total, Math.floor(c.elapsedMs() / 1000)))
  bar.start(total, 0, payload())
  const timer = setInterval(() => bar.update(value(), payload()), BAR_REDRAW_MS)
  timer.unref()
  return {
    kind: 'bar',
    stop: () => {
      clearInterval(timer)
      bar.update(value(), payload())
      bar.stop()
    },
  }
}

function startLines(o: ProgressOptions): Progress {
  const c = o.counters
  let last = { at: c.elapsedMs(), messages: 0, bytes: 0 }
  const timer = setInterval(() => {
    const now = c.elapsedMs()
    const seconds = Math.max(now - last.at, 1) / 1000
    const rate = (c.messages - last.messages) / seconds
    const mb = (c.bytes - last.bytes) / seconds / 1024 / 1024
    const p99 = c.latency.percentile(0.99)
    o.stream.write(
      `kafkats bench ${o.label}: ${c.messages} messages, ${rate.toFixed(1)} msg/s, ${mb.toFixed(2)} MB/s` +
        (p99 === null ? '' : `, p99 ${p99} ms`) +
        (c.errors > 0 ? `, ${c.errors} failed` : '') +
        '\n',
    )
    last = { at: now, messages: c.messages, bytes: c.bytes }
  }, o.intervalMs)
  timer.unref()
  return { kind: 'lines', stop: () => clearInterval(timer) }
}
