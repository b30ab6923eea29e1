// Giving partitions up and running the rebalance callbacks: the same rules for both group
// protocols (group.ts, classic; consumer-group.ts, KIP-848).

import { KafkaTsError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { OffsetCommitter } from './commits.js'
import type { PartitionsCallback, TopicPartition } from './config.js'
import { partitionKey } from './cursor.js'
import type { GroupHooks } from './group.js'
import type { Ownership } from './ownership.js'

/** What a membership lends to these functions (its own state; read when called). */
export interface GiveUpContext {
  onRevoke: PartitionsCallback | undefined
  onLost: PartitionsCallback | undefined
  logger: Logger | undefined
  hooks: GroupHooks
  committer: OffsetCommitter
  /** Partitions owned now, by partition key. */
  owned: Map<string, Ownership>
  /** Ids of ownerships lost (fenced or reset), the newest 1024. */
  lostIds: Set<number>
  /** The membership is closing: callbacks still run on an aborted signal. */
  closing: boolean
}

/**
 * Gives partitions up. Revoked: onRevoke first (commits inside it still count), then stop
 * fetching them. Lost (fenced or reset): nothing can be committed any more, and invalidating
 * the ownership also refuses commits of every message fetched under it; stop, then tell
 * onLost (onRevoke when there is no onLost, as Java's default onPartitionsLost does).
 */
export async function giveUp(ctx: GiveUpContext, owned: Ownership[], signal: AbortSignal, lost = false): Promise<void> {
  if (owned.length === 0) return
  const partitions = owned.map((own) => ({ topic: own.topic, partition: own.partition }))
  if (!lost && ctx.onRevoke !== undefined) await runCallback(ctx, ctx.onRevoke, partitions, signal)
  for (const own of owned) {
    own.valid = false
    own.lost = lost
    if (lost) {
      ctx.lostIds.add(own.id)
      if (ctx.lostIds.size > 1024) ctx.lostIds.delete(ctx.lostIds.values().next().value!)
    }
    const key = partitionKey(own.topic, own.partition)
    if (ctx.owned.get(key) === own) ctx.owned.delete(key)
  }
  ctx.committer.forget(partitions)
  ctx.hooks.revoke(partitions)
  const onLost = ctx.onLost ?? ctx.onRevoke
  if (lost && onLost !== undefined) await runCallback(ctx, onLost, partitions, signal)
}

/** Runs a rebalance callback; Java rethrows listener errors from poll(), and the rebalance goes on. */
export async function runCallback(
  ctx: GiveUpContext,
  callback: PartitionsCallback,
  partitions: TopicPartition[],
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted && !ctx.closing) return
  try {
    await callback(partitions.map((tp) => ({ ...tp })))
  } catch (err) {
    const error = new KafkaTsError(
      'KAFKATS_REBALANCE_CALLBACK',
      `a rebalance callback threw: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    )
    ctx.logger?.warn({ err: error, partitions: partitions.length }, 'a rebalance callback threw')
    ctx.hooks.report(error)
  }
}
