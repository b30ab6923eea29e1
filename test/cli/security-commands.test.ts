// @integration: also runs against real Kafka (npm run test:kafka with KAFKATS_KAFKA_AUTHORIZER=1).
// `kafkats acls`, `kafkats users` and `kafkats transactions`, run as the binary against a
// cluster with an authorizer and SASL (test/admin/secured-target.ts), logged in as the admin
// user through the shared connection flags. What the commands print is checked against the
// Admin's view and against a login with the credentials they set, not against themselves.

import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import { Writer } from '../../src/producer/writer.js'
import { aclsOnEveryBroker, loginOnEveryBroker, scramOnEveryBroker } from '../admin/propagation.js'
import { LIKE_TEST_KAFKA, startSecuredTarget, type SecuredTarget } from '../admin/secured-target.js'
import { unique, waitFor } from '../consumer/helpers.js'

let target: SecuredTarget
let admin: Admin

beforeAll(async () => {
  target = await startSecuredTarget(LIKE_TEST_KAFKA)
  admin = new Admin({ brokers: target.bootstrap, sasl: { mechanism: 'scram-sha-512', ...target.admin } })
}, 60_000)

afterAll(async () => {
  await admin?.close()
  await target?.stop()
})

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

/** The binary as the admin user (the password through $KAFKA_SASL_PASSWORD, as documented). */
function kafkats(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        ...args,
        '--sasl-mechanism',
        'scram-sha-512',
        '--sasl-username',
        target.admin.username,
      ],
      {
        env: {
          ...process.env,
          KAFKA_BOOTSTRAP: target.bootstrap.join(','),
          KAFKA_SASL_PASSWORD: target.admin.password,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

describe('kafkats acls', () => {
  it('creates ACLs with kafka-acls.sh flags, lists and deletes them; a usage mistake exits 2', async () => {
    const topic = unique('cli-acl')
    const principal = `User:${unique('cli-user')}`
    const created = await kafkats([
      'acls',
      'create',
      '--allow-principal',
      principal,
      '--operation',
      'read',
      '--operation',
      'write',
      '--topic',
      topic,
      '--resource-pattern-type',
      'prefixed',
    ])
    expect(created.status, created.stderr).toBe(0)
    expect(created.stdout.split('\n')[0]).toMatch(
      /^RESOURCE-TYPE\s+NAME\s+PATTERN\s+PRINCIPAL\s+HOST\s+OPERATION\s+PERMISSION/,
    )
    // Kafka's brokers apply ACL and SCRAM changes from the metadata log, after the controller
    // answered: wait until every broker has each change (test/admin/propagation.ts).
    await aclsOnEveryBroker(target, { principal }, 2)
    const seen = await admin.describeAcls({ principal })
    expect(seen.map((a) => [a.resourceType, a.resourceName, a.patternType, a.operation, a.permission]).sort()).toEqual([
      ['topic', topic, 'prefixed', 'read', 'allow'],
      ['topic', topic, 'prefixed', 'write', 'allow'],
    ])

    // MATCH lists what applies to a topic under the prefix.
    const listed = await kafkats([
      'acls',
      'list',
      '--topic',
      `${topic}-x`,
      '--resource-pattern-type',
      'match',
      '--json',
    ])
    expect(listed.status, listed.stderr).toBe(0)
    const mine = (JSON.parse(listed.stdout) as { principal: string }[]).filter((a) => a.principal === principal)
    expect(mine).toHaveLength(2)

    const usage = await kafkats(['acls', 'create', '--allow-principal', principal, '--topic', topic])
    expect(usage.status).toBe(2)
    expect(usage.stderr).toContain('--operation')

    const deleted = await kafkats([
      'acls',
      'delete',
      '--principal',
      principal,
      '--topic',
      topic,
      '--resource-pattern-type',
      'prefixed',
      '--json',
    ])
    expect(deleted.status, deleted.stderr).toBe(0)
    expect(JSON.parse(deleted.stdout)).toHaveLength(2)
    await aclsOnEveryBroker(target, { principal }, 0)
    expect(await admin.describeAcls({ principal })).toEqual([])
  }, 90_000)
})

describe('kafkats users', () => {
  it('sets a SCRAM password the user logs in with, lists it, deletes it; a missing user exits 1', async () => {
    const user = unique('cli-user')
    const set = await kafkats(['users', 'set-password', user, '--mechanism', 'scram-sha-256', '--iterations', '8192'], {
      KAFKATS_USER_PASSWORD: 'cli-secret',
    })
    expect(set.status, set.stderr).toBe(0)
    await scramOnEveryBroker(target, user, ['scram-sha-256'])
    await loginOnEveryBroker(target, { mechanism: 'scram-sha-256', username: user, password: 'cli-secret' }, true)
    const listed = await kafkats(['users', 'list', user, '--json'])
    expect(listed.status, listed.stderr).toBe(0)
    expect(JSON.parse(listed.stdout)).toEqual([
      { user, credentials: [{ mechanism: 'scram-sha-256', iterations: 8192 }] },
    ])
    const asUser = new Admin({
      brokers: target.bootstrap,
      sasl: { mechanism: 'scram-sha-256', username: user, password: 'cli-secret' },
    })
    try {
      await asUser.describeCluster()
    } finally {
      await asUser.close()
    }
    const deleted = await kafkats(['users', 'delete', user])
    expect(deleted.status, deleted.stderr).toBe(0)
    await scramOnEveryBroker(target, user, [])
    const gone = await kafkats(['users', 'list', user])
    expect(gone.status).toBe(1)
    expect(gone.stderr).toContain('RESOURCE_NOT_FOUND')
  }, 90_000)
})

describe('kafkats transactions', () => {
  it('lists and describes a committed transaction; an unknown id exits 1', async () => {
    const p = unique('cli-txn')
    const topic = `${p}-t`
    await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }], { waitForLeaders: true })
    const writer = new Writer({
      brokers: target.bootstrap,
      topic,
      transactionalId: `${p}-id`,
      sasl: { mechanism: 'scram-sha-512', ...target.admin },
    })
    try {
      await writer.beginTransaction()
      await writer.writeMessages([{ value: 'v' }])
      await writer.commitTransaction()
    } finally {
      await writer.close()
    }
    await waitFor(
      async () => (await admin.describeTransactions([`${p}-id`]))[0]!.state === 'CompleteCommit',
      20_000,
      'the transaction completes',
    )
    const listed = await kafkats(['transactions', 'list', '--pattern', `${p}-.*`, '--json'])
    expect(listed.status, listed.stderr).toBe(0)
    const [entry] = await admin.listTransactions({ transactionalIdPattern: `${p}-.*` })
    expect(JSON.parse(listed.stdout)).toEqual([
      { transactionalId: `${p}-id`, producerId: Number(entry!.producerId), state: 'CompleteCommit' },
    ])
    const described = await kafkats(['transactions', 'describe', `${p}-id`])
    expect(described.status, described.stderr).toBe(0)
    expect(described.stdout).toMatch(new RegExp(`^${p}-id\\s+\\d+\\s+CompleteCommit\\s+${entry!.producerId}\\s`, 'm'))
    const unknown = await kafkats(['transactions', 'describe', `${p}-nope`])
    expect(unknown.status).toBe(1)
    expect(unknown.stderr).toContain('TRANSACTIONAL_ID_NOT_FOUND')
    const help = await kafkats(['transactions', '--help'])
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('usage: kafkats transactions')
    await admin.deleteTopics([topic])
  }, 90_000)
})
