// The Reader's group membership for its configuration: classic, or KIP-848's consumer protocol
// wrapped to fall back to classic when the coordinator lacks ConsumerGroupHeartbeat.

import type { KafkaClient } from '../cluster/client.js'
import type { RetryPolicy } from '../cluster/retry.js'
import type { Logger } from '../logger.js'
import type { ResolvedReaderConfig } from './config.js'
import { ConsumerGroupMembership } from './consumer-group.js'
import { compileTopicPattern } from './topic-pattern.js'
import type { Coordinator } from './coordinator.js'
import { GroupMembership, type GroupHooks } from './group.js'
import { FallbackMembership, type Membership } from './membership.js'
import type { ReaderStatsCollector } from './stats.js'

export interface MembershipDeps {
  client: KafkaClient
  coordinator: Coordinator
  backoff: RetryPolicy
  stats: ReaderStatsCollector
  logger: Logger | undefined
  hooks: GroupHooks
}

export function createMembership(c: ResolvedReaderConfig, d: MembershipDeps): Membership {
  const common = {
    client: d.client,
    coordinator: d.coordinator,
    groupId: c.groupId!,
    groupInstanceId: c.groupInstanceId,
    rack: c.rack === '' ? null : c.rack,
    topics: c.topics,
    rebalanceTimeout: c.rebalanceTimeout,
    requestTimeout: c.requestTimeout,
    startOffset: c.startOffset,
    backoff: d.backoff,
    stats: d.stats,
    onAssign: c.onAssign,
    onRevoke: c.onRevoke,
    onLost: c.onLost,
    logger: d.logger,
  }
  const classic = (): Membership =>
    new GroupMembership(
      {
        ...common,
        balancers: c.groupBalancers,
        protocol: c.rebalanceProtocol,
        sessionTimeout: c.sessionTimeout,
        heartbeatInterval: c.heartbeatInterval,
        partitionWatchInterval: c.partitionWatchInterval,
        // Client-side regex subscription (the consumer protocol resolves it on the coordinator).
        topicPattern: c.topicPattern === null ? null : compileTopicPattern(c.topicPattern),
      },
      d.hooks,
    )
  if (c.groupProtocol !== 'consumer') return classic()
  const consumer = (fallBack: () => void): Membership =>
    new ConsumerGroupMembership(
      {
        ...common,
        topicPattern: c.topicPattern,
        remoteAssignor: c.groupRemoteAssignor,
        // A regex subscription falls back too: the classic membership resolves it on the client.
        fallBack,
      },
      d.hooks,
    )
  return new FallbackMembership(consumer, classic)
}
