// `kafkats produce` / `consume` against librdkafka's kcat, on a reference cluster: what kcat
// wrote, `kafkats consume` prints exactly as `kcat -C -e` does (plain values, and the same -f
// format string); what `kafkats produce -K : -H` wrote, kcat reads back with its keys and headers;
// and keyed messages land on the partitions kcat's murmur2 partitioner (Java's) chooses.

import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Admin } from '../../src/admin/admin.js'
import { Cluster } from '../../src/broker/index.js'
import { runKcat } from '../helpers/kcat.js'

let cluster: Cluster
let bootstrap: string

beforeAll(async () => {
  cluster = await Cluster.start({ brokers: 1, defaultPartitions: 4 })
  bootstrap = cluster.bootstrapServers[0]!
})

afterAll(async () => {
  await cluster?.stop()
})

function kafkats(args: string[], input = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '-b', bootstrap], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
    child.stdin.end(input)
  })
}

const FORMAT = '%t|%p|%o|%k|%s|%h\\n'

describe('kafkats produce/consume and kcat', () => {
  it('prints what kcat wrote as kcat prints it', async () => {
    const topic = 'from-kcat'
    const wrote = await runKcat(
      ['-b', bootstrap, '-P', '-t', topic, '-p', '1', '-K', ':', '-H', 'a=1', '-H', 'b=two'],
      {
        input: 'k1:hello\nk2:world\n:no key\n',
      },
    )
    expect(wrote.code).toBe(0)
    const kcatPlain = await runKcat(['-b', bootstrap, '-C', '-t', topic, '-p', '1', '-e', '-q'])
    const ours = await kafkats(['consume', topic, '-p', '1'])
    expect(ours.status).toBe(0)
    expect(ours.stdout).toBe(kcatPlain.stdout)
    const kcatFormatted = await runKcat([
      '-b',
      bootstrap,
      '-C',
      '-t',
      topic,
      '-p',
      '1',
      '-e',
      '-q',
      '-f',
      FORMAT.replace('\\\\', '\\'),
    ])
    const oursFormatted = await kafkats(['consume', topic, '-p', '1', '--format', FORMAT])
    expect(kcatFormatted.stderr).toBe('')
    expect(kcatFormatted.stdout).toContain('|a=1,b=two')
    expect(oursFormatted.stdout).toBe(kcatFormatted.stdout)
  }, 120_000)

  it('writes what kcat reads back, keyed messages on the partitions kcat’s murmur2 picks', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `user-${i}`)
    // kafkats never auto-creates a topic (kcat does, through the broker's auto.create.topics.enable).
    const admin = new Admin({ brokers: [bootstrap] })
    await admin.createTopics([{ name: 'from-kafkats', partitions: 4 }], { waitForLeaders: true })
    await admin.close()
    const ours = await kafkats(
      ['produce', 'from-kafkats', '-K', '=', '-H', 'src=cli'],
      keys.map((k) => `${k}=v-${k}`).join('\n'),
    )
    expect(ours.status).toBe(0)
    const read = await runKcat(['-b', bootstrap, '-C', '-t', 'from-kafkats', '-e', '-q', '-f', '%p %k %s %h\\n'])
    const lines = read.stdout.trim().split('\n').sort()
    expect(lines).toHaveLength(20)
    for (const line of lines) expect(line).toMatch(/^\d (user-\d+) v-\1 src=cli$/)

    const theirs = await runKcat(
      ['-b', bootstrap, '-P', '-t', 'from-kcat-keyed', '-K', '=', '-X', 'partitioner=murmur2_random'],
      {
        input: `${keys.map((k) => `${k}=v-${k}`).join('\n')}\n`,
      },
    )
    expect(theirs.stderr).toBe('')
    expect(theirs.code).toBe(0)
    const placed = await runKcat(['-b', bootstrap, '-C', '-t', 'from-kcat-keyed', '-e', '-q', '-f', '%p %k %s %h\\n'])
    const expected = placed.stdout
      .trim()
      .split('\n')
      .map((l) => `${l.trimEnd()} src=cli`)
      .sort()
    expect(lines).toEqual(expected)
  }, 120_000)
})
