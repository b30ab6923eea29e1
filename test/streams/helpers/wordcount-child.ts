// A word count application in its own process, for the crash tests: at-least-once it never
// commits on its own (commitInterval one hour); exactly-once (`eos`) it commits every 100 ms. It
// says 'running' to its parent and waits to be killed with SIGKILL.
// argv[2]: JSON { brokers, applicationId, input, output, eos?, processId?, stateDir? } (stateDir:
// its counts in a persistent store there).

import { KafkaStreams } from '../../../src/streams/index.js'
import { wordCount } from './wordcount.js'

const args = JSON.parse(process.argv[2]!) as {
  brokers: string[]
  applicationId: string
  input: string
  output: string
  eos?: boolean
  processId?: string
  stateDir?: string
}
const app = new KafkaStreams(wordCount(args.input, args.output), {
  brokers: args.brokers,
  applicationId: args.applicationId,
  ...(args.eos === true
    ? { processingGuarantee: 'exactly_once_v2' as const, commitInterval: 100, processId: args.processId ?? 'p' }
    : { processingGuarantee: 'at_least_once' as const, commitInterval: 3_600_000 }),
  ...(args.stateDir === undefined ? {} : { stateDir: args.stateDir, defaultDslStore: 'persistent' as const }),
  sessionTimeout: 6_000,
})
app.onStateChange((state) => {
  if (state === 'RUNNING') process.send?.('running')
  if (state === 'ERROR') {
    console.error('wordcount-child failed', app.error)
    process.exit(1)
  }
})
await app.start()
setInterval(() => {}, 1000)
