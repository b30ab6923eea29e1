// Building a Reader's parts from its config (client, fetcher, group membership, commit pipeline
// and the Reader's own read, commit, position and lookup sides, wired to each other) and taking
// them down again on close. Split from reader.ts, whose constructor and close() call these.

import { KafkaClient, type ClientSharing } from '../cluster/client.js'
import type { RetryPolicy } from '../cluster/retry.js'
import { createDefaultLogger, safeLogger, type Logger } from '../logger.js'
import { ConsumerTracing } from '../telemetry/consumer-tracing.js'
import { tracerOf } from '../telemetry/otel-types.js'
import { OffsetCommitter } from './commits.js'
import { resolveReaderConfig, type ReaderConfig, type ResolvedReaderConfig, type TopicPartition } from './config.js'
import { Coordinator } from './coordinator.js'
import { createMembership } from './create-membership.js'
import { PollIntervalExceededError } from './errors.js'
import { Fetcher } from './fetcher.js'
import type { GroupHooks } from './group.js'
import { HandOuts } from './handout.js'
import type { Membership } from './membership.js'
import { ConsumerMetrics } from './metrics.js'
import { MessageQueue } from './queue.js'
import { ReaderCommits } from './reader-commits.js'
import { ReaderLookups } from './reader-lookups.js'
import { ReaderPositions } from './reader-positions.js'
import { ReaderReads } from './reader-reads.js'
import { ReaderStatsCollector } from './stats.js'
import { deadlineSignal } from './wait.js'

/** What the parts need of the Reader object itself. */
export interface ReaderOwner {
  /** A warn/error log line carried this error: dispatch it as an 'error' event. */
  dispatchError: (error: Error) => void
  /** The partitions read now (direct mode: the one partition; group mode: the assignment). */
  assignment: () => TopicPartition[]
}

export interface ReaderParts {
  config: ResolvedReaderConfig
  client: KafkaClient
  log: Logger
  stats: ReaderStatsCollector
  metrics: ConsumerMetrics
  queue: MessageQueue
  fetcher: Fetcher
  /** Group mode only (null for a direct Reader), as the three below. */
  group: Membership | null
  committer: OffsetCommitter | null
  /** Records handed out and not done with (rebalances and maxPollInterval wait on them). */
  handOuts: HandOuts | null
  commitTimer: NodeJS.Timeout | null
  reads: ReaderReads
  commits: ReaderCommits
  positions: ReaderPositions
  lookups: ReaderLookups
}

export function assembleReader(
  config: ReaderConfig,
  sharing: ClientSharing | undefined,
  owner: ReaderOwner,
): ReaderParts {
  const c = resolveReaderConfig(config)
  const log = safeLogger(c.logger ?? createDefaultLogger(), (fields) => {
    // warn/error lines carrying an Error become 'error' events.
    const err = fields?.err
    if (err instanceof Error) owner.dispatchError(err)
  }).child({
    client: 'reader',
    ...(c.groupId !== undefined ? { groupId: c.groupId } : {}),
  })
  const client = new KafkaClient(c.client, sharing)
  const stats = new ReaderStatsCollector()
  client.pool.onDial = (ms) => stats.dialTime.observe(ms)
  const metrics = (stats.metrics = new ConsumerMetrics(client.clientId, client.pool, {
    lags: () => fetcher.lag(),
    assignedPartitions: () => owner.assignment().length,
    groupId: c.groupId,
  }))
  const tracer = tracerOf(c.telemetry)
  const tracing = tracer === null ? null : new ConsumerTracing(tracer, client.clientId, c.groupId)
  const backoff: RetryPolicy = {
    maxAttempts: c.maxAttempts,
    backoffMs: c.readBackoffMin,
    backoffMaxMs: c.readBackoffMax,
    jitter: 0.2,
  }
  const queue = new MessageQueue(c.queueCapacityBytes)
  // Set in group mode below; the callbacks that use them only run once the Reader is built.
  let group: Membership | null = null
  let committer: OffsetCommitter | null = null
  let commits: ReaderCommits | null = null
  const handOuts =
    c.direct !== undefined
      ? null
      : new HandOuts(c.maxPollInterval, () => {
          group?.leaveForPollTimeout(new PollIntervalExceededError(c.maxPollInterval))
        })
  const reads = new ReaderReads({ queue, stats, metrics, tracing, handOuts, resumeGroup: () => group?.resume() })
  const fetcher = new Fetcher({
    client,
    queue,
    stats,
    isolationLevel: c.isolationLevel,
    checkCrcs: c.checkCrcs,
    fetchSessions: c.fetchSessions,
    rack: c.rack,
    minBytes: c.minBytes,
    maxBytes: c.maxBytes,
    partitionMaxBytes: c.partitionMaxBytes,
    maxWait: c.maxWait,
    requestTimeout: c.requestTimeout,
    resetTo: c.startOffset,
    backoff,
    logger: log,
  })

  let commitTimer: NodeJS.Timeout | null = null
  if (c.direct !== undefined) {
    client.metadata.addTopics([c.direct.topic])
    fetcher.assign([{ ...c.direct, offset: null, resetTo: c.startOffset }])
  } else {
    client.metadata.addTopics(c.topics)
    const coordinator = new Coordinator(client, c.groupId!, backoff, log)
    const hooks: GroupHooks = {
      // KIP-320: a start from a committed offset is validated against the epoch committed with it.
      assign: (starts) =>
        fetcher.assign(
          starts.map((s) => ({
            ...s,
            leaderEpoch: committer?.committedLeaderEpoch(s.topic, s.partition) ?? -1,
          })),
        ),
      revoke: (partitions) => {
        fetcher.revoke(partitions)
        handOuts!.forget(partitions)
      },
      stopFetching: (partitions) => fetcher.revoke(partitions),
      awaitDone: (partitions, timeoutMs, signal) => handOuts!.waitDone(partitions, timeoutMs, signal),
      fail: (error) => reads.fail(error),
      report: (error) => reads.report(error),
    }
    const membership = createMembership(c, { client, coordinator, backoff, stats, logger: log, hooks })
    group = membership
    const groupCommitter = new OffsetCommitter(coordinator, membership, backoff, stats, {
      requestTimeout: c.requestTimeout,
      commitTimeout: c.commitTimeout,
      logger: log,
      beforeFlush: () => commits?.markUnmarked(),
    })
    committer = groupCommitter
    membership.start(groupCommitter)
    queue.onSkip = (cursor) => groupCommitter.skipped(cursor, c.commitInterval === 0)
    if (c.commitInterval > 0) {
      commitTimer = setInterval(() => void groupCommitter.flush().catch(() => {}), c.commitInterval)
      commitTimer.unref()
    }
  }

  commits = new ReaderCommits({
    committer,
    handOuts,
    fetcher,
    queue,
    commitInterval: c.commitInterval,
    log,
    state: () => reads.state,
  })
  const positions = new ReaderPositions({
    fetcher,
    direct: c.direct,
    topics: c.topics,
    assignment: owner.assignment,
    markUnmarked: () => commits?.markUnmarked(),
    throwIfClosed: () => reads.throwIfClosed(),
    closedSignal: reads.closedSignal,
  })
  const lookups = new ReaderLookups({
    client,
    committer,
    positions,
    isolationLevel: c.isolationLevel,
    requestTimeout: c.requestTimeout,
    backoff,
    assignment: owner.assignment,
    throwIfClosed: () => reads.throwIfClosed(),
    closedSignal: reads.closedSignal,
  })
  return {
    config: c,
    client,
    log,
    stats,
    metrics,
    queue,
    fetcher,
    group,
    committer,
    handOuts,
    commitTimer,
    reads,
    commits,
    positions,
    lookups,
  }
}

/**
 * Reader.close(): commits what is owed and leaves the group (within closeTimeout), stops
 * fetching and closes the connections; waiting reads reject with ClosedError.
 */
export async function closeReader(p: ReaderParts): Promise<void> {
  p.reads.startClosing()
  if (p.commitTimer !== null) clearInterval(p.commitTimer)
  p.handOuts?.close()
  const closeTimeout = p.config.closeTimeout
  const deadline = deadlineSignal(closeTimeout)
  const fetching = p.fetcher.stop()
  try {
    if (p.group !== null) await raceDeadline(p.group.close(deadline), deadline)
  } catch {
    // Best effort within closeTimeout: what was not committed is read again by the next owner.
  }
  p.committer?.stop()
  await fetching
  p.queue.clear()
  // Commits and LeaveGroup are done; what may still be in flight is an abandoned Fetch long
  // poll, which is not worth waiting for.
  await p.client.close(Math.min(200, closeTimeout))
  p.reads.closed()
}

function raceDeadline(promise: Promise<void>, deadline: AbortSignal): Promise<void> {
  if (deadline.aborted) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve()
    deadline.addEventListener('abort', onAbort, { once: true })
    promise.then(
      () => {
        deadline.removeEventListener('abort', onAbort)
        resolve()
      },
      (err: unknown) => {
        deadline.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
