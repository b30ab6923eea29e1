// The committed src/protocol/messages/*.ts must equal a fresh run of the generator over the
// 4.0.0 schemas (`npm run generate -- --check` exits 1 and names the stale files otherwise).

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { REPO_ROOT, SPEC_DIR } from '../helpers/schema.js'

describe('generated protocol code', () => {
  it('the schema directory is where the generator looks for it', () => {
    expect(existsSync(join(SPEC_DIR, 'FetchRequest.json'))).toBe(true)
  })

  it('is up to date with scripts/generate-protocol.ts and the 4.0.0 schemas', () => {
    const tsx = join(REPO_ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'tsx.cmd' : 'tsx')
    const { KAFKA_PROTOCOL_DIR: _ignored, ...env } = process.env
    const run = spawnSync(tsx, [join('scripts', 'generate-protocol.ts'), '--check'], {
      cwd: REPO_ROOT,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    })
    expect(run.error).toBeUndefined()
    const output = `${run.stdout}\n${run.stderr}`.trim()
    expect(run.status, output).toBe(0)
    expect(run.stdout).toMatch(/generated files are up to date/)
  }, 120_000)
})
