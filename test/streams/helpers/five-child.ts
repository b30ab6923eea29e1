// The five compared topologies (five-topologies.ts) in a kafkats application of its own process,
// exactly_once_v2, for the kill -9 runs: it says 'running' to its parent and runs until killed.
// argv[2]: JSON { brokers, applicationId, input, output, processId }.

import { KafkaStreams } from '../../../src/streams/index.js'
import { fiveTopologies } from './five-topologies.js'

const args = JSON.parse(process.argv[2]!) as {
  brokers: string[]
  applicationId: string
  input: string
  output: string
  processId: string
}
const app = new KafkaStreams(fiveTopologies(args.input, args.output), {
  brokers: args.brokers,
  applicationId: args.applicationId,
  processingGuarantee: 'exactly_once_v2',
  processId: args.processId,
  sessionTimeout: 6_000,
})
app.onStateChange((state) => {
  if (state === 'RUNNING') process.send?.('running')
  if (state === 'ERROR') {
    console.error('five-child failed', app.error)
    process.exit(1)
  }
})
await app.start()
setInterval(() => {}, 1000)
