// SCRAM credentials (KIP-554): DescribeUserScramCredentials and AlterUserScramCredentials.
// As Kafka's AdminClient does, the password never leaves the client: it sends a random salt and
// SaltedPassword = Hi(password, salt, iterations) (RFC 5802: PBKDF2 with HMAC-SHA-256/512).

import { pbkdf2, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { ConfigError, KafkaError } from '../errors.js'
import { AlterUserScramCredentials, DescribeUserScramCredentials } from '../protocol/messages/index.js'
import { AdminBatchError } from './errors.js'
import { retried, type AdminCallOptions, type AdminContext } from './context.js'

const pbkdf2Async = promisify(pbkdf2)

export type ScramMechanism = 'scram-sha-256' | 'scram-sha-512'

const CODES: Record<ScramMechanism, number> = { 'scram-sha-256': 1, 'scram-sha-512': 2 }

export interface UserScramCredentials {
  user: string
  credentials: { mechanism: ScramMechanism; iterations: number }[]
}

export type ScramCredentialChange =
  | {
      op: 'upsert'
      user: string
      mechanism: ScramMechanism
      password: string
      /** Default 4096 (Kafka's minimum; at most 16384). */
      iterations?: number
    }
  | { op: 'delete'; user: string; mechanism: ScramMechanism }

function mechanismCode(m: string): number {
  const code = Object.hasOwn(CODES, m) ? CODES[m as ScramMechanism] : undefined
  if (code === undefined)
    throw new ConfigError('mechanism', `unknown SCRAM mechanism '${m}' (scram-sha-256 or scram-sha-512)`)
  return code
}

/** The users' SCRAM mechanisms and iterations (all users with credentials when `users` is omitted). */
export async function describeUserScramCredentials(
  ctx: AdminContext,
  users: readonly string[] | undefined,
  options: AdminCallOptions = {},
): Promise<UserScramCredentials[]> {
  const r = await retried(ctx, 'DescribeUserScramCredentials', options.signal, () =>
    ctx.client.requestTo(
      ctx.client.anyBroker(),
      DescribeUserScramCredentials,
      { users: users === undefined ? null : users.map((name) => ({ name })) },
      { signal: options.signal, timeoutMs: options.timeout },
    ),
  )
  if (r.errorCode !== 0)
    throw KafkaError.fromCode(r.errorCode, { apiName: 'DescribeUserScramCredentials', errorMessage: r.errorMessage })
  const errors = new Map<string, Error>()
  const results = new Map<string, UserScramCredentials>()
  for (const res of r.results) {
    if (res.errorCode !== 0) {
      errors.set(
        res.user,
        KafkaError.fromCode(res.errorCode, { apiName: 'DescribeUserScramCredentials', errorMessage: res.errorMessage }),
      )
      continue
    }
    results.set(res.user, {
      user: res.user,
      credentials: res.credentialInfos.map((c) => ({
        mechanism: c.mechanism === 2 ? 'scram-sha-512' : 'scram-sha-256',
        iterations: c.iterations,
      })),
    })
  }
  if (errors.size > 0) throw new AdminBatchError('DescribeUserScramCredentials', errors, results)
  return [...results.values()]
}

/**
 * Sets or deletes SCRAM credentials; users whose changes failed are named in an AdminBatchError.
 * Kafka refuses a user named twice in one call (DUPLICATE_RESOURCE), even for two mechanisms.
 */
export async function alterUserScramCredentials(
  ctx: AdminContext,
  changes: readonly ScramCredentialChange[],
  options: AdminCallOptions = {},
): Promise<void> {
  if (changes.length === 0) return
  const deletions: { name: string; mechanism: number }[] = []
  const upsertions: { name: string; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer }[] = []
  for (const c of changes) {
    const mechanism = mechanismCode(c.mechanism)
    if (c.op === 'delete') {
      deletions.push({ name: c.user, mechanism })
      continue
    }
    const iterations = c.iterations ?? 4096
    if (!Number.isInteger(iterations) || iterations < 1)
      throw new ConfigError('iterations', `must be a positive integer, got ${String(iterations)}`)
    const salt = randomBytes(32)
    const hash = mechanism === 2 ? 'sha512' : 'sha256'
    const saltedPassword = await pbkdf2Async(c.password, salt, iterations, hash === 'sha512' ? 64 : 32, hash)
    upsertions.push({ name: c.user, mechanism, iterations, salt, saltedPassword })
  }
  const r = await retried(ctx, 'AlterUserScramCredentials', options.signal, () =>
    ctx.client.requestTo(
      ctx.client.anyBroker(),
      AlterUserScramCredentials,
      { deletions, upsertions },
      { signal: options.signal, timeoutMs: options.timeout },
    ),
  )
  const errors = new Map<string, Error>()
  const done = new Map<string, true>()
  for (const res of r.results) {
    if (res.errorCode === 0) done.set(res.user, true)
    else
      errors.set(
        res.user,
        KafkaError.fromCode(res.errorCode, { apiName: 'AlterUserScramCredentials', errorMessage: res.errorMessage }),
      )
  }
  if (errors.size > 0) throw new AdminBatchError('AlterUserScramCredentials', errors, done)
}
