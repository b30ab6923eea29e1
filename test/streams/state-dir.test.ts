// The persistent store (LMDB) and the state directory: byte order, writes durable only once
// flushed, key limits; Kafka Streams' checkpoint file format (read and written by Kafka
// Streams' own OffsetCheckpoint through a Java probe); task directory locks within a process
// and across processes.

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { StateStoreError } from '../../src/streams/errors.js'
import { MAX_KEY_BYTES, PersistentBytesStore } from '../../src/streams/persistent-store.js'
import { formatCheckpoint, parseCheckpoint, StateDirectory } from '../../src/streams/state-dir.js'
import { javaProbe } from './helpers/java-streams.js'

let root: string
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kafkats-state-'))
})
afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

const b = (s: string): Buffer => Buffer.from(s, 'latin1')

describe('PersistentBytesStore', () => {
  it('answers reads from its unflushed writes and the disk, in byte order (Buffer.compare)', async () => {
    const store = new PersistentBytesStore(join(root, 'order'))
    const keys = ['b', '', 'a', '\u00ff', 'ab', '\u0000', 'a\u0000', 'z']
    for (const [i, k] of keys.entries()) store.put(b(k), b(`v${i}`))
    store.flush()
    // Some writes stay in memory: an overwrite, a delete, new keys on both sides of disk keys.
    store.put(b('ab'), b('new'))
    store.put(b('z'), null)
    store.put(b('aa'), b('mem'))
    store.put(b('\u00fe'), b('mem2'))
    const expected = new Map(keys.map((k, i) => [k, `v${i}`]))
    expected.set('ab', 'new')
    expected.delete('z')
    expected.set('aa', 'mem')
    expected.set('\u00fe', 'mem2')
    const sorted = [...expected.keys()].map(b).sort(Buffer.compare)
    const all = [...store.all()]
    expect(all.map(([k]) => k)).toEqual(sorted)
    expect(all.map(([k, v]) => [k.toString('latin1'), v.toString('latin1')])).toEqual(
      sorted.map((k) => [k.toString('latin1'), expected.get(k.toString('latin1'))]),
    )
    expect(store.size).toBe(expected.size)
    expect(store.get(b('z'))).toBeUndefined()
    expect(store.get(b(''))?.toString()).toBe('v1')
    await store.close()
  })

  it('keeps what was flushed and forgets what was not when closed', async () => {
    const dir = join(root, 'durable')
    const a = new PersistentBytesStore(dir)
    a.put(b('k1'), b('one'))
    a.flush()
    a.put(b('k2'), b('two'))
    a.put(b('k1'), null)
    await a.close()
    const again = new PersistentBytesStore(dir)
    expect(again.get(b('k1'))?.toString()).toBe('one')
    expect(again.get(b('k2'))).toBeUndefined()
    expect(again.size).toBe(1)
    expect(() => {
      again.put(Buffer.alloc(MAX_KEY_BYTES + 1), b('x'))
    }).toThrow(StateStoreError)
    again.put(Buffer.alloc(MAX_KEY_BYTES, 1), b('x'))
    again.flush()
    expect(again.get(Buffer.alloc(MAX_KEY_BYTES, 1))?.toString()).toBe('x')
    await again.close()
    expect(() => {
      again.put(b('k3'), b('closed'))
    }).toThrow(StateStoreError)
  })
})

describe('checkpoint files', () => {
  const offsets = new Map([
    ['app-counts-changelog\u00000', 42n],
    ['app-counts-changelog\u000012', 0n],
    ['app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog\u00001', 9007199254740993n],
  ])
  const sorted = (m: Map<string, bigint>): string[] => [...m].map(([k, o]) => `${k.replace('\u0000', ' ')} ${o}`).sort()

  it("are Kafka Streams' OffsetCheckpoint files: Java reads ours, we read Java's", () => {
    const probe = javaProbe('CheckpointProbe')
    const ours = join(root, 'ours.checkpoint')
    writeFileSync(ours, formatCheckpoint(offsets))
    expect(probe(['read', ours]).trim().split('\n')).toEqual(sorted(offsets))
    const java = join(root, 'java.checkpoint')
    probe(['write', java, ...[...offsets].flatMap(([k, o]) => [...k.split('\u0000'), String(o)])])
    expect(sorted(parseCheckpoint(readFileSync(java, 'utf8'))!)).toEqual(sorted(offsets))
  }, 120_000)

  it.each([
    ['empty', ''],
    ['another version', '1\n0\n'],
    ['a count that does not match', '0\n2\nt 0 1\n'],
    ['a negative offset', '0\n1\nt 0 -1\n'],
    ['a line cut short', '0\n1\nt 0\n'],
    ['bytes', '\u0000\u0001garbage'],
  ])('that are corrupt (%s) read as no checkpoint', (_, text) => {
    expect(parseCheckpoint(text)).toBeUndefined()
    const dir = new StateDirectory(join(root, 'corrupt'), 'app', undefined)
    rmSync(dir.taskDir('0_0'), { recursive: true, force: true })
    const warnings: unknown[] = []
    const logged = new StateDirectory(dir.root, 'app', {
      warn: (o: unknown) => warnings.push(o),
    } as never)
    expect(logged.readCheckpoint('0_0')).toBeUndefined() // missing: no warning
    expect(warnings).toHaveLength(0)
    logged.writeCheckpoint('0_0', new Map())
    writeFileSync(join(dir.taskDir('0_0'), '.checkpoint'), text)
    expect(logged.readCheckpoint('0_0')).toBeUndefined()
    expect(warnings).toHaveLength(1)
  })
})

describe('task directory locks', () => {
  it('one owner at a time in one process; the next one gets it once released, or times out', async () => {
    const dir = new StateDirectory(join(root, 'locks'), 'app', undefined)
    const signal = new AbortController().signal
    const first = await dir.lock('1_2', 'instance-a', signal, 1_000)
    const started = Date.now()
    await expect(dir.lock('1_2', 'instance-b', signal, 300)).rejects.toThrow(StateStoreError)
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    // Other tasks are not affected; the holder may take it again.
    ;(await dir.lock('1_3', 'instance-b', signal, 100)).release()
    const waiting = dir.lock('1_2', 'instance-b', signal, 5_000)
    setTimeout(() => first.release(), 200)
    const second = await waiting
    await expect(dir.lock('1_2', 'instance-a', signal, 100)).rejects.toThrow(/instance-b/)
    second.release()
  })

  it('refuses a lock held by another live process and takes over one whose process is gone', async () => {
    const dir = new StateDirectory(join(root, 'locks-proc'), 'app', undefined)
    const signal = new AbortController().signal
    ;(await dir.lock('0_0', 'x', signal, 100)).release()
    const lockFile = join(dir.taskDir('0_0'), '.lock')
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' })
    try {
      writeFileSync(lockFile, JSON.stringify({ pid: other.pid, owner: 'elsewhere' }))
      await expect(dir.lock('0_0', 'x', signal, 300)).rejects.toThrow(/elsewhere \(pid/)
    } finally {
      const exited = new Promise((resolve) => other.on('exit', resolve))
      other.kill('SIGKILL')
      await exited
    }
    const taken = await dir.lock('0_0', 'x', signal, 1_000)
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toEqual({ pid: process.pid, owner: 'x' })
    taken.release()
  })
})
