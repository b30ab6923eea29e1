// `kafkats demo` (src/cli/demo.ts) runs end to end and closes everything it started.

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runDemo } from '../../src/cli/demo.js'

describe('runDemo', () => {
  it('writes, reads every message with a group of manually committing Readers, prints stats, and exits', async () => {
    const lines: string[] = []
    await runDemo({ messages: 3000, readers: 2, out: (line) => lines.push(line) })
    expect(lines[0]).toMatch(/^cluster: 3 brokers at /)
    expect(lines.some((l) => l.startsWith('all 3000 messages read in'))).toBe(true)
    expect(lines.some((l) => l.startsWith('writer: 3000 messages'))).toBe(true)
    expect(lines.filter((l) => /^reader \d: \d+ messages/.test(l))).toHaveLength(2)
    expect(lines.at(-1)).toBe('closed: readers, writer and cluster')
  }, 60_000)

  it('uses only the public API: the kafkats and kafkats/broker entries (issue 15)', () => {
    const source = readFileSync('src/cli/demo.ts', 'utf8')
    const imports = [...source.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1])
    expect(imports.length).toBeGreaterThan(0)
    expect(new Set(imports)).toEqual(new Set(['../index.js', '../broker/index.js']))
  })

  it('rejects nonsense options', async () => {
    await expect(runDemo({ readers: 0, out: () => {} })).rejects.toThrow(RangeError)
  })
})
