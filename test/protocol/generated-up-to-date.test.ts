// The committed src/protocol/messages/*.ts must equal a fresh run of the generator over the
// pinned release's schemas (`npm run generate -- --check` exits 1 and names the stale files
// otherwise). The schemas come from Kafka's kafka-clients jar (scripts/kafka-schemas.ts).

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { ensureKafkaSchemas, KAFKA_SCHEMAS_VERSION } from '../../scripts/kafka-schemas.js'
import { REPO_ROOT } from '../helpers/schema.js'

describe('generated protocol code', () => {
  it('is generated from Kafka 4.4.0, whose schemas are in the cache', () => {
    expect(KAFKA_SCHEMAS_VERSION).toBe('4.4.0')
    const dir = ensureKafkaSchemas(KAFKA_SCHEMAS_VERSION)
    expect(existsSync(join(dir, 'FetchRequest.json'))).toBe(true)
  })

  it(`is up to date with scripts/generate-protocol.ts and the ${KAFKA_SCHEMAS_VERSION} schemas`, () => {
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
