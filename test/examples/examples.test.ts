// Every file in examples/ is written as a user writes it (imports only from 'kafkats',
// 'kafkats/streams' and 'kafkats/broker'), runs as a user runs it (`npx tsx examples/<file>`),
// against the in-process reference cluster it starts when KAFKA_BOOTSTRAP is unset, and exits 0
// having printed what it promises.
//
// In this repository tsconfig.json `paths` maps 'kafkats', 'kafkats/streams' and 'kafkats/broker'
// to src/, and both tsc and tsx honour it ahead of the package's self-reference (which would load
// dist/), so the examples run against the current source and never a stale build.

import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { UserPartitioner } from '../../examples/custom-partitioner.js'
import { Hash } from '../../src/index.js'

const run = promisify(execFile)

/** What each example must print (a fragment of its output). */
const expected: Record<string, RegExp> = {
  'custom-partitioner.ts': /key "user-1" -> partition \d/,
  'producer-plain.ts': /wrote 3 messages/,
  'producer-batch.ts': /100000 acknowledged, 0 failed/,
  'producer-acks-retries.ts': /retries after two NOT_ENOUGH_REPLICAS: 2/,
  'consumer-partition.ts': /again: offset 9: message 9/,
  'consumer-group.ts': /read 20 messages/,
  'shared-client.ts': /read 10 invoices; group lag 0/,
  // Which worker takes which job (and whether the second one joins in time) is up to the broker.
  'share-reader.ts': /20 jobs done by [12] worker\(s\)\njob-7 done on delivery 2 by worker-[ab]/,
  'consumer-manual-commit.ts': /processed /,
  'transactions.ts': /transformed 20 messages; the output holds 20 \(20 distinct keys\)/,
  'transactional-processor.ts':
    /a batch failed and was rewound: pricing service unavailable\n20 orders priced in \d+ transactions? \(1 aborted\)\nthe output holds 20 results \(20 distinct orders\)/,
  'streams-wordcount.ts':
    /"the" counted 4 times \(store query\)\n15 count updates; final: brown=1 dog=2 fox=2 jumps=1 lazy=1 over=1 quick=1 runs=1 sleeps=1 the=4/,
  'streams-windowed.ts':
    /sensor-1 \[0s, 60s\): 2\nsensor-2 \[0s, 60s\): 1\nsensor-1 \[60s, 120s\): 1\nsensor-2 \[60s, 120s\): 1\n4 final window counts; 1 late reading dropped/,
}

describe('examples/', () => {
  const files = readdirSync('examples').filter((f) => f.endsWith('.ts'))

  it('has an expectation for every example', () => {
    expect(files.sort()).toEqual(Object.keys(expected).sort())
  })

  it('imports only from the package (and node:), as a user would', () => {
    for (const file of files) {
      const source = readFileSync(`examples/${file}`, 'utf8')
      const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!)
      expect(specifiers.length, file).toBeGreaterThan(0)
      for (const s of specifiers) expect(s, file).toMatch(/^(kafkats|kafkats\/broker|kafkats\/streams|node:.+)$/)
    }
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

describe('examples/custom-partitioner.ts', () => {
  it('places keys as the README says: unsigned FNV-1a, unlike Hash (signed, as kafka-go and Sarama)', () => {
    const partitions = [0, 1, 2, 3, 4, 5]
    const place = (key: string) => [
      new UserPartitioner().balance({ key, value: null }, partitions),
      new Hash().balance({ key, value: null }, partitions),
    ]
    // fnv1a32('user-1') = 0xf5537974: top bit set, so the two differ; 'order-42' (0x572446f4) agrees.
    expect(place('user-1')).toEqual([4, 0])
    expect(place('order-42')).toEqual([2, 2])
  })
})
