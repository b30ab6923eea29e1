// Who sent a request, and whether the authorizer lets them (always, when none is configured).
// Handlers call these with the resource and operation Kafka's KafkaApis checks.

import { AclOperation, ResourceType, type Requester } from '../acls.js'
import { saslSession } from './sasl.js'
import type { RequestContext } from './types.js'

/** The connection's principal (`User:<sasl user>`, else `User:ANONYMOUS`) and client address. */
export function requester(ctx: RequestContext): Requester {
  const user = saslSession(ctx.connection).principal
  return { principal: `User:${user ?? 'ANONYMOUS'}`, host: ctx.connection.remoteAddress.replace(/^::ffff:/, '') }
}

/** The authorizer this broker enforces (behind the cluster's under faults.lagSecurity). */
export function brokerAuthorizer(ctx: RequestContext) {
  return ctx.cluster.security.of(ctx.broker.id).authorizer
}

export function allowed(ctx: RequestContext, resourceType: number, name: string, operation: number): boolean {
  const authorizer = brokerAuthorizer(ctx)
  return authorizer === undefined || authorizer.authorize(requester(ctx), resourceType, name, operation)
}

export function clusterAllowed(ctx: RequestContext, operation: number): boolean {
  return allowed(ctx, ResourceType.CLUSTER, 'kafka-cluster', operation)
}

/**
 * AuthHelper.authorizedOperations: of the operations in `supported` (a bit per AclOperation
 * code), those the principal may perform on the named resource; all of them without an authorizer.
 */
export function authorizedOperations(
  ctx: RequestContext,
  resourceType: number,
  name: string,
  supported: number,
): number {
  if (brokerAuthorizer(ctx) === undefined) return supported
  let bits = 0
  for (let op = 0; op < 31; op++)
    if ((supported & (1 << op)) !== 0 && allowed(ctx, resourceType, name, op)) bits |= 1 << op
  return bits
}

/** The cluster's authorized operations as Metadata and DescribeCluster report them: 0 without DESCRIBE on it. */
export function clusterAuthorizedOperations(ctx: RequestContext, supported: number): number {
  return clusterAllowed(ctx, AclOperation.DESCRIBE)
    ? authorizedOperations(ctx, ResourceType.CLUSTER, 'kafka-cluster', supported)
    : 0
}

/** Kafka's authorizeByResourceType: the operation on at least one resource of the type. */
export function anyAllowed(ctx: RequestContext, resourceType: number, operation: number): boolean {
  const authorizer = brokerAuthorizer(ctx)
  return authorizer === undefined || authorizer.authorizeAny(requester(ctx), resourceType, operation)
}
