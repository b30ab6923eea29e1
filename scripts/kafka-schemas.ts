// Apache Kafka's message definitions (`common/message/*.json`), the input of the codec generator
// and of the protocol test suites. Kafka ships them inside the org.apache.kafka:kafka-clients jar
// on Maven Central; Maven fetches and unpacks that jar once into a cache outside the repository.
//
//   npx tsx scripts/kafka-schemas.ts     prints the schema directory, fetching it when missing
//
// KAFKA_PROTOCOL_DIR names another directory instead (no fetch); KAFKATS_CACHE moves the cache
// root (default ~/.cache/kafkats, shared with scripts/kafka.sh). The cache holds
// kafka-schemas/<version>/*.json.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The Kafka release whose schemas the committed codec is generated from: the one pin. */
export const KAFKA_SCHEMAS_VERSION = '4.0.0'

/** Pinned like scripts/kafka.sh's, so Maven does not pick whatever plugin version it likes. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1'

/** A schema directory that is missing and cannot be fetched (no Maven, Maven failed, bad jar). */
export class KafkaSchemasError extends Error {
  override readonly name = 'KafkaSchemasError'
}

export function cacheRoot(): string {
  const env = process.env.KAFKATS_CACHE
  return env !== undefined && env !== '' ? resolve(env) : join(homedir(), '.cache', 'kafkats')
}

/** Where the schemas of `version` live once fetched. */
export function schemaCacheDir(version = KAFKA_SCHEMAS_VERSION): string {
  return join(cacheRoot(), 'kafka-schemas', version)
}

/** The directory to read schemas from: KAFKA_PROTOCOL_DIR, or the pinned version's cache (fetched when missing). */
export function kafkaSchemaDir(): string {
  const override = process.env.KAFKA_PROTOCOL_DIR
  if (override !== undefined && override !== '') return resolve(override)
  return ensureKafkaSchemas(KAFKA_SCHEMAS_VERSION)
}

/**
 * Returns the cached schema directory of `version`, fetching it first when missing. The directory
 * appears by one rename of a complete temporary directory, so a fetch cut short or running in
 * another process never leaves a half-filled one behind; two concurrent fetches both succeed.
 */
export function ensureKafkaSchemas(
  version = KAFKA_SCHEMAS_VERSION,
  log = (line: string) => console.error(line),
): string {
  const dir = schemaCacheDir(version)
  if (existsSync(join(dir, '.complete'))) return dir
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new KafkaSchemasError(`not a Kafka version: ${JSON.stringify(version)}`)
  const parent = join(cacheRoot(), 'kafka-schemas')
  mkdirSync(parent, { recursive: true })
  removeStalePartials(parent)
  const tmp = mkdtempSync(join(parent, `.${version}.partial-`))
  try {
    const artifact = `org.apache.kafka:kafka-clients:${version}`
    log(`kafka-schemas: fetching ${artifact} with Maven, unpacking common/message/*.json into ${dir}`)
    const mvn = spawnSync(
      'mvn',
      [
        '-B',
        '-q',
        `${DEPENDENCY_PLUGIN}:unpack`,
        `-Dartifact=${artifact}`,
        `-DoutputDirectory=${join(tmp, 'jar')}`,
        '-Dmdep.unpack.includes=common/message/*.json',
        `-DmarkersDirectory=${join(tmp, 'markers')}`,
      ],
      // cwd: the plugin writes bookkeeping files relative to it when there is no project.
      { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 },
    )
    if (mvn.error !== undefined) {
      const code = (mvn.error as NodeJS.ErrnoException).code
      throw new KafkaSchemasError(
        code === 'ENOENT'
          ? `Maven (mvn) is needed to fetch ${artifact} (Kafka's message schemas) and is not on PATH: ` +
              'run `npm run test:setup`, or install Maven (Debian: apt-get install maven; macOS: brew install maven)'
          : `mvn could not run: ${mvn.error.message}`,
      )
    }
    if (mvn.status !== 0) {
      const output = `${mvn.stdout}${mvn.stderr}`.trim().split('\n').slice(-30).join('\n')
      throw new KafkaSchemasError(`Maven could not fetch ${artifact} (exit ${mvn.status}):\n${output}`)
    }
    const unpacked = join(tmp, 'jar', 'common', 'message')
    const files = existsSync(unpacked) ? readdirSync(unpacked).filter((f) => f.endsWith('.json')) : []
    if (!files.includes('RequestHeader.json') || !files.includes('FetchRequest.json')) {
      throw new KafkaSchemasError(`${artifact} holds no common/message/*.json schemas (found ${files.length} files)`)
    }
    // The marker is written before the rename, so its presence means a whole directory.
    writeFileSync(join(unpacked, '.complete'), `${artifact} common/message/*.json (${files.length} files)\n`)
    try {
      renameSync(unpacked, dir)
    } catch (err) {
      // Another process renamed its complete copy first: use that one.
      if (!existsSync(join(dir, '.complete'))) {
        throw new KafkaSchemasError(`could not create ${dir} (${String(err)}); remove it and run again`)
      }
    }
    return dir
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

/** Temporary directories of fetches killed midway (older than an hour: not a running fetch). */
function removeStalePartials(parent: string): void {
  const hourAgo = Date.now() - 3_600_000
  for (const name of readdirSync(parent)) {
    if (!name.includes('.partial-')) continue
    const path = join(parent, name)
    try {
      if (statSync(path).mtimeMs < hourAgo) rmSync(path, { recursive: true, force: true })
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(kafkaSchemaDir())
  } catch (err) {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  }
}
