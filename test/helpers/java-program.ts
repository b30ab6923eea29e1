// A Java program among the test fixtures (one source file, e.g. test/fixtures/java-group/GroupMember.java),
// compiled once per source and client version with javac against javaClientClasspath() into the
// kafkats cache (cached(): a half-written class folder is never used), and, for the long-running
// members, started as a child that prints JSON lines and stops when its stdin says "stop".

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { cached, cacheRoot } from '../../scripts/maven-cache.js'
import { javaClientClasspath, peer } from './peers.js'

/**
 * The classpath to run `source` with (its classes, then Kafka's client jars), compiled on first use
 * into the cache folder `cacheName`/<hash of source and classpath>.
 */
export function javaProgram(source: URL, cacheName: string): () => string {
  const file = fileURLToPath(source)
  let classpath: string | undefined
  return () => {
    if (classpath === undefined) {
      const cp = javaClientClasspath()
      const hash = createHash('sha256').update(readFileSync(file)).update(cp).digest('hex').slice(0, 16)
      const classes = cached(join(cacheRoot(), cacheName, hash), (out) => {
        execFileSync(peer('javac'), ['-cp', cp, '-d', out, file], { stdio: 'pipe' })
      })
      classpath = `${classes}:${cp}`
    }
    return classpath
  }
}

/** `key=value` arguments of a Java member's extra client configs. */
export function configArgs(config: Record<string, string | number>): string[] {
  return Object.entries(config).map(([k, v]) => `${k}=${v}`)
}

export interface JavaChild {
  /** Exits with the program's code (null when killed). */
  readonly exited: Promise<number | null>
  /** The last 8000 characters the program wrote to stderr. */
  stderr(): string
  /** Writes "stop" to its stdin and waits for a clean exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>
}

/** Starts `mainClass` with `args`; each JSON line it prints goes to `onEvent`. */
export function startJavaChild(
  classpath: string,
  mainClass: string,
  args: string[],
  onEvent: (event: Record<string, unknown>) => void,
): JavaChild {
  const child: ChildProcess = spawn(peer('java'), ['-cp', classpath, mainClass, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-8000)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) onEvent(JSON.parse(line) as Record<string, unknown>)
  })
  return {
    exited,
    stderr: () => stderr,
    async stop(timeoutMs = 60_000) {
      child.stdin!.end('stop\n')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const code = await exited
      clearTimeout(timer)
      if (code !== 0) throw new Error(`${mainClass} exited with ${code}\n${stderr}`)
    },
  }
}
