// The fresh SCRAM user the acls-enforced suites act as, on secured-target.ts (allow.everyone.if.no.acl.found):
// a resource is refused to it by a DENY ACL naming only this user, so suites sharing a real
// cluster are not affected. Topics: `open` has no ACLs; the user is denied everything on
// `closed`. Helpers: ACLs applied and waited for (real Kafka's brokers apply them from the
// metadata log a moment after CreateAcls answers), raw requests as the user, error codes.

import { afterAll, beforeAll, expect } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import type { AclFilter, AclOperation, AclResourceType } from '../../src/admin/acls.js'
import { AdminBatchError } from '../../src/admin/errors.js'
import { KafkaClient } from '../../src/cluster/client.js'
import { KafkaError } from '../../src/errors.js'
import type { BrokerEndpoint } from '../../src/net/pool.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { unique } from '../consumer/helpers.js'
import { startSecuredTarget, type SecuredTarget } from './secured-target.js'

export let target: SecuredTarget
export let admin: Admin
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

/** Polls `done` until true (20 s at most). */
export async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/**
 * A DENY for the run's user: the resource then has an ACL, and none allows the user. Real Kafka's
 * brokers apply ACLs from the metadata log a moment after CreateAcls answers: wait until the
 * broker's authorizer lists it (DescribeAcls reads the same authorizer that enforces).
 */
export async function deny(
  resourceType: AclResourceType,
  resourceName: string,
  operation: AclOperation,
): Promise<void> {
  const acl = { resourceType, resourceName, principal, operation, permission: 'deny' as const }
  await admin.createAcls([acl])
  await until(`the ACL ${JSON.stringify(acl)}`, async () => (await admin.describeAcls(acl)).length > 0)
}

/** An ALLOW for the run's user, applied by the broker before this resolves. */
export async function grant(
  resourceType: AclResourceType,
  resourceName: string,
  operation: AclOperation,
): Promise<void> {
  const acl = { resourceType, resourceName, principal, operation, permission: 'allow' as const }
  await admin.createAcls([acl])
  await until(`the ACL ${JSON.stringify(acl)}`, async () => (await admin.describeAcls(acl)).length > 0)
}

/** Deletes the user's ACLs matching each filter, and waits until the broker has dropped them. */
export async function revoke(filters: Omit<AclFilter, 'principal'>[]): Promise<void> {
  const mine = filters.map((f) => ({ ...f, principal }))
  await admin.deleteAcls(mine)
  for (const f of mine)
    await until(`no ACL ${JSON.stringify(f)}`, async () => (await admin.describeAcls(f)).length === 0)
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
    target = await startSecuredTarget()
    admin = new Admin({ brokers: target.bootstrap, sasl: { mechanism: 'scram-sha-512', ...target.admin } })
    await admin.alterUserScramCredentials([{ op: 'upsert', user: username, mechanism: 'scram-sha-512', password }])
    await admin.createTopics(
      [
        { name: open, partitions: 1, replicationFactor: 1 },
        { name: closed, partitions: 1, replicationFactor: 1 },
      ],
      { waitForLeaders: true },
    )
    await deny('topic', closed, 'all')
    // Real Kafka applies a new SCRAM credential through its metadata log: wait until it logs in.
    const deadline = Date.now() + 20_000
    for (;;) {
      const probe = new Admin({ brokers: target.bootstrap, sasl, retry: { maxAttempts: 1 } })
      try {
        await probe.listTopics()
        break
      } catch (err) {
        if (Date.now() > deadline) throw err
        await new Promise((resolve) => setTimeout(resolve, 250))
      } finally {
        await probe.close()
      }
    }
  }, 60_000)

  afterAll(async () => {
    await admin?.deleteAcls([{ principal }]).catch(() => {})
    await admin?.deleteTopics([open, closed]).catch(() => {})
    await admin
      ?.alterUserScramCredentials([{ op: 'delete', user: username, mechanism: 'scram-sha-512' }])
      .catch(() => {})
    await admin?.close()
    await target?.stop()
  })
}
