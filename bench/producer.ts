// Producer throughput: messages/s and MB/s for 100 B and 1 KiB values, acks=all + idempotence
// (the defaults), batched and one await per message.
//
// Run: npx tsx bench/producer.ts [--seconds 3]
// Target: KAFKA_BOOTSTRAP when set; otherwise a 3-broker reference cluster in a child process,
// so that the broker does not share the producer's event loop (and CPU core).

import { randomBytes } from 'node:crypto'
import { createTopic, startTarget } from './target.js'
import { Writer, type Message } from '../src/index.js'

interface Result {
  scenario: string
  size: number
  messages: number
  seconds: number
  /** CPU time of this process (the Writer's side only: the reference cluster is a child). */
  cpuMicros: number
}

/** Runs `lanes` loops that each write with `write` until `seconds` passed; counts messages. */
async function timed(
  seconds: number,
  lanes: number,
  write: () => Promise<number>,
): Promise<{ messages: number; seconds: number }> {
  const deadline = performance.now() + seconds * 1000
  const started = performance.now()
  let messages = 0
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < deadline) {
        const written = await write() // (not `messages += await write()`: that reads `messages` before awaiting)
        messages += written
      }
    }),
  )
  return { messages, seconds: (performance.now() - started) / 1000 }
}

async function main(): Promise<void> {
  const secondsArg = process.argv.indexOf('--seconds')
  const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 3
  const target = await startTarget()
  const results: Result[] = []
  try {
    console.log(`producer benchmark against the ${target.name}; acks=all, idempotent; ${seconds} s per scenario`)
    const sizes = process.env.BENCH_SIZE === undefined ? [100, 1024] : [Number(process.env.BENCH_SIZE)] // e.g. 1024 alone
    for (const size of sizes) {
      const value = randomBytes(size / 2).toString('hex') // incompressible-ish, exactly `size` bytes
      const message = (i: number): Message => ({ key: `key-${i % 1000}`, value })
      const batch = Array.from({ length: 1000 }, (_, i) => message(i))

      const scenarios: [
        string,
        (w: Writer) => Promise<{ messages: number; seconds: number }>,
        Partial<ConstructorParameters<typeof Writer>[0]>,
      ][] = [
        [
          'batched: writeMessages(1000 msgs) x 4 lanes',
          (w) => timed(seconds, 4, async () => (await w.writeMessages(batch), batch.length)),
          { batchSize: 1000 },
        ],
        [
          'async: writeMessages(1000 msgs), completion',
          (w) => timed(seconds, 1, async () => (await w.writeMessages(batch), batch.length)),
          { batchSize: 1000, async: true, completion: () => {} },
        ],
        [
          'one await per message, 1 lane',
          (w) => timed(seconds, 1, async () => (await w.writeMessages(message(0)), 1)),
          {},
        ],
        [
          'one await per message, 64 lanes',
          (w) => timed(seconds, 64, async () => (await w.writeMessages(message(0)), 1)),
          {},
        ],
      ]
      const only = process.env.BENCH_ONLY // a substring of the scenario names to run
      for (const [scenario, run, options] of scenarios.filter(([name]) => only === undefined || name.includes(only))) {
        const topic = `bench-${size}-${randomBytes(3).toString('hex')}`
        await createTopic(target.brokers, topic, 6)
        const writer = new Writer({ brokers: target.brokers, topic, ...options })
        await writer.writeMessages(message(0)) // connect, negotiate, get a producer id
        const cpuBefore = process.cpuUsage()
        const measured = await run(writer)
        if (options.async) {
          const flushStarted = performance.now()
          await writer.flush() // count until acknowledged
          measured.seconds += (performance.now() - flushStarted) / 1000
        }
        const cpu = process.cpuUsage(cpuBefore)
        const stats = writer.stats()
        await writer.close()
        if (stats.errors > 0) throw new Error(`${scenario}: ${stats.errors} batches failed`)
        results.push({ scenario, size, ...measured, cpuMicros: cpu.user + cpu.system })
        const r = results[results.length - 1]!
        console.log(
          `${String(size).padStart(5)} B  ${scenario.padEnd(46)} ${fmt(r.messages / r.seconds).padStart(10)} msg/s ${(
            (r.messages * size) /
            r.seconds /
            1e6
          )
            .toFixed(1)
            .padStart(
              7,
            )} MB/s ${(r.cpuMicros / r.messages).toFixed(2).padStart(6)} µs CPU/msg   (latency avg ${stats.requestLatencyAvg.toFixed(1)} ms, ${stats.batchSize.avg.toFixed(0)} msgs/batch)`,
        )
      }
    }
  } finally {
    target.stop()
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

await main()
