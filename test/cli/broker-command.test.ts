// `kafkats broker` as a user runs it: a child process that prints its bootstrap servers, serves
// third-party clients (kcat), and shuts down cleanly on SIGTERM.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { UsageError } from '../../src/cli/args.js'
import { brokerOptionsFromArgs, readSaslUsers } from '../../src/cli/broker-command.js'
import { peer } from '../helpers/peers.js'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

/** Starts the CLI and resolves with the bootstrap line it prints first. */
async function startBroker(args: string[]): Promise<{ child: ChildProcess; bootstrap: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'broker', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no bootstrap line within 20 s; stderr: ${stderr}`)), 20_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const newline = stdout.indexOf('\n')
      if (newline >= 0) {
        clearTimeout(timer)
        resolve(stdout.slice(0, newline).trim())
      }
    })
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing; stderr: ${stderr}`)))
  })
  return { child, bootstrap, stderr: () => stderr }
}

function kcat(args: string[]): string {
  return execFileSync(peer('kcat'), args, { encoding: 'utf8', timeout: 20_000 })
}

describe('kafkats broker', () => {
  it('prints the bootstrap servers, serves kcat, and stops cleanly on SIGTERM', async () => {
    const { child, bootstrap, stderr } = await startBroker(['--brokers', '2', '--port', '0', '--partitions', '3'])
    const servers = bootstrap.split(',')
    expect(servers).toHaveLength(2)
    for (const s of servers) expect(s).toMatch(/^127\.0\.0\.1:\d+$/)

    kcat(['-P', '-b', bootstrap, '-t', 'cli-topic', '-K:', '-l', writeLines(['a:1', 'b:2', 'c:3'])])
    const metadata = kcat(['-L', '-b', bootstrap, '-t', 'cli-topic'])
    expect(metadata).toContain('2 brokers')
    expect(metadata).toContain('topic "cli-topic" with 3 partitions')
    const consumed = kcat(['-C', '-b', bootstrap, '-t', 'cli-topic', '-e', '-q', '-f', '%k=%s\\n'])
      .trim()
      .split('\n')
      .sort()
    expect(consumed).toEqual(['a=1', 'b=2', 'c=3'])

    child.kill('SIGTERM')
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
    expect(stderr()).toContain('stopped (SIGTERM)')
  })

  it('requires SASL with --sasl-users and keeps data with --data-dir across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkats-cli-'))
    try {
      const users = join(dir, 'users.txt')
      writeFileSync(users, '# test users\nalice:alice-secret\n')
      const args = ['--port', '0', '--sasl-users', users, '--data-dir', join(dir, 'data')]
      const sasl = (password: string): string[] => [
        '-X',
        'security.protocol=SASL_PLAINTEXT',
        '-X',
        'sasl.mechanisms=PLAIN',
        '-X',
        'sasl.username=alice',
        '-X',
        `sasl.password=${password}`,
      ]
      let { child, bootstrap } = await startBroker(args)
      kcat(['-P', '-b', bootstrap, '-t', 'kept', ...sasl('alice-secret'), '-l', writeLines(['one', 'two'])])
      expect(() => kcat(['-L', '-b', bootstrap, ...sasl('wrong'), '-m', '3'])).toThrow()
      child.kill('SIGTERM')
      await once(child, 'exit')
      ;({ child, bootstrap } = await startBroker(args))
      const consumed = kcat(['-C', '-b', bootstrap, '-t', 'kept', ...sasl('alice-secret'), '-e', '-q'])
      expect(consumed.trim().split('\n')).toEqual(['one', 'two'])
      child.kill('SIGTERM')
      await once(child, 'exit')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('rejects bad flags with a message naming them', () => {
    expect(() => brokerOptionsFromArgs(['--brokers', '0'])).toThrow(/--brokers: must be at least 1/)
    expect(() => brokerOptionsFromArgs(['--port', 'x'])).toThrow(/--port: must be a non-negative integer/)
    expect(() => brokerOptionsFromArgs(['--tls-cert', 'a.pem'])).toThrow(/--tls-cert: needs --tls-key/)
    expect(() => brokerOptionsFromArgs(['--nope'])).toThrow(UsageError)
    expect(() => brokerOptionsFromArgs(['--nope'])).toThrow(/--nope: unknown flag/)
    expect(brokerOptionsFromArgs(['--brokers', '3', '--port', '19092']).ports).toEqual([19092, 19093, 19094])
  })

  it('reads a users file and rejects malformed lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkats-cli-'))
    try {
      const good = join(dir, 'good')
      writeFileSync(good, 'a:x\n\n# c\nb:y:z\n')
      expect(readSaslUsers(good)).toEqual({ a: 'x', b: 'y:z' })
      const bad = join(dir, 'bad')
      writeFileSync(bad, 'no-colon\n')
      expect(() => readSaslUsers(bad)).toThrow(/bad:1: expected user:password/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

let lineFiles = 0
function writeLines(lines: string[]): string {
  const path = join(tmpdir(), `kafkats-cli-lines-${process.pid}-${lineFiles++}.txt`)
  writeFileSync(path, lines.join('\n') + '\n')
  return path
}
