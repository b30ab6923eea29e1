// `kafkats` as a Unix tool: --help and --version print on stdout and exit 0; a bad command line
// prints usage on stderr and exits 2; a command that fails (an unusable --data-dir) prints one
// clear line and exits 1, quickly.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

function kafkats(args: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now()
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started }
}

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version

describe('kafkats command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafkats-main-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.each([['--version'], ['-V']])('%s prints the package version and exits 0', (flag) => {
    const r = kafkats([flag])
    expect(r).toMatchObject({ status: 0, stdout: `${version}\n`, stderr: '' })
  })

  it.each([['--help'], ['-h'], ['help']])('%s prints usage on stdout and exits 0', (flag) => {
    const r = kafkats([flag])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^usage: kafkats <command>/)
    expect(r.stdout).toContain('kafkats broker')
    expect(r.stderr).toBe('')
  })

  it.each([['broker'], ['demo']])('%s --help prints that command’s usage and exits 0', (command) => {
    const r = kafkats([command, '--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`^usage: kafkats ${command} `))
    expect(r.stderr).toBe('')
  })

  it.each([
    [['--nope'], /^kafkats: --nope: unknown flag\n/, /usage: kafkats <command>/],
    [['frobnicate'], /^kafkats: frobnicate: unknown command/, /usage: kafkats <command>/],
    [[], /^kafkats: command: missing/, /usage: kafkats <command>/],
    [['broker', '--nope'], /^kafkats: --nope: unknown flag\n/, /usage: kafkats broker /],
    [['broker', '--port'], /^kafkats: --port: Option '--port <value>' argument missing/, /usage: kafkats broker /],
    [['broker', '--port', 'x'], /^kafkats: --port: must be a non-negative integer, got 'x'/, /usage: kafkats broker /],
    [['broker', 'extra'], /^kafkats: extra: unexpected argument/, /usage: kafkats broker /],
    [['demo', '--readers', '0'], /^kafkats: --readers: must be at least 1/, /usage: kafkats demo /],
  ])('%j prints the mistake and usage on stderr and exits 2', (args, message, usage) => {
    const r = kafkats(args)
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(message)
    expect(r.stderr).toMatch(usage)
  })

  it('exits 1 at once with one clear line when --data-dir cannot be a directory', () => {
    // Root ignores permission bits, so the unusable path is one under a regular file.
    const file = join(dir, 'a-file')
    writeFileSync(file, 'not a directory')
    const r = kafkats(['broker', '--port', '0', '--data-dir', join(file, 'data')])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^kafkats: --data-dir .*a-file\/data is not a writable directory \(ENOTDIR/),
    ])
    // Well below any timeout: no retry loop (the time is mostly loading the CLI through tsx).
    expect(r.ms).toBeLessThan(15_000)
  })

  it('exits 1 when --data-dir is a file', () => {
    const file = join(dir, 'another-file')
    writeFileSync(file, '')
    const r = kafkats(['broker', '--port', '0', '--data-dir', file])
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/^kafkats: --data-dir .*another-file is not a writable directory/)
  })
})
