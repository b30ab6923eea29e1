// Consumer throughput: messages/s and MB/s for 100 B and 1 KiB values, read by one group member
// from a 6-partition topic filled beforehand, three ways: fetchMessage one at a time with
// periodic commits (commitInterval 1000, the usual service loop), fetchBatch (a fetched chunk
// per call, committed per batch), and a direct Reader on one partition. Uncompressed and lz4.
//
// Run: npx tsx bench/consumer.ts [--messages 200000]
// Target: KAFKA_BOOTSTRAP when set; otherwise a 3-broker reference cluster in a child process,
// so that the broker does not share the consumer's event loop (and CPU core).

import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { createTopic, startTarget } from './target.js'
import { Reader, Writer, type CompressionCodec, type Message } from '../src/index.js'

const PARTITIONS = 6

/** Text values of `size` bytes: compressible like JSON/log payloads. */
function value(i: number, size: number): string {
  const base = `{"id":${i},"event":"page_view","user":"u${i % 977}","path":"/items/${i % 131}","ts":${1_700_000_000_000 + i}}`
  return base.length >= size ? base.slice(0, size) : base + ' '.repeat(size - base.length)
}

async function fill(
  brokers: string[],
  topic: string,
  count: number,
  size: number,
  compression: CompressionCodec,
): Promise<void> {
  const writer = new Writer({ brokers, topic, compression, batchSize: 5000, batchBytes: 1024 * 1024 })
  try {
    const chunk = 20_000
    for (let start = 0; start < count; start += chunk) {
      const messages: Message[] = []
      for (let i = start; i < Math.min(count, start + chunk); i++)
        messages.push({ key: `key-${i % 1024}`, value: value(i, size) })
      await writer.writeMessages(messages)
    }
  } finally {
    await writer.close()
  }
}

interface Result {
  mode: string
  messages: number
  bytes: number
  seconds: number
}

/**
 * Reads until `done()`, timed from the Reader's creation (`started`): joining the group and
 * finding the offsets are part of the cost, amortised over the messages.
 */
async function measure(
  mode: string,
  reader: Reader,
  started: number,
  done: () => boolean,
  read: (signal: AbortSignal) => Promise<{ count: number; bytes: number }>,
): Promise<Result> {
  const signal = AbortSignal.timeout(300_000)
  let count = 0
  let bytes = 0
  while (!done()) {
    const got = await read(signal)
    count += got.count
    bytes += got.bytes
  }
  const seconds = (performance.now() - started) / 1000
  await reader.close()
  return { mode, messages: count, bytes, seconds }
}

function payload(m: { key: Buffer | null; value: Buffer | null }): number {
  return (m.key?.length ?? 0) + (m.value?.length ?? 0)
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { messages: { type: 'string' } } })
  const target = await startTarget({ groupInitialRebalanceDelayMs: 0 })
  console.log(`consumer benchmark against the ${target.name}; node ${process.version}`)
  const results: (Result & { size: number; compression: CompressionCodec })[] = []
  try {
    for (const compression of ['none', 'lz4'] as CompressionCodec[]) {
      for (const size of [100, 1024]) {
        const total = Number(values.messages ?? (size === 100 ? 200_000 : 60_000))
        const topic = `bench-consumer-${size}-${compression}-${randomBytes(3).toString('hex')}`
        await createTopic(target.brokers, topic, PARTITIONS)
        await fill(target.brokers, topic, total, size, compression)
        const group = () => ({ brokers: target.brokers, groupId: `bench-${randomBytes(4).toString('hex')}`, topic })

        let started = performance.now()
        const one = new Reader({ ...group(), commitInterval: 1000 })
        let read1 = 0
        results.push({
          size,
          compression,
          ...(await measure(
            'fetchMessage + commitMessages (interval 1 s)',
            one,
            started,
            () => read1 >= total,
            async (signal) => {
              const m = await one.fetchMessage({ signal })
              await one.commitMessages(m)
              read1++
              return { count: 1, bytes: payload(m) }
            },
          )),
        })

        started = performance.now()
        const batches = new Reader(group())
        let read2 = 0
        results.push({
          size,
          compression,
          ...(await measure(
            'fetchBatch + commitMessages per batch',
            batches,
            started,
            () => read2 >= total,
            async (signal) => {
              const batch = await batches.fetchBatch({ signal })
              await batches.commitMessages(...batch.messages)
              read2 += batch.messages.length
              let bytes = 0
              for (const m of batch.messages) bytes += payload(m)
              return { count: batch.messages.length, bytes }
            },
          )),
        })

        // One partition of the six, read directly (about a sixth of the messages), until no lag.
        started = performance.now()
        const direct = new Reader({ brokers: target.brokers, topic, partition: 0 })
        results.push({
          size,
          compression,
          ...(await measure(
            'direct partition, fetchBatch',
            direct,
            started,
            () => direct.lag()[0]?.lag === 0n,
            async (signal) => {
              const batch = await direct.fetchBatch({ signal })
              let bytes = 0
              for (const m of batch.messages) bytes += payload(m)
              return { count: batch.messages.length, bytes }
            },
          )),
        })
      }
    }
  } finally {
    target.stop()
  }

  console.log('')
  console.log('| value | codec | mode | messages | msgs/s | MB/s |')
  console.log('|---|---|---|---:|---:|---:|')
  for (const r of results) {
    const rate = r.messages / r.seconds
    const mb = r.bytes / r.seconds / 1e6
    console.log(
      `| ${r.size} B | ${r.compression} | ${r.mode} | ${r.messages} | ${Math.round(rate).toLocaleString('en-US')} | ${mb.toFixed(1)} |`,
    )
  }
}

await main()
