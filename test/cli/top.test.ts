// `kafkats top` on the reference cluster: the spawned CLI's frame (text and --json) parsed and
// checked against the broker's own state (high watermarks, ISR) and offsets a third-party
// client (KafkaJS) committed; the frame arithmetic on fixed samples; the live loop's in-place
// redraw on a terminal and its plain frames into a pipe.

import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { UsageError } from '../../src/cli/args.js'
import type { Output } from '../../src/cli/common.js'
import { runTopCommand } from '../../src/cli/top-command.js'
import { buildFrame, renderFrame, type Sample } from '../../src/cli/top-frame.js'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

/** Runs `kafkats top` to completion; resolves with its stdout (rejects on a non-zero exit). */
function top(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'top', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`top did not finish in 30 s; stderr: ${stderr}`)), 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(stdout)
      else reject(new Error(`top exited with ${code}; stderr: ${stderr}`))
    })
  })
}

/** A text frame's sections (split at blank lines), each as rows of cells keyed by its header. */
function parseFrame(text: string): { title: string; sections: Record<string, string>[][]; underReplicated: number } {
  const blocks = text.trimEnd().split('\n\n')
  const title = blocks[0]!
  const sections: Record<string, string>[][] = []
  let underReplicated = -1
  for (const block of blocks.slice(1)) {
    let lines = block.split('\n')
    const ur = /^UNDER-REPLICATED PARTITIONS: (\d+)$/.exec(lines[0]!)
    if (ur !== null) {
      underReplicated = Number(ur[1])
      lines = lines.slice(1)
      if (lines.length === 0) {
        sections.push([])
        continue
      }
    }
    const header = lines[0]!.split(/\s+/)
    sections.push(
      lines.slice(1).map((l) => {
        const cells = l.split(/\s{2,}/)
        return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']))
      }),
    )
  }
  return { title, sections, underReplicated }
}

describe('kafkats top on the reference cluster', () => {
  let cluster: Cluster
  let kafka: Kafka
  let bootstrap: string
  beforeAll(async () => {
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
    cluster = await Cluster.start({ brokers: 3, groupInitialRebalanceDelayMs: 0 })
    bootstrap = cluster.bootstrapServers.join(',')
    kafka = new Kafka({ brokers: cluster.bootstrapServers, logLevel: logLevel.NOTHING })
    cluster.createTopic('top-orders', { partitions: 2, replicationFactor: 3 })
    cluster.createTopic('top-idle', { partitions: 1, replicationFactor: 1 })
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({
      topic: 'top-orders',
      messages: Array.from({ length: 50 }, (_, i) => ({ value: `m${i}`, partition: i % 2 })),
    })
    await producer.disconnect()
    const admin = kafka.admin()
    await admin.connect()
    await admin.setOffsets({ groupId: 'top-group', topic: 'top-orders', partitions: [{ partition: 0, offset: '10' }] })
    await admin.disconnect()
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('prints one frame with --once: rates, lag per partition and under-replicated partitions', async () => {
    const p1 = cluster.topics.partition('top-orders', 1)!
    cluster.faults.shrinkIsr('top-orders', 1, [p1.leader])
    // Messages keep arriving while top samples: 10 every 50 ms on partition 0.
    const producer = kafka.producer()
    await producer.connect()
    let producing = true
    let sent = 0
    const background = (async () => {
      while (producing) {
        await producer.send({
          topic: 'top-orders',
          messages: Array.from({ length: 10 }, (_, i) => ({ value: `bg${i}`, partition: 0 })),
        })
        sent += 10
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    let text: string
    const started = Date.now()
    try {
      text = await top(['--once', '--interval', '1', '--bootstrap', bootstrap, '--group', 'top-group'])
    } finally {
      producing = false
      await background
      await producer.disconnect()
      cluster.faults.shrinkIsr('top-orders', 1, [0, 1, 2])
    }
    const elapsed = (Date.now() - started) / 1000
    const frame = parseFrame(text)
    expect(frame.title).toMatch(/^kafkats top {2}\S+ {2}interval \d+\.\ds {2}brokers 3 {2}controller 0$/)
    const [topics, groups, under] = frame.sections
    const orders = topics!.find((t) => t.TOPIC === 'top-orders')!
    expect(orders.PARTITIONS).toBe('2')
    const rate = Number(orders['MSG/S'])
    expect(rate).toBeGreaterThan(0)
    // No more than everything sent while top ran, over the sampling interval (at least 1 s).
    expect(rate).toBeLessThanOrEqual(sent / 1)
    expect(elapsed).toBeGreaterThanOrEqual(1)
    expect(topics!.find((t) => t.TOPIC === 'top-idle')).toMatchObject({ 'END-OFFSET': '0', 'MSG/S': '0.0' })

    const g = groups!.find((r) => r.GROUP === 'top-group' && r.PARTITION === '0')!
    expect(g.COMMITTED).toBe('10')
    expect(Number(g.LAG)).toBe(Number(g.END) - 10)
    expect(Number(g.END)).toBeGreaterThanOrEqual(25)

    expect(frame.underReplicated).toBe(1)
    expect(under).toEqual([
      {
        TOPIC: 'top-orders',
        PARTITION: '1',
        LEADER: String(p1.leader),
        REPLICAS: p1.replicas.join(','),
        ISR: String(p1.leader),
      },
    ])
  })

  it('--json gives the frame with the broker’s log ends and an offline partition', async () => {
    cluster.createTopic('top-offline', { assignments: [[2]] })
    await cluster.faults.stopBroker(2)
    let text: string
    try {
      text = await top([
        '--once',
        '--json',
        '--interval',
        '0.2',
        '-b',
        cluster.bootstrapServers.join(','),
        '--topic',
        'top-orders',
        '--topic',
        'top-offline',
        '--group',
        'top-group',
      ])
    } finally {
      await cluster.faults.startBroker(2)
    }
    const frame = JSON.parse(text) as {
      topics: { topic: string; endOffset: number; perSecond: number }[]
      groups: { groupId: string; partitions: { partition: number; committedOffset: number; lag: number }[] }[]
      underReplicated: { topic: string; partition: number; offline: boolean }[]
    }
    const hw = cluster.topics.get('top-orders')!.partitions.reduce((n, p) => n + p.highWatermark, 0)
    expect(frame.topics.find((t) => t.topic === 'top-orders')).toMatchObject({ endOffset: hw, perSecond: 0 })
    expect(frame.underReplicated).toContainEqual(
      expect.objectContaining({ topic: 'top-offline', partition: 0, offline: true }),
    )
    const p0 = cluster.topics.partition('top-orders', 0)!.highWatermark
    expect(frame.groups[0]!.partitions.find((p) => p.partition === 0)).toMatchObject({
      committedOffset: 10,
      lag: p0 - 10,
    })
  })

  it('keeps drawing frames until Ctrl-C (plain frames into a pipe)', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'top', '--interval', '0.2', '-b', bootstrap, '--topic', 'top-idle'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    children.push(child)
    let stdout = ''
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
    const deadline = Date.now() + 20_000
    while ((stdout.match(/^kafkats top /gm) ?? []).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    expect((stdout.match(/^kafkats top /gm) ?? []).length).toBeGreaterThanOrEqual(2)
    expect(stdout).not.toContain('\x1b[')
    child.kill('SIGINT')
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
  })

  it('redraws in place on a terminal and restores the cursor', async () => {
    const written: string[] = []
    const out: Output = { line: (t) => void written.push(`${t}\n`), write: (t) => void written.push(t) }
    const stop = new AbortController()
    const done = runTopCommand(
      ['--interval', '0.1', '-b', bootstrap, '--topic', 'top-idle', '--group', 'none'],
      stop.signal,
      out,
      {
        isTTY: true,
        columns: 30,
        rows: 10,
      },
    )
    const deadline = Date.now() + 20_000
    while (written.filter((w) => w.startsWith('\x1b[H')).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    stop.abort()
    expect(await done).toBe(0)
    const frames = written.filter((w) => w.startsWith('\x1b[H'))
    expect(frames.length).toBeGreaterThanOrEqual(2)
    for (const f of frames) {
      const lines = f.slice(3).split('\n').slice(0, -1)
      expect(lines.length).toBeLessThanOrEqual(9)
      // Each line cut to the 30 columns, then cleared to its end.
      for (const l of lines) expect(l.replace('\x1b[K', '').length).toBeLessThanOrEqual(30)
    }
    expect(written[0]).toContain('\x1b[?25l')
    expect(written[written.length - 1]).toBe('\x1b[?25h')
  })
})

describe('top frames', () => {
  const base = (at: number, end0: bigint, end1: bigint): Sample => ({
    at,
    brokers: 3,
    controller: 1,
    topics: new Map([
      [
        't',
        [
          { partition: 0, leader: 0, replicas: [0, 1], isr: [0, 1], endOffset: end0 },
          { partition: 1, leader: -1, replicas: [2], isr: [2], endOffset: end1 },
        ],
      ],
    ]),
    groups: [
      {
        groupId: 'g',
        state: 'Empty',
        partitions: [{ topic: 't', partition: 0, committedOffset: null, endOffset: end0, lag: null }],
      },
    ],
  })

  it('computes messages per second from the growth of log end offsets', () => {
    const frame = buildFrame(base(12_500, 1200n, 7n), base(10_000, 200n, 7n))
    expect(frame.intervalMs).toBe(2500)
    expect(frame.topics).toEqual([{ topic: 't', partitions: 2, endOffset: 1207n, perSecond: 400 }])
    expect(frame.underReplicated).toEqual([
      { topic: 't', partition: 1, leader: -1, replicas: [2], isr: [2], offline: true },
    ])
    const text = renderFrame(frame)
    expect(text).toContain('UNDER-REPLICATED PARTITIONS: 1')
    expect(text.find((l) => l.startsWith('t '))).toMatch(/^t\s+2\s+1207\s+400\.0$/)
    expect(text.find((l) => l.startsWith('g '))).toMatch(/^g\s+Empty\s+t\s+0\s+-\s+1200\s+-$/)
  })

  it('shows no rate for the first sample and never a negative one', () => {
    expect(buildFrame(base(0, 5n, 0n)).topics[0]!.perSecond).toBeNull()
    expect(buildFrame(base(1000, 5n, 0n), base(0, 50n, 0n)).topics[0]!.perSecond).toBe(0)
  })

  it('rejects a bad --interval', async () => {
    const out: Output = { line: () => {}, write: () => {} }
    await expect(runTopCommand(['--interval', '0'], new AbortController().signal, out)).rejects.toThrow(UsageError)
    await expect(runTopCommand(['--interval', 'soon'], new AbortController().signal, out)).rejects.toThrow(UsageError)
  })
})
