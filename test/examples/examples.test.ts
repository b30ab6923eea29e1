// Every file in examples/ runs as a user runs it (`npx tsx examples/<file>`), against the
// in-process reference cluster it starts when KAFKA_BOOTSTRAP is unset, and exits 0 having
// printed what it promises.

import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)

/** What each example must print (a fragment of its output). */
const expected: Record<string, RegExp> = {
  'custom-partitioner.ts': /key "user-1" -> partition \d/,
  'producer-plain.ts': /wrote 3 messages/,
  'producer-batch.ts': /100000 acknowledged, 0 failed/,
  'producer-acks-retries.ts': /retries after two NOT_ENOUGH_REPLICAS: 2/,
  'consumer-partition.ts': /again: offset 9: message 9/,
  'consumer-group.ts': /read 20 messages/,
  'consumer-manual-commit.ts': /processed /,
}

describe('examples/', () => {
  const files = readdirSync('examples').filter((f) => f.endsWith('.ts'))

  it('has an expectation for every example', () => {
    expect(files.sort()).toEqual(Object.keys(expected).sort())
  })

  for (const file of files) {
    it(`${file} runs and exits cleanly`, async () => {
      const env: NodeJS.ProcessEnv = { ...process.env }
      delete env.KAFKA_BOOTSTRAP // always the in-process cluster here
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${file}`], {
        env,
        timeout: 90_000,
        maxBuffer: 16 << 20,
      })
      expect(stdout).toMatch(expected[file]!)
    }, 120_000)
  }
})
