// DescribeUserScramCredentials (50) and AlterUserScramCredentials (51), v0 (KIP-554), with the
// checks and error texts of Kafka's ScramControlManager and KafkaApis: DESCRIBE (describe) or
// ALTER (alter) on the cluster; a user named twice is DUPLICATE_RESOURCE, a missing one
// RESOURCE_NOT_FOUND, a user changed twice in one request
// (even under two mechanisms) DUPLICATE_RESOURCE, an unknown mechanism UNSUPPORTED_SASL_MECHANISM, an empty name or
// iterations outside 4096..16384 UNACCEPTABLE_CREDENTIAL. The salted password arrives computed
// by the client; the broker keeps StoredKey/ServerKey derived from it, never the password.

import { ErrorCode } from '../../protocol/error-codes.js'
import { AlterUserScramCredentials } from '../../protocol/messages/alter-user-scram-credentials.js'
import { DescribeUserScramCredentials } from '../../protocol/messages/describe-user-scram-credentials.js'
import { AclOperation } from '../acls.js'
import { scramCredential, type ScramMechanism } from '../sasl.js'
import { clusterAllowed } from './authz.js'
import { defineHandler } from './types.js'

/** Kafka's ScramMechanism type codes. */
const MECHANISMS: ReadonlyMap<number, ScramMechanism> = new Map([
  [1, 'SCRAM-SHA-256'],
  [2, 'SCRAM-SHA-512'],
])
const CODES = new Map([...MECHANISMS].map(([code, name]) => [name, code]))
const MIN_ITERATIONS = 4096
const MAX_ITERATIONS = 16384

export const describeUserScramCredentialsHandler = defineHandler({
  api: DescribeUserScramCredentials,
  handle(ctx, req) {
    const store = ctx.cluster.security.of(ctx.broker.id).scram
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE))
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, results: [] }
    const names = req.users === null || req.users.length === 0 ? [...store.users.keys()] : req.users.map((u) => u.name)
    const counts = new Map<string, number>()
    for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1)
    const seen = new Set<string>()
    const results = []
    for (const user of names) {
      if (seen.has(user)) continue
      seen.add(user)
      const none = { user, credentialInfos: [] }
      if (counts.get(user)! > 1) {
        results.push({
          ...none,
          errorCode: ErrorCode.DUPLICATE_RESOURCE,
          errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
        })
        continue
      }
      const creds = store.users.get(user)
      if (creds === undefined) {
        results.push({
          ...none,
          errorCode: ErrorCode.RESOURCE_NOT_FOUND,
          errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
        })
        continue
      }
      results.push({
        user,
        errorCode: 0,
        errorMessage: null,
        credentialInfos: [...creds].map(([m, c]) => ({ mechanism: CODES.get(m)!, iterations: c.iterations })),
      })
    }
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, errorMessage: null, results: [] }
  },
})

export const alterUserScramCredentialsHandler = defineHandler({
  api: AlterUserScramCredentials,
  handle(ctx, req) {
    const users = [...new Set([...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)])]
    if (!clusterAllowed(ctx, AclOperation.ALTER))
      return {
        throttleTimeMs: 0,
        results: users.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })),
      }
    const store = ctx.cluster.scramStore
    // Every change of a user is checked before any is applied; one bad change fails the user's.
    const errors = new Map<string, { errorCode: number; errorMessage: string }>()
    const fail = (user: string, errorCode: number, errorMessage: string): void => {
      if (!errors.has(user)) errors.set(user, { errorCode, errorMessage })
    }
    // Kafka 4.4 refuses a user named twice in one request, even for two different mechanisms.
    const touched = new Set<string>()
    for (const c of [...req.deletions, ...req.upsertions]) {
      if (touched.has(c.name))
        fail(c.name, ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request')
      touched.add(c.name)
      if (c.name === '') fail(c.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty')
      if (!MECHANISMS.has(c.mechanism)) fail(c.name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism')
    }
    for (const d of req.deletions) {
      const m = MECHANISMS.get(d.mechanism)
      if (m !== undefined && store.get(m, d.name) === undefined)
        fail(d.name, ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist')
    }
    for (const u of req.upsertions) {
      if (u.iterations < MIN_ITERATIONS) fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations')
      else if (u.iterations > MAX_ITERATIONS) fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations')
    }
    // The controller's credentials change now; the brokers' as they replay them.
    ctx.cluster.security.beforeChange()
    for (const d of req.deletions) if (!errors.has(d.name)) store.delete(d.name, MECHANISMS.get(d.mechanism)!)
    for (const u of req.upsertions) {
      if (errors.has(u.name)) continue
      const m = MECHANISMS.get(u.mechanism)!
      store.set(u.name, m, scramCredential(m, Buffer.from(u.salt), u.iterations, Buffer.from(u.saltedPassword)))
    }
    return {
      throttleTimeMs: 0,
      results: users.map((user) => ({ user, errorCode: 0, errorMessage: null, ...errors.get(user) })),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    const users = [...new Set([...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)])]
    return { results: users.map((user) => ({ user, errorCode, errorMessage: null })) }
  },
})
