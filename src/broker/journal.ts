// The data dir's files, written as the cluster changes (continuous persistence), so that every
// write the broker acknowledged is on disk before its response is sent:
//
//   <dir>/logs/<topicId>-<partition>.log   the partition's batches as stored, appended one
//                                           write() per batch before the batch is stored
//   <dir>/offsets.log                       committed-offset changes, one JSON line each, appended
//                                           when they happen (Kafka's __consumer_offsets)
//   <dir>/state.json                        everything else (topics, configs, producer ids,
//                                           transactions, groups) plus the offsets folded in up
//                                           to `offsetsSeq`; replaced atomically (tmp + rename)
//
// Writes are synchronous: they go to the OS page cache, which outlives the process, so a
// `kill -9` loses nothing acknowledged. There is no fsync (as in Kafka, whose default
// flush.messages leaves flushing to the OS): a machine crash or power loss can lose the last
// few seconds the OS had not written back. A log rewrite (truncation, retention, DeleteRecords,
// compaction) replaces the file atomically.

import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { ConfigError } from '../errors.js'
import type { StoredBatch } from './log.js'

/** One committed-offset change (an offsets.log line); `o` absent means the offset was deleted. */
export interface OffsetRecord {
  /** Sequence number, increasing; state.json's offsetsSeq says which lines it already holds. */
  s: number
  g: string
  /** Topic and partition; both absent: the whole group was deleted. */
  t?: string
  p?: number
  o?: string
  e?: number
  m?: string
  ts?: number
}

/** state.json is rewritten (folding offsets.log into it) once offsets.log has this many lines. */
const OFFSETS_COMPACT_LINES = 10_000

export class Journal {
  private readonly fds = new Map<string, number>()
  private offsetsFd: number | undefined
  private offsetLines = 0
  /** Sequence number of the last offset record written. */
  offsetsSeq = 0
  /** The last metadata written (to skip identical rewrites). */
  private lastMeta = ''
  /** Set after a failed write: the files no longer match memory, so nothing more is acknowledged. */
  private failure: Error | undefined
  /** True while the state is loaded from the files (nothing is written back). */
  loading = false
  /** state.json is stale (a log rewrite moved a log start offset, a topic went). */
  metaDirty = false
  /** Called (once per event-loop turn) when metaDirty is set, to write state.json soon. */
  onDirty: (() => void) | undefined
  /** Told once, when a write fails. */
  onFailure: ((err: Error) => void) | undefined
  private dirtyScheduled = false

  private constructor(readonly dir: string) {}

  /** Creates `dir` if missing and checks that files can be written in it (ConfigError if not). */
  static open(dir: string): Journal {
    try {
      mkdirSync(join(dir, 'logs'), { recursive: true })
      // Root ignores permission bits, so only a real write tells whether the directory is usable.
      const probe = join(dir, '.write-check')
      writeFileSync(probe, '')
      rmSync(probe)
    } catch (err) {
      throw new ConfigError('dataDir', `${dir} is not a writable directory (${(err as Error).message})`)
    }
    return new Journal(dir)
  }

  logPath(topicId: string, partition: number): string {
    return join(this.dir, 'logs', `${topicId}-${partition}.log`)
  }

  /** Appends a batch to its partition's file (before the log stores it). */
  appendBatch(topicId: string, partition: number, batch: StoredBatch): void {
    if (this.loading) return
    this.guard(() => {
      const file = this.logPath(topicId, partition)
      let fd = this.fds.get(file)
      if (fd === undefined) this.fds.set(file, (fd = openSync(file, 'a')))
      writeFully(fd, batch.data)
    })
  }

  /** Replaces a partition's file with `batches` (after truncation, retention or compaction). */
  rewriteLog(topicId: string, partition: number, batches: Iterable<StoredBatch>): void {
    if (this.loading) return
    this.guard(() => {
      const file = this.logPath(topicId, partition)
      this.closeFile(file)
      writeFileSync(`${file}.tmp`, Buffer.concat([...batches].map((b) => b.data)))
      renameSync(`${file}.tmp`, file)
    })
    this.markDirty()
  }

  /** Removes a deleted topic's partition file. */
  removeLog(topicId: string, partition: number): void {
    const file = this.logPath(topicId, partition)
    this.closeFile(file)
    this.guard(() => rmSync(file, { force: true }))
    this.markDirty()
  }

  /** state.json must be rewritten soon (before the next response at the latest). */
  markDirty(): void {
    this.metaDirty = true
    if (this.dirtyScheduled || this.onDirty === undefined) return
    this.dirtyScheduled = true
    setImmediate(() => {
      this.dirtyScheduled = false
      if (!this.metaDirty) return
      try {
        this.onDirty?.()
      } catch {
        // The failure is kept (check()) and stops every later response.
      }
    })
  }

  /** Log files no topic owns (left by a crash during a topic deletion): reported, never deleted. */
  strayLogs(known: Set<string>): string[] {
    return readdirSync(join(this.dir, 'logs'))
      .map((name) => join(this.dir, 'logs', name))
      .filter((file) => !known.has(file))
  }

  /** Appends one committed-offset change to offsets.log. */
  appendOffset(record: Omit<OffsetRecord, 's'>): void {
    if (this.loading) return
    this.guard(() => {
      this.offsetsFd ??= openSync(join(this.dir, 'offsets.log'), 'a')
      const line: OffsetRecord = { s: ++this.offsetsSeq, ...record }
      writeFully(this.offsetsFd, Buffer.from(JSON.stringify(line) + '\n'))
      this.offsetLines++
    })
  }

  /**
   * Writes state.json when `meta` (the state without offsets) changed since the last write, when
   * asked to (`force`), or when offsets.log has grown long. `full()` gives the whole state, with
   * the offsets, as it is now; offsets.log is emptied once state.json holds them.
   */
  saveState(meta: string, full: () => string, force = false): void {
    if (this.loading) return
    if (!force && meta === this.lastMeta && this.offsetLines < OFFSETS_COMPACT_LINES) {
      this.metaDirty = false
      return
    }
    this.guard(() => {
      const file = join(this.dir, 'state.json')
      writeFileSync(`${file}.tmp`, full())
      renameSync(`${file}.tmp`, file)
      // A crash before this truncation leaves lines that state.json already holds; their
      // sequence numbers (<= offsetsSeq) make the loader skip them.
      this.offsetsFd ??= openSync(join(this.dir, 'offsets.log'), 'a')
      ftruncateSync(this.offsetsFd, 0)
      this.offsetLines = 0
    })
    this.lastMeta = meta
    this.metaDirty = false
  }

  /** After loading: what was read back counts as written. */
  loaded(meta: string, offsetLines: number, offsetsSeq: number): void {
    this.lastMeta = meta
    this.offsetLines = offsetLines
    this.offsetsSeq = offsetsSeq
  }

  /** Throws the write error that stopped the journal, if any (so no response acknowledges). */
  check(): void {
    if (this.failure !== undefined) throw this.failure
  }

  close(): void {
    for (const file of [...this.fds.keys()]) this.closeFile(file)
    if (this.offsetsFd !== undefined) closeSync(this.offsetsFd)
    this.offsetsFd = undefined
  }

  private closeFile(file: string): void {
    const fd = this.fds.get(file)
    if (fd === undefined) return
    this.fds.delete(file)
    closeSync(fd)
  }

  private guard(write: () => void): void {
    this.check()
    try {
      write()
    } catch (err) {
      if (this.failure === undefined) {
        this.failure = new Error(
          `data dir ${this.dir}: a write failed (${(err as Error).message}); the broker acknowledges nothing more`,
        )
        this.onFailure?.(this.failure)
      }
      throw this.failure
    }
  }
}

function writeFully(fd: number, data: Buffer): void {
  let at = 0
  while (at < data.length) at += writeSync(fd, data, at, data.length - at)
}
