// Which broker loop fetches a partition: its leader from the metadata (refreshed, with backoff,
// until every partition has one), a leader named in an error answer (KIP-951), or a preferred
// read replica in the client's rack (KIP-392) while it is valid. The Fetcher's loops ask
// `fetchNode` on every pass; everything that moves a partition goes through here.

import { backoffDelay } from '../cluster/retry.js'
import { ErrorCode } from '../protocol/error-codes.js'
import type { FetchResponse } from '../protocol/messages/index.js'
import type { PartitionCursor } from './cursor.js'
import type { FetcherOptions } from './fetcher.js'
import { sleepQuietly } from './wait.js'

/**
 * How long a preferred read replica is used before asking the leader again: Java's
 * metadata.max.age.ms (5 min), after which its consumer clears the replica too.
 */
const READ_REPLICA_TTL_MS = 300_000

/** What placement needs of the Fetcher: its partitions, its stop signal, and its loops. */
export interface PlacementHost {
  readonly options: FetcherOptions
  readonly cursors: ReadonlyMap<string, PartitionCursor>
  readonly signal: AbortSignal
  /** Starts the broker's fetch loop unless it runs. */
  ensureLoop(nodeId: number): void
  /** Wakes the loops waiting for something to fetch. */
  kick(): void
}

export class Placement {
  readonly #h: PlacementHost
  #relocating: Promise<void> | null = null

  constructor(host: PlacementHost) {
    this.#h = host
  }

  /** The metadata refresh under way, if any (stop() waits for it). */
  get relocating(): Promise<void> | null {
    return this.#relocating
  }

  /** Sets the cursor's leader from cached metadata, or schedules a refresh. */
  locate(cursor: PartitionCursor): void {
    const metadata = this.#h.options.client.metadata
    const info = metadata.partition(cursor.topic, cursor.partition)
    if (info !== undefined && info.leader >= 0 && metadata.broker(info.leader) !== undefined) {
      cursor.leader = info.leader
      this.setLeaderEpoch(cursor, info.leaderEpoch)
      this.#h.ensureLoop(info.leader)
    } else {
      cursor.leader = -1
      this.relocate()
    }
  }

  /** A newer leader epoch: the position is validated against the new leader's log first (KIP-320). */
  setLeaderEpoch(cursor: PartitionCursor, epoch: number): void {
    if (epoch > cursor.leaderEpoch && cursor.leaderEpoch >= 0) cursor.awaitingValidation = true
    cursor.leaderEpoch = epoch
  }

  /** The partition's leader is no longer known: look it up again. */
  lostLeader(cursor: PartitionCursor): void {
    clearReadReplica(cursor)
    cursor.leader = -1
    this.#h.options.client.metadata.markStale()
    this.relocate()
  }

  /** One task at a time refreshes metadata until every partition has a leader (with backoff). */
  relocate(): void {
    if (this.#relocating !== null || this.#h.signal.aborted) return
    this.#relocating = (async () => {
      const { signal, cursors } = this.#h
      const o = this.#h.options
      let attempt = 0
      try {
        while (!signal.aborted) {
          const homeless = [...cursors.values()].filter((c) => c.leader < 0)
          if (homeless.length === 0) return
          attempt++
          try {
            await o.client.metadata.refresh([...new Set(homeless.map((c) => c.topic))], signal)
          } catch (err) {
            if (signal.aborted) return
            o.stats.errors++
            o.logger?.warn({ err, attempt }, 'metadata refresh failed; retrying')
          }
          let missing = 0
          for (const c of homeless) {
            if (c.removed) continue
            const info = o.client.metadata.partition(c.topic, c.partition)
            if (info !== undefined && info.leader >= 0 && o.client.metadata.broker(info.leader) !== undefined) {
              c.leader = info.leader
              this.setLeaderEpoch(c, info.leaderEpoch)
              this.#h.ensureLoop(info.leader)
            } else {
              missing++
            }
          }
          this.#h.kick()
          if (missing > 0) {
            const parts = homeless.filter((c) => !c.removed && c.leader < 0).map((c) => `${c.topic}-${c.partition}`)
            // An election takes a moment: a warning after a few rounds, then now and then (a
            // missing topic has its own warning, topic-watch.ts).
            const level = attempt === 3 || attempt % 60 === 0 ? 'warn' : 'debug'
            o.logger?.[level]({ partitions: parts.slice(0, 10), count: missing }, 'partitions without a known leader')
            o.client.metadata.markStale()
            // Its own timer: the shared wake-up fires on every assignment or seek.
            await sleepQuietly(backoffDelay(o.backoff, attempt), signal)
          }
        }
      } finally {
        this.#relocating = null
        // A partition may have lost its leader while this pass was finishing.
        if (!signal.aborted && [...cursors.values()].some((c) => c.leader < 0)) this.relocate()
      }
    })()
  }

  /** Where a partition is fetched from now: its preferred read replica while valid and known, else its leader. */
  fetchNode(c: PartitionCursor, now: number): number {
    if (c.readReplica < 0) return c.leader
    if (now >= c.readReplicaUntil || this.#h.options.client.metadata.broker(c.readReplica) === undefined) {
      clearReadReplica(c)
      return c.leader
    }
    return c.readReplica
  }

  /** KIP-392: the leader named a replica to read from (itself or -1: the leader again). */
  preferReplica(c: PartitionCursor, replica: number): void {
    if (replica < 0 || replica === c.leader || this.#h.options.client.metadata.broker(replica) === undefined) {
      clearReadReplica(c)
      return
    }
    c.readReplica = replica
    c.readReplicaUntil = Date.now() + READ_REPLICA_TTL_MS
    this.#h.ensureLoop(replica)
    this.#h.kick()
  }

  /**
   * KIP-951: a leader change answered with the new leader (and its address) moves the partition
   * to that broker's loop at once, without a metadata refresh, as Java's consumer does.
   */
  followLeaderHint(
    cursor: PartitionCursor,
    code: number,
    hint: { leaderId: number; leaderEpoch: number },
    endpoints: FetchResponse['nodeEndpoints'],
  ): boolean {
    if (code !== ErrorCode.NOT_LEADER_OR_FOLLOWER && code !== ErrorCode.FENCED_LEADER_EPOCH) return false
    const o = this.#h.options
    if (!o.client.metadata.applyLeaderHint(cursor.topic, cursor.partition, hint, endpoints)) return false
    o.stats.errors++ // still an error answer, even if it needs no metadata refresh
    cursor.leader = hint.leaderId
    this.setLeaderEpoch(cursor, hint.leaderEpoch)
    this.#h.ensureLoop(hint.leaderId)
    this.#h.kick()
    return true
  }
}

/** Back to the leader for fetching. */
export function clearReadReplica(c: PartitionCursor): void {
  c.readReplica = -1
  c.readReplicaUntil = 0
}
