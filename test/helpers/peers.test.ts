// A missing peer program ends in a clear error naming it and `npm run test:setup`, never in an
// uncaught spawn ENOENT that takes the test process down.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { run } from '../broker/helpers.js'
import { requireKcat } from './kcat.js'
import { MissingPeerError, peer } from './peers.js'

const savedPath = process.env.PATH
let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kafkats-peers-'))
})

afterEach(() => {
  process.env.PATH = savedPath
  rmSync(dir, { recursive: true, force: true })
})

describe('test peers', () => {
  it('resolves a peer to the executable file on PATH, skipping directories and non-executables', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((d) => join(dir, d)) as [string, string, string]
    for (const d of [a, b, c]) mkdirSync(d)
    mkdirSync(join(a, 'zstd')) // a directory named like the tool
    writeFileSync(join(b, 'zstd'), '#!/bin/sh\n') // not executable
    writeFileSync(join(c, 'zstd'), '#!/bin/sh\n')
    chmodSync(join(c, 'zstd'), 0o755)
    process.env.PATH = [a, b, c].join(':')
    expect(peer('zstd')).toBe(join(c, 'zstd'))
  })

  it('a peer missing from PATH is a MissingPeerError naming it and npm run test:setup', () => {
    process.env.PATH = dir
    expect(() => peer('kcat')).toThrow(MissingPeerError)
    expect(() => peer('kcat')).toThrow(/^kcat \(librdkafka's command-line client\) is not on PATH.*npm run test:setup/)
    expect(() => requireKcat()).toThrow(MissingPeerError)
  })

  it('run() rejects, naming the program, when it cannot be started', async () => {
    const missing = join(dir, 'no-such-kcat')
    await expect(run(missing, ['-V'], { timeoutMs: 5_000 })).rejects.toThrow(
      new RegExp(`could not start ${missing}: .*ENOENT`),
    )
  })
})
