// kafkats/streams side of bench/streams.ts, in its own process (so its CPU time is its own): the
// same topologies as bench/streams/StreamsBench.java, the guarantee's default commit interval.
// argv[2]: JSON { brokers, applicationId, topology: 'wordcount' | 'windowed', input, output, guarantee }.
// Prints RUNNING when it runs (ERROR and the error on failure); closes when stdin ends.

import { KafkaStreams, Serdes, StreamsBuilder, TimeWindows } from '../../src/streams/index.js'

const args = JSON.parse(process.argv[2]!) as {
  brokers: string[]
  applicationId: string
  topology: 'wordcount' | 'windowed'
  input: string
  output: string
  guarantee: 'at_least_once' | 'exactly_once_v2'
}
const S = Serdes.String
const L = Serdes.Long
const b = new StreamsBuilder()
if (args.topology === 'wordcount') {
  b.stream(args.input, { key: S, value: S })
    .flatMapValues((v) => (v === null ? [] : v.split(' ')))
    .groupBy((_k, w) => w, { key: S, value: S })
    .count()
    .toStream()
    .to(args.output, { key: S, value: L })
} else {
  b.stream(args.input, { key: S, value: S })
    .groupByKey({ key: S, value: S })
    .windowedBy(TimeWindows.ofSizeAndGrace(1000, 1000))
    .count()
    .toStream()
    .map((wk, v) => ({ key: `${wk.key}@${wk.window.start}`, value: v }), { key: S, value: L })
    .to(args.output, { key: S, value: L })
}
const app = new KafkaStreams(b, {
  brokers: args.brokers,
  applicationId: args.applicationId,
  processingGuarantee: args.guarantee,
})
app.onStateChange((state) => {
  if (state === 'RUNNING') console.log('RUNNING')
  if (state === 'ERROR') {
    console.log('ERROR')
    console.error(app.error)
    process.exit(1)
  }
})
await app.start()
process.stdin.resume()
process.stdin.on('end', () => {
  void app.close().then(() => process.exit(0))
})
