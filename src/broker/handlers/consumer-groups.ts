// The KIP-848 consumer group protocol: ConsumerGroupHeartbeat (68, v0-1) and ConsumerGroupDescribe
// (69, v0-1). The coordinator is consumer-groups.ts; these handlers check the coordinator and
// translate topic ids.

import { ErrorCode } from '../../protocol/error-codes.js'
import { ConsumerGroupDescribe } from '../../protocol/messages/consumer-group-describe.js'
import { ConsumerGroupHeartbeat } from '../../protocol/messages/consumer-group-heartbeat.js'
import { addPartition, type Assignment } from '../consumer-group-state.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed, authorizedOperations } from './authz.js'
import { GROUP_AUTHORIZED_OPERATIONS } from './groups.js'
import { groupCoordinatorError } from './find-coordinator.js'
import { clientHost, describedAssignment, heartbeatAnswer } from './member-assignments.js'
import { defineHandler } from './types.js'

function toAssignment(tps: { topicId: string; partitions: number[] }[] | null): Assignment | null {
  if (tps === null) return null
  const a: Assignment = new Map()
  for (const tp of tps) for (const p of tp.partitions) addPartition(a, tp.topicId, p)
  return a
}

export const consumerGroupHeartbeatHandler = defineHandler({
  api: ConsumerGroupHeartbeat,
  handle(ctx, req) {
    const coord = req.groupId === '' ? 0 : groupCoordinatorError(ctx, req.groupId)
    // A request-level error is getErrorResponse: member epoch 0, the schema default (as Kafka 4.4.0 answers).
    if (coord !== 0) return { errorCode: coord, memberEpoch: 0 }
    // Kafka 4.4: subscribing by name to a topic the principal may not DESCRIBE fails the
    // heartbeat (TOPIC_AUTHORIZATION_FAILED, epoch 0, no member id; seen on Kafka 4.4.0).
    const names = req.subscribedTopicNames ?? []
    if (names.some((name) => !allowed(ctx, ResourceType.TOPIC, name, AclOperation.DESCRIBE)))
      return { throttleTimeMs: 0, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, memberId: null, memberEpoch: 0 }
    const r = ctx.cluster.consumerGroups.heartbeat({
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      instanceId: req.instanceId,
      rackId: req.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      subscribedTopicNames: req.subscribedTopicNames,
      subscribedTopicRegex: ctx.version >= 1 ? req.subscribedTopicRegex : null,
      serverAssignor: req.serverAssignor,
      owned: toAssignment(req.topicPartitions),
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHost(ctx),
      version: ctx.version,
    })
    return heartbeatAnswer(r)
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, memberEpoch: 0 }
  },
})

export const consumerGroupDescribeHandler = defineHandler({
  api: ConsumerGroupDescribe,
  handle(ctx, req) {
    const { cluster } = ctx
    // Only a described group carries the principal's operations on it (KafkaApis).
    const ops = -2147483648
    const named = (a: Assignment) => describedAssignment(cluster, a)
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((groupId) => {
        const empty = { groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [] }
        const error =
          groupId === '' ? ErrorCode.INVALID_GROUP_ID : groupCoordinatorError(ctx, groupId, AclOperation.DESCRIBE)
        if (error !== 0) return { ...empty, errorCode: error, authorizedOperations: ops }
        const g = cluster.consumerGroups.get(groupId)
        if (g === undefined) {
          const message = cluster.groups.get(groupId)?.hasMembers === true ? 'is not a consumer group' : 'not found'
          return {
            ...empty,
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: `Group ${groupId} ${message}.`,
            authorizedOperations: ops,
          }
        }
        return {
          errorCode: 0,
          groupId,
          groupState: g.state(),
          groupEpoch: g.groupEpoch,
          assignmentEpoch: g.assignmentEpoch,
          assignorName: g.assignorName(),
          authorizedOperations: req.includeAuthorizedOperations
            ? authorizedOperations(ctx, ResourceType.GROUP, groupId, GROUP_AUTHORIZED_OPERATIONS)
            : ops,
          members: [...g.members.values()].map((m) => ({
            memberId: m.memberId,
            instanceId: m.instanceId,
            rackId: m.rackId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopicNames: m.subscribedTopicNames,
            subscribedTopicRegex: m.subscribedTopicRegex ?? '',
            assignment: named(m.assigned),
            targetAssignment: named(g.target.get(m.memberId) ?? new Map()),
            // KIP-1099: 0 a classic-protocol member (JoinGroup/SyncGroup), 1 a consumer-protocol one.
            memberType: m.classic === null ? 1 : 0,
          })),
        }
      }),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      groups: req.groupIds.map((groupId) => ({
        errorCode,
        groupId,
        groupState: '',
        groupEpoch: 0,
        assignmentEpoch: 0,
        assignorName: '',
        members: [],
      })),
    }
  },
})
