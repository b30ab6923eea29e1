// The third-party programs the suites run (kcat, lz4, zstd, gzip, openssl, java), resolved from
// PATH in one place. A missing one is a MissingPeerError naming it and `npm run test:setup`,
// never a spawn ENOENT; the test run installs them first (test/global-setup.ts).

import { ensureJavaClient, which } from '../../scripts/test-setup.js'

const PEERS = {
  kcat: "librdkafka's command-line client",
  lz4: 'the LZ4 command-line tool',
  zstd: 'the Zstandard command-line tool',
  gzip: 'gzip',
  openssl: 'openssl',
  java: 'a JDK 17+',
  javac: "a JDK 17+'s compiler",
} as const

export type PeerName = keyof typeof PEERS

export class MissingPeerError extends Error {
  override readonly name = 'MissingPeerError'
}

/** The absolute path of a peer program; throws MissingPeerError when it is not on PATH. */
export function peer(name: PeerName): string {
  const path = which(name)
  if (path === undefined) {
    throw new MissingPeerError(
      `${name} (${PEERS[name]}) is not on PATH. The test run installs it on Debian/Ubuntu as root; ` +
        'run `npm run test:setup` to install it or to see how. This test does not skip.',
    )
  }
  return path
}

/** The Java client's classpath (kafka-clients and its codecs, from the cache; fetched when missing). */
export function javaClientClasspath(): string {
  return ensureJavaClient().join(':')
}
