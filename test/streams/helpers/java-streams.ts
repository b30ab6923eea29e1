// Java Kafka Streams (kafka-streams and kafka-streams-test-utils from Maven Central, the version
// of the Java client the suites use) for the comparison tests: the jars are cached like the
// Java client's, and Java probes under test/streams/java are compiled against them.

import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { cacheRoot, cached, DEPENDENCY_PLUGIN, MavenCacheError, runMaven } from '../../../scripts/maven-cache.js'
import { peer } from '../../helpers/peers.js'

export const KAFKA_STREAMS_VERSION = '4.4.0'

/** kafka-streams, kafka-streams-test-utils and their runtime dependencies (fetched when missing). */
export function javaStreamsClasspath(): string {
  const dir = cached(join(cacheRoot(), `kafka-streams-${KAFKA_STREAMS_VERSION}`), (out) => {
    const work = join(out, '..')
    const dep = (a: string): string =>
      `<dependency><groupId>org.apache.kafka</groupId><artifactId>${a}</artifactId><version>${KAFKA_STREAMS_VERSION}</version></dependency>`
    writeFileSync(
      join(work, 'pom.xml'),
      `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local.kafkats</groupId><artifactId>java-streams</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>${dep('kafka-streams')}${dep('kafka-streams-test-utils')}</dependencies></project>\n`,
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
      'kafka-streams',
    )
    if (!existsSync(join(out, `kafka-streams-${KAFKA_STREAMS_VERSION}.jar`))) {
      throw new MavenCacheError(`Maven did not deliver kafka-streams-${KAFKA_STREAMS_VERSION}.jar`)
    }
  })
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jar'))
    .sort()
    .map((f) => join(dir, f))
    .join(':')
}

/** Compiles <dir>/<name>.java (default dir test/streams/java); returns the classpath that runs it. */
export function compileJava(name: string, dir = join(import.meta.dirname, '..', 'java')): string {
  const classpath = javaStreamsClasspath()
  const out = mkdtempSync(join(tmpdir(), `${name}-`))
  const javac = join(peer('java'), '..', 'javac')
  execFileSync(javac, ['-cp', classpath, '-d', out, join(dir, `${name}.java`)])
  return `${out}:${classpath}`
}

/** Compiles test/streams/java/<name>.java; returns a function running it with arguments (stdout). */
export function javaProbe(name: string): (args: string[], input?: string) => string {
  const classpath = compileJava(name)
  return (args, input) =>
    execFileSync(peer('java'), ['-cp', classpath, name, ...args], {
      encoding: 'utf8',
      input: input ?? '',
      maxBuffer: 64 << 20,
    })
}
