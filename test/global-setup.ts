// vitest's globalSetup: before any suite runs (npm test, npx vitest run <file>, test:kafka),
// install the third-party peers the suites run, or fail at once naming everything missing
// (scripts/test-setup.ts). Here rather than as a step of the `test` script so that running one
// file on a fresh machine works too; with everything present it costs a few PATH lookups.
// KAFKATS_TEST_SETUP=skip leaves it out (single suites that need no peer, on a machine without them).

import { MavenCacheError } from '../scripts/maven-cache.js'
import { setupTestPeers, TestSetupError } from '../scripts/test-setup.js'

export default function setup(): void {
  if (process.env.KAFKATS_TEST_SETUP === 'skip') return
  try {
    setupTestPeers()
  } catch (err) {
    // The message says what to do; vitest's stack trace and code frame would only bury it.
    if (!(err instanceof TestSetupError || err instanceof MavenCacheError)) throw err
    console.error(`\n${err.message}\n`)
    process.exit(1)
  }
}
