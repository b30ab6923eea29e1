// scripts/kafka-schemas.ts with a stand-in `mvn` on PATH: what a missing or failing Maven gives,
// and that a fetch racing another process's (or killed earlier) leaves one whole directory. The
// real fetch from Maven Central runs in generated-up-to-date.test.ts.

import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { ensureKafkaSchemas, kafkaSchemaDir, schemaCacheDir } from '../../scripts/kafka-schemas.js'
import { MavenCacheError } from '../../scripts/maven-cache.js'

const saved = { ...process.env }
let work: string

/** Puts an executable `mvn` with this bash body first on PATH (and nothing else but bash's own). */
function fakeMvn(body: string): void {
  const bin = join(work, 'bin')
  mkdirSync(bin, { recursive: true })
  writeFileSync(join(bin, 'mvn'), `#!/bin/bash\n${body}\n`)
  chmodSync(join(bin, 'mvn'), 0o755)
  process.env.PATH = `${bin}:/usr/bin:/bin`
}

// The stand-in unpacks like the dependency plugin: -DoutputDirectory=DIR gets common/message/.
const UNPACK = `for a in "$@"; do case $a in -DoutputDirectory=*) out=\${a#-DoutputDirectory=};; esac; done
mkdir -p "$out/common/message"
echo '{}' >"$out/common/message/RequestHeader.json"
echo '{}' >"$out/common/message/FetchRequest.json"`

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'kafkats-schemas-'))
  process.env.KAFKATS_CACHE = join(work, 'cache')
  delete process.env.KAFKA_PROTOCOL_DIR
})

afterEach(() => {
  process.env = { ...saved }
  rmSync(work, { recursive: true, force: true })
})

const quiet = (): void => {}

describe('scripts/kafka-schemas.ts', () => {
  it('fetches into <KAFKATS_CACHE>/kafka-schemas/<version> once, then answers from the cache', () => {
    fakeMvn(`echo call >>"${work}/calls"\n${UNPACK}`)
    const dir = ensureKafkaSchemas('4.0.0', quiet)
    expect(dir).toBe(join(work, 'cache', 'kafka-schemas', '4.0.0'))
    expect(readdirSync(dir).sort()).toEqual(['.complete', 'FetchRequest.json', 'RequestHeader.json'])
    expect(ensureKafkaSchemas('4.0.0', quiet)).toBe(dir)
    // One Maven run for two calls, and no temporary directory left behind.
    expect(readFileSync(join(work, 'calls'), 'utf8')).toBe('call\n')
    expect(readdirSync(join(work, 'cache', 'kafka-schemas'))).toEqual(['4.0.0'])
  })

  it('KAFKA_PROTOCOL_DIR overrides the cache and fetches nothing', () => {
    fakeMvn('exit 99')
    process.env.KAFKA_PROTOCOL_DIR = join(work, 'mine')
    expect(kafkaSchemaDir()).toBe(join(work, 'mine'))
  })

  it('without Maven: a MavenCacheError that says how to get it, and nothing left in the cache', () => {
    const empty = join(work, 'empty')
    mkdirSync(empty)
    process.env.PATH = empty
    let error: unknown
    try {
      ensureKafkaSchemas('4.0.0', quiet)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(MavenCacheError)
    expect(String(error)).toMatch(/Maven \(mvn\) is needed .*npm run test:setup/)
    expect(readdirSync(join(work, 'cache', 'kafka-schemas'))).toEqual([])
  })

  it("Maven's failure is reported with its output; a jar without schemas is an error, not an empty directory", () => {
    fakeMvn('echo "[ERROR] Could not resolve artifact org.apache.kafka:kafka-clients:jar:4.0.0"; exit 1')
    expect(() => ensureKafkaSchemas('4.0.0', quiet)).toThrow(/exit 1\):\n.*Could not resolve artifact/)
    fakeMvn('exit 0')
    expect(() => ensureKafkaSchemas('4.0.0', quiet)).toThrow(/holds no common\/message\/\*\.json schemas/)
    expect(existsSync(schemaCacheDir('4.0.0'))).toBe(false)
    expect(readdirSync(join(work, 'cache', 'kafka-schemas'))).toEqual([])
  })

  it('a concurrent fetch that finished first wins; stale partial directories are removed', () => {
    const final = schemaCacheDir('4.0.0')
    const parent = join(work, 'cache', 'kafka-schemas')
    const stale = join(parent, '.4.0.0.partial-killed')
    mkdirSync(stale, { recursive: true })
    const old = new Date(Date.now() - 2 * 3_600_000)
    utimesSync(stale, old, old)
    // While "our" Maven runs, another process completes the same directory.
    fakeMvn(`${UNPACK}\nmkdir -p "${final}"\necho theirs >"${final}/.complete"`)
    expect(ensureKafkaSchemas('4.0.0', quiet)).toBe(final)
    expect(readdirSync(final)).toEqual(['.complete'])
    expect(readdirSync(parent)).toEqual(['4.0.0'])
  })

  it('rejects a version that is not one', () => {
    expect(() => ensureKafkaSchemas('../../etc', quiet)).toThrow(MavenCacheError)
  })
})
