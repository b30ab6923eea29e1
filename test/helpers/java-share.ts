// Kafka's Java KafkaShareConsumer as a share group member (test/fixtures/java-share/ShareMember.java):
// it prints what it reads and how it acknowledged it, commits after each poll, leaves when
// stopped. Compiled once per source version with javac against javaClientClasspath() into the
// kafkats cache (cached(): a half-written class folder is never used).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { cached, cacheRoot } from '../../scripts/maven-cache.js'
import { javaClientClasspath, peer } from './peers.js'

const SOURCE = fileURLToPath(new URL('../fixtures/java-share/ShareMember.java', import.meta.url))

let classes: string | undefined

function classpath(): string {
  const cp = javaClientClasspath()
  if (classes === undefined) {
    const source = readFileSync(SOURCE)
    const hash = createHash('sha256').update(source).update(cp).digest('hex').slice(0, 16)
    classes = cached(join(cacheRoot(), 'java-share', hash), (out) => {
      execFileSync(peer('javac'), ['-cp', cp, '-d', out, SOURCE], { stdio: 'pipe' })
    })
  }
  return `${classes}:${cp}`
}

export interface JavaShareRecord {
  partition: number
  offset: number
  deliveryCount: number
  value: string
  ack: 'accept' | 'release' | 'reject'
}

export interface JavaShareMember {
  /** Resolves once the member's first poll has returned (it is in the group). */
  readonly polling: Promise<void>
  /** Asks the member to commit, leave the group and exit; resolves when it has. */
  stop(timeoutMs?: number): Promise<void>
}

/** Starts a Java share group member; `onRecord` gets each record it reads. */
export function startJavaShareMember(
  bootstrap: string[],
  groupId: string,
  topic: string,
  script: 'implicit' | 'mod3',
  onRecord: (record: JavaShareRecord) => void,
  config: Record<string, string | number> = {},
): JavaShareMember {
  const child: ChildProcess = spawn(
    peer('java'),
    [
      '-cp',
      classpath(),
      'ShareMember',
      bootstrap.join(','),
      groupId,
      topic,
      script,
      ...Object.entries(config).map(([k, v]) => `${k}=${v}`),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-8000)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let onPolling = (): void => {}
  const polling = new Promise<void>((resolve, reject) => {
    onPolling = resolve
    void exited.then((code) => reject(new Error(`ShareMember exited with ${code} before polling\n${stderr}`)))
  })
  polling.catch(() => {})
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return
    const event = JSON.parse(line) as { event: string } & JavaShareRecord
    if (event.event === 'polling') onPolling()
    else if (event.event === 'record') onRecord(event)
  })
  return {
    polling,
    async stop(timeoutMs = 60_000) {
      child.stdin!.end('stop\n')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const code = await exited
      clearTimeout(timer)
      if (code !== 0) throw new Error(`ShareMember exited with ${code}\n${stderr}`)
    },
  }
}
