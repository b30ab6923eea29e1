import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Installs kcat, lz4, zstd, a JDK, Maven, Kafka's schemas and jars when missing (scripts/test-setup.ts).
    globalSetup: ['./test/global-setup.ts'],
    // Integration suites start clusters and third-party clients; two cores are shared.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './scripts/vitest-summary.ts'],
  },
})
