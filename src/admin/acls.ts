// ACLs (KIP-140): CreateAcls, DescribeAcls, DeleteAcls, sent to any broker (the controller
// applies them). Names are kafka-acls.sh's, lower-case: resource types 'topic', 'group',
// 'cluster', 'transactional-id'...; operations 'read', 'write', 'describe'...; the wire codes
// are Kafka's (ResourceType, PatternType, AclOperation, AclPermissionType).

import { ConfigError, KafkaError } from '../errors.js'
import { CreateAcls, DeleteAcls, DescribeAcls } from '../protocol/messages/index.js'
import { AdminBatchError } from './errors.js'
import { retried, type AdminCallOptions, type AdminContext } from './context.js'

const RESOURCE_TYPES = {
  any: 1,
  topic: 2,
  group: 3,
  cluster: 4,
  'transactional-id': 5,
  'delegation-token': 6,
  user: 7,
} as const
const PATTERN_TYPES = { any: 1, match: 2, literal: 3, prefixed: 4 } as const
const OPERATIONS = {
  any: 1,
  all: 2,
  read: 3,
  write: 4,
  create: 5,
  delete: 6,
  alter: 7,
  describe: 8,
  'cluster-action': 9,
  'describe-configs': 10,
  'alter-configs': 11,
  'idempotent-write': 12,
  'create-tokens': 13,
  'describe-tokens': 14,
  'two-phase-commit': 15,
} as const
const PERMISSIONS = { any: 1, deny: 2, allow: 3 } as const

export type AclResourceType = Exclude<keyof typeof RESOURCE_TYPES, 'any'>
export type AclPatternType = 'literal' | 'prefixed'
export type AclOperation = Exclude<keyof typeof OPERATIONS, 'any'>
export type AclPermission = 'allow' | 'deny'

/** One ACL: who (principal, host) may or may not do what (operation) on which resources. */
export interface AclBinding {
  resourceType: AclResourceType
  /** The topic, group, transactional id...; 'kafka-cluster' for the cluster; '*' for all. */
  resourceName: string
  patternType: AclPatternType
  /** 'User:alice', or 'User:*' for everyone. */
  principal: string
  /** A client address, or '*'. */
  host: string
  operation: AclOperation
  permission: AclPermission
}

/** The binding to create: pattern type 'literal' and host '*' unless given. */
export type NewAcl = Omit<AclBinding, 'patternType' | 'host'> & { patternType?: AclPatternType; host?: string }

/**
 * Which ACLs to describe or delete; an absent field matches any. Pattern type 'match' matches
 * the literal, wildcard and prefixed patterns that apply to `resourceName`; 'any' (the default)
 * matches patterns named exactly `resourceName`.
 */
export interface AclFilter {
  resourceType?: AclResourceType | 'any'
  resourceName?: string
  patternType?: AclPatternType | 'match' | 'any'
  principal?: string
  host?: string
  operation?: AclOperation | 'any'
  permission?: AclPermission | 'any'
}

function code<T extends Record<string, number>>(table: T, what: string, value: string): number {
  const c = Object.hasOwn(table, value) ? table[value] : undefined
  if (c === undefined)
    throw new ConfigError(what, `unknown ${what} '${value}' (one of ${Object.keys(table).join(', ')})`)
  return c
}

function name<T extends Record<string, number>>(table: T, c: number): keyof T {
  const found = Object.entries(table).find(([, v]) => v === c)
  // A code newer than this client: shown as 'unknown' rather than guessed.
  return (found?.[0] ?? 'unknown') as keyof T
}

/** The DescribeAcls/DeleteAcls wire filter for `f` (also used by tests that ask one broker directly). */
export function wireFilter(f: AclFilter) {
  return {
    resourceTypeFilter: code(RESOURCE_TYPES, 'resourceType', f.resourceType ?? 'any'),
    resourceNameFilter: f.resourceName ?? null,
    patternTypeFilter: code(PATTERN_TYPES, 'patternType', f.patternType ?? 'any'),
    principalFilter: f.principal ?? null,
    hostFilter: f.host ?? null,
    operation: code(OPERATIONS, 'operation', f.operation ?? 'any'),
    permissionType: code(PERMISSIONS, 'permission', f.permission ?? 'any'),
  }
}

function fromWire(b: {
  resourceType: number
  resourceName: string
  patternType: number
  principal: string
  host: string
  operation: number
  permissionType: number
}): AclBinding {
  return {
    resourceType: name(RESOURCE_TYPES, b.resourceType) as AclResourceType,
    resourceName: b.resourceName,
    patternType: name(PATTERN_TYPES, b.patternType) as AclPatternType,
    principal: b.principal,
    host: b.host,
    operation: name(OPERATIONS, b.operation) as AclOperation,
    permission: name(PERMISSIONS, b.permissionType) as AclPermission,
  }
}

/** kafka-acls.sh's way of naming one binding, used as its key in an AdminBatchError. */
export function describeAcl(b: NewAcl | AclBinding): string {
  return (
    `${b.permission} ${b.principal} ${b.operation} on ${b.resourceType}:${b.patternType ?? 'literal'}:` +
    `${b.resourceName} from ${b.host ?? '*'}`
  )
}

/** Creates ACLs; the ones refused (invalid, not authorized) are named in an AdminBatchError. */
export async function createAcls(
  ctx: AdminContext,
  acls: readonly NewAcl[],
  options: AdminCallOptions = {},
): Promise<void> {
  if (acls.length === 0) return
  const creations = acls.map((a) => ({
    resourceType: code(RESOURCE_TYPES, 'resourceType', a.resourceType),
    resourceName: a.resourceName,
    resourcePatternType: code(PATTERN_TYPES, 'patternType', a.patternType ?? 'literal'),
    principal: a.principal,
    host: a.host ?? '*',
    operation: code(OPERATIONS, 'operation', a.operation),
    permissionType: code(PERMISSIONS, 'permission', a.permission),
  }))
  const r = await retried(ctx, 'CreateAcls', options.signal, () =>
    ctx.client.requestTo(ctx.client.anyBroker(), CreateAcls, { creations }, requestOptions(options)),
  )
  const errors = new Map<string, Error>()
  const done = new Map<string, true>()
  r.results.forEach((res, i) => {
    const acl = acls[i]!
    if (res.errorCode === 0) done.set(describeAcl(acl), true)
    else
      errors.set(
        describeAcl(acl),
        KafkaError.fromCode(res.errorCode, { apiName: 'CreateAcls', errorMessage: res.errorMessage }),
      )
  })
  if (errors.size > 0) throw new AdminBatchError('CreateAcls', errors, done)
}

/** The ACLs matching `filter` (all ACLs without one). */
export async function describeAcls(
  ctx: AdminContext,
  filter: AclFilter = {},
  options: AdminCallOptions = {},
): Promise<AclBinding[]> {
  const f = wireFilter(filter)
  const r = await retried(ctx, 'DescribeAcls', options.signal, () =>
    ctx.client.requestTo(
      ctx.client.anyBroker(),
      DescribeAcls,
      {
        resourceTypeFilter: f.resourceTypeFilter,
        resourceNameFilter: f.resourceNameFilter,
        patternTypeFilter: f.patternTypeFilter,
        principalFilter: f.principalFilter,
        hostFilter: f.hostFilter,
        operation: f.operation,
        permissionType: f.permissionType,
      },
      requestOptions(options),
    ),
  )
  if (r.errorCode !== 0)
    throw KafkaError.fromCode(r.errorCode, { apiName: 'DescribeAcls', errorMessage: r.errorMessage })
  return r.resources.flatMap((res) =>
    res.acls.map((a) =>
      fromWire({ ...a, resourceType: res.resourceType, resourceName: res.resourceName, patternType: res.patternType }),
    ),
  )
}

/**
 * Deletes the ACLs matching each filter; resolves with the bindings each filter deleted, in
 * the filters' order. A filter the broker refused is named in an AdminBatchError (by its index).
 */
export async function deleteAcls(
  ctx: AdminContext,
  filters: readonly AclFilter[],
  options: AdminCallOptions = {},
): Promise<AclBinding[][]> {
  if (filters.length === 0) return []
  const wire = filters.map(wireFilter)
  const r = await retried(ctx, 'DeleteAcls', options.signal, () =>
    ctx.client.requestTo(ctx.client.anyBroker(), DeleteAcls, { filters: wire }, requestOptions(options)),
  )
  const errors = new Map<string, Error>()
  const results = new Map<string, AclBinding[]>()
  r.filterResults.forEach((res, i) => {
    const key = `filter ${i}`
    const failed = res.errorCode !== 0 ? res : res.matchingAcls.find((m) => m.errorCode !== 0)
    if (failed !== undefined)
      errors.set(
        key,
        KafkaError.fromCode(failed.errorCode, { apiName: 'DeleteAcls', errorMessage: failed.errorMessage }),
      )
    else results.set(key, res.matchingAcls.map(fromWire))
  })
  if (errors.size > 0) throw new AdminBatchError('DeleteAcls', errors, results)
  return filters.map((_, i) => results.get(`filter ${i}`) ?? [])
}

function requestOptions(options: AdminCallOptions): { signal: AbortSignal | undefined; timeoutMs: number | undefined } {
  return { signal: options.signal, timeoutMs: options.timeout }
}
