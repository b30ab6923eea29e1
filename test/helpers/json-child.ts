// A test's child process (a TypeScript file run with tsx) that reports as JSON lines on stdout:
// each line is handed to `onEvent` as it arrives, and the end of stderr is kept for messages.

import { fork, type ChildProcess } from 'node:child_process'

export interface JsonChild {
  child: ChildProcess
  /** The last 8000 characters of its stderr. */
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function forkJsonChild(
  entry: string,
  args: unknown,
  onEvent: (event: Record<string, unknown>) => void,
): JsonChild {
  const child = fork(entry, [JSON.stringify(args)], { execArgv: ['--import', 'tsx'], stdio: 'pipe' })
  let stderr = ''
  let pending = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop()!
    for (const line of lines) if (line.startsWith('{')) onEvent(JSON.parse(line) as Record<string, unknown>)
  })
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, stderr: () => stderr, exited }
}
