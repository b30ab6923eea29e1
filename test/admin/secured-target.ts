// A cluster with an authorizer and SASL, for the ACL and SCRAM suites. Real Kafka (KAFKA_BOOTSTRAP
// set): its SASL_PLAINTEXT listener, the admin user (a super user) and the plain user from
// scripts/kafka.sh env; the cluster must run StandardAuthorizer (KAFKATS_KAFKA_AUTHORIZER=1) with
// allow.everyone.if.no.acl.found=true. Reference: brokers configured the same way (one unless
// asked); with `securityLag`, each applies ACL and SCRAM changes that many requests late
// (faults.lagSecurity), as Kafka's brokers apply them from the metadata log a moment after the
// controller answered, so the suites' waiting (propagation.ts) is exercised by npm test too.

import { randomBytes } from 'node:crypto'
import type { Cluster } from '../../src/broker/cluster.js'

export interface SecuredTarget {
  real: boolean
  /** SASL_PLAINTEXT bootstrap servers. */
  bootstrap: string[]
  admin: { username: string; password: string }
  /** A user that is not a super user (PLAIN and SCRAM). */
  user: { username: string; password: string }
  /**
   * The Kafka version whose answers to expect, [major, minor]: real Kafka's KAFKA_VERSION (set by
   * scripts/kafka.sh env and test:kafka; the newest, 4.4, when unset); the reference broker
   * answers as 4.4.
   */
  version: [number, number]
  /** The reference cluster (undefined on real Kafka). */
  cluster: Cluster | undefined
  stop(): Promise<void>
}

/**
 * The reference cluster shaped like test:kafka's: 3 brokers (a request must reach the group's
 * coordinator or the partition's leader), each applying ACL and SCRAM changes a few requests late.
 */
export const LIKE_TEST_KAFKA = { brokers: 3, securityLag: 3 }

const ENV = [
  'KAFKA_BOOTSTRAP_SASL',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_ADMIN_USERNAME',
  'KAFKA_SASL_ADMIN_PASSWORD',
] as const

export async function startSecuredTarget(
  options: { brokers?: number; securityLag?: number } = {},
): Promise<SecuredTarget> {
  const env = process.env
  if (env.KAFKA_BOOTSTRAP !== undefined && env.KAFKA_BOOTSTRAP !== '') {
    const missing = ENV.filter((name) => !env[name])
    if (missing.length > 0)
      throw new Error(`KAFKA_BOOTSTRAP is set but ${missing.join(', ')} not: run with eval "$(scripts/kafka.sh env)"`)
    return {
      real: true,
      version: parseVersion(env.KAFKA_VERSION),
      bootstrap: env.KAFKA_BOOTSTRAP_SASL!.split(','),
      admin: { username: env.KAFKA_SASL_ADMIN_USERNAME!, password: env.KAFKA_SASL_ADMIN_PASSWORD! },
      user: { username: env.KAFKA_SASL_USERNAME!, password: env.KAFKA_SASL_PASSWORD! },
      cluster: undefined,
      stop: async () => {},
    }
  }
  const { Cluster } = await import('../../src/broker/cluster.js')
  const admin = { username: 'admin', password: `admin-${randomBytes(4).toString('hex')}` }
  const user = { username: 'kafkats', password: `user-${randomBytes(4).toString('hex')}` }
  const cluster = await Cluster.start({
    brokers: options.brokers ?? 1,
    groupInitialRebalanceDelayMs: 0,
    sasl: { users: { [admin.username]: admin.password, [user.username]: user.password } },
    authorizer: { superUsers: [`User:${admin.username}`], allowEveryoneIfNoAclFound: true },
  })
  for (const b of cluster.brokers) cluster.faults.lagSecurity(b.id, options.securityLag ?? 0)
  return {
    real: false,
    version: [4, 4],
    bootstrap: cluster.bootstrapServers,
    admin,
    user,
    cluster,
    stop: () => cluster.stop(),
  }
}

/** Whether the target's Kafka is `major.minor` or newer. */
export function atLeast(target: SecuredTarget, major: number, minor: number): boolean {
  const [ma, mi] = target.version
  return ma > major || (ma === major && mi >= minor)
}

function parseVersion(v: string | undefined): [number, number] {
  if (v === undefined || v === '') return [4, 4]
  const m = /^(\d+)\.(\d+)/.exec(v)
  if (m === null) throw new Error(`KAFKA_VERSION=${v} is not a Kafka version (major.minor.patch)`)
  return [Number(m[1]), Number(m[2])]
}
