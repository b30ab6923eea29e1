// Whether the topics a Reader reads exist (issue 11: nothing is silent). It reads the metadata
// cache, which the fetcher and the group membership keep refreshing, so it sends nothing itself.

import type { KafkaClient } from '../cluster/client.js'
import { sleep } from '../cluster/retry.js'
import type { Logger } from '../logger.js'
import { ErrorCode } from '../protocol/error-codes.js'
import type { TopicPartition } from './config.js'
import { UnknownTopicError } from './errors.js'

export interface TopicWatchOptions {
  client: KafkaClient
  /** Direct mode: the one partition read. */
  direct: TopicPartition | undefined
  /** Group mode: the subscription. */
  topics: readonly string[]
  metadataTimeout: number
  logger: Logger
  /** Ends the watch (the Reader closed). */
  signal: AbortSignal
  /** Direct mode: the error reads reject with from now on (null: none any more). */
  setUnknown(error: UnknownTopicError | null): void
}

/**
 * Missing (a broker answered UNKNOWN_TOPIC_OR_PARTITION, or the partition is not there): a
 * warning, and after metadataTimeout a direct Reader's reads reject with UnknownTopicError until
 * it appears. A group Reader only warns (again every metadataTimeout): as in Java, it waits for
 * the topic. Ends once every topic was seen.
 */
export async function watchTopics(o: TopicWatchOptions): Promise<void> {
  const { signal, logger, direct } = o
  const timeout = o.metadataTimeout
  const poll = Math.min(500, Math.max(10, Math.floor(timeout / 4)))
  let since: number | null = null
  let warned = 0
  let unknown: UnknownTopicError | null = null
  while (!signal.aborted) {
    const missing = missingTopics(o)
    const now = Date.now()
    if (missing.length === 0) {
      if (unknown !== null) {
        logger.info({ topic: direct?.topic }, 'the topic exists now')
        unknown = null
        o.setUnknown(null)
      }
      since = null
      if (allKnown(o)) return
    } else {
      since ??= now
      if (direct !== undefined && unknown === null && now - since >= timeout) {
        const partition =
          o.client.metadata.topic(direct.topic)?.errorCode === ErrorCode.NONE ? direct.partition : undefined
        unknown = new UnknownTopicError(direct.topic, partition, now - since)
        logger.error({ err: unknown }, 'reads reject: the topic or partition does not exist')
        o.setUnknown(unknown)
      } else if (now - warned >= timeout) {
        warned = now
        logger.warn(
          { topics: missing, err: new UnknownTopicError(missing[0]!, undefined, now - since) },
          'topic does not exist; waiting for it',
        )
      }
    }
    await sleep(poll, signal).catch(() => {})
  }
}

/** Every topic read (direct: the partition too) is in the metadata. */
function allKnown(o: TopicWatchOptions): boolean {
  const metadata = o.client.metadata
  if (o.direct !== undefined) return metadata.partition(o.direct.topic, o.direct.partition) !== undefined
  return o.topics.every((t) => metadata.topic(t)?.errorCode === ErrorCode.NONE)
}

/** Topics (direct: the partition's topic) a broker said do not exist. */
function missingTopics(o: TopicWatchOptions): string[] {
  const metadata = o.client.metadata
  if (o.direct !== undefined) {
    const { topic, partition } = o.direct
    const info = metadata.topic(topic)
    if (info === undefined) return []
    if (info.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return [topic]
    if (info.errorCode === ErrorCode.NONE && metadata.partition(topic, partition) === undefined) return [topic]
    return []
  }
  return o.topics.filter((t) => metadata.topic(t)?.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
}
