// The reference broker's authorizer, after Kafka's StandardAuthorizer: ACL bindings (resource
// pattern + principal, host, operation, permission), the filters CreateAcls/DescribeAcls/
// DeleteAcls use, and `authorize` (super users, DENY before ALLOW, implied DESCRIBE,
// allow.everyone.if.no.acl.found). The numeric codes are Kafka's wire values.

import { ErrorCode } from '../protocol/error-codes.js'

export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const

export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const

export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
  TWO_PHASE_COMMIT: 15,
} as const

export const Permission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const

export const CLUSTER_NAME = 'kafka-cluster'
const WILDCARD = '*'
const WILDCARD_PRINCIPAL = 'User:*'

export interface AclBinding {
  resourceType: number
  resourceName: string
  patternType: number
  principal: string
  host: string
  operation: number
  permissionType: number
}

/** A filter: null names match any; ANY codes match any; pattern MATCH matches what would apply to the name. */
export interface AclFilter {
  resourceType: number
  resourceName: string | null
  patternType: number
  principal: string | null
  host: string | null
  operation: number
  permissionType: number
}

export interface AuthorizerOptions {
  /** Principals allowed everything, e.g. ['User:admin'] (super.users). */
  superUsers?: string[]
  /** allow.everyone.if.no.acl.found: a resource without any ACL is open to all. Default false, as Kafka. */
  allowEveryoneIfNoAclFound?: boolean
}

const known = (code: number, table: Record<string, number>): boolean =>
  Object.values(table).includes(code) && code !== 0

/**
 * A request naming UNKNOWN (code 0) anywhere in a binding or filter: Kafka 4.4 fails to parse it
 * and closes the connection (checked against Kafka 4.4.0). Codes it does not know at all are
 * parsed, and a filter with one matches nothing.
 */
export function hasUnknown(f: {
  resourceType: number
  patternType: number
  operation: number
  permissionType: number
}): boolean {
  return f.resourceType === 0 || f.patternType === 0 || f.operation === 0 || f.permissionType === 0
}

/**
 * Why a binding may not be created, as Kafka 4.4.0 answers: ANY or MATCH where a concrete value
 * is needed fails in Kafka's ResourcePattern/AclBinding constructors (UNKNOWN_SERVER_ERROR, no
 * message); the rest is INVALID_REQUEST with AclApis' and the principal parser's messages.
 */
export function invalidBinding(b: AclBinding): { errorCode: number; errorMessage: string | null } | undefined {
  if (
    b.resourceType === ResourceType.ANY ||
    b.patternType === PatternType.ANY ||
    b.patternType === PatternType.MATCH ||
    b.operation === AclOperation.ANY ||
    b.permissionType === Permission.ANY
  )
    return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: null }
  const invalid = (errorMessage: string) => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage })
  if (
    !known(b.resourceType, ResourceType) ||
    !known(b.patternType, PatternType) ||
    !known(b.operation, AclOperation) ||
    !known(b.permissionType, Permission)
  )
    return invalid('ACL binding contains unknown elements')
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME)
    return invalid(`The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`)
  if (b.resourceName === '') return invalid('Invalid empty resource name specified')
  if (!/^[^:]+:.+$/.test(b.principal))
    return invalid(
      `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`,
    )
  if (b.host === '') return invalid('Host pattern cannot be null or empty')
  return undefined
}

/** ResourcePatternFilter.matches + AccessControlEntryFilter.matches. */
export function filterMatches(f: AclFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== b.patternType)
    return false
  if (f.resourceName !== null) {
    if (f.patternType === PatternType.ANY || f.patternType === b.patternType) {
      if (f.resourceName !== b.resourceName) return false
    } else if (b.patternType === PatternType.LITERAL) {
      if (f.resourceName !== b.resourceName && b.resourceName !== WILDCARD) return false
    } else if (!f.resourceName.startsWith(b.resourceName)) return false
  }
  if (f.principal !== null && f.principal !== b.principal) return false
  if (f.host !== null && f.host !== b.host) return false
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false
  if (f.permissionType !== Permission.ANY && f.permissionType !== b.permissionType) return false
  return true
}

function key(b: AclBinding): string {
  return JSON.stringify([
    b.resourceType,
    b.resourceName,
    b.patternType,
    b.principal,
    b.host,
    b.operation,
    b.permissionType,
  ])
}

/** Operations an ALLOW of `op` also grants (Kafka: READ/WRITE/DELETE/ALTER imply DESCRIBE, ALTER_CONFIGS implies DESCRIBE_CONFIGS). */
function allowCovers(aclOp: number, op: number): boolean {
  if (aclOp === AclOperation.ALL || aclOp === op) return true
  if (op === AclOperation.DESCRIBE)
    return ([AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER] as number[]).includes(
      aclOp,
    )
  if (op === AclOperation.DESCRIBE_CONFIGS) return aclOp === AclOperation.ALTER_CONFIGS
  return false
}

export interface Requester {
  /** 'User:alice', or 'User:ANONYMOUS' on a listener without SASL. */
  principal: string
  host: string
}

export class Authorizer {
  private readonly bindings = new Map<string, AclBinding>()
  private readonly superUsers: ReadonlySet<string>
  private readonly allowIfNoAcl: boolean

  constructor(options: AuthorizerOptions) {
    this.superUsers = new Set(options.superUsers ?? [])
    this.allowIfNoAcl = options.allowEveryoneIfNoAclFound ?? false
  }

  /** A copy with the same settings and bindings (a broker's view behind the cluster's, security-views.ts). */
  clone(): Authorizer {
    const copy = new Authorizer({ superUsers: [...this.superUsers], allowEveryoneIfNoAclFound: this.allowIfNoAcl })
    for (const b of this.bindings.values()) copy.add(b)
    return copy
  }

  /** Adds a binding (an existing one is kept: creating it again succeeds, as in KRaft). */
  add(b: AclBinding): void {
    this.bindings.set(key(b), { ...b })
  }

  /** Bindings matching `f`, in creation order. */
  matching(f: AclFilter): AclBinding[] {
    return [...this.bindings.values()].filter((b) => filterMatches(f, b))
  }

  /** Removes and returns the bindings matching `f`. */
  remove(f: AclFilter): AclBinding[] {
    const gone = this.matching(f)
    for (const b of gone) this.bindings.delete(key(b))
    return gone
  }

  all(): AclBinding[] {
    return [...this.bindings.values()]
  }

  /** Whether `who` may perform `op` on the named resource (StandardAuthorizerData.authorize). */
  authorize(who: Requester, resourceType: number, name: string, op: number): boolean {
    if (this.superUsers.has(who.principal)) return true
    let any = false
    let allowed = false
    for (const b of this.bindings.values()) {
      if (b.resourceType !== resourceType || !patternApplies(b, name)) continue
      any = true
      if (b.principal !== who.principal && b.principal !== WILDCARD_PRINCIPAL) continue
      if (b.host !== who.host && b.host !== WILDCARD) continue
      if (b.permissionType === Permission.DENY) {
        if (b.operation === op || b.operation === AclOperation.ALL) return false
      } else if (allowCovers(b.operation, op)) allowed = true
    }
    return allowed || (!any && this.allowIfNoAcl)
  }

  /**
   * Whether `who` may perform `op` on at least one resource of the type (Kafka's
   * authorizeByResourceType, used for idempotent producers: WRITE on any topic).
   */
  authorizeAny(who: Requester, resourceType: number, op: number): boolean {
    if (this.superUsers.has(who.principal)) return true
    // Kafka first authorizes a made-up name: with allow.everyone.if.no.acl.found and no ACL
    // applying to it (no '*' or matching prefix), the answer is yes whatever else exists.
    if (this.authorize(who, resourceType, 'hardcode', op)) return true
    const mine = (b: AclBinding): boolean =>
      b.resourceType === resourceType &&
      (b.principal === who.principal || b.principal === WILDCARD_PRINCIPAL) &&
      (b.host === who.host || b.host === WILDCARD) &&
      (b.operation === op || b.operation === AclOperation.ALL)
    const list = [...this.bindings.values()].filter(mine)
    const denied = list.filter((b) => b.permissionType === Permission.DENY)
    // A literal or prefixed allow not covered by a deny of the same or a shorter prefix grants something.
    return list.some(
      (b) =>
        b.permissionType === Permission.ALLOW &&
        !denied.some(
          (d) =>
            (d.patternType === PatternType.LITERAL && d.resourceName === WILDCARD) ||
            (d.patternType === PatternType.PREFIXED && b.resourceName.startsWith(d.resourceName)) ||
            (d.patternType === PatternType.LITERAL &&
              b.patternType === PatternType.LITERAL &&
              d.resourceName === b.resourceName),
        ),
    )
  }
}

function patternApplies(b: AclBinding, name: string): boolean {
  if (b.patternType === PatternType.PREFIXED) return name.startsWith(b.resourceName)
  return b.resourceName === name || b.resourceName === WILDCARD
}
