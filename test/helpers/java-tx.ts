// The Java client as a transactions peer (test/fixtures/java-tx/TxTool.java): its KafkaProducer
// runs a script of transactions, its KafkaConsumer reads a topic under either isolation level.
// The program is compiled once per source version (java-program.ts).

import { execFile } from 'node:child_process'
import { javaProgram } from './java-program.js'
import { peer } from './peers.js'

/** One record of a step: its partition, key and value (no spaces or colons in key and value). */
export interface TxRecord {
  partition: number
  key: string
  value: string
}

/**
 * One step of the producer's script: `commit` and `abort` run one transaction (aborted records
 * are flushed first, so they reach the log); `plain` writes with a non-transactional producer;
 * `open` writes, flushes and exits with the transaction left open.
 */
export interface TxStep {
  op: 'commit' | 'abort' | 'plain' | 'open'
  records: TxRecord[]
}

export interface SentRecord extends TxRecord {
  op: TxStep['op']
  offset: number
}

export interface ConsumedRecord extends TxRecord {
  offset: number
}

export interface ConsumeResult {
  records: ConsumedRecord[]
  /** Each partition's position once idle: where a Java consumer would commit. */
  positions: Map<number, number>
}

/** The compiled TxTool classes and the classpath to run them with. */
const classpath = javaProgram(new URL('../fixtures/java-tx/TxTool.java', import.meta.url), 'java-tx')

function props(extra: Record<string, string | number>): string[] {
  return Object.entries(extra).map(([k, v]) => `${k}=${v}`)
}

function run(args: string[], input: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      peer('java'),
      ['-cp', classpath(), 'TxTool', ...args],
      { timeout: timeoutMs, maxBuffer: 64 << 20, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`TxTool ${args[0]} failed: ${err.message}\n${stderr.slice(-4000)}`))
        else resolve(stdout)
      },
    )
    child.stdin?.end(input)
  })
}

function lines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

function checkToken(s: string): string {
  if (s === '' || /[\s:]/.test(s))
    throw new Error(`TxTool keys and values have no spaces or colons: ${JSON.stringify(s)}`)
  return s
}

/** Runs the Java KafkaProducer with `transactionalId` over the steps; resolves with what it wrote. */
export async function javaProduce(
  bootstrap: string[],
  transactionalId: string,
  topic: string,
  steps: TxStep[],
  options: { config?: Record<string, string | number>; timeoutMs?: number } = {},
): Promise<SentRecord[]> {
  const script = steps
    .map((s) => [s.op, ...s.records.map((r) => `${r.partition}:${checkToken(r.key)}:${checkToken(r.value)}`)].join(' '))
    .join('\n')
  const out = await run(
    ['produce', bootstrap.join(','), transactionalId, topic, ...props(options.config ?? {})],
    `${script}\n`,
    options.timeoutMs ?? 120_000,
  )
  return lines(out)
    .filter((l) => l.event === 'sent')
    .map((l) => ({
      op: l.op as TxStep['op'],
      partition: l.partition as number,
      offset: l.offset as number,
      key: l.key as string,
      value: l.value as string,
    }))
}

/**
 * Reads every partition of `topic` from the beginning with the Java KafkaConsumer until
 * `expected` records came and a short quiet spell followed, or nothing came for `idleMs`.
 */
export async function javaConsume(
  bootstrap: string[],
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
  options: { expected?: number; idleMs?: number; config?: Record<string, string | number>; timeoutMs?: number } = {},
): Promise<ConsumeResult> {
  const out = await run(
    [
      'consume',
      bootstrap.join(','),
      topic,
      isolation,
      String(options.expected ?? -1),
      String(options.idleMs ?? 3000),
      ...props(options.config ?? {}),
    ],
    '',
    options.timeoutMs ?? 120_000,
  )
  const parsed = lines(out)
  return {
    records: parsed
      .filter((l) => l.event === 'record')
      .map((l) => ({
        partition: l.partition as number,
        offset: l.offset as number,
        key: l.key as string,
        value: l.value as string,
      })),
    positions: new Map(
      parsed.filter((l) => l.event === 'position').map((l) => [l.partition as number, l.offset as number]),
    ),
  }
}
