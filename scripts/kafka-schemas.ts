// Apache Kafka's message definitions (`common/message/*.json`), the input of the codec generator
// and of the protocol test suites. Kafka ships them inside the org.apache.kafka:kafka-clients jar
// on Maven Central; Maven fetches and unpacks that jar once into a cache outside the repository.
//
//   npx tsx scripts/kafka-schemas.ts     prints the schema directory, fetching it when missing
//
// KAFKA_PROTOCOL_DIR names another directory instead (no fetch); KAFKATS_CACHE moves the cache
// root (default ~/.cache/kafkats). The cache holds kafka-schemas/<version>/*.json.

import { existsSync, readdirSync, renameSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { cached, cacheRoot, DEPENDENCY_PLUGIN, MavenCacheError, runMaven } from './maven-cache.js'

/** The Kafka release whose schemas the committed codec is generated from: the one pin. */
export const KAFKA_SCHEMAS_VERSION = '4.4.0'

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

/** The cached schema directory of `version`, fetched first when missing (see `cached`). */
export function ensureKafkaSchemas(
  version = KAFKA_SCHEMAS_VERSION,
  log = (line: string) => console.error(line),
): string {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new MavenCacheError(`not a Kafka version: ${JSON.stringify(version)}`)
  const dir = schemaCacheDir(version)
  return cached(dir, (out) => {
    const artifact = `org.apache.kafka:kafka-clients:${version}`
    log(`kafka-schemas: fetching ${artifact} with Maven, unpacking common/message/*.json into ${dir}`)
    const work = join(out, '..')
    runMaven(
      [
        `${DEPENDENCY_PLUGIN}:unpack`,
        `-Dartifact=${artifact}`,
        `-DoutputDirectory=${join(work, 'jar')}`,
        '-Dmdep.unpack.includes=common/message/*.json',
        // Without a project the plugin writes its bookkeeping relative to the working directory.
        `-DmarkersDirectory=${join(work, 'markers')}`,
      ],
      work,
      `${artifact} (Kafka's message schemas)`,
    )
    const unpacked = join(work, 'jar', 'common', 'message')
    const files = existsSync(unpacked) ? readdirSync(unpacked).filter((f) => f.endsWith('.json')) : []
    if (!files.includes('RequestHeader.json') || !files.includes('FetchRequest.json')) {
      throw new MavenCacheError(`${artifact} holds no common/message/*.json schemas (found ${files.length} files)`)
    }
    for (const f of files) renameSync(join(unpacked, f), join(out, f))
  })
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(kafkaSchemaDir())
  } catch (err) {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  }
}
