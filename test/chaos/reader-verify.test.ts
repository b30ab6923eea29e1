// The Reader chaos verifier counts what it claims on member logs written by hand: missing
// offsets, duplicates beyond a killed member's uncommitted work, overlapping processing.

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseMemberLog, readerClean, uncommittedAtDeath, verifyReaderRun, type Death } from './reader-verify.js'

const dir = mkdtempSync(join(tmpdir(), 'reader-verify-'))
const memberLog = (name: string, lines: string[]) => {
  const file = join(dir, `${name}.log`)
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''))
  return parseMemberLog(name, file)
}

describe('reader chaos verifier', () => {
  // Partition 0 has 10 offsets. m1 processes 0..4 and commits, processes 5..7 and is killed at
  // t=40 before committing; m2 takes over at t=50 from the committed offset 5.
  const m1 = () => memberLog('m1', ['B m1 0', 'S 0 0 4 10', 'E 0 0 4 20', 'C 0 5 21', 'S 0 5 7 30', 'E 0 5 7 35'])
  const killed: Death[] = [{ member: 'm1', at: 40, killed: true }]

  it('accepts re-processing of what a killed member had not committed', () => {
    const m2 = memberLog('m2', ['S 0 5 9 50', 'E 0 5 9 60', 'C 0 10 61'])
    expect([...uncommittedAtDeath(m1())]).toEqual([[0, [5, 6, 7]]])
    const f = verifyReaderRun([m1(), m2], killed, [10])
    expect(f).toMatchObject({ messages: 10, processed: 13, missing: 0, duplicates: 3, duplicateBound: 3 })
    expect(f).toMatchObject({ unexplained: 0, overlaps: 0, handovers: 1, minGapMs: 15 })
    expect(readerClean(f)).toBe(true)
  })

  it('counts a duplicate of committed work as outside the bound', () => {
    // m2 restarts from offset 3, below what m1 committed (5): 3 and 4 were done and committed.
    const m2 = memberLog('m2', ['S 0 3 9 50', 'E 0 3 9 60', 'C 0 10 61'])
    const f = verifyReaderRun([m1(), m2], killed, [10])
    expect(f).toMatchObject({ duplicates: 5, duplicateBound: 3, unexplained: 2 })
    expect(readerClean(f)).toBe(false)
  })

  it('counts offsets nobody processed as missing', () => {
    const m2 = memberLog('m2', ['S 0 5 8 50', 'E 0 5 8 60', 'C 0 9 61'])
    const f = verifyReaderRun([m1(), m2], killed, [10])
    expect(f.missing).toBe(1)
    expect(readerClean(f)).toBe(false)
  })

  it('finds processing of one partition by two members at once, an open interval lasting until the death', () => {
    // m2 starts at t=38, while killed m1's batch 5..7 (no E line) is in flight until its death at 40.
    const m1Open = memberLog('m1', ['S 0 0 4 10', 'E 0 0 4 20', 'C 0 5 21', 'S 0 5 7 30'])
    const m2 = memberLog('m2', ['S 0 5 9 38', 'E 0 5 9 60', 'C 0 10 61'])
    const f = verifyReaderRun([m1Open, m2], killed, [10])
    expect(f.overlaps).toBe(1)
    expect(f.overlapExamples[0]).toContain('m1 5..7')
    expect(readerClean(f)).toBe(false)
  })

  it('explains re-processing after a failed commit, not after a successful one', () => {
    const a = memberLog('a', ['S 0 0 4 10', 'E 0 0 4 20', 'X 0 5 21 CommitRejectedError: rebalanced'])
    const b = memberLog('b', ['S 0 0 9 30', 'E 0 0 9 40', 'C 0 10 41'])
    const f = verifyReaderRun([a, b], [], [10])
    expect(f).toMatchObject({ failedCommits: 1, duplicates: 5, duplicateBound: 5, unexplained: 0, overlaps: 0 })
  })
})
