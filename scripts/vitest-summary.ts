// Prints one plain closing line, "N passed, N failed[, N skipped]", after a vitest run, so CI
// logs end with a count any reader (or CI parser) understands without vitest's colours.

import type { Reporter, TestModule } from 'vitest/node'

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const module of testModules) {
      // When a file's setup (beforeAll) fails, vitest marks its tests skipped; they did not pass,
      // so they count as failed here.
      const moduleFailed = module.state() === 'failed'
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed++
        else if (state === 'failed' || moduleFailed) failed++
        else skipped++
      }
      // A file that failed to load has no tests but must count as a failure.
      if (module.state() === 'failed' && module.children.size === 0) failed++
    }
    failed += unhandledErrors.length
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`)
  }
}
