// Stopping `npx kafkats broker` stops the broker: npm runs the bin through `sh -c` and forwards
// SIGTERM to that shell only, which used to leave the broker running as an orphan. Here the
// whole process tree must be gone and the port closed after SIGTERM to npx, after Ctrl-C (SIGINT
// to the process group, as a terminal sends it), and after SIGINT to the broker itself.
//
// `npx kafkats` runs the package's bin, dist/cli/main.js, so a stale dist/ is rebuilt first.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'

const started: ChildProcess[] = []
/** Processes under npx, killed after a failed test so that no broker outlives it. */
const trees: number[] = []
afterEach(() => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  for (const pid of trees.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL')
})

/** The newest modification time of any file under `dir`. */
function newest(dir: string): number {
  let max = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    max = Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return max
}

// Rebuilt only when src/ changed since (CI's `npm install` builds it first), so this test never
// rewrites dist/ under another test that reads it.
beforeAll(() => {
  const bin = 'dist/cli/main.js'
  if (existsSync(bin) && statSync(bin).mtimeMs >= newest('src')) return
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
    timeout: 240_000,
  })
}, 300_000)

/** Every process below `pid` (from ps; Linux and macOS). */
function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number])
  const out: number[] = []
  const queue = [pid]
  while (queue.length > 0) {
    const parent = queue.shift()!
    for (const [child, ppid] of table)
      if (ppid === parent) {
        out.push(child)
        queue.push(child)
      }
  }
  return out
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Starts a command in its own process group; resolves once it printed the bootstrap line. */
async function start(command: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  started.push(child)
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no bootstrap line within 120 s; stderr: ${stderr}`)), 120_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      if (stdout.includes('\n')) {
        clearTimeout(timer)
        resolve(stdout.slice(0, stdout.indexOf('\n')).trim())
      }
    })
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing; stderr: ${stderr}`)))
  })
  const port = Number(/:(\d+)$/.exec(line)?.[1])
  expect(port).toBeGreaterThan(0)
  return { child, port }
}

describe('stopping kafkats broker', () => {
  it.each([
    ['SIGTERM to npx', (child: ChildProcess) => child.kill('SIGTERM')],
    ['Ctrl-C (SIGINT to the process group)', (child: ChildProcess) => process.kill(-child.pid!, 'SIGINT')],
  ])(
    'npx kafkats broker: %s stops the broker and every process under npx',
    async (_name, stop) => {
      const { child, port } = await start('npx', ['--no-install', 'kafkats', 'broker', '--port', '0'])
      const tree = descendants(child.pid!)
      trees.push(...tree)
      expect(tree.length).toBeGreaterThan(0)
      const exited = once(child, 'exit')
      stop(child)
      await exited
      await waitUntil('every process under npx exited', () => tree.every((pid) => !alive(pid)))
      expect(await portClosed(port)).toBe(true)
    },
    180_000,
  )

  it.each([['SIGINT'], ['SIGTERM']] as const)(
    'the broker process itself stops on %s with exit status 0',
    async (signal) => {
      const { child, port } = await start(process.execPath, [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'broker',
        '--port',
        '0',
      ])
      const exited = once(child, 'exit')
      child.kill(signal)
      const [code] = (await exited) as [number | null]
      expect(code).toBe(0)
      expect(await portClosed(port)).toBe(true)
    },
    180_000,
  )
})
