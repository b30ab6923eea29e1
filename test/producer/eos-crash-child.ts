// The consume-transform-produce process of transactional-processor-crash.test.ts, run with
// `node --import tsx` so the test can kill -9 it. A TransactionalProcessor reads `input` in the
// group and writes `out-<value>` per record to `output`; after each batch it prints
// {"records": N, "outcome": "committed" | "rebalanced"} (stats since this start), so the test
// knows it is making progress, and {"sent": n} once a batch's outputs are written (transaction open). Each start uses the same transactionalId and groupInstanceId: the
// new instance fences the killed one's transaction (aborted by InitProducerId) and takes its
// place in the group without waiting for its session to expire.
// Arguments (JSON in argv[2]): see CrashChildArgs. SIGTERM closes and exits 0.

import { Reader, TransactionalProcessor, Writer, silentLogger } from '../../src/index.js'

export interface CrashChildArgs {
  bootstrap: string[]
  input: string
  output: string
  groupId: string
  transactionalId: string
  /** Time spent after the sends, before the commit: most kills then land in an open transaction. */
  workMs: number
}

const args = JSON.parse(process.argv[2] ?? '{}') as CrashChildArgs

const reader = new Reader({
  brokers: args.bootstrap,
  groupId: args.groupId,
  groupTopics: [args.input],
  groupInstanceId: `${args.transactionalId}-member`,
  commitInterval: 0,
  sessionTimeout: 6000,
  heartbeatInterval: 1000,
  // Small fetches: a batch is a little work, so kills land in and between transactions.
  maxBytes: 2048,
  logger: silentLogger,
})
const writer = new Writer({
  brokers: args.bootstrap,
  topic: args.output,
  transactionalId: args.transactionalId,
  transactionTimeout: 20_000,
  logger: silentLogger,
})
const processor = new TransactionalProcessor({ reader, writer })

const stop = new AbortController()
process.on('SIGTERM', () => stop.abort())

try {
  while (!stop.signal.aborted) {
    const outcome = await processor
      .processBatch(
        async (batch, send) => {
          await send(batch.messages.map((m) => ({ key: m.key, value: `out-${m.value?.toString() ?? ''}` })))
          // Acknowledged, so in the log: a kill from here on leaves them to be aborted.
          console.log(JSON.stringify({ sent: batch.messages.length }))
          await new Promise((r) => setTimeout(r, args.workMs))
        },
        { signal: stop.signal },
      )
      .catch((err: unknown) => {
        if (stop.signal.aborted) return null
        throw err
      })
    if (outcome !== null) console.log(JSON.stringify({ records: processor.stats().records, outcome }))
  }
  await writer.close()
  await reader.close()
} catch (err) {
  console.error(err)
  process.exit(1)
}
