// Share group membership (KIP-932): ShareGroupHeartbeat (76, v1) and ShareGroupDescribe (77, v1).
// The coordinator is share-groups.ts; these handlers check the coordinator and translate topic
// ids. Without `shareGroups` (share.version 0) the share APIs are still advertised, and every
// request answers UNSUPPORTED_VERSION, as Kafka 4.4.0 does.

import { ErrorCode } from '../../protocol/error-codes.js'
import { ShareGroupDescribe } from '../../protocol/messages/share-group-describe.js'
import { ShareGroupHeartbeat } from '../../protocol/messages/share-group-heartbeat.js'
import { AclOperation, ResourceType } from '../acls.js'
import type { ShareAssignment } from '../share-groups.js'
import { allowed, authorizedOperations } from './authz.js'
import { groupCoordinatorError } from './find-coordinator.js'
import { GROUP_AUTHORIZED_OPERATIONS } from './groups.js'
import { clientHost, describedAssignment, heartbeatAnswer } from './member-assignments.js'
import { defineHandler } from './types.js'

export const shareGroupHeartbeatHandler = defineHandler({
  api: ShareGroupHeartbeat,
  handle(ctx, req) {
    if (!ctx.cluster.options.shareGroups) return { errorCode: ErrorCode.UNSUPPORTED_VERSION, memberEpoch: 0 }
    const coord = req.groupId === '' ? 0 : groupCoordinatorError(ctx, req.groupId)
    if (coord !== 0) return { errorCode: coord, memberEpoch: 0 }
    const names = req.subscribedTopicNames ?? []
    if (names.some((name) => !allowed(ctx, ResourceType.TOPIC, name, AclOperation.DESCRIBE)))
      return { throttleTimeMs: 0, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, memberId: null, memberEpoch: 0 }
    const r = ctx.cluster.shares.groups.heartbeat({
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      rackId: req.rackId,
      subscribedTopicNames: req.subscribedTopicNames,
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHost(ctx),
    })
    return heartbeatAnswer(r)
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, memberEpoch: 0 }
  },
})

export const shareGroupDescribeHandler = defineHandler({
  api: ShareGroupDescribe,
  handle(ctx, req) {
    const { cluster } = ctx
    if (!cluster.options.shareGroups) return describeFailure(req.groupIds, ErrorCode.UNSUPPORTED_VERSION)
    const ops = -2147483648
    const named = (a: ShareAssignment) => describedAssignment(cluster, a)
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((groupId) => {
        const empty = { groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [] }
        const error =
          groupId === '' ? ErrorCode.INVALID_GROUP_ID : groupCoordinatorError(ctx, groupId, AclOperation.DESCRIBE)
        if (error !== 0) return { ...empty, errorCode: error, authorizedOperations: ops }
        const g = cluster.shares.groups.get(groupId)
        if (g === undefined) {
          return {
            ...empty,
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: `Group ${groupId} not found.`,
            authorizedOperations: ops,
          }
        }
        return {
          errorCode: 0,
          groupId,
          groupState: g.state(),
          groupEpoch: g.groupEpoch,
          assignmentEpoch: g.assignmentEpoch,
          assignorName: 'simple',
          authorizedOperations: req.includeAuthorizedOperations
            ? authorizedOperations(ctx, ResourceType.GROUP, groupId, GROUP_AUTHORIZED_OPERATIONS)
            : ops,
          members: [...g.members.values()].map((m) => ({
            memberId: m.memberId,
            rackId: m.rackId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopicNames: m.subscribedTopicNames,
            assignment: named(m.assignment),
          })),
        }
      }),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    return describeFailure(req.groupIds, errorCode)
  },
})

function describeFailure(groupIds: string[], errorCode: number) {
  return {
    groups: groupIds.map((groupId) => ({
      errorCode,
      groupId,
      groupState: '',
      groupEpoch: 0,
      assignmentEpoch: 0,
      assignorName: '',
      members: [],
    })),
  }
}
