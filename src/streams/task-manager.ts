// The tasks one KafkaStreams instance runs (Kafka Streams' TaskManager): opened per assignment
// with their stores (restored from the changelog) and the partition times committed with their
// input, each with its PartitionGroup of fetched records; dropped on revocation, their stores kept
// (dormant) when the task committed cleanly, in case it comes back; every store closed on a
// rewind or shutdown. What a task processes, and when the instance commits, is kafka-streams.ts'.

import { randomUUID } from 'node:crypto'

import type { KafkaClient } from '../cluster/client.js'
import type { FetchedMessage } from '../consumer/fetch-result.js'
import { fullName } from './internal-topics.js'
import type { StreamsMetricsRecorder } from './metrics.js'
import { committedPartitionTimes, UNKNOWN_TIME } from './offset-metadata.js'
import { PartitionGroup } from './partition-group.js'
import type { StateDirectory } from './state-dir.js'
import { clientConfigOf, type ResolvedStreamsConfig } from './streams-config.js'
import { TaskStores } from './task-stores.js'
import { Task, type StampedRecord, type TaskInit } from './task.js'
import type { Topology } from './topology.js'

/** A fetched record waiting in its task's PartitionGroup (record undefined: dropped, to commit only). */
export interface Buffered {
  timestamp: number
  record: StampedRecord | undefined
  message: FetchedMessage
}

/** How long a task waits for its directory's lock (held by a previous owner still letting go). */
const LOCK_TIMEOUT_MS = 30_000

/** What the tasks need from their KafkaStreams instance. */
export interface TaskManagerParts {
  topology: Topology
  config: ResolvedStreamsConfig
  stateDir: StateDirectory
  /** The instance's admin client (created by start()): reads the committed partition times. */
  admin: () => KafkaClient
  signal: AbortSignal
  /** Per changelog partition, the offset after the last record this instance wrote or restored (-1n: unknown). */
  changelogNext: Map<string, bigint>
  recorder: StreamsMetricsRecorder
  /** Where a task's outputs go while it processes. */
  emit: TaskInit['emit']
  dropped: TaskInit['dropped']
  /** Changelog records restored into a store. */
  restored: (records: number) => void
}

export class TaskManager {
  readonly #p: TaskManagerParts
  /** Running tasks by id (`<subtopology>_<partition>`). */
  readonly #tasks = new Map<string, Task>()
  /** The stores of each task in #tasks. */
  readonly #taskStores = new Map<string, TaskStores>()
  /**
   * Stores of tasks revoked cleanly (committed), kept in case the task comes back (an eager
   * rebalance revokes everything first): restored from where they are up to, not from scratch.
   */
  readonly #dormant = new Map<string, TaskStores>()
  /** Each task's fetched records not processed yet. */
  readonly #buffers = new WeakMap<Task, PartitionGroup<Buffered>>()
  /** Who holds this instance's task directory locks. */
  readonly #owner = `${randomUUID()}`

  constructor(parts: TaskManagerParts) {
    this.#p = parts
  }

  get size(): number {
    return this.#tasks.size
  }

  get(id: string): Task | undefined {
    return this.#tasks.get(id)
  }

  keys(): IterableIterator<string> {
    return this.#tasks.keys()
  }

  values(): IterableIterator<Task> {
    return this.#tasks.values()
  }

  /** The task's fetched records not processed yet. */
  buffer(task: Task): PartitionGroup<Buffered> | undefined {
    return this.#buffers.get(task)
  }

  /**
   * Opens the tasks of `ids` not running yet, starting from their committed partition times;
   * closes the kept stores of tasks that went elsewhere.
   */
  async assign(ids: ReadonlySet<string>): Promise<void> {
    const opened: Task[] = []
    for (const id of ids) {
      if (this.#tasks.has(id)) continue
      const [subId, partition] = id.split('_').map(Number) as [number, number]
      const task = await this.#openTask(subId, partition)
      this.#tasks.set(id, task)
      this.#buffers.set(task, new PartitionGroup(task.topics, this.#p.config.maxTaskIdle))
      opened.push(task)
      this.#p.recorder.taskCreated()
    }
    await this.#restoreTimes(opened)
    // Kept stores of tasks that went elsewhere: their next owner restores them, not us.
    const gone = [...this.#dormant.values()]
    this.#dormant.clear()
    await Promise.all(gone.map((ts) => ts.close()))
  }

  /** Drops the tasks of `ids`; `committed`: their stores are kept (dormant), else closed. */
  async revoke(ids: ReadonlySet<string>, committed: boolean): Promise<void> {
    for (const id of ids) {
      const task = this.#tasks.get(id)
      if (task === undefined) continue
      this.#tasks.delete(id)
      this.#p.recorder.taskClosed(1)
      const ts = this.#taskStores.get(id)
      this.#taskStores.delete(id)
      if (ts === undefined) continue
      // Committed: its stores are up to date with the changelog offsets we wrote; keep them.
      if (committed) this.#dormant.set(id, ts)
      else await ts.close()
    }
  }

  /** After a successful commit: persistent stores flush what is now committed and checkpoint their changelog offsets. */
  afterCommit(): void {
    for (const ts of this.#taskStores.values()) ts.afterCommit()
  }

  /** Closes the stores of every task, running and kept, without a checkpoint: what was not flushed was not committed. */
  async closeAllStores(): Promise<void> {
    const all = [...this.#taskStores.values(), ...this.#dormant.values()]
    this.#p.recorder.taskClosed(this.#tasks.size)
    this.#tasks.clear()
    this.#taskStores.clear()
    this.#dormant.clear()
    await Promise.all(all.map((ts) => ts.close()))
  }

  /**
   * New tasks start from the partition times committed with their input offsets (by kafkats or
   * Kafka Streams: the same metadata), so stream time carries across restarts and moves.
   */
  async #restoreTimes(tasks: Task[]): Promise<void> {
    if (tasks.length === 0) return
    const topics = [...new Set(tasks.flatMap((t) => t.topics))]
    const times = await committedPartitionTimes(this.#p.admin(), this.#p.config.applicationId, topics, this.#p.signal)
    for (const task of tasks) {
      for (const topic of task.topics) {
        const time = times.get(`${topic}\u0000${task.partition}`) ?? UNKNOWN_TIME
        if (time !== UNKNOWN_TIME) task.restorePartitionTime(topic, time)
      }
    }
  }

  async #openTask(subId: number, partition: number): Promise<Task> {
    const topology = this.#p.topology
    const config = this.#p.config
    const sub = topology.subtopologies[subId]!
    const appId = config.applicationId
    const id = `${subId}_${partition}`
    const kept = this.#dormant.get(id)
    this.#dormant.delete(id)
    const taskStores = await TaskStores.open(
      {
        topology,
        applicationId: appId,
        client: clientConfigOf(config),
        logger: config.logger,
        signal: this.#p.signal,
        stateDir: this.#p.stateDir,
        owner: `${appId}-${config.processId}-${this.#owner}`,
        lockTimeout: LOCK_TIMEOUT_MS,
        defaultDslStore: config.defaultDslStore ?? 'in_memory',
        changelogNext: this.#p.changelogNext,
        restored: this.#p.restored,
      },
      subId,
      partition,
      kept,
    )
    this.#taskStores.set(id, taskStores)
    const stores = taskStores.stores
    return new Task({
      topology,
      subtopology: sub,
      partition,
      topicName: (name, internal) => fullName(appId, name, internal),
      stores,
      emit: this.#p.emit,
      dropped: this.#p.dropped,
      wallClock: Date.now,
    })
  }
}
