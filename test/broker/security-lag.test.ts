// faults.lagSecurity: a broker applies ACL and SCRAM changes a number of requests after the
// controller took them (as a KRaft broker replays the metadata log a moment after CreateAcls or
// AlterUserScramCredentials answered), while the others apply them at once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import { Cluster } from '../../src/broker/index.js'
import { KafkaClient } from '../../src/cluster/client.js'
import { SaslAuthenticationError } from '../../src/net/errors.js'
import type { SaslConfig } from '../../src/net/sasl.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { DescribeAcls, DescribeUserScramCredentials } from '../../src/protocol/messages/index.js'

const adminSasl = { mechanism: 'scram-sha-512', username: 'admin', password: 'admin-pw' } as const
const filter = {
  resourceTypeFilter: 2,
  resourceNameFilter: 'lagged',
  patternTypeFilter: 1,
  principalFilter: null,
  hostFilter: null,
  operation: 1,
  permissionType: 1,
}

describe('faults.lagSecurity', () => {
  let cluster: Cluster
  let admin: Admin
  const clients: KafkaClient[] = []
  const to = (broker: number, sasl: SaslConfig = adminSasl): KafkaClient => {
    const b = cluster.brokers[broker]!
    const c = new KafkaClient({ brokers: [`${b.host}:${b.port}`], sasl, retry: { maxAttempts: 1 } })
    clients.push(c)
    return c
  }
  const aclCount = async (c: KafkaClient) =>
    (await c.requestTo(c.bootstrap[0]!, DescribeAcls, filter)).resources.flatMap((r) => r.acls).length

  beforeAll(async () => {
    cluster = await Cluster.start({
      brokers: 2,
      sasl: { users: { admin: adminSasl.password } },
      authorizer: { superUsers: ['User:admin'], allowEveryoneIfNoAclFound: true },
    })
    admin = new Admin({ brokers: [cluster.bootstrapServers[0]!], sasl: adminSasl })
  })

  afterAll(async () => {
    for (const c of clients) await c.close()
    await admin?.close()
    await cluster?.stop()
  })

  it('a lagging broker lists (so enforces) the ACLs it had for its next N requests, then the changes at once', async () => {
    cluster.faults.lagSecurity(1, 2)
    const [on0, on1] = [to(0), to(1)]
    // Connected (and authenticated) before the change: only the DescribeAcls below count.
    expect([await aclCount(on0), await aclCount(on1)]).toEqual([0, 0])
    await admin.createAcls([
      { resourceType: 'topic', resourceName: 'lagged', principal: 'User:x', operation: 'read', permission: 'deny' },
      { resourceType: 'topic', resourceName: 'lagged', principal: 'User:y', operation: 'read', permission: 'deny' },
    ])
    expect(await aclCount(on0)).toBe(2)
    // Its next two requests still see neither; the third sees both.
    expect([await aclCount(on1), await aclCount(on1), await aclCount(on1)]).toEqual([0, 0, 2])
    cluster.faults.clear()
    await admin.deleteAcls([{ resourceName: 'lagged' }])
    expect(await aclCount(on1)).toBe(0)
  })

  it('a lagging broker refuses a new SCRAM user, and describes none, until it has applied the change', async () => {
    cluster.faults.lagSecurity(1, 3)
    const on1 = to(1)
    const describe = async () =>
      (await on1.requestTo(on1.bootstrap[0]!, DescribeUserScramCredentials, { users: [{ name: 'carol' }] })).results[0]!
        .errorCode
    expect(await describe()).toBe(ErrorCode.RESOURCE_NOT_FOUND)
    await admin.alterUserScramCredentials([{ op: 'upsert', user: 'carol', mechanism: 'scram-sha-256', password: 'c' }])
    const carol = { mechanism: 'scram-sha-256', username: 'carol', password: 'c' } as const
    // Broker 0 has it at once.
    const c0 = to(0, carol)
    await c0.pool.get(c0.bootstrap[0]!, 'admin')
    // Broker 1: one DescribeUserScramCredentials and a login (ApiVersions, SaslHandshake: the
    // handshake picks the credentials) are within the 3 requests; the next login gets in.
    expect(await describe()).toBe(ErrorCode.RESOURCE_NOT_FOUND)
    const first = to(1, carol)
    await expect(first.pool.get(first.bootstrap[0]!, 'admin')).rejects.toBeInstanceOf(SaslAuthenticationError)
    const second = to(1, carol)
    await second.pool.get(second.bootstrap[0]!, 'admin')
    expect(await describe()).toBe(0)
    cluster.faults.lagSecurity(1, 0)
  })

  it('refuses a request count that is not a non-negative integer, and an unknown broker', () => {
    expect(() => cluster.faults.lagSecurity(0, -1)).toThrow(RangeError)
    expect(() => cluster.faults.lagSecurity(0, 1.5)).toThrow(RangeError)
    expect(() => cluster.faults.lagSecurity(7, 1)).toThrow(RangeError)
  })
})
