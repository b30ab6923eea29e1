// npm run chaos:writer -- [--messages 200000] [--seed 1] [--bootstrap host:port,...] [--partitions 6]
//                         [--keys 64] [--fault-every N] [--rate MSGS_PER_S] [--time-limit-s 1800]
//
// The long Writer chaos run (issue 10, item 9; test/chaos/writer-chaos.ts): an idempotent Writer
// with default settings writes numbered messages while a seeded schedule of faults hits the
// cluster, then kcat reads every partition and the figures are printed (one summary line, a table
// per partition). Without --bootstrap the 3-broker reference cluster runs in a child process, so
// the Writer and the brokers do not share an event loop; with it (real Kafka started by
// scripts/kafka.sh start --nodes 3) nodes are killed with SIGKILL and restarted, and leaders move;
// there the writes are paced (--rate, default 1000 messages/s) so the faults, which take seconds,
// happen while messages are written rather than after.
// Exit status 0 only when the run is clean: 0 lost, 0 duplicated, per-key order kept, 0 failed.

import { parseArgs } from 'node:util'
import { realKafkaTarget, referenceChildTarget, type ChaosTarget } from '../test/chaos/targets.js'
import { formatFigures, clean } from '../test/chaos/verify.js'
import { faultCounts, runWriterChaos } from '../test/chaos/writer-chaos.js'

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '1' },
    bootstrap: { type: 'string' },
    partitions: { type: 'string', default: '6' },
    keys: { type: 'string', default: '64' },
    'fault-every': { type: 'string' },
    rate: { type: 'string' },
    'time-limit-s': { type: 'string', default: '1800' },
    quiet: { type: 'boolean', default: false },
  },
})

function int(name: string, text: string | undefined): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`chaos-writer: --${name} must be a positive integer, got ${text}`)
    process.exit(2)
  }
  return n
}

const messages = int('messages', values.messages)
const seed = int('seed', values.seed)
const partitions = int('partitions', values.partitions)
const bootstrap = values.bootstrap ?? process.env.KAFKA_BOOTSTRAP
const real = bootstrap !== undefined && bootstrap !== ''
const rate = values.rate !== undefined ? int('rate', values.rate) : real ? 1000 : undefined
const target: ChaosTarget = !real
  ? await referenceChildTarget()
  : await realKafkaTarget(bootstrap!.split(','), partitions)
let exitCode = 1
try {
  const result = await runWriterChaos(target, {
    seed,
    messages,
    partitions,
    keys: int('keys', values.keys),
    ...(values['fault-every'] === undefined ? {} : { faultEvery: int('fault-every', values['fault-every']) }),
    timeLimitMs: int('time-limit-s', values['time-limit-s']) * 1000,
    ...(rate === undefined ? {} : { rate }),
    ...(values.quiet ? {} : { log: (line: string) => console.error(line) }),
  })
  const f = result.figures
  console.log(
    formatFigures(f, `${target.name}, seed ${seed}, ${(result.elapsedMs / 1000).toFixed(1)} s`) +
      `\nfaults: ${faultCounts(result.schedule)} (${result.applied} applied, ${result.skipped} after the writes skipped); writer: ${result.retries} retries, ${result.epochBumps} epoch bumps` +
      (result.writeErrors.size === 0
        ? ''
        : `\nwrite errors: ${[...result.writeErrors].map(([name, n]) => `${name} x${n}`).join(', ')}`) +
      (result.faultErrors.length === 0 ? '' : `\nfaults that failed to apply:\n  ${result.faultErrors.join('\n  ')}`),
  )
  exitCode = clean(f) && result.faultErrors.length === 0 ? 0 : 1
} finally {
  await target.stop()
}
process.exit(exitCode)
