// First-run setup of the peers, idempotent: Debian's kcat, GNU time and librdkafka's build
// dependencies (apt-get, as root), then `npm ci` in bench/peers (its own package.json and
// lockfile: the root package never depends on the peers). @confluentinc/kafka-javascript
// compiles its addon here: its prebuilt binaries are downloaded from outside the npm registry,
// which this machine cannot reach, so node-pre-gyp falls back to building it, and that build
// works only with CKJS_LINKING=dynamic. A failure is returned as a note (the report shows it);
// the peer that is missing then fails its own measurements.

import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = fileURLToPath(new URL('.', import.meta.url))

const DEBIAN = [
  'kcat',
  'time',
  'g++',
  'make',
  'python3',
  'zlib1g-dev',
  'libssl-dev',
  'libzstd-dev',
  'libsasl2-dev',
  'liblz4-dev',
  'librdkafka-dev',
]

function missingDebian(): string[] {
  return DEBIAN.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0)
}

export async function installPeers(log: (l: string) => void): Promise<string[]> {
  const notes: string[] = []
  const missing = missingDebian()
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) {
      notes.push(`Debian packages missing and not root: ${missing.join(' ')}`)
    } else {
      log(`apt-get install ${missing.join(' ')}`)
      try {
        execFileSync('apt-get', ['update'], { stdio: 'ignore' })
        execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
          stdio: 'ignore',
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        })
      } catch (err) {
        notes.push(`apt-get install ${missing.join(' ')} failed: ${String(err).slice(0, 200)}`)
      }
    }
  }
  // npm ci only when the lockfile is newer than what was installed from it.
  const lock = join(HERE, 'package-lock.json')
  const installed = join(HERE, 'node_modules', '.package-lock.json')
  if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
    log('npm ci in bench/peers (the first time builds @confluentinc/kafka-javascript: minutes)')
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--foreground-scripts'], {
      cwd: HERE,
      env: { ...process.env, CKJS_LINKING: 'dynamic' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
    if (r.status !== 0) {
      const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-5).join(' ')
      notes.push(`npm ci in bench/peers failed (exit ${r.status}): ${tail.slice(0, 400)}`)
    }
  }
  return notes
}

function version(pkg: string): string {
  try {
    const file = join(HERE, 'node_modules', pkg, 'package.json')
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

/** Versions of everything measured, for the report. */
export function peerVersions(): Record<string, string> {
  let kcat = 'not installed'
  try {
    const out = execFileSync('kcat', ['-V'], { encoding: 'utf8' })
    const k = /Version ([\w.]+)/.exec(out)?.[1] ?? '?'
    const rd = /librdkafka ([\w.]+)/.exec(out)?.[1] ?? '?'
    kcat = `${k} (librdkafka ${rd})`
  } catch {
    // reported as not installed
  }
  const root = JSON.parse(readFileSync(join(HERE, '..', '..', 'package.json'), 'utf8')) as { version: string }
  return {
    kafkats: root.version,
    kafkajs: version('kafkajs'),
    '@platformatic/kafka': version('@platformatic/kafka'),
    '@confluentinc/kafka-javascript': version('@confluentinc/kafka-javascript'),
    kcat,
  }
}
