// @integration: also runs against real Kafka (npm run test:kafka selects files with this marker).
// The `kafkats` client commands, run as the binary (`node --import tsx src/cli/main.ts`) against
// a 3-broker reference cluster, or real Kafka when KAFKA_BOOTSTRAP is set: topics create /
// describe / alter / delete (kafka-topics.sh's flags), produce from stdin with keys and headers
// and consume it back (plain, JSON lines, a kcat-style format), a consumer group's lag and
// reset-offsets (dry run, then --execute), cluster, exit codes 0/1/2, and Ctrl-C ending a
// --follow consumer cleanly with its offsets committed. What the commands print is checked
// against what was written and against the Admin's view, not against the commands themselves.

import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import { startTarget, unique, waitFor, type Target } from '../consumer/helpers.js'
import { startSecureTargets } from '../producer/helpers.js'

let target: Target
let admin: Admin

beforeAll(async () => {
  target = await startTarget()
  admin = new Admin({ brokers: target.bootstrap })
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

/**
 * Runs the binary asynchronously (the reference cluster lives in this process, so a blocking
 * spawnSync would starve it). `KAFKA_BOOTSTRAP` names the target unless `env` says otherwise.
 */
function kafkats(
  args: string[],
  options: {
    input?: string
    env?: Record<string, string | undefined>
    onStdout?: (text: string, kill: () => void) => void
  } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, KAFKA_BOOTSTRAP: target.bootstrap.join(','), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
      options.onStdout?.(stdout, () => child.kill('SIGINT'))
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

const replication = (): string => String(Math.min(3, target.brokerIds.length))

describe('kafkats topics', () => {
  it('creates, describes, alters and deletes a topic; a failure exits 1 with the reason', async () => {
    const topic = unique('cli-topic')
    const created = await kafkats([
      'topics',
      'create',
      topic,
      '--partitions',
      '3',
      '--replication-factor',
      replication(),
      '--config',
      'retention.ms=86400000',
    ])
    expect(created).toMatchObject({ status: 0, stderr: '' })
    expect(created.stdout).toContain(`Created topic ${topic} (3 partitions`)
    const [seen] = await admin.describeTopics([topic])
    expect(seen!.partitions).toHaveLength(3)

    const again = await kafkats(['topics', 'create', topic, '--partitions', '3', '--replication-factor', replication()])
    expect(again.status).toBe(1)
    expect(again.stderr).toMatch(/TOPIC_ALREADY_EXISTS \(36\)/)
    expect(again.stderr).toContain(topic)

    const altered = await kafkats(['topics', 'alter', topic, '--partitions', '4', '--config', 'cleanup.policy=compact'])
    expect(altered.status).toBe(0)
    await waitFor(async () => (await admin.describeTopics([topic]))[0]!.partitions.length === 4, 20_000, '4 partitions')
    await waitFor(
      async () => {
        const r = await kafkats(['topics', 'describe', topic, '--json'])
        const [t] = JSON.parse(r.stdout) as { partitions: unknown[]; configs: Record<string, string> }[]
        return (
          t!.partitions.length === 4 &&
          t!.configs['cleanup.policy'] === 'compact' &&
          t!.configs['retention.ms'] === '86400000'
        )
      },
      30_000,
      'describe --json shows the changes',
    )
    const human = await kafkats(['topics', 'describe', topic])
    expect(human.stdout).toMatch(new RegExp(`^Topic: ${topic} .*Partitions: 4`))
    expect(human.stdout.split('\n')[1]).toMatch(/^PARTITION\s+LEADER\s+REPLICAS\s+ISR/)

    const listed = await kafkats(['topics', 'list', '--json'])
    expect(JSON.parse(listed.stdout)).toContain(topic)

    expect((await kafkats(['topics', 'delete', topic])).status).toBe(0)
    await waitFor(async () => !(await admin.listTopics()).includes(topic), 20_000, 'deleted')
  }, 120_000)
})

describe('kafkats produce and consume', () => {
  it('writes stdin lines with keys and headers and reads them back in every output format', async () => {
    const topic = unique('cli-pc')
    await admin.createTopics([{ name: topic, partitions: 2, replicationFactor: Number(replication()) }], {
      waitForLeaders: true,
    })
    const lines = ['u1:hello', 'u2:world', 'u1:again', 'plain:{"n":1}']
    const produced = await kafkats(['produce', topic, '-K', ':', '-H', 'source=cli', '-H', 'v=2', '-p', '1'], {
      input: `${lines.join('\n')}\n`,
    })
    expect(produced).toMatchObject({ status: 0 })
    expect(produced.stderr).toContain(`wrote 4 message(s) to ${topic}`)
    const [end0, end1] = await admin.listOffsets([
      { topic, partition: 0, spec: 'latest' },
      { topic, partition: 1, spec: 'latest' },
    ])
    expect([end0!.offset, end1!.offset]).toEqual([0n, 4n])

    const plain = await kafkats(['consume', topic])
    expect(plain).toMatchObject({ status: 0, stdout: 'hello\nworld\nagain\n{"n":1}\n' })

    const json = await kafkats(['consume', topic, '--json', '-n', '2'])
    const records = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(records).toEqual([
      expect.objectContaining({
        topic,
        partition: 1,
        offset: 0,
        key: 'u1',
        value: 'hello',
        headers: { source: 'cli', v: '2' },
      }),
      expect.objectContaining({ topic, partition: 1, offset: 1, key: 'u2', value: 'world' }),
    ])

    const formatted = await kafkats(['consume', topic, '-p', '1', '-o', '2', '--format', '%p/%o %k=%s [%h]\\n'])
    expect(formatted.stdout).toBe('1/2 u1=again [source=cli,v=2]\n1/3 plain={"n":1} [source=cli,v=2]\n')

    const jsonInput = await kafkats(['produce', topic, '--json-input'], {
      input: '{"key":"k","value":"from-json","headers":{"h":"1"},"partition":0}\n',
    })
    expect(jsonInput.status).toBe(0)
    const fromJson = await kafkats(['consume', topic, '-p', '0', '--json'])
    expect(JSON.parse(fromJson.stdout)).toMatchObject({
      partition: 0,
      key: 'k',
      value: 'from-json',
      headers: { h: '1' },
    })

    const badJson = await kafkats(['produce', topic, '--json-input'], { input: 'not json\n' })
    expect(badJson.status).toBe(1)
    expect(badJson.stderr).toMatch(/line 1: not JSON/)
  }, 120_000)
})

describe('kafkats groups and cluster', () => {
  it('reports a group’s lag, resets its offsets (dry run, then --execute), and a --follow consumer ends on Ctrl-C with its offsets committed', async () => {
    const topic = unique('cli-group')
    const groupId = unique('cli-g')
    await admin.createTopics([{ name: topic, partitions: 2, replicationFactor: Number(replication()) }], {
      waitForLeaders: true,
    })
    const input = Array.from({ length: 10 }, (_, i) => `m${i}`).join('\n')
    expect((await kafkats(['produce', topic], { input })).status).toBe(0)

    // A member reads everything, then waits for more until Ctrl-C.
    let interrupted = false
    const follow = await kafkats(['consume', topic, '-g', groupId, '--follow'], {
      onStdout: (text, kill) => {
        if (!interrupted && text.split('\n').length > 10) {
          interrupted = true
          kill()
        }
      },
    })
    expect(follow.status).toBe(0)
    expect(follow.stdout.trim().split('\n').sort()).toEqual(input.split('\n').sort())
    const committed = await admin.committedOffsets(groupId)
    expect(committed.reduce((s, c) => s + (c.offset ?? 0n), 0n)).toBe(10n)

    expect((await kafkats(['produce', topic], { input: 'n1\nn2\nn3\n' })).status).toBe(0)
    const lag = await kafkats(['groups', 'lag', groupId, '--json'])
    expect(lag.status).toBe(0)
    const parsed = JSON.parse(lag.stdout) as { state: string; totalLag: number; partitions: { lag: number }[] }
    expect(parsed).toMatchObject({ state: 'Empty', totalLag: 3 })
    const human = await kafkats(['groups', 'lag', groupId])
    expect(human.stdout).toMatch(new RegExp(`^Group: ${groupId}  State: Empty  Total lag: 3\\n`))

    // The group of a default (KIP-848) consumer: ConsumerGroupDescribe, DescribeGroups otherwise.
    const described = await kafkats(['groups', 'describe', groupId, '--json'])
    expect(described.status).toBe(0)
    const group = JSON.parse(described.stdout) as { type: string }
    expect(group).toMatchObject({ groupId, state: 'Empty', protocolType: 'consumer', members: [] })
    expect(['consumer', 'classic']).toContain(group.type)
    const describedHuman = await kafkats(['groups', 'describe', groupId])
    expect(describedHuman.stdout).toMatch(new RegExp(`^Group: ${groupId}  Type: ${group.type}  State: Empty  `))

    const listed = await kafkats(['groups', 'list', '--json'])
    expect(JSON.parse(listed.stdout)).toContainEqual(
      expect.objectContaining({ groupId, state: 'Empty', protocolType: 'consumer' }),
    )

    const dry = await kafkats(['groups', 'reset-offsets', groupId, '--to-earliest', '--topic', topic])
    expect(dry.status).toBe(0)
    expect(dry.stderr).toContain('dry run')
    expect((await admin.groupLag(groupId)).totalLag).toBe(3n)
    const executed = await kafkats([
      'groups',
      'reset-offsets',
      groupId,
      '--to-earliest',
      '--topic',
      topic,
      '--execute',
      '--json',
    ])
    expect(JSON.parse(executed.stdout)).toMatchObject({ executed: true })
    expect((await admin.groupLag(groupId)).totalLag).toBe(13n)

    const noTarget = await kafkats(['groups', 'reset-offsets', groupId])
    expect(noTarget.status).toBe(2)
    expect(noTarget.stderr).toMatch(/give exactly one of --to-earliest/)

    expect((await kafkats(['groups', 'delete', groupId])).status).toBe(0)
    const gone = await kafkats(['groups', 'describe', groupId])
    expect(gone.status).toBe(1)
    expect(gone.stderr).toMatch(/GROUP_ID_NOT_FOUND|Dead/)
  }, 120_000)

  it('describes the cluster and its versions, with --bootstrap instead of KAFKA_BOOTSTRAP', async () => {
    const env = { KAFKA_BOOTSTRAP: undefined }
    const cluster = await kafkats(['cluster', '--json', '--bootstrap', target.bootstrap[0]!], { env })
    expect(cluster.status).toBe(0)
    const described = JSON.parse(cluster.stdout) as { brokers: { nodeId: number }[]; controllerId: number }
    expect(described.brokers.map((b) => b.nodeId).sort()).toEqual([...target.brokerIds].sort())
    const versions = await kafkats(['cluster', '--versions', '-b', target.bootstrap[0]!], { env })
    expect(versions.stdout).toMatch(/^Produce\s+0\s+\d+-\d+\s+\d+$/m)
  }, 120_000)

  it('connects over SASL (password from KAFKA_SASL_PASSWORD) and mutual TLS with the shared flags', async () => {
    const secure = await startSecureTargets()
    try {
      const { sasl, tls } = secure
      const viaSasl = await kafkats(
        [
          'cluster',
          '--json',
          '-b',
          sasl.bootstrap.join(','),
          '--sasl-mechanism',
          'scram-sha-256',
          '--sasl-username',
          sasl.username,
        ],
        { env: { KAFKA_SASL_PASSWORD: sasl.password } },
      )
      expect(viaSasl.stderr).toBe('')
      expect(viaSasl.status).toBe(0)
      expect((JSON.parse(viaSasl.stdout) as { brokers: unknown[] }).brokers.length).toBeGreaterThan(0)
      const wrong = await kafkats([
        'topics',
        'list',
        '-b',
        sasl.bootstrap.join(','),
        '--sasl-mechanism',
        'plain',
        '--sasl-username',
        sasl.username,
        '--sasl-password',
        'wrong',
      ])
      expect(wrong.status).toBe(1)
      expect(wrong.stderr).toMatch(/SASL|[Aa]uthentication/)
      const viaTls = await kafkats([
        'cluster',
        '-b',
        tls.bootstrap.join(','),
        '--tls-ca',
        tls.caPath,
        '--tls-cert',
        tls.certPath,
        '--tls-key',
        tls.keyPath,
      ])
      expect(viaTls.stderr).toBe('')
      expect(viaTls.stdout).toMatch(/^Cluster: /)
    } finally {
      await secure.stop()
    }
  }, 120_000)

  it('exits 2 with the command’s usage for a bad command line, and prints every command’s --help', async () => {
    const missing = await kafkats(['groups', 'lag'])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/^kafkats: group: missing\n\nusage: kafkats groups /)
    const unknown = await kafkats(['topics', 'frobnicate'])
    expect(unknown.status).toBe(2)
    const help = await kafkats(['--help'])
    for (const command of ['topics', 'groups', 'cluster', 'produce', 'consume', 'broker', 'demo']) {
      expect(help.stdout).toContain(`  ${command} `)
    }
    const consumeHelp = await kafkats(['consume', '--help'])
    expect(consumeHelp).toMatchObject({ status: 0, stderr: '' })
    expect(consumeHelp.stdout).toMatch(/^usage: kafkats consume TOPIC/)
    expect(consumeHelp.stdout).toContain('--bootstrap')
  }, 120_000)
})
