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
    // Two files at a time. vitest's default is one fewer than the cores: a single worker on CI's
    // 2 cores, where most files keep one core busy at most (the reference cluster runs in the
    // test's own process) or wait on timers and spawned peers. scripts/test-kafka.sh passes
    // --no-file-parallelism: its suites share one real cluster.
    maxWorkers: 2,
    reporters: ['default', './scripts/vitest-summary.ts'],
  },
})
