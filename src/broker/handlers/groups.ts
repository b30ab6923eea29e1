// The classic group protocol: JoinGroup (11, v2-9), SyncGroup (14, v0-5), Heartbeat (12, v0-4),
// LeaveGroup (13, v0-5), DescribeGroups (15, v0-6), ListGroups (16, v0-5), DeleteGroups (42, v0-2).
// The state machine lives in groups.ts; these handlers check the coordinator and translate.
// Every group request must reach the group's coordinator (NOT_COORDINATOR otherwise) and
// carry a non-empty group id (INVALID_GROUP_ID).

import { ErrorCode } from '../../protocol/error-codes.js'
import { DeleteGroups } from '../../protocol/messages/delete-groups.js'
import { DescribeGroups } from '../../protocol/messages/describe-groups.js'
import { Heartbeat } from '../../protocol/messages/heartbeat.js'
import { JoinGroup } from '../../protocol/messages/join-group.js'
import { LeaveGroup } from '../../protocol/messages/leave-group.js'
import { ListGroups } from '../../protocol/messages/list-groups.js'
import { SyncGroup } from '../../protocol/messages/sync-group.js'
import type { JoinResult } from '../group-state.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed, authorizedOperations, clusterAllowed } from './authz.js'
import { groupCoordinatorError } from './find-coordinator.js'
import { defineHandler, type RequestContext } from './types.js'

/** The operations Kafka 4.4 reports on a group: READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS. */
export const GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11)
const NOT_REQUESTED = -2147483648

function groupError(ctx: RequestContext, groupId: string, operation: number = AclOperation.READ): number {
  if (groupId === '') return ErrorCode.INVALID_GROUP_ID
  return groupCoordinatorError(ctx, groupId, operation)
}

function clientHost(ctx: RequestContext): string {
  return `/${ctx.connection.remoteAddress.replace(/^::ffff:/, '')}`
}

function joinResponse(version: number, r: JoinResult) {
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    generationId: r.generationId,
    protocolType: version >= 7 ? r.protocolType : null,
    // protocol_name is nullable only from v7.
    protocolName: version >= 7 ? r.protocolName : (r.protocolName ?? ''),
    leader: r.leader,
    skipAssignment: false,
    memberId: r.memberId,
    members: r.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: version >= 5 ? m.groupInstanceId : null,
      metadata: m.metadata,
    })),
  }
}

export const joinGroupHandler = defineHandler({
  api: JoinGroup,
  async handle(ctx, req) {
    const error = groupError(ctx, req.groupId)
    if (error !== 0)
      return joinResponse(ctx.version, {
        errorCode: error,
        generationId: -1,
        protocolType: null,
        protocolName: null,
        leader: '',
        memberId: req.memberId,
        members: [],
      })
    const join = {
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: ctx.version >= 5 ? req.groupInstanceId : null,
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHost(ctx),
      sessionTimeoutMs: req.sessionTimeoutMs,
      // v0 has no rebalance timeout: the session timeout stands in (KafkaApis; Kafka 4.4 serves v0-1 again).
      rebalanceTimeoutMs: ctx.version >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      requireKnownMemberId: ctx.version >= 4,
    }
    // A KIP-848 group: the member joins it as a classic member; an empty one becomes a classic group.
    const consumer = ctx.cluster.consumerGroups.get(req.groupId)
    if (consumer !== undefined) {
      if (consumer.members.size > 0)
        return joinResponse(ctx.version, ctx.cluster.consumerGroups.migration.join(consumer, join))
      ctx.cluster.consumerGroups.delete(req.groupId)
    }
    return joinResponse(ctx.version, await ctx.cluster.groups.join(join))
  },
  errorResponse(ctx, req, errorCode) {
    return joinResponse(ctx.version, {
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      memberId: req.memberId,
      members: [],
    })
  },
})

export const syncGroupHandler = defineHandler({
  api: SyncGroup,
  async handle(ctx, req) {
    const error = groupError(ctx, req.groupId)
    if (error !== 0) return { errorCode: error, assignment: Buffer.alloc(0) }
    // From v5 the protocol type and name are mandatory (SyncGroupRequest.areMandatoryProtocolTypeAndNamePresent).
    if (ctx.version >= 5 && (req.protocolType === null || req.protocolName === null)) {
      return { errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, assignment: Buffer.alloc(0) }
    }
    const consumer = ctx.cluster.consumerGroups.get(req.groupId)
    const r =
      consumer !== undefined
        ? ctx.cluster.consumerGroups.migration.sync(
            consumer,
            req.generationId,
            req.memberId,
            ctx.version >= 3 ? req.groupInstanceId : null,
            ctx.version >= 5 ? req.protocolType : null,
            ctx.version >= 5 ? req.protocolName : null,
          )
        : await ctx.cluster.groups.sync(
            req.groupId,
            req.generationId,
            req.memberId,
            ctx.version >= 3 ? req.groupInstanceId : null,
            ctx.version >= 5 ? req.protocolType : null,
            ctx.version >= 5 ? req.protocolName : null,
            req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
          )
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      protocolType: ctx.version >= 5 ? r.protocolType : null,
      protocolName: ctx.version >= 5 ? r.protocolName : null,
      assignment: r.assignment,
    }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, assignment: Buffer.alloc(0) }
  },
})

export const heartbeatHandler = defineHandler({
  api: Heartbeat,
  handle(ctx, req) {
    const error = groupError(ctx, req.groupId)
    if (error !== 0) return { errorCode: error }
    const instanceId = ctx.version >= 3 ? req.groupInstanceId : null
    const consumer = ctx.cluster.consumerGroups.get(req.groupId)
    if (consumer !== undefined)
      return {
        throttleTimeMs: 0,
        errorCode: ctx.cluster.consumerGroups.migration.heartbeat(consumer, req.generationId, req.memberId, instanceId),
      }
    return {
      throttleTimeMs: 0,
      errorCode: ctx.cluster.groups.heartbeat(
        req.groupId,
        req.generationId,
        req.memberId,
        ctx.version >= 3 ? req.groupInstanceId : null,
      ),
    }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode }
  },
})

export const leaveGroupHandler = defineHandler({
  api: LeaveGroup,
  handle(ctx, req) {
    const v3 = ctx.version >= 3
    const leaving = v3
      ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
      : [{ memberId: req.memberId, groupInstanceId: null }]
    const error = groupError(ctx, req.groupId)
    if (error !== 0) return { errorCode: error, members: [] }
    const consumer = ctx.cluster.consumerGroups.get(req.groupId)
    const r =
      consumer !== undefined
        ? { errorCode: 0, members: ctx.cluster.consumerGroups.migration.leave(consumer, leaving) }
        : ctx.cluster.groups.leave(req.groupId, leaving)
    if (!v3) return { throttleTimeMs: 0, errorCode: r.errorCode !== 0 ? r.errorCode : (r.members[0] ?? 0) }
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      members:
        r.errorCode !== 0
          ? []
          : leaving.map((l, i) => ({
              memberId: l.memberId,
              groupInstanceId: l.groupInstanceId,
              errorCode: r.members[i] ?? 0,
            })),
    }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, members: [] }
  },
})

export const describeGroupsHandler = defineHandler({
  api: DescribeGroups,
  handle(ctx, req) {
    const { version, cluster } = ctx
    // A described group carries the principal's operations on it; a failed one Kafka's default.
    const include = version >= 3 && req.includeAuthorizedOperations
    const opsOf = (groupId: string): number =>
      include ? authorizedOperations(ctx, ResourceType.GROUP, groupId, GROUP_AUTHORIZED_OPERATIONS) : NOT_REQUESTED
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((groupId) => {
        const error = groupError(ctx, groupId, AclOperation.DESCRIBE)
        const base = {
          groupId,
          protocolType: '',
          protocolData: '',
          members: [],
          authorizedOperations: NOT_REQUESTED,
          errorMessage: null,
        }
        if (error !== 0) return { ...base, errorCode: error, groupState: '' }
        const g = cluster.groups.get(groupId)
        if (g === undefined) {
          // KIP-1043: v6 reports GROUP_ID_NOT_FOUND; older versions describe a Dead group.
          return version >= 6
            ? {
                ...base,
                errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
                errorMessage: `Group ${groupId} not found.`,
                groupState: 'Dead',
              }
            : { ...base, errorCode: 0, groupState: 'Dead', authorizedOperations: opsOf(groupId) }
        }
        const stable = g.state === 'Stable'
        return {
          ...base,
          errorCode: 0,
          authorizedOperations: opsOf(groupId),
          groupState: g.state,
          protocolType: g.protocolType ?? '',
          protocolData: stable ? (g.protocolName ?? '') : '',
          members: [...g.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: version >= 4 ? m.groupInstanceId : null,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: stable
              ? (m.protocols.find((p) => p.name === g.protocolName)?.metadata ?? Buffer.alloc(0))
              : Buffer.alloc(0),
            memberAssignment: stable ? m.assignment : Buffer.alloc(0),
          })),
        }
      }),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      groups: req.groups.map((groupId) => ({
        errorCode,
        groupId,
        groupState: '',
        protocolType: '',
        protocolData: '',
        members: [],
      })),
    }
  },
})

export const listGroupsHandler = defineHandler({
  api: ListGroups,
  handle(ctx, req) {
    const states = ctx.version >= 4 ? req.statesFilter.map((s) => s.toLowerCase()) : []
    const types = ctx.version >= 5 ? req.typesFilter.map((s) => s.toLowerCase()) : []
    const groups = []
    // Kafka lists every group to DESCRIBE on the cluster, else those the principal may describe.
    const all = clusterAllowed(ctx, AclOperation.DESCRIBE)
    const hidden = (groupId: string): boolean =>
      !all && !allowed(ctx, ResourceType.GROUP, groupId, AclOperation.DESCRIBE)
    for (const g of ctx.cluster.consumerGroups.groups.values()) {
      if (ctx.cluster.coordinatorFor(g.groupId)?.id !== ctx.broker.id || hidden(g.groupId)) continue
      const state = g.state()
      if (states.length > 0 && !states.includes(state.toLowerCase())) continue
      if (types.length > 0 && !types.includes('consumer')) continue
      groups.push({
        groupId: g.groupId,
        protocolType: 'consumer',
        groupState: ctx.version >= 4 ? state : '',
        groupType: ctx.version >= 5 ? 'consumer' : '',
      })
    }
    for (const g of ctx.cluster.groups.groups.values()) {
      if (ctx.cluster.coordinatorFor(g.groupId)?.id !== ctx.broker.id || hidden(g.groupId)) continue
      // The offsets of a consumer group live in the classic store: listed once, above.
      if (ctx.cluster.consumerGroups.get(g.groupId) !== undefined) continue
      if (states.length > 0 && !states.includes(g.state.toLowerCase())) continue
      if (types.length > 0 && !types.includes('classic')) continue
      groups.push({
        groupId: g.groupId,
        protocolType: g.protocolType ?? '',
        groupState: ctx.version >= 4 ? g.state : '',
        groupType: ctx.version >= 5 ? 'classic' : '',
      })
    }
    return { throttleTimeMs: 0, errorCode: 0, groups }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, groups: [] }
  },
})

export const deleteGroupsHandler = defineHandler({
  api: DeleteGroups,
  handle(ctx, req) {
    return {
      throttleTimeMs: 0,
      results: req.groupsNames.map((groupId) => {
        const error = groupError(ctx, groupId, AclOperation.DELETE)
        if (error !== 0) return { groupId, errorCode: error }
        const consumer = ctx.cluster.consumerGroups.get(groupId)
        if (consumer !== undefined) {
          if (consumer.members.size > 0) return { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP }
          ctx.cluster.consumerGroups.delete(groupId)
          if (ctx.cluster.groups.get(groupId) === undefined) return { groupId, errorCode: 0 }
        }
        return { groupId, errorCode: ctx.cluster.groups.deleteGroup(groupId) }
      }),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    return { results: req.groupsNames.map((groupId) => ({ groupId, errorCode })) }
  },
})
