// A task's stores: opened (persistent ones in the task's locked directory), restored from their
// changelogs (from the checkpoint onward for persistent ones; from the start for the others and
// for persistent ones without a valid checkpoint, which are wiped first), flushed and
// checkpointed after each commit, closed.

import type { ClientConfig } from '../cluster/client.js'
import type { Logger } from '../logger.js'
import { fullName } from './internal-topics.js'
import { persistentStore } from './persistent-store.js'
import { restoreStore } from './restore.js'
import type { Offsets, StateDirectory, TaskLock } from './state-dir.js'
import { inMemoryStore, type BytesStore, type BytesStoreSupplier } from './stores.js'
import type { StoreSpec, Topology } from './topology.js'

export interface TaskStoresContext {
  topology: Topology
  applicationId: string
  client: ClientConfig
  logger: Logger | undefined
  signal: AbortSignal
  stateDir: StateDirectory
  /** Who holds the task locks (one KafkaStreams instance). */
  owner: string
  lockTimeout: number
  /** 'persistent': stores left to the default (inMemoryStore) are persistent. */
  defaultDslStore: 'in_memory' | 'persistent'
  /** Per changelog partition (`<topic>\0<partition>`), the offset after the last record written or restored (-1n: unknown). */
  changelogNext: Map<string, bigint>
  restored(records: number): void
}

export class TaskStores {
  readonly stores = new Map<string, BytesStore>()
  #lock: TaskLock | undefined
  /** Changelog partition key of each persistent logged store. */
  readonly #persistent = new Map<string, string>()
  #checkpointed = ''

  private constructor(
    readonly ctx: TaskStoresContext,
    readonly taskId: string,
  ) {}

  /** The supplier a store spec uses under this configuration. */
  static supplier(ctx: Pick<TaskStoresContext, 'defaultDslStore'>, spec: StoreSpec): BytesStoreSupplier {
    return spec.supplier === inMemoryStore && ctx.defaultDslStore === 'persistent' ? persistentStore : spec.supplier
  }

  /**
   * Opens and restores the stores of task `<subId>_<partition>`. `kept`: this instance's stores of
   * the task from before a rebalance (locked already), restored from where they are up to.
   */
  static async open(ctx: TaskStoresContext, subId: number, partition: number, kept?: TaskStores): Promise<TaskStores> {
    const id = `${subId}_${partition}`
    const sub = ctx.topology.subtopologies[subId]!
    const ts = kept ?? new TaskStores(ctx, id)
    try {
      const specs = sub.stores.map((name) => ctx.topology.stores.get(name)!)
      const anyPersistent = specs.some((s) => TaskStores.supplier(ctx, s).persistent === true)
      let checkpoint: Offsets | undefined
      if (anyPersistent && kept === undefined) {
        ts.#lock = await ctx.stateDir.lock(id, ctx.owner, ctx.signal, ctx.lockTimeout)
        checkpoint = ctx.stateDir.readCheckpoint(id)
      }
      for (const spec of specs) await ts.#openStore(spec, partition, checkpoint)
      return ts
    } catch (err) {
      await ts.close()
      throw err
    }
  }

  async #openStore(spec: StoreSpec, partition: number, checkpoint: Offsets | undefined): Promise<void> {
    const { ctx, taskId: id } = this
    const name = spec.name
    const supplier = TaskStores.supplier(ctx, spec)
    const changelog = fullName(ctx.applicationId, `${name}-changelog`, true)
    const key = `${changelog}\u0000${partition}`
    const persistent = supplier.persistent === true
    const kept = this.stores.get(name)
    // Where the store is up to: a kept logged store, from what this instance wrote or restored;
    // a kept unlogged one as it is; a persistent one from its checkpoint; otherwise nothing.
    let from: bigint | undefined
    if (kept !== undefined) from = spec.logged ? this.ctx.changelogNext.get(key) : 0n
    else if (persistent && spec.logged) from = checkpoint?.get(key)
    if (from !== undefined && from < 0n) from = undefined
    const open = (): BytesStore => {
      const store = supplier(name, id, persistent ? { directory: ctx.stateDir.taskDir(id) } : undefined)
      this.stores.set(name, store)
      return store
    }
    let store = kept !== undefined && from !== undefined ? kept : undefined
    if (store === undefined) {
      await kept?.close?.()
      // Not known to be a state of its changelog (no checkpoint, or no entry for it): rebuilt. An
      // unlogged one is its own only copy and is kept as it is.
      if (persistent && spec.logged && from === undefined) ctx.stateDir.wipeStore(id, name)
      store = open()
    }
    if (persistent) this.#persistent.set(name, key)
    if (!spec.logged) return
    const started = Date.now()
    let r = await restoreStore(ctx.client, ctx.logger, changelog, partition, store, ctx.signal, from)
    if (r.outOfRange === true) {
      ctx.logger?.warn(
        { task: id, changelog, partition, from, endOffset: r.endOffset },
        'kafkats/streams: the store is not within its changelog; rebuilding it',
      )
      await store.close?.()
      if (persistent) ctx.stateDir.wipeStore(id, name)
      from = undefined
      store = open()
      r = await restoreStore(ctx.client, ctx.logger, changelog, partition, store, ctx.signal)
    }
    ctx.restored(r.records)
    ctx.logger?.info(
      {
        task: id,
        changelog,
        partition,
        from: from ?? 'start',
        records: r.records,
        endOffset: r.endOffset,
        ms: Date.now() - started,
      },
      'kafkats/streams: store restored',
    )
    ctx.changelogNext.set(key, r.endOffset)
    // Restored to the changelog's end: durable from here, so a crash before the first commit does not restore it all again.
    this.afterCommit()
  }

  /**
   * After a commit succeeded: persistent stores write what they hold (all of it committed now)
   * and the checkpoint records the changelog offsets they are up to. A crash after the flush and
   * before the checkpoint leaves an older checkpoint, which is safe: restoring from it replays
   * records the store already has.
   */
  afterCommit(): void {
    if (this.#persistent.size === 0) return
    const offsets: Offsets = new Map()
    for (const [name, key] of this.#persistent) {
      this.stores.get(name)?.flush?.()
      const next = this.ctx.changelogNext.get(key)
      if (next !== undefined && next >= 0n) offsets.set(key, next)
    }
    const text = [...offsets].map(([k, o]) => `${k}=${o}`).join(',')
    if (text === this.#checkpointed) return
    this.ctx.stateDir.writeCheckpoint(this.taskId, offsets)
    this.#checkpointed = text
  }

  /** Closes every store (a persistent one drops what it did not flush) and unlocks the directory. */
  async close(): Promise<void> {
    const stores = [...this.stores.values()]
    this.stores.clear()
    const closed = await Promise.allSettled(stores.map(async (s) => s.close?.()))
    this.#lock?.release()
    this.#lock = undefined
    for (const c of closed) {
      if (c.status === 'rejected')
        this.ctx.logger?.warn({ err: c.reason, task: this.taskId }, 'kafkats/streams: closing a store failed')
    }
  }
}
