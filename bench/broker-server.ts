// The reference cluster in its own process, for bench/broker.ts (so the broker does not share
// an event loop or a core with whatever measures it).
//
//   npx tsx bench/broker-server.ts [--brokers 3]
//
// Prints one JSON line on stdout once the brokers listen: {"bootstrap":"127.0.0.1:p1,..."}.
// Then reads commands on stdin, one per line, answering each with one line ("ok" or "error <message>"):
//   create <topic> <partitions> <replicationFactor>
//   delete <topic>
//   profile-start        start the V8 CPU profiler on this (the broker's) thread
//   profile-stop <file>  stop it and write the .cpuprofile to <file>
//   stop                 (also on end of stdin, SIGINT and SIGTERM: stops the cluster and exits)

import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { createInterface } from 'node:readline'
import { Cluster } from '../src/broker/index.js'

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name)
  if (i < 0) return fallback
  const n = Number(process.argv[i + 1])
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} needs a positive integer`)
  return n
}

const cluster = await Cluster.start({ brokers: flag('--brokers', 1), groupInitialRebalanceDelayMs: 0 })

let stopping: Promise<void> | undefined
function stop(): Promise<void> {
  stopping ??= cluster.stop().then(() => process.exit(0))
  return stopping
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())

let session: Session | undefined

async function handle(line: string): Promise<string> {
  const [cmd, ...args] = line.trim().split(/\s+/)
  switch (cmd) {
    case 'create': {
      const [name, partitions, rf] = args
      if (name === undefined) return 'error create needs a topic name'
      cluster.createTopic(name, { partitions: Number(partitions ?? 1), replicationFactor: Number(rf ?? 1) })
      return 'ok'
    }
    case 'delete': {
      const topic = cluster.topics.get(args[0] ?? '')
      if (topic === undefined) return `error no topic ${args[0]}`
      cluster.topics.delete(topic)
      return 'ok'
    }
    case 'profile-start': {
      if (session === undefined) {
        session = new Session()
        session.connect()
        await session.post('Profiler.enable')
      }
      await session.post('Profiler.start')
      return 'ok'
    }
    case 'profile-stop': {
      if (session === undefined || args[0] === undefined) return 'error profile-stop needs a file and a started profile'
      const { profile } = await session.post('Profiler.stop')
      writeFileSync(args[0], JSON.stringify(profile))
      return 'ok'
    }
    default:
      return `error unknown command ${JSON.stringify(cmd)}`
  }
}

// Commands run one at a time, in order (the bench waits for each answer anyway).
let queue = Promise.resolve()
const input = createInterface({ input: process.stdin })
input.on('line', (line) => {
  if (line.trim() === '') return
  queue = queue.then(async () => {
    if (line.trim() === 'stop') return stop()
    let answer: string
    try {
      answer = await handle(line)
    } catch (err) {
      answer = `error ${err instanceof Error ? err.message : String(err)}`.replace(/\n/g, ' ')
    }
    process.stdout.write(answer + '\n')
  })
})
input.on('close', () => void queue.then(stop))

process.stdout.write(JSON.stringify({ bootstrap: cluster.bootstrapServers.join(',') }) + '\n')
