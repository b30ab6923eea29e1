// A cluster with an authorizer and SASL, for the ACL and SCRAM suites. Real Kafka (KAFKA_BOOTSTRAP
// set): its SASL_PLAINTEXT listener, the admin user (a super user) and the plain user from
// scripts/kafka.sh env; the cluster must run StandardAuthorizer (KAFKATS_KAFKA_AUTHORIZER=1) with
// allow.everyone.if.no.acl.found=true. Reference: one broker configured the same way.

import { randomBytes } from 'node:crypto'
import type { Cluster } from '../../src/broker/cluster.js'

export interface SecuredTarget {
  real: boolean
  /** SASL_PLAINTEXT bootstrap servers. */
  bootstrap: string[]
  admin: { username: string; password: string }
  /** A user that is not a super user (PLAIN and SCRAM). */
  user: { username: string; password: string }
  /** The reference cluster (undefined on real Kafka). */
  cluster: Cluster | undefined
  stop(): Promise<void>
}

const ENV = [
  'KAFKA_BOOTSTRAP_SASL',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_ADMIN_USERNAME',
  'KAFKA_SASL_ADMIN_PASSWORD',
] as const

export async function startSecuredTarget(options: { brokers?: number } = {}): Promise<SecuredTarget> {
  const env = process.env
  if (env.KAFKA_BOOTSTRAP !== undefined && env.KAFKA_BOOTSTRAP !== '') {
    const missing = ENV.filter((name) => !env[name])
    if (missing.length > 0)
      throw new Error(`KAFKA_BOOTSTRAP is set but ${missing.join(', ')} not: run with eval "$(scripts/kafka.sh env)"`)
    return {
      real: true,
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
  return { real: false, bootstrap: cluster.bootstrapServers, admin, user, cluster, stop: () => cluster.stop() }
}
