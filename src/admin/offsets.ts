// Offsets: what the logs hold (ListOffsets: earliest, latest, by time, max timestamp), what a
// group committed (OffsetFetch), changing it (OffsetCommit as an admin: generation -1, no member,
// accepted only while the group is empty), resetting it like kafka-consumer-groups.sh
// --reset-offsets, and the lag of a group per partition (what Burrow is run for).

import { listOffsets as listLogOffsets, type ListedOffset } from '../consumer/list-offsets.js'
import type { IsolationLevel } from '../consumer/fetch-result.js'
import { KafkaError } from '../errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { OffsetCommit, OffsetFetch } from '../protocol/messages/index.js'
import { batch, retried, tpKey, type AdminCallOptions, type AdminContext, type Outcome } from './context.js'
import { AdminBatchError, GroupNotEmptyError } from './errors.js'
import { coordinatorFor, describeGroups, groupError } from './groups.js'
import { describeTopics } from './topics.js'

export interface TopicPartitionRef {
  topic: string
  partition: number
}

/** Which offset of a partition's log: its first, the next to be written, by time, or the record with the largest timestamp. */
export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | { timestamp: number | Date }

export interface ListOffsetsOptions extends AdminCallOptions {
  /** read_committed answers 'latest' with the last stable offset (LSO), not the high watermark. */
  isolationLevel?: IsolationLevel
}

/** Each partition's offset per `spec`; `offset` is null when no record is at or after the time asked. */
export async function listOffsets(
  ctx: AdminContext,
  partitions: readonly (TopicPartitionRef & { spec: OffsetSpec })[],
  options: ListOffsetsOptions = {},
): Promise<ListedOffset[]> {
  const ctxOffsets = {
    client: ctx.client,
    isolationLevel: options.isolationLevel ?? 'read_uncommitted',
    requestTimeout: options.timeout ?? ctx.timeoutMs,
    policy: ctx.policy,
  } as const
  const signal = options.signal ?? new AbortController().signal
  // The lookup answers each partition once per call: one call per kind of query.
  const queries = partitions.map((p) => ({ topic: p.topic, partition: p.partition, timestamp: specTimestamp(p.spec) }))
  const byTimestamp = new Map<bigint, number[]>()
  queries.forEach((q, i) => byTimestamp.set(q.timestamp, [...(byTimestamp.get(q.timestamp) ?? []), i]))
  const out: ListedOffset[] = new Array<ListedOffset>(queries.length)
  await Promise.all(
    [...byTimestamp.values()].map(async (indexes) => {
      const answers = await listLogOffsets(
        ctxOffsets,
        indexes.map((i) => queries[i]!),
        signal,
      )
      indexes.forEach((i, n) => (out[i] = answers[n]!))
    }),
  )
  return out
}

function specTimestamp(spec: OffsetSpec): bigint {
  if (spec === 'latest') return -1n
  if (spec === 'earliest') return -2n
  if (spec === 'max-timestamp') return -3n
  const ms = spec.timestamp instanceof Date ? spec.timestamp.getTime() : spec.timestamp
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new RangeError(`timestamp must be a non-negative integer of ms, got ${String(ms)}`)
  return BigInt(ms)
}

export interface CommittedOffset extends TopicPartitionRef {
  /** null: nothing committed. */
  offset: bigint | null
  leaderEpoch: number | null
  metadata: string | null
}

/** The group's committed offsets: of `topics` (every partition), or of every partition it committed. */
export async function committedOffsets(
  ctx: AdminContext,
  groupId: string,
  options: AdminCallOptions & { topics?: readonly string[] } = {},
): Promise<CommittedOffset[]> {
  const { signal } = options
  let topics: { name: string; partitionIndexes: number[] }[] | null = null
  if (options.topics !== undefined) {
    const described = await describeTopics(ctx, options.topics, options)
    topics = described.map((t) => ({ name: t.name, partitionIndexes: t.partitions.map((p) => p.partition) }))
  }
  return retried(ctx, `OffsetFetch for group '${groupId}'`, signal, async () => {
    const r = await coordinatorFor(ctx, groupId).send(
      OffsetFetch,
      (version) =>
        version >= 8
          ? { groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable: true }
          : { groupId, topics, ...(version >= 7 ? { requireStable: true } : {}) },
      { signal, ...(options.timeout !== undefined ? { timeoutMs: options.timeout } : {}) },
    )
    const group = r.groups[0]
    const code = group !== undefined ? group.errorCode : r.errorCode
    if (code !== ErrorCode.NONE) throw groupError(ctx, groupId, code, 'OffsetFetch')
    const out: CommittedOffset[] = []
    for (const t of group?.topics ?? r.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE) {
          throw KafkaError.fromCode(p.errorCode, {
            apiName: 'OffsetFetch',
            groupId,
            topic: t.name,
            partition: p.partitionIndex,
          })
        }
        out.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset >= 0n ? p.committedOffset : null,
          leaderEpoch: p.committedLeaderEpoch >= 0 ? p.committedLeaderEpoch : null,
          metadata: p.metadata,
        })
      }
    }
    return out.sort(byPartition)
  })
}

/** Only the options every call takes (signal, timeout), not a caller's call-specific ones. */
function callOptions(o: AdminCallOptions): AdminCallOptions {
  return {
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
    ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
  }
}

function byPartition(a: TopicPartitionRef, b: TopicPartitionRef): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}

/**
 * Sets the group's committed offsets. The coordinator accepts this only while the group has no
 * members (an active member's generation is required otherwise: UNKNOWN_MEMBER_ID).
 */
export async function alterGroupOffsets(
  ctx: AdminContext,
  groupId: string,
  offsets: readonly (TopicPartitionRef & { offset: bigint | number; metadata?: string })[],
  options: AdminCallOptions = {},
): Promise<void> {
  const byKey = new Map(offsets.map((o) => [tpKey(o.topic, o.partition), o]))
  await batch<true>(ctx, 'OffsetCommit', [...byKey.keys()], options.signal, async (keys) => {
    const byTopic = new Map<
      string,
      { partitionIndex: number; committedOffset: bigint; committedMetadata: string | null }[]
    >()
    for (const k of keys) {
      const o = byKey.get(k)!
      const list = byTopic.get(o.topic) ?? []
      list.push({
        partitionIndex: o.partition,
        committedOffset: BigInt(o.offset),
        committedMetadata: o.metadata ?? null,
      })
      byTopic.set(o.topic, list)
    }
    const r = await coordinatorFor(ctx, groupId).send(
      OffsetCommit,
      {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
      },
      { signal: options.signal, ...(options.timeout !== undefined ? { timeoutMs: options.timeout } : {}) },
    )
    const answers = new Map<string, Outcome<true>>()
    for (const t of r.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE) coordinatorFor(ctx, groupId).checkCoordinatorError(p.errorCode)
        answers.set(
          tpKey(t.name, p.partitionIndex),
          p.errorCode === ErrorCode.NONE
            ? { value: true }
            : {
                error: KafkaError.fromCode(p.errorCode, {
                  apiName: 'OffsetCommit',
                  groupId,
                  topic: t.name,
                  partition: p.partitionIndex,
                }),
              },
        )
      }
    }
    return answers
  })
}

/** Where to move a group's offsets (kafka-consumer-groups.sh --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by). */
export type ResetTarget =
  | { to: 'earliest' }
  | { to: 'latest' }
  | { to: 'timestamp'; timestamp: number | Date }
  | { to: 'offset'; offset: bigint | number }
  | { to: 'shift'; by: number }

export interface ResetOffsetsOptions extends AdminCallOptions {
  /** Topics (every partition) or partitions to reset; default: every partition the group committed. */
  topics?: readonly (string | TopicPartitionRef)[]
  /** Compute and return the new offsets without committing them. */
  dryRun?: boolean
}

export interface OffsetReset extends TopicPartitionRef {
  /** The committed offset before the reset (null: none). */
  previous: bigint | null
  offset: bigint
}

/**
 * Moves the group's committed offsets as kafka-consumer-groups.sh --reset-offsets does: only
 * while the group is Empty (or does not exist yet), else GroupNotEmptyError. Offsets and shifts
 * outside the log are clamped to [earliest, latest], and a time after the last record gives
 * the latest offset, as the tool does.
 */
export async function resetGroupOffsets(
  ctx: AdminContext,
  groupId: string,
  target: ResetTarget,
  options: ResetOffsetsOptions = {},
): Promise<OffsetReset[]> {
  const state = await groupState(ctx, groupId, options)
  if (state !== 'Empty' && state !== 'Dead') throw new GroupNotEmptyError(groupId, state)
  const committed = await committedOffsets(ctx, groupId, callOptions(options))
  const previous = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c.offset]))
  let partitions: TopicPartitionRef[]
  if (options.topics === undefined) {
    partitions = committed.map((c) => ({ topic: c.topic, partition: c.partition }))
  } else {
    const names = [...new Set(options.topics.filter((t): t is string => typeof t === 'string'))]
    const described = names.length > 0 ? await describeTopics(ctx, names, options) : []
    partitions = [
      ...described.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition }))),
      ...options.topics.filter((t): t is TopicPartitionRef => typeof t !== 'string'),
    ]
  }
  partitions = [...new Map(partitions.map((p) => [tpKey(p.topic, p.partition), p])).values()].sort(byPartition)
  if (partitions.length === 0) return []
  const ask = (spec: OffsetSpec) =>
    listOffsets(
      ctx,
      partitions.map((p) => ({ ...p, spec })),
      options,
    )
  const [earliest, latest] = await Promise.all([ask('earliest'), ask('latest')])
  const byTime = target.to === 'timestamp' ? await ask({ timestamp: target.timestamp }) : undefined
  const plan = partitions.map((p, i): OffsetReset => {
    const low = earliest[i]!.offset ?? 0n
    const high = latest[i]!.offset ?? low
    const clamp = (o: bigint): bigint => (o < low ? low : o > high ? high : o)
    const before = previous.get(tpKey(p.topic, p.partition)) ?? null
    let offset: bigint
    if (target.to === 'earliest') offset = low
    else if (target.to === 'latest') offset = high
    else if (target.to === 'timestamp') offset = byTime![i]!.offset ?? high
    else if (target.to === 'offset') offset = clamp(BigInt(target.offset))
    else offset = clamp((before ?? low) + BigInt(target.by))
    return { topic: p.topic, partition: p.partition, previous: before, offset }
  })
  if (options.dryRun !== true) await alterGroupOffsets(ctx, groupId, plan, options)
  return plan
}

/** The group's state; 'Dead' when the coordinator does not know it. */
async function groupState(ctx: AdminContext, groupId: string, options: AdminCallOptions): Promise<string> {
  try {
    const [group] = await describeGroups(ctx, [groupId], options)
    return group!.state
  } catch (err) {
    const inner = err instanceof AdminBatchError ? err.errors.get(groupId) : undefined
    if (inner instanceof KafkaError && inner.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) return 'Dead'
    throw err
  }
}

export interface PartitionLag extends TopicPartitionRef {
  /** null: the group committed nothing for this partition (it is assigned, not yet committed). */
  committedOffset: bigint | null
  /** The high watermark, or the last stable offset with read_committed. */
  endOffset: bigint
  /** endOffset - committedOffset (never negative); null when nothing is committed. */
  lag: bigint | null
  /** The member the partition is assigned to, if any. */
  memberId: string | null
  clientId: string | null
  host: string | null
}

export interface GroupLag {
  groupId: string
  state: string
  /** Sum of the partitions' lag (partitions without a commit count 0). */
  totalLag: bigint
  partitions: PartitionLag[]
}

/**
 * A group's lag per partition: committed offsets against the log end (high watermark; the LSO
 * with read_committed, which is where a read_committed consumer stops), for every partition the
 * group committed or has assigned. Like kafka-consumer-groups.sh --describe.
 */
export async function groupLag(
  ctx: AdminContext,
  groupId: string,
  options: ListOffsetsOptions = {},
): Promise<GroupLag> {
  const [group] = await describeGroups(ctx, [groupId], options)
  const committed = await committedOffsets(ctx, groupId, options)
  const owners = new Map<string, { memberId: string; clientId: string; host: string }>()
  for (const m of group!.members) {
    for (const a of m.assignment) {
      for (const p of a.partitions)
        owners.set(tpKey(a.topic, p), { memberId: m.memberId, clientId: m.clientId, host: m.clientHost })
    }
  }
  const rows = new Map<string, TopicPartitionRef & { committedOffset: bigint | null }>()
  for (const c of committed)
    rows.set(tpKey(c.topic, c.partition), { topic: c.topic, partition: c.partition, committedOffset: c.offset })
  for (const m of group!.members) {
    for (const a of m.assignment) {
      for (const p of a.partitions) {
        const key = tpKey(a.topic, p)
        if (!rows.has(key)) rows.set(key, { topic: a.topic, partition: p, committedOffset: null })
      }
    }
  }
  const list = [...rows.values()].sort(byPartition)
  const ends =
    list.length === 0
      ? []
      : await listOffsets(
          ctx,
          list.map((r) => ({ ...r, spec: 'latest' as const })),
          options,
        )
  let totalLag = 0n
  const partitions = list.map((r, i): PartitionLag => {
    const endOffset = ends[i]!.offset ?? 0n
    const lag = r.committedOffset === null ? null : endOffset > r.committedOffset ? endOffset - r.committedOffset : 0n
    if (lag !== null) totalLag += lag
    const owner = owners.get(tpKey(r.topic, r.partition))
    return {
      topic: r.topic,
      partition: r.partition,
      committedOffset: r.committedOffset,
      endOffset,
      lag,
      memberId: owner?.memberId ?? null,
      clientId: owner?.clientId ?? null,
      host: owner?.host ?? null,
    }
  })
  return { groupId, state: group!.state, totalLag, partitions }
}
