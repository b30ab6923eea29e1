// Installs what the test suites run besides Node: the third-party peers whose bytes and answers
// ours are checked against, and the files they read.
//
//   npm run test:setup        (vitest runs the same before every test run: test/global-setup.ts)
//
//   - programs: kcat (librdkafka), lz4, zstd, gzip, openssl, a JDK (java, javac) and Maven
//   - Kafka's message schemas, from the kafka-clients 4.4.0 jar (scripts/kafka-schemas.ts)
//   - the Java client's jars (kafka-clients 4.4.0 and its codecs) for the compression suite
//
// Missing programs are installed with apt-get when that can work (Debian/Ubuntu, as root); jars
// and schemas come from Maven Central into ~/.cache/kafkats (KAFKATS_CACHE). Anywhere else it
// fails at once with one message listing everything missing and how to get it. When all is
// present it only looks at PATH and two marker files: no apt, no Maven, no output.

import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { ensureKafkaSchemas, KAFKA_SCHEMAS_VERSION, schemaCacheDir } from './kafka-schemas.js'
import { cached, cacheRoot, DEPENDENCY_PLUGIN, isCached, MavenCacheError, runMaven } from './maven-cache.js'

/** The Java client that reads what our codecs write (test/protocol/compression.test.ts). */
export const JAVA_CLIENT_VERSION = '4.4.0'

interface Program {
  /** Every command must be on PATH. */
  commands: string[]
  what: string
  /** Debian packages, the first one apt knows is installed (JDK names differ between releases). */
  apt: string[]
  brew: string
}

const PROGRAMS: Program[] = [
  { commands: ['kcat'], what: "librdkafka's command-line client", apt: ['kcat'], brew: 'kcat' },
  { commands: ['lz4'], what: 'the LZ4 command-line tool', apt: ['lz4'], brew: 'lz4' },
  { commands: ['zstd'], what: 'the Zstandard command-line tool', apt: ['zstd'], brew: 'zstd' },
  { commands: ['gzip'], what: 'gzip', apt: ['gzip'], brew: 'gzip' },
  { commands: ['openssl'], what: 'test certificates for the TLS suites', apt: ['openssl'], brew: 'openssl' },
  {
    commands: ['java', 'javac'],
    what: 'a JDK 17+: the Java client, and real Kafka in npm run test:kafka',
    apt: ['openjdk-17-jdk-headless', 'openjdk-21-jdk-headless', 'default-jdk-headless'],
    brew: 'openjdk@17',
  },
  {
    commands: ['mvn'],
    what: "Maven: fetches Kafka's jars and schemas from Maven Central",
    apt: ['maven'],
    brew: 'maven',
  },
]

/** Peers that cannot be set up here (a missing program, or no apt-get to install it). */
export class TestSetupError extends Error {
  override readonly name = 'TestSetupError'
}

/** The absolute path of `command` on PATH, or undefined. */
export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const path = join(dir, command)
    try {
      accessSync(path, constants.X_OK)
      if (statSync(path).isFile()) return path
    } catch {
      // Not here.
    }
  }
  return undefined
}

export function javaClientDir(): string {
  return join(cacheRoot(), 'kafka-clients', JAVA_CLIENT_VERSION)
}

/** The jars of the Java client (kafka-clients and its runtime dependencies), fetched when missing. */
export function ensureJavaClient(log = (line: string) => console.error(line)): string[] {
  const dir = cached(javaClientDir(), (out) => {
    const artifact = `org.apache.kafka:kafka-clients:${JAVA_CLIENT_VERSION}`
    log(`test-setup: fetching ${artifact} and its dependencies with Maven into ${javaClientDir()}`)
    const work = join(out, '..')
    writeFileSync(
      join(work, 'pom.xml'),
      `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local.kafkats</groupId><artifactId>java-client</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies><dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId>
  <version>${JAVA_CLIENT_VERSION}</version></dependency></dependencies></project>\n`,
    )
    runMaven(
      [
        '-f',
        join(work, 'pom.xml'),
        `${DEPENDENCY_PLUGIN}:copy-dependencies`,
        '-DincludeScope=runtime',
        `-DoutputDirectory=${out}`,
      ],
      work,
      artifact,
    )
    if (!existsSync(join(out, `kafka-clients-${JAVA_CLIENT_VERSION}.jar`))) {
      throw new MavenCacheError(`Maven did not deliver kafka-clients-${JAVA_CLIENT_VERSION}.jar`)
    }
  })
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jar'))
    .sort()
    .map((f) => join(dir, f))
}

function missingPrograms(): Program[] {
  return PROGRAMS.filter((p) => p.commands.some((c) => which(c) === undefined))
}

/** Where the setup runs (the real machine, or a pretend one in its tests). */
export interface Host {
  platform: NodeJS.Platform
  root: boolean
}

const THIS_HOST: Host = { platform: process.platform, root: process.getuid?.() === 0 }

/** Why apt-get cannot install here, or undefined when it can. */
function whyNoApt(host: Host): string | undefined {
  if (host.platform === 'darwin') return 'macOS'
  if (host.platform !== 'linux') return `${host.platform} is not Debian/Ubuntu`
  if (which('apt-get') === undefined) return 'no apt-get: not Debian/Ubuntu'
  if (!host.root) return 'not root'
  return undefined
}

function report(missing: Program[], why: string, host: Host): string {
  const mac = host.platform === 'darwin'
  const lines = missing.map((p) => {
    const how = mac
      ? `brew install ${p.brew}`
      : `sudo apt-get install ${p.apt[0]} (Debian/Ubuntu), brew install ${p.brew} (macOS)`
    return `  - ${p.commands.join(', ')} (${p.what}): ${how}`
  })
  const jars: string[] = []
  if (!isCached(schemaCacheDir()))
    jars.push(`org.apache.kafka:kafka-clients:${KAFKA_SCHEMAS_VERSION} (message schemas)`)
  if (!isCached(javaClientDir())) jars.push(`org.apache.kafka:kafka-clients:${JAVA_CLIENT_VERSION} (Java client jars)`)
  if (jars.length > 0 && missing.some((p) => p.commands.includes('mvn'))) {
    lines.push(`  - then ${jars.join(' and ')}: fetched from Maven Central by the test run once Maven is there`)
  }
  return [
    `test setup: the test suites need these programs, which are missing and cannot be installed here (${why}):`,
    ...lines,
    'Install them, then run `npm test` again (`npm run test:setup` installs all of them as root on Debian/Ubuntu).',
    'KAFKATS_TEST_SETUP=skip skips this check, for running single suites that need none of them.',
  ].join('\n')
}

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 1_800_000,
  })
  if (r.error !== undefined || r.status !== 0) {
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n')
    throw new TestSetupError(
      `${command} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${output}`,
    )
  }
}

/** The first of `names` that apt knows (after apt-get update). */
function aptPackage(names: string[]): string {
  for (const name of names) {
    const r = spawnSync('apt-cache', ['show', name], { stdio: 'ignore' })
    if (r.status === 0) return name
  }
  return names[names.length - 1]!
}

function aptInstall(missing: Program[], log: (line: string) => void): void {
  const started = Date.now()
  log(`test-setup: installing ${missing.map((p) => p.commands.join('/')).join(', ')} with apt-get`)
  // Another run installing at the same time holds dpkg's lock: wait for it rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=600']
  run('apt-get', [...lock, 'update', '-qq'])
  const packages = missing.map((p) => aptPackage(p.apt))
  run('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...packages])
  log(`test-setup: installed ${packages.join(' ')} in ${Math.round((Date.now() - started) / 1000)} s`)
}

/**
 * Makes every peer of the test suites available, or throws TestSetupError naming all that is
 * missing. Silent when nothing had to be done.
 */
export function setupTestPeers(log = (line: string) => console.error(line), host = THIS_HOST): void {
  let missing = missingPrograms()
  if (missing.length > 0) {
    const why = whyNoApt(host)
    if (why !== undefined) throw new TestSetupError(report(missing, why, host))
    aptInstall(missing, log)
    missing = missingPrograms()
    if (missing.length > 0) throw new TestSetupError(report(missing, 'apt-get did not provide them', host))
  }
  ensureKafkaSchemas(KAFKA_SCHEMAS_VERSION, log)
  ensureJavaClient(log)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    setupTestPeers()
    console.log('test-setup: ok')
  } catch (err) {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  }
}
