// scripts/test-setup.ts on pretend machines: PATH holds stand-ins for apt-get, apt-cache and the
// programs apt "installs", and Maven writes fake jars. What it runs, and what it says when it
// cannot install. (The real installs are proven by .ci/run on a fresh clone.)

import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { setupTestPeers, TestSetupError, type Host } from '../../scripts/test-setup.js'

const saved = { ...process.env }
let work: string
let bin: string
let lines: string[]
const log = (line: string): void => void lines.push(line)

function script(name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/bash\nPATH=/usr/bin:/bin\n${body}\n`)
  chmodSync(join(bin, name), 0o755)
}

// Maven: `unpack` leaves two schemas, `copy-dependencies` two jars, as the real plugin would.
const MVN = `echo "mvn $*" >>"$CALLS"
for a in "$@"; do case $a in -DoutputDirectory=*) out=\${a#-DoutputDirectory=};; esac; done
case "$*" in
  *:unpack*) mkdir -p "$out/common/message"; echo '{}' >"$out/common/message/RequestHeader.json"; echo '{}' >"$out/common/message/FetchRequest.json";;
  *:copy-dependencies*) mkdir -p "$out"; touch "$out/kafka-clients-4.4.0.jar" "$out/zstd-jni-1.5.7-17.jar";;
esac`

// apt-get "installs" a package by putting its commands into the same bin directory.
const APT_GET = `echo "apt-get $*" >>"$CALLS"
[ "$3" = install ] || exit 0
for p in "$@"; do
  case $p in
    kcat|lz4|zstd|openssl) printf '#!/bin/sh\\n' >"$BIN/$p"; chmod 755 "$BIN/$p";;
    openjdk-*) for c in java javac; do printf '#!/bin/sh\\n' >"$BIN/$c"; chmod 755 "$BIN/$c"; done;;
    maven) cp "$BIN/.mvn" "$BIN/mvn"; chmod 755 "$BIN/mvn";;
  esac
done`

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'kafkats-setup-'))
  bin = join(work, 'bin')
  mkdirSync(bin)
  lines = []
  symlinkSync(process.execPath, join(bin, 'node'))
  script('gzip', '')
  writeFileSync(join(bin, '.mvn'), `#!/bin/bash\nPATH=/usr/bin:/bin\n${MVN}\n`)
  process.env.PATH = bin
  process.env.BIN = bin
  process.env.CALLS = join(work, 'calls')
  process.env.KAFKATS_CACHE = join(work, 'cache')
  writeFileSync(process.env.CALLS, '')
})

afterEach(() => {
  process.env = { ...saved }
  rmSync(work, { recursive: true, force: true })
})

const linuxRoot: Host = { platform: 'linux', root: true }
const calls = (): string[] => readFileSync(join(work, 'calls'), 'utf8').trim().split('\n').filter(Boolean)

function setupError(host: Host): string {
  try {
    setupTestPeers(log, host)
  } catch (err) {
    expect(err).toBeInstanceOf(TestSetupError)
    return (err as Error).message
  }
  throw new Error('setupTestPeers did not fail')
}

describe('scripts/test-setup.ts', () => {
  it('as root with apt-get: installs every missing program in one apt-get run, then fetches the jars and schemas', () => {
    script('apt-get', APT_GET)
    // A Debian release without openjdk-17 (trixie): the next JDK that apt knows is chosen.
    script('apt-cache', '[ "$2" != openjdk-17-jdk-headless ]')
    setupTestPeers(log, linuxRoot)
    expect(calls()).toEqual([
      'apt-get -o DPkg::Lock::Timeout=600 update -qq',
      'apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends kcat lz4 zstd openssl openjdk-21-jdk-headless maven',
      expect.stringMatching(
        /^mvn -B -q org\.apache\.maven\.plugins:maven-dependency-plugin:3\.8\.1:unpack -Dartifact=org\.apache\.kafka:kafka-clients:4\.4\.0 /,
      ),
      expect.stringMatching(/:copy-dependencies -DincludeScope=runtime /),
    ])
    expect(readdirSync(join(work, 'cache', 'kafka-schemas', '4.4.0')).sort()).toEqual([
      '.complete',
      'FetchRequest.json',
      'RequestHeader.json',
    ])
    expect(readdirSync(join(work, 'cache', 'kafka-clients', '4.4.0')).sort()).toEqual([
      '.complete',
      'kafka-clients-4.4.0.jar',
      'zstd-jni-1.5.7-17.jar',
    ])
    expect(lines[0]).toMatch(/^test-setup: installing kcat, lz4, zstd, openssl, java\/javac, mvn with apt-get$/)
  })

  it('with everything present: no apt, no Maven, no output', () => {
    script('apt-get', APT_GET)
    script('apt-cache', 'exit 0')
    setupTestPeers(log, linuxRoot)
    writeFileSync(process.env.CALLS!, '')
    lines = []
    setupTestPeers(log, linuxRoot)
    expect(calls()).toEqual([])
    expect(lines).toEqual([])
  })

  it('not root: one message listing every missing program and how to get it; nothing is run', () => {
    script('apt-get', APT_GET)
    const message = setupError({ platform: 'linux', root: false })
    expect(message.split('\n')).toEqual([
      'test setup: the test suites need these programs, which are missing and cannot be installed here (not root):',
      expect.stringMatching(
        /^ {2}- kcat \(.*\): sudo apt-get install kcat \(Debian\/Ubuntu\), brew install kcat \(macOS\)$/,
      ),
      expect.stringMatching(/^ {2}- lz4 .*apt-get install lz4 /),
      expect.stringMatching(/^ {2}- zstd .*apt-get install zstd /),
      expect.stringMatching(/^ {2}- openssl .*apt-get install openssl /),
      expect.stringMatching(/^ {2}- java, javac .*apt-get install openjdk-17-jdk-headless .*brew install openjdk@17/),
      expect.stringMatching(/^ {2}- mvn .*apt-get install maven /),
      expect.stringMatching(
        /^ {2}- then org\.apache\.kafka:kafka-clients:4\.4\.0 .* and .*:4\.4\.0 .*once Maven is there$/,
      ),
      expect.stringMatching(/^Install them, then run `npm test` again/),
      expect.stringMatching(/KAFKATS_TEST_SETUP=skip/),
    ])
    expect(calls()).toEqual([])
  })

  it('macOS: brew commands only; Linux without apt-get says so', () => {
    script('kcat', '')
    script('lz4', '')
    script('openssl', '')
    const mac = setupError({ platform: 'darwin', root: false })
    expect(mac).toMatch(/cannot be installed here \(macOS\)/)
    expect(mac).toMatch(/- zstd \(.*\): brew install zstd\n/)
    expect(mac).toMatch(/- mvn \(.*\): brew install maven\n/)
    expect(mac).not.toMatch(/apt-get install|- kcat|- lz4|- openssl/)
    expect(setupError(linuxRoot)).toMatch(/\(no apt-get: not Debian\/Ubuntu\)/)
  })

  it('apt-get failing or not providing a program is an error with its output', () => {
    script('apt-cache', 'exit 0')
    script('apt-get', 'echo "E: Unable to locate package kcat" >&2; exit 100')
    expect(() => setupTestPeers(log, linuxRoot)).toThrow(
      /apt-get .*update -qq failed \(exit 100\):\nE: Unable to locate package kcat/,
    )
    script('apt-get', 'exit 0')
    expect(setupError(linuxRoot)).toMatch(/cannot be installed here \(apt-get did not provide them\)/)
  })
})
