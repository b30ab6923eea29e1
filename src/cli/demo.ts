// `kafkats demo`: the whole path end to end, in one process. Starts a 3-broker reference
// cluster on loopback, creates a topic with an Admin, writes messages with a
// Writer while a group of Readers consumes them with manual commits (fetchMessage +
// commitMessages), prints progress and both sides' stats, checks that every message was read,
// and closes everything.

import { Admin, AbortError, ClosedError, CommitRejectedError, Reader, Writer, type ReaderStats } from '../index.js'

export interface DemoOptions {
  /** Messages to write and read (default 10 000). */
  messages?: number
  /** Readers in the group (default 3). */
  readers?: number
  /** Where lines go (default console.log). */
  out?: (line: string) => void
}

const TOPIC = 'demo-events'
const PARTITIONS = 6
const GROUP = 'demo-group'
/** The whole demo gives up after this long rather than hang. */
const DEADLINE_MS = 120_000

export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const total = options.messages ?? 10_000
  const readerCount = options.readers ?? 3
  const out = options.out ?? ((line: string) => console.log(line))
  if (!Number.isInteger(total) || total < 0)
    throw new RangeError(`messages must be a non-negative integer, got ${total}`)
  if (!Number.isInteger(readerCount) || readerCount < 1)
    throw new RangeError(`readers must be a positive integer, got ${readerCount}`)
  const deadline = AbortSignal.timeout(DEADLINE_MS)

  // The CLI (not the client library) runs the reference broker: `kafkats/broker`.
  const { Cluster } = await import('../broker/index.js')
  const cluster = await Cluster.start({ brokers: 3, groupInitialRebalanceDelayMs: 0 })
  const brokers = cluster.bootstrapServers
  out(`cluster: 3 brokers at ${brokers.join(', ')}`)

  let writer: Writer | undefined
  const readers: Reader[] = []
  try {
    await createTopic(brokers, deadline)
    out(`topic '${TOPIC}': ${PARTITIONS} partitions, replication factor 3`)

    // Readers first, so the group forms while the Writer starts.
    const seen = new Uint8Array(total)
    let distinct = 0
    let reads = 0
    let lastReport = 0
    const started = Date.now()
    const done = new AbortController()
    const loops = Array.from({ length: readerCount }, (_, i) => {
      const reader = new Reader({
        brokers,
        groupId: GROUP,
        topic: TOPIC,
        clientId: `demo-reader-${i}`,
        sessionTimeout: 10_000,
        // Commits are manual (commitMessages) and sent every 200 ms rather than per message.
        commitInterval: 200,
        onAssign: (partitions) => out(`reader ${i}: assigned ${partitions.map((p) => p.partition).join(', ')}`),
      })
      readers.push(reader)
      return (async () => {
        const signal = AbortSignal.any([done.signal, deadline])
        for (;;) {
          let message
          try {
            message = await reader.fetchMessage({ signal })
          } catch (err) {
            if (err instanceof AbortError || err instanceof ClosedError) return
            throw err
          }
          const index = Number(message.value?.toString('utf8').split(':')[0])
          if (Number.isInteger(index) && index >= 0 && index < total && seen[index]!++ === 0) distinct++
          reads++
          try {
            await reader.commitMessages(message)
          } catch (err) {
            // Revoked by a rebalance meanwhile: its new owner reads it again.
            if (!(err instanceof CommitRejectedError)) throw err
          }
          if (distinct * 10 >= (lastReport + 1) * total) {
            lastReport = Math.floor((distinct * 10) / total)
            out(`read ${distinct}/${total} (${lastReport * 10}%)`)
          }
          if (distinct === total) done.abort()
        }
      })()
    })

    writer = new Writer({ brokers, topic: TOPIC, clientId: 'demo-writer', compression: 'lz4' })
    const chunk = 1000
    for (let from = 0; from < total; from += chunk) {
      const batch = []
      for (let i = from; i < Math.min(total, from + chunk); i++)
        batch.push({ key: `user-${i % 97}`, value: `${i}:{"event":"click","n":${i}}` })
      await writer.writeMessages(batch, { signal: deadline })
      if (((from + chunk) / chunk) % Math.max(1, Math.floor(total / chunk / 5)) === 0 || from + chunk >= total) {
        out(`wrote ${Math.min(total, from + chunk)}/${total}`)
      }
    }
    if (total === 0) done.abort()
    await Promise.all(loops)
    const seconds = (Date.now() - started) / 1000
    if (distinct !== total) throw new Error(`only ${distinct} of ${total} messages were read before the deadline`)
    out(`all ${total} messages read in ${seconds.toFixed(2)} s (${reads - distinct} read twice during rebalances)`)

    const w = writer.stats()
    out(
      `writer: ${w.messages} messages, ${w.bytes} bytes, ${w.requests} produce requests, ` +
        `latency avg ${w.requestLatencyAvg.toFixed(1)} ms / max ${w.requestLatencyMax} ms, ${w.retries} retries, ${w.errors} errors`,
    )
    for (const [i, reader] of readers.entries()) out(`reader ${i}: ${describeStats(reader.stats())}`)
  } finally {
    // Readers leave the group (committing what they marked), then the Writer and the cluster stop.
    await Promise.allSettled(readers.map((r) => r.close()))
    await writer?.close()
    await cluster.stop()
    out('closed: readers, writer and cluster')
  }
}

/** What a user writes: an Admin creates the topic and waits for its partition leaders. */
async function createTopic(brokers: string[], signal: AbortSignal): Promise<void> {
  const admin = new Admin({ brokers, clientId: 'demo-admin' })
  try {
    await admin.createTopics([{ name: TOPIC, partitions: PARTITIONS, replicationFactor: 3 }], {
      waitForLeaders: true,
      signal,
    })
  } finally {
    await admin.close()
  }
}

function describeStats(s: ReaderStats): string {
  return (
    `${s.messages} messages, ${s.bytes} bytes, ${s.fetches} fetches (latency avg ${s.fetchLatencyAvg.toFixed(1)} ms), ` +
    `${s.commits} commits (avg ${s.commitLatencyAvg.toFixed(1)} ms), ${s.rebalances} rebalances, lag ${s.lag}, ${s.errors} errors, ` +
    `${s.recordsConsumedRate.toFixed(0)} msg/s`
  )
}
