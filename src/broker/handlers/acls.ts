// CreateAcls (30), DescribeAcls (29), DeleteAcls (31), v1-3, as Kafka 4.4.0 answers them:
// SECURITY_DISABLED without an authorizer, CLUSTER_AUTHORIZATION_FAILED without ALTER (create,
// delete) or DESCRIBE (describe) on the cluster; a request with an UNKNOWN (0) code closes the
// connection (Kafka cannot parse it); a binding that cannot be created fails alone (acls.ts).

import { ErrorCode } from '../../protocol/error-codes.js'
import { CreateAcls } from '../../protocol/messages/create-acls.js'
import { DeleteAcls } from '../../protocol/messages/delete-acls.js'
import { DescribeAcls } from '../../protocol/messages/describe-acls.js'
import { AclOperation, hasUnknown, invalidBinding, type AclBinding } from '../acls.js'
import { brokerAuthorizer, clusterAllowed } from './authz.js'
import { defineHandler, type RequestContext } from './types.js'

const NO_AUTHORIZER = 'No Authorizer is configured.'

export const createAclsHandler = defineHandler({
  api: CreateAcls,
  handle(ctx, req) {
    if (req.creations.some((c) => hasUnknown({ ...c, patternType: c.resourcePatternType })))
      return unparsable(ctx, 'CreateAcls')
    const authorizer = ctx.cluster.authorizer
    if (authorizer === undefined)
      return { throttleTimeMs: 0, results: req.creations.map(() => fail(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER)) }
    if (!clusterAllowed(ctx, AclOperation.ALTER))
      return { throttleTimeMs: 0, results: req.creations.map(() => fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)) }
    const bindings = req.creations.map((c): AclBinding => ({
      resourceType: c.resourceType,
      resourceName: c.resourceName,
      patternType: c.resourcePatternType,
      principal: c.principal,
      host: c.host,
      operation: c.operation,
      permissionType: c.permissionType,
    }))
    // ANY or MATCH in one binding throws while Kafka builds the bindings: the whole request fails.
    if (bindings.some((b) => invalidBinding(b)?.errorCode === ErrorCode.UNKNOWN_SERVER_ERROR))
      return { throttleTimeMs: 0, results: bindings.map(() => fail(ErrorCode.UNKNOWN_SERVER_ERROR)) }
    // The controller's ACLs change now; the brokers' (this one too) as they replay them.
    ctx.cluster.security.beforeChange()
    return {
      throttleTimeMs: 0,
      results: bindings.map((binding) => {
        const invalid = invalidBinding(binding)
        if (invalid !== undefined) return invalid
        authorizer.add(binding)
        return { errorCode: 0, errorMessage: null }
      }),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    return { results: req.creations.map(() => fail(errorCode)) }
  },
})

export const describeAclsHandler = defineHandler({
  api: DescribeAcls,
  handle(ctx, req) {
    const filter = {
      resourceType: req.resourceTypeFilter,
      resourceName: req.resourceNameFilter,
      patternType: req.patternTypeFilter,
      principal: req.principalFilter,
      host: req.hostFilter,
      operation: req.operation,
      permissionType: req.permissionType,
    }
    if (hasUnknown(filter)) return unparsable(ctx, 'DescribeAcls')
    // This broker's ACLs: the ones its authorizer enforces.
    const authorizer = brokerAuthorizer(ctx)
    if (authorizer === undefined) return describeError(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER)
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE)) return describeError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    // One entry per resource pattern, its ACLs under it.
    const resources = new Map<
      string,
      {
        resourceType: number
        resourceName: string
        patternType: number
        acls: { principal: string; host: string; operation: number; permissionType: number }[]
      }
    >()
    for (const b of authorizer.matching(filter)) {
      const k = JSON.stringify([b.resourceType, b.resourceName, b.patternType])
      let r = resources.get(k)
      if (r === undefined) {
        r = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] }
        resources.set(k, r)
      }
      r.acls.push({ principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permissionType })
    }
    // Kafka 4.4.0 answers an empty (not null) message.
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: '', resources: [...resources.values()] }
  },
  errorResponse(_ctx, _req, errorCode) {
    return describeError(errorCode)
  },
})

export const deleteAclsHandler = defineHandler({
  api: DeleteAcls,
  handle(ctx, req) {
    const authorizer = ctx.cluster.authorizer
    const all = (code: number, message: string | null = null) => ({
      throttleTimeMs: 0,
      filterResults: req.filters.map(() => ({ errorCode: code, errorMessage: message, matchingAcls: [] })),
    })
    if (
      req.filters.some((f) =>
        hasUnknown({ resourceType: f.resourceTypeFilter, patternType: f.patternTypeFilter, ...f }),
      )
    )
      return unparsable(ctx, 'DeleteAcls')
    if (authorizer === undefined) return all(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER)
    if (!clusterAllowed(ctx, AclOperation.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    // The controller matches the filters against its ACLs (the cluster's), the brokers follow.
    ctx.cluster.security.beforeChange()
    return {
      throttleTimeMs: 0,
      filterResults: req.filters.map((f) => {
        const filter = {
          resourceType: f.resourceTypeFilter,
          resourceName: f.resourceNameFilter,
          patternType: f.patternTypeFilter,
          principal: f.principalFilter,
          host: f.hostFilter,
          operation: f.operation,
          permissionType: f.permissionType,
        }
        return {
          errorCode: 0,
          errorMessage: null,
          matchingAcls: authorizer.remove(filter).map((b) => ({
            errorCode: 0,
            errorMessage: null,
            resourceType: b.resourceType,
            resourceName: b.resourceName,
            patternType: b.patternType,
            principal: b.principal,
            host: b.host,
            operation: b.operation,
            permissionType: b.permissionType,
          })),
        }
      }),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    return { filterResults: req.filters.map(() => ({ errorCode, errorMessage: null, matchingAcls: [] })) }
  },
})

/** What Kafka does with a request it cannot parse: no answer, the connection closed. */
function unparsable(ctx: RequestContext, api: string): null {
  ctx.connection.close(`${api} request with UNKNOWN elements (Kafka cannot parse it)`)
  return null
}

function fail(
  errorCode: number,
  errorMessage: string | null = null,
): { errorCode: number; errorMessage: string | null } {
  return { errorCode, errorMessage }
}

function describeError(errorCode: number, errorMessage: string | null = null) {
  return { throttleTimeMs: 0, errorCode, errorMessage, resources: [] }
}
