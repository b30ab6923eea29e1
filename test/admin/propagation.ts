// Waiting for what Kafka propagates through its metadata log. KRaft answers CreateAcls,
// DeleteAcls, AlterUserScramCredentials, CreateTopics and DeleteTopics once the controller has
// committed the change; every broker (the one asked too) applies it when it replays the record,
// a moment later. Kafka's own Admin gives no read-your-writes guarantee either, so a user who
// needs the change in force polls each broker, as these helpers do: bounded, each broker asked
// directly (the ACLs a broker lists are the ones its authorizer enforces; a login is tried on
// that broker alone), and a timeout names the broker and what it still showed.

import { wireFilter, type AclFilter } from '../../src/admin/acls.js'
import type { ScramMechanism } from '../../src/admin/scram.js'
import { KafkaClient } from '../../src/cluster/client.js'
import { SaslAuthenticationError } from '../../src/net/errors.js'
import type { BrokerEndpoint } from '../../src/net/pool.js'
import type { SaslConfig } from '../../src/net/sasl.js'
import { ZERO_UUID } from '../../src/protocol/api.js'
import { DescribeAcls, DescribeUserScramCredentials, Metadata } from '../../src/protocol/messages/index.js'
import type { SecuredTarget } from './secured-target.js'

const TIMEOUT_MS = 20_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A client as the target's admin (a super user), one attempt per request. */
export function adminClient(target: SecuredTarget): KafkaClient {
  return new KafkaClient({
    brokers: target.bootstrap,
    sasl: { mechanism: 'scram-sha-512', ...target.admin },
    retry: { maxAttempts: 1 },
  })
}

/**
 * Polls `check` on every broker of the cluster until it holds on each (20 s at most); `check`
 * returns true, or what the broker still shows (for the failure message).
 */
export async function onEveryBroker(
  target: SecuredTarget,
  what: string,
  check: (client: KafkaClient, broker: BrokerEndpoint) => Promise<true | string>,
): Promise<void> {
  const client = adminClient(target)
  try {
    await client.metadata.refresh([])
    const deadline = Date.now() + TIMEOUT_MS
    for (const broker of client.metadata.brokers.values()) {
      for (;;) {
        const seen = await check(client, broker)
        if (seen === true) break
        if (Date.now() > deadline)
          throw new Error(`broker ${broker.nodeId} still shows ${seen} after ${TIMEOUT_MS} ms, waiting for ${what}`)
        await sleep(100)
      }
    }
  } finally {
    await client.close()
  }
}

/** Waits until every broker lists `count` ACLs matching `filter` (its authorizer enforces them then). */
export function aclsOnEveryBroker(target: SecuredTarget, filter: AclFilter, count: number): Promise<void> {
  return onEveryBroker(target, `${count} ACL(s) matching ${JSON.stringify(filter)}`, async (client, broker) => {
    const r = await client.requestTo(broker, DescribeAcls, wireFilter(filter))
    if (r.errorCode !== 0) return `DescribeAcls error ${r.errorCode}`
    const n = r.resources.reduce((sum, res) => sum + res.acls.length, 0)
    return n === count || `${n} ACL(s)`
  })
}

/** Waits until every broker describes exactly `mechanisms` for `user` (none: the user is unknown). */
export function scramOnEveryBroker(target: SecuredTarget, user: string, mechanisms: ScramMechanism[]): Promise<void> {
  const want = mechanisms.map((m) => (m === 'scram-sha-512' ? 2 : 1)).sort()
  return onEveryBroker(target, `${user}'s SCRAM mechanisms ${JSON.stringify(mechanisms)}`, async (client, broker) => {
    const r = await client.requestTo(broker, DescribeUserScramCredentials, { users: [{ name: user }] })
    const res = r.results[0]
    const have = res === undefined || res.errorCode !== 0 ? [] : res.credentialInfos.map((c) => c.mechanism).sort()
    return JSON.stringify(have) === JSON.stringify(want) || `mechanism codes ${JSON.stringify(have)}`
  })
}

/** Waits until logging in as `sasl` succeeds (or, with `ok` false, fails) on every broker. */
export function loginOnEveryBroker(target: SecuredTarget, sasl: SaslConfig, ok: boolean): Promise<void> {
  const who = 'username' in sasl ? sasl.username : sasl.mechanism
  return onEveryBroker(target, `${who}'s login to ${ok ? 'succeed' : 'fail'}`, async (_, broker) => {
    const user = new KafkaClient({ brokers: [`${broker.host}:${broker.port}`], sasl, retry: { maxAttempts: 1 } })
    try {
      await user.pool.get(user.bootstrap[0]!, 'admin')
      return ok || 'a successful login'
    } catch (err) {
      if (!(err instanceof SaslAuthenticationError)) throw err
      return !ok || `a failed login (${err.message})`
    } finally {
      await user.close()
    }
  })
}

/** Waits until every broker's metadata has (or, with `exists` false, no longer has) `topic`. */
export function topicOnEveryBroker(target: SecuredTarget, topic: string, exists: boolean): Promise<void> {
  return onEveryBroker(target, `topic ${topic} ${exists ? 'created' : 'deleted'}`, async (client, broker) => {
    const r = await client.requestTo(broker, Metadata, {
      topics: [{ name: topic, topicId: ZERO_UUID }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    })
    const code = r.topics[0]?.errorCode
    return (exists ? code === 0 : code === 3) || `error code ${code}`
  })
}
