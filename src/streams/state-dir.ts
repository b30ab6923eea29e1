// The state directory of persistent stores, laid out as Kafka Streams' state.dir:
// `<stateDir>/<applicationId>/<taskId>/` holds the task's stores (`lmdb/<store>/`), its
// `.checkpoint` (the changelog offset each store is up to, in Kafka's OffsetCheckpoint text
// format) and a `.lock`, so that two instances on one host (or in one process) never open the
// same task's stores at once.

import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'

import type { Logger } from '../logger.js'
import { StateStoreError } from './errors.js'

/** Changelog offsets by `<topic>\0<partition>`. */
export type Offsets = Map<string, bigint>

/** Lock files this process holds, by path, with their owner (an instance of KafkaStreams). */
const held = new Map<string, string>()

/** How often a locked task directory is tried again (the other owner may release it soon). */
const LOCK_RETRY_MS = 100

export interface TaskLock {
  release(): void
}

export class StateDirectory {
  constructor(
    readonly root: string,
    readonly applicationId: string,
    readonly logger: Logger | undefined,
  ) {}

  taskDir(taskId: string): string {
    return join(this.root, this.applicationId, taskId)
  }

  /**
   * Locks a task's directory for `owner`, waiting while another instance holds it (during a
   * rebalance its previous owner may not have let it go yet). A lock file whose process is gone
   * is taken over. Rejects with StateStoreError after `timeoutMs`.
   */
  async lock(taskId: string, owner: string, signal: AbortSignal, timeoutMs: number): Promise<TaskLock> {
    const dir = this.taskDir(taskId)
    mkdirSync(dir, { recursive: true })
    const path = join(dir, '.lock')
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const holder = tryLock(path, owner)
      if (holder === undefined) {
        return {
          release: () => {
            if (held.get(path) !== owner) return
            held.delete(path)
            rmSync(path, { force: true })
          },
        }
      }
      if (signal.aborted) throw new StateStoreError(`locking ${dir}: the application is closing`)
      if (Date.now() >= deadline) {
        throw new StateStoreError(`task directory ${dir} is locked by ${holder} (waited ${timeoutMs} ms)`)
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS))
    }
  }

  /**
   * The task's checkpoint; undefined when there is none or it cannot be read (logged): its
   * stores are then rebuilt from their changelogs, never trusted.
   */
  readCheckpoint(taskId: string): Offsets | undefined {
    const path = join(this.taskDir(taskId), '.checkpoint')
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      this.logger?.warn({ err, path }, 'kafkats/streams: cannot read a checkpoint; its stores are rebuilt')
      return undefined
    }
    const offsets = parseCheckpoint(text)
    if (offsets === undefined) {
      this.logger?.warn({ path }, 'kafkats/streams: a corrupt checkpoint; its stores are rebuilt')
    }
    return offsets
  }

  /** Replaces the task's checkpoint at once (a new file renamed over the old one). */
  writeCheckpoint(taskId: string, offsets: Offsets): void {
    const dir = this.taskDir(taskId)
    mkdirSync(dir, { recursive: true })
    const tmp = join(dir, '.checkpoint.tmp')
    const fd = openSync(tmp, 'w')
    try {
      writeSync(fd, formatCheckpoint(offsets))
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, join(dir, '.checkpoint'))
  }

  deleteCheckpoint(taskId: string): void {
    rmSync(join(this.taskDir(taskId), '.checkpoint'), { force: true })
  }

  /** Removes one store's files (it is rebuilt from its changelog). */
  wipeStore(taskId: string, storeName: string): void {
    rmSync(join(this.taskDir(taskId), 'lmdb', storeName), { recursive: true, force: true })
  }
}

/** Kafka's OffsetCheckpoint: version 0, the number of entries, then `topic partition offset` lines. */
export function formatCheckpoint(offsets: Offsets): string {
  const lines = ['0', String(offsets.size)]
  for (const [key, offset] of offsets) {
    const [topic, partition] = key.split('\u0000') as [string, string]
    lines.push(`${topic} ${partition} ${offset}`)
  }
  return `${lines.join('\n')}\n`
}

/** The offsets of a checkpoint file, or undefined when it is not one. */
export function parseCheckpoint(text: string): Offsets | undefined {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  if (lines[0] !== '0' || lines[1] === undefined || !/^\d+$/.test(lines[1])) return undefined
  const count = Number(lines[1])
  if (lines.length !== count + 2) return undefined
  const offsets: Offsets = new Map()
  for (const line of lines.slice(2)) {
    const m = /^(\S+) (\d+) (\d+)$/.exec(line)
    if (m === null) return undefined
    offsets.set(`${m[1]}\u0000${Number(m[2])}`, BigInt(m[3]!))
  }
  return offsets
}

/** Takes the lock file; undefined when taken, else who holds it. */
function tryLock(path: string, owner: string): string | undefined {
  const inProcess = held.get(path)
  if (inProcess !== undefined) return inProcess === owner ? undefined : `${inProcess} (this process)`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, owner }))
      } finally {
        closeSync(fd)
      }
      held.set(path, owner)
      return undefined
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const other = readHolder(path)
    if (other === undefined) {
      // Unreadable: being written this instant, or left half-written by a crash long ago.
      if (ageMs(path) < STALE_UNREADABLE_MS) return 'another instance (lock being written)'
    } else if (other.pid !== process.pid && alive(other.pid)) {
      return `${other.owner} (pid ${other.pid})`
    }
    // Its process is gone, or it is this process' and not listed (an instance that never closed).
    rmSync(path, { force: true })
  }
  return 'another instance'
}

function readHolder(path: string): { pid: number; owner: string } | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; owner?: unknown }
    return typeof v.pid === 'number' ? { pid: v.pid, owner: String(v.owner) } : undefined
  } catch {
    return undefined
  }
}

/** An unreadable lock file older than this is a crash's leftover. */
const STALE_UNREADABLE_MS = 5_000

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs
  } catch {
    return Infinity
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
