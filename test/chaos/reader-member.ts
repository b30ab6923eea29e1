// One member of the Reader chaos run (test/chaos/reader-chaos.ts), run as a child process with
// `node --import tsx` so the driver can kill -9 it. It reads the group with manual commits after
// processing: fetchBatch, "process" (sleep), commitMessages. Every step goes to its own log file
// with a synchronous append, so what it did survives a SIGKILL:
//   S <partition> <from> <to> <ms>   processing of offsets from..to started
//   E <partition> <from> <to> <ms>   ... ended
//   C <partition> <next> <ms>        commit up to next (exclusive) resolved
//   X <partition> <next> <ms> <err>  that commit failed
// Times are epoch ms with a fraction (performance.timeOrigin + now), comparable across processes.
// Arguments (JSON in argv[2]): see MemberArgs. SIGTERM closes the Reader and exits 0.

import { appendFileSync } from 'node:fs'
import { Reader, silentLogger } from '../../src/index.js'

export interface MemberArgs {
  bootstrap: string[]
  topic: string
  groupId: string
  name: string
  logFile: string
  /** "Processing" time per message, in ms (fractions allowed). */
  workMs: number
}

const args = JSON.parse(process.argv[2] ?? '{}') as MemberArgs
const now = () => performance.timeOrigin + performance.now()
const log = (line: string) => appendFileSync(args.logFile, `${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const reader = new Reader({
  brokers: args.bootstrap,
  groupId: args.groupId,
  topic: args.topic,
  clientId: args.name,
  // A killed member is noticed after sessionTimeout; the group's lowest allowed value keeps the
  // partitions it held from stalling long.
  sessionTimeout: 6000,
  heartbeatInterval: 1000,
  rebalanceTimeout: 10_000,
  // Small fetches: a batch is little work, so a kill finds a little uncommitted work.
  partitionMaxBytes: 8192,
  logger: silentLogger,
})

let stopping = false
process.on('SIGTERM', () => {
  stopping = true
  void reader.close().finally(() => process.exit(0))
})

log(`B ${args.name} ${now().toFixed(3)}`)
while (!stopping) {
  let batch
  try {
    batch = await reader.fetchBatch()
  } catch (err) {
    if (stopping) break
    log(`F ${now().toFixed(3)} ${(err as Error).name}: ${(err as Error).message.replace(/\n/g, ' ')}`)
    process.exit(1)
  }
  const first = batch.messages[0]
  const last = batch.messages[batch.messages.length - 1]
  if (first === undefined || last === undefined) continue
  const range = `${batch.partition} ${first.offset} ${last.offset}`
  log(`S ${range} ${now().toFixed(3)}`)
  await sleep(batch.messages.length * args.workMs)
  log(`E ${range} ${now().toFixed(3)}`)
  const next = last.offset + 1n
  try {
    await reader.commitMessages(batch.messages)
    log(`C ${batch.partition} ${next} ${now().toFixed(3)}`)
  } catch (err) {
    log(
      `X ${batch.partition} ${next} ${now().toFixed(3)} ${(err as Error).name}: ${(err as Error).message.replace(/\n/g, ' ')}`,
    )
  }
  process.send?.({ processed: batch.messages.length })
}
