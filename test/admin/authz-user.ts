// The fresh SCRAM user the acls-enforced suites act as, on secured-target.ts (allow.everyone.if.no.acl.found):
// a resource is refused to it by a DENY ACL naming only this user, so suites sharing a real
// cluster are not affected. Topics: `open` has no ACLs; the user is denied everything on
// `closed`. Helpers: ACLs applied and waited for on every broker (real Kafka's brokers apply
// them from the metadata log a moment after CreateAcls answers, propagation.ts), raw requests as
// the user sent where Kafka wants them (the coordinator, the partition's leader), error codes.

import { afterAll, beforeAll, expect } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import type { AclFilter, AclOperation, AclResourceType } from '../../src/admin/acls.js'
import { AdminBatchError } from '../../src/admin/errors.js'
import { KafkaClient } from '../../src/cluster/client.js'
import { KafkaError } from '../../src/errors.js'
import type { BrokerEndpoint } from '../../src/net/pool.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { FindCoordinator } from '../../src/protocol/messages/index.js'
import { unique } from '../consumer/helpers.js'
import { aclsOnEveryBroker, adminClient as propagationAdminClient, loginOnEveryBroker } from './propagation.js'
import { LIKE_TEST_KAFKA, startSecuredTarget, type SecuredTarget } from './secured-target.js'

export let target: SecuredTarget
export let admin: Admin
/** The admin's raw client: coordinator and leader lookups. */
let adminClient: KafkaClient
export const username = unique('authz-user')
export const password = `pw-${username}`
export const principal = `User:${username}`
export const sasl = { mechanism: 'scram-sha-512' as const, username, password }
export const open = unique('authz-open')
export const closed = unique('authz-closed')

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: unknown) => err,
  )
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A DENY for the run's user: the resource then has an ACL, and none allows the user. Real Kafka's
 * brokers apply ACLs from the metadata log a moment after CreateAcls answers: wait until every
 * broker's authorizer lists it (DescribeAcls reads the same authorizer that enforces).
 */
export async function deny(
  resourceType: AclResourceType,
  resourceName: string,
  operation: AclOperation,
): Promise<void> {
  const acl = { resourceType, resourceName, principal, operation, permission: 'deny' as const }
  await admin.createAcls([acl])
  await aclsOnEveryBroker(target, acl, 1)
}

/** An ALLOW for the run's user, applied by every broker before this resolves. */
export async function grant(
  resourceType: AclResourceType,
  resourceName: string,
  operation: AclOperation,
): Promise<void> {
  const acl = { resourceType, resourceName, principal, operation, permission: 'allow' as const }
  await admin.createAcls([acl])
  await aclsOnEveryBroker(target, acl, 1)
}

/** Deletes the user's ACLs matching each filter, and waits until every broker has dropped them. */
export async function revoke(filters: Omit<AclFilter, 'principal'>[]): Promise<void> {
  const mine = filters.map((f) => ({ ...f, principal }))
  await admin.deleteAcls(mine)
  for (const f of mine) await aclsOnEveryBroker(target, f, 0)
}

/**
 * Where a raw request about a group (keyType 0) or transactional id (1) must go: its
 * coordinator, found as the admin (the user may be refused the lookup), as clients do; any other
 * broker answers NOT_COORDINATOR.
 */
export async function coordinatorOf(keyType: 0 | 1, key: string): Promise<BrokerEndpoint> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const r = await adminClient.requestTo(
      adminClient.anyBroker(),
      FindCoordinator,
      { keyType, coordinatorKeys: [key] },
      { versions: { min: 4 } },
    )
    const c = r.coordinators[0]!
    if (c.errorCode === 0) return { nodeId: c.nodeId, host: c.host, port: c.port }
    // A fresh cluster creates __consumer_offsets / __transaction_state on the first lookup.
    if (c.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE || Date.now() > deadline)
      throw new Error(`FindCoordinator(${keyType}, ${key}) answered error ${c.errorCode}`)
    await sleep(200)
  }
}

/** The partition's leader, where a raw request about it must go (others answer NOT_LEADER_OR_FOLLOWER). */
export async function leaderOf(topic: string, partition = 0): Promise<BrokerEndpoint> {
  await adminClient.metadata.refresh([topic])
  const leader = adminClient.metadata.leaderFor(topic, partition)
  if (leader === undefined) throw new Error(`${topic}-${partition} has no leader in the metadata`)
  return leader
}

/**
 * Sends `request` again while the coordinator is not ready (a fresh real cluster creates
 * __transaction_state on the first FindCoordinator, and loads it; producer id blocks too).
 */
export async function settled<T extends { errorCode: number }>(request: () => Promise<T>): Promise<T> {
  const waiting = new Set<number>([
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.NOT_COORDINATOR,
  ])
  const deadline = Date.now() + 20_000
  for (;;) {
    const r = await request()
    if (!waiting.has(r.errorCode) || Date.now() > deadline) return r
    await sleep(200)
  }
}

/** Raw requests as the user, one attempt each (the answer is what is asserted). */
export async function asUser<T>(fn: (client: KafkaClient, broker: BrokerEndpoint) => Promise<T>): Promise<T> {
  const client = new KafkaClient({ brokers: target.bootstrap, sasl, retry: { maxAttempts: 1 } })
  try {
    await client.metadata.refresh([])
    return await fn(client, client.anyBroker())
  } finally {
    await client.close()
  }
}

export const codes = (topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[]) =>
  Object.fromEntries(topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, p.errorCode])))

/** The typed error codes a call failed with: the error's own, or each resource's in an AdminBatchError. */
export function failureCodes(err: unknown): string[] {
  if (err instanceof AdminBatchError) return [...err.errors.values()].map((e) => (e as KafkaError).code)
  expect(err).toBeInstanceOf(KafkaError)
  return [(err as KafkaError).code]
}

/** Waits until the group's coordinator answers (the reference broker loads it on first use). */
export async function warm(groupId: string): Promise<void> {
  await admin.committedOffsets(groupId)
}

/** The Kafka error codes of an AdminBatchError, by resource key. */
export function batchCodes(err: unknown): Record<string, string> {
  expect(err).toBeInstanceOf(AdminBatchError)
  return Object.fromEntries([...(err as AdminBatchError).errors].map(([k, e]) => [k, (e as KafkaError).code]))
}

/** Registers the suite's hooks: the target, the admin, the user and its two topics. */
export function useAuthzUser(): void {
  beforeAll(async () => {
    target = await startSecuredTarget(LIKE_TEST_KAFKA)
    admin = new Admin({ brokers: target.bootstrap, sasl: { mechanism: 'scram-sha-512', ...target.admin } })
    adminClient = propagationAdminClient(target)
    await admin.alterUserScramCredentials([{ op: 'upsert', user: username, mechanism: 'scram-sha-512', password }])
    await admin.createTopics(
      [
        { name: open, partitions: 1, replicationFactor: 1 },
        { name: closed, partitions: 1, replicationFactor: 1 },
      ],
      { waitForLeaders: true },
    )
    await deny('topic', closed, 'all')
    // Real Kafka applies a new SCRAM credential through its metadata log: wait until every broker has it.
    await loginOnEveryBroker(target, sasl, true)
  }, 60_000)

  afterAll(async () => {
    await admin?.deleteAcls([{ principal }]).catch(() => {})
    await admin?.deleteTopics([open, closed]).catch(() => {})
    await admin
      ?.alterUserScramCredentials([{ op: 'delete', user: username, mechanism: 'scram-sha-512' }])
      .catch(() => {})
    await admin?.close()
    await adminClient?.close()
    await target?.stop()
  })
}
