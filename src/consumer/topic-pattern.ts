// Regular-expression subscription for the classic group protocol, resolved on the client (Java's
// subscribe(Pattern) with group.protocol=classic): the topics the cluster has are listed with an
// all-topics Metadata request and the member subscribes to those whose whole name matches.
// Internal topics (__consumer_offsets, __transaction_state, ...) are left out, as Java's
// exclude.internal.topics=true does. The group re-lists them on its partition-watch interval and
// rejoins when the set changes, so topics created later join on the next refresh.

import type { KafkaClient } from '../cluster/client.js'
import { ConfigError } from '../errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { Metadata } from '../protocol/messages/index.js'

/** The pattern as a RegExp that must match the whole topic name (Java's Matcher.matches). */
export function compileTopicPattern(source: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`)
  } catch (err) {
    throw new ConfigError('topicPattern', `is not a valid regular expression: ${(err as Error).message}`)
  }
}

/** Names of the non-internal topics that match, sorted. */
export async function matchingTopics(client: KafkaClient, pattern: RegExp, signal: AbortSignal): Promise<string[]> {
  const response = await client.requestTo(
    client.anyBroker(),
    Metadata,
    { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false },
    { signal, workload: 'group' },
  )
  return response.topics
    .filter((t) => t.errorCode === ErrorCode.NONE && !t.isInternal && t.name !== null && pattern.test(t.name))
    .map((t) => t.name!)
    .sort()
}
