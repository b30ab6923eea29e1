// `kafkats broker --data-dir` keeps what it acknowledged through `kill -9`: librdkafka (kcat)
// produces and commits, the broker process is killed with SIGKILL (no chance to save anything),
// and a new broker on the same directory serves every acknowledged message at the same offset
// and the group's committed offsets.

import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { runKcat } from '../helpers/kcat.js'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

/** Starts `kafkats broker` and resolves with it and the bootstrap line it prints first. */
async function startBroker(args: string[]): Promise<{ child: ChildProcess; bootstrap: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'broker', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no bootstrap line within 30 s; stderr: ${stderr}`)), 30_000)
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
  return { child, bootstrap }
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null]
  expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' })
}

/** kcat -P: exits 0 only once every message has a delivery report (acks=all by default). */
async function produce(bootstrap: string, topic: string, lines: string[]): Promise<void> {
  const r = await runKcat(['-P', '-b', bootstrap, '-t', topic, '-K', ':', '-X', 'acks=all'], {
    input: lines.join('\n') + '\n',
    timeoutMs: 60_000,
  })
  expect(r.stderr).not.toMatch(/fail|error/i)
  expect(r.code).toBe(0)
}

/** Every message as "partition offset key value", sorted. */
async function readAll(bootstrap: string, topic: string): Promise<string[]> {
  const r = await runKcat(['-C', '-b', bootstrap, '-t', topic, '-e', '-q', '-f', '%p %o %k %s\\n'], {
    timeoutMs: 60_000,
  })
  expect(r.code).toBe(0)
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .sort()
}

/** A kcat group member reading to the end; librdkafka commits what it read when it closes. */
async function readAsGroup(bootstrap: string, group: string, topic: string): Promise<string[]> {
  const r = await runKcat(
    ['-b', bootstrap, '-G', group, topic, '-e', '-q', '-f', '%k\\n', '-X', 'auto.offset.reset=earliest'],
    { timeoutMs: 60_000 },
  )
  expect(r.code).toBe(0)
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .sort()
}

describe('kafkats broker --data-dir survives kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafkats-kill9-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps every acknowledged message at its offset, and committed offsets', async () => {
    const args = ['--port', '0', '--partitions', '3', '--data-dir', join(dir, 'data')]
    const keys = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `k${from + i}`)

    let { child, bootstrap } = await startBroker(args)
    const first = keys(0, 500)
    // Several producer sessions: batches appended to the files across many requests.
    for (let i = 0; i < first.length; i += 100)
      await produce(
        bootstrap,
        'durable',
        first.slice(i, i + 100).map((k) => `${k}:value of ${k}`),
      )
    const before = await readAll(bootstrap, 'durable')
    expect(before).toHaveLength(first.length)
    expect(await readAsGroup(bootstrap, 'durable-group', 'durable')).toEqual([...first].sort())
    await kill9(child)

    ;({ child, bootstrap } = await startBroker(args))
    // Same partition, offset, key and value for every message.
    expect(await readAll(bootstrap, 'durable')).toEqual(before)
    // The group resumes after what it committed: only the messages written since.
    const later = keys(500, 20)
    await produce(
      bootstrap,
      'durable',
      later.map((k) => `${k}:value of ${k}`),
    )
    expect(await readAsGroup(bootstrap, 'durable-group', 'durable')).toEqual([...later].sort())
    await kill9(child)

    // And once more: the second session's writes and commits survived too.
    ;({ child, bootstrap } = await startBroker(args))
    expect(await readAll(bootstrap, 'durable')).toHaveLength(first.length + later.length)
    expect(await readAsGroup(bootstrap, 'durable-group', 'durable')).toEqual([])
    child.kill('SIGTERM')
    await once(child, 'exit')
  }, 240_000)
})
