// Artifacts from Maven Central kept in a cache outside the repository (default ~/.cache/kafkats,
// KAFKATS_CACHE moves it; scripts/kafka.sh uses the same root). Used by scripts/kafka-schemas.ts
// (Kafka's message schemas) and scripts/test-setup.ts (the Java client's jars).

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'

/** Pinned like scripts/kafka.sh's, so Maven does not pick whatever plugin version it likes. */
export const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1'

/** A cached artifact that is missing and cannot be fetched (no Maven, Maven failed, bad content). */
export class MavenCacheError extends Error {
  override readonly name = 'MavenCacheError'
}

export function cacheRoot(): string {
  const env = process.env.KAFKATS_CACHE
  return env !== undefined && env !== '' ? resolve(env) : join(homedir(), '.cache', 'kafkats')
}

/** Whether `dir` was filled completely by `cached` (its marker is written last). */
export function isCached(dir: string): boolean {
  return existsSync(join(dir, '.complete'))
}

/**
 * Returns `dir`, filling it first when missing: `fill(tmp)` puts the content into a fresh
 * temporary directory next to it, which then becomes `dir` by one rename. So a fetch cut short
 * never leaves a half-filled `dir`, and two processes fetching at once both succeed (the first
 * rename wins). Temporary directories of fetches killed over an hour ago are removed.
 */
export function cached(dir: string, fill: (tmp: string) => void): string {
  if (isCached(dir)) return dir
  const parent = dirname(dir)
  mkdirSync(parent, { recursive: true })
  removeStalePartials(parent)
  const tmp = mkdtempSync(join(parent, `.${basename(dir)}.partial-`))
  try {
    const content = join(tmp, 'content')
    mkdirSync(content)
    fill(content)
    writeFileSync(join(content, '.complete'), `${new Date().toISOString()}\n`)
    try {
      renameSync(content, dir)
    } catch (err) {
      // Another process renamed its complete copy first: use that one.
      if (!isCached(dir)) throw new MavenCacheError(`could not create ${dir} (${String(err)}); remove it and retry`)
    }
    return dir
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

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

/** Runs Maven in batch mode in `cwd`; `what` names the artifact in errors. */
export function runMaven(args: readonly string[], cwd: string, what: string): void {
  const mvn = spawnSync('mvn', ['-B', '-q', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 600_000,
  })
  if (mvn.error !== undefined) {
    const code = (mvn.error as NodeJS.ErrnoException).code
    throw new MavenCacheError(
      code === 'ENOENT'
        ? `Maven (mvn) is needed to fetch ${what} and is not on PATH: run \`npm run test:setup\`, ` +
            'or install Maven (Debian: apt-get install maven; macOS: brew install maven)'
        : `mvn could not run: ${mvn.error.message}`,
    )
  }
  if (mvn.status !== 0) {
    const output = `${mvn.stdout}${mvn.stderr}`.trim().split('\n').slice(-30).join('\n')
    throw new MavenCacheError(`Maven could not fetch ${what} (exit ${mvn.status}):\n${output}`)
  }
}
