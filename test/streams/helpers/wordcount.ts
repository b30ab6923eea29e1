// The word count topology the runtime suites run, in process and in a child process.

import { Serdes, StreamsBuilder } from '../../../src/streams/index.js'

export function wordCount(input: string, output: string): StreamsBuilder {
  const S = Serdes.String
  const b = new StreamsBuilder()
  b.stream(input, { key: S, value: S })
    .filter((_k, v): v is string => v !== null)
    .flatMapValues((v) =>
      v
        .toLowerCase()
        .split(/\W+/)
        .filter((w) => w !== ''),
    )
    .groupBy((_k, w) => w, { key: S, value: S })
    .count({ storeName: 'counts' })
    .toStream()
    .to(output, { key: S, value: Serdes.Long })
  return b
}
