// Runs librdkafka's `kcat` (Debian package `kcat`) with a hard time limit. Tests that use it do
// not skip when it is missing: `requireKcat()` throws a MissingPeerError with instructions.

import { spawn, spawnSync } from 'node:child_process'

import { peer } from './peers.js'

export interface KcatResult {
  /** Exit code, or null when kcat was killed. */
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
}

let version: string | undefined

/** kcat's `-V` banner; throws a clear error when kcat is not on PATH or does not run. */
export function requireKcat(): string {
  const kcat = peer('kcat')
  if (version !== undefined) return version
  const probe = spawnSync(kcat, ['-V'], { encoding: 'utf8', timeout: 10_000 })
  if (probe.error !== undefined || probe.status !== 0) {
    const why = probe.error !== undefined ? probe.error.message : `exit status ${probe.status}: ${probe.stderr}`
    throw new Error(`${kcat} -V failed (${why}); run \`npm run test:setup\`. This test does not skip.`)
  }
  version = `${probe.stdout}${probe.stderr}`
  return version
}

/**
 * Runs `kcat args`, writing `input` to its stdin (then closing it). Resolves when kcat exits,
 * or kills it (SIGKILL) after `timeoutMs` and resolves with `timedOut: true`. Never rejects
 * for a non-zero exit; rejects only when kcat cannot be started.
 */
export function runKcat(
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<KcatResult> {
  requireKcat()
  const timeoutMs = options.timeoutMs ?? 20_000
  return new Promise((resolve, reject) => {
    const child = spawn(peer('kcat'), args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, timedOut })
    })
    child.stdin.on('error', () => {}) // kcat may exit before reading everything
    child.stdin.end(options.input ?? '')
  })
}
