// Kafka's Java KafkaConsumer as a consumer group member (test/fixtures/java-group/GroupMember.java,
// group.protocol=consumer): it prints what it reads and commits after each poll, and leaves the
// group when stopped. Compiled once per source version with javac against javaClientClasspath()
// into the kafkats cache (cached(): a half-written class folder is never used).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { cached, cacheRoot } from '../../scripts/maven-cache.js'
import { javaClientClasspath, peer } from './peers.js'

const SOURCE = fileURLToPath(new URL('../fixtures/java-group/GroupMember.java', import.meta.url))

let classes: string | undefined

function classpath(): string {
  const cp = javaClientClasspath()
  if (classes === undefined) {
    const source = readFileSync(SOURCE)
    const hash = createHash('sha256').update(source).update(cp).digest('hex').slice(0, 16)
    classes = cached(join(cacheRoot(), 'java-group', hash), (out) => {
      execFileSync(peer('javac'), ['-cp', cp, '-d', out, SOURCE], { stdio: 'pipe' })
    })
  }
  return `${classes}:${cp}`
}

export interface JavaMember {
  /** The partitions the member owns now (as its rebalance listener last printed). */
  readonly assigned: readonly number[]
  /** Asks the member to commit, leave the group and exit; resolves when it has. */
  stop(timeoutMs?: number): Promise<void>
}

/** Starts a Java group member; `onRecord` gets each value it reads. */
export function startJavaMember(
  bootstrap: string[],
  groupId: string,
  topic: string,
  onRecord: (value: string, partition: number) => void,
  config: Record<string, string | number> = {},
): JavaMember {
  const child: ChildProcess = spawn(
    peer('java'),
    [
      '-cp',
      classpath(),
      'GroupMember',
      bootstrap.join(','),
      groupId,
      topic,
      ...Object.entries(config).map(([k, v]) => `${k}=${v}`),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let assigned: number[] = []
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-8000)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return
    const event = JSON.parse(line) as { event: string; partitions?: number[]; value?: string; partition?: number }
    if (event.event === 'assigned') assigned = event.partitions ?? []
    else if (event.event === 'record') onRecord(event.value!, event.partition!)
  })
  return {
    get assigned() {
      return assigned
    },
    async stop(timeoutMs = 60_000) {
      child.stdin!.end('stop\n')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const code = await exited
      clearTimeout(timer)
      if (code !== 0) throw new Error(`GroupMember exited with ${code}\n${stderr}`)
    },
  }
}
