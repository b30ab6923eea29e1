// FindCoordinator (10), v0-6: the broker coordinating a group (key type 0) or a transactional
// id (key type 1). v4+ batches keys. Share-group coordinators (type 2) are not served, which
// Kafka answers with INVALID_REQUEST when share groups are off. With no live coordinator the
// answer is COORDINATOR_NOT_AVAILABLE.

import { ErrorCode, errorInfo } from '../../protocol/error-codes.js'
import { FindCoordinator } from '../../protocol/messages/find-coordinator.js'
import type { Cluster } from '../cluster.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed } from './authz.js'
import { defineHandler, type RequestContext } from './types.js'

const GROUP = 0
const TRANSACTION = 1

function locate(
  cluster: Cluster,
  keyType: number,
  key: string,
  ctx: RequestContext,
): { errorCode: number; nodeId: number; host: string; port: number } {
  const none = (errorCode: number) => ({ errorCode, nodeId: -1, host: '', port: -1 })
  if (keyType !== GROUP && keyType !== TRANSACTION) return none(ErrorCode.INVALID_REQUEST)
  if (keyType === GROUP && !allowed(ctx, ResourceType.GROUP, key, AclOperation.DESCRIBE))
    return none(ErrorCode.GROUP_AUTHORIZATION_FAILED)
  if (keyType === TRANSACTION && !allowed(ctx, ResourceType.TRANSACTIONAL_ID, key, AclOperation.DESCRIBE))
    return none(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  const b = cluster.coordinatorFor(key)
  if (b === undefined) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  return { errorCode: 0, nodeId: b.id, host: b.host, port: b.port }
}

/**
 * For a request about a consumer group: GROUP_AUTHORIZATION_FAILED unless the principal may
 * perform `operation` on it (READ for membership and commits; Kafka checks this first), then
 * NOT_COORDINATOR as coordinatorError, then
 * COORDINATOR_LOAD_IN_PROGRESS while the coordinator loads (coordinator-load.ts), then an
 * error injected with faults.groupError; 0 when the request goes ahead.
 */
export function groupCoordinatorError(
  ctx: RequestContext,
  groupId: string,
  operation: number = AclOperation.READ,
): number {
  if (!allowed(ctx, ResourceType.GROUP, groupId, operation)) return ErrorCode.GROUP_AUTHORIZATION_FAILED
  const error = coordinatorError(ctx, groupId)
  if (error !== 0) return error
  const loading = ctx.cluster.coordinatorLoad.take(ctx.cluster.offsetsPartitionOf(groupId))
  if (loading !== 0) return loading
  return ctx.cluster.faults.takeGroup(groupId, ctx.header.requestApiKey) ?? 0
}

/** NOT_COORDINATOR unless this broker coordinates `key` (0 when it does). */
export function coordinatorError(ctx: RequestContext, key: string): number {
  const b = ctx.cluster.coordinatorFor(key)
  if (b === undefined) return ErrorCode.COORDINATOR_NOT_AVAILABLE
  return b.id === ctx.broker.id ? 0 : ErrorCode.NOT_COORDINATOR
}

export const findCoordinatorHandler = defineHandler({
  api: FindCoordinator,
  handle(ctx, req) {
    const keyType = ctx.version >= 1 ? req.keyType : GROUP
    if (ctx.version >= 4) {
      return {
        throttleTimeMs: 0,
        coordinators: req.coordinatorKeys.map((key) => {
          const r = locate(ctx.cluster, keyType, key, ctx)
          return { key, ...r, errorMessage: r.errorCode === 0 ? null : errorInfo(r.errorCode).message }
        }),
      }
    }
    const r = locate(ctx.cluster, keyType, req.key, ctx)
    return { throttleTimeMs: 0, ...r, errorMessage: r.errorCode === 0 ? null : errorInfo(r.errorCode).message }
  },
  errorResponse(ctx, req, errorCode) {
    if (ctx.version >= 4)
      return { coordinators: req.coordinatorKeys.map((key) => ({ key, errorCode, nodeId: -1, host: '', port: -1 })) }
    return { errorCode, nodeId: -1, host: '', port: -1 }
  },
})
