// npm run chaos:reader -- [--messages 50000] [--seed 1] [--bootstrap host:port,...] [--kills 12]
//                         [--node-crashes 3] [--work-ms 0.5] [--time-limit-s 900]
//
// The Reader chaos run (issue 11, item 8; test/chaos/reader-chaos.ts): 3 group members in child
// processes process N messages with manual commits after processing while members are killed
// with SIGKILL (and replaced) and broker nodes crash. Without --bootstrap the 3-broker reference
// cluster runs in a child process; with it (real Kafka started by scripts/kafka.sh start --nodes 3)
// nodes are killed with scripts/kafka.sh kill-node and restarted. Prints the figures; exit status
// 0 only when nothing is missing, duplicates stay within the killed members' uncommitted work, no
// partition was processed by two members at once and the committed offsets reached the log ends.

import { parseArgs } from 'node:util'
import { runReaderChaos } from '../test/chaos/reader-chaos.js'
import { formatReaderFigures, readerClean } from '../test/chaos/reader-verify.js'
import { realKafkaTarget, referenceChildTarget, type ChaosTarget } from '../test/chaos/targets.js'

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '50000' },
    seed: { type: 'string', default: '1' },
    bootstrap: { type: 'string' },
    kills: { type: 'string', default: '12' },
    'node-crashes': { type: 'string', default: '3' },
    'work-ms': { type: 'string', default: '0.5' },
    'time-limit-s': { type: 'string', default: '900' },
    quiet: { type: 'boolean', default: false },
  },
})

function num(name: string, text: string | undefined, integer = true): number {
  const n = Number(text)
  if (!(integer ? Number.isSafeInteger(n) : Number.isFinite(n)) || n < 0) {
    console.error(`chaos-reader: --${name} must be a ${integer ? 'non-negative integer' : 'number >= 0'}, got ${text}`)
    process.exit(2)
  }
  return n
}

const seed = num('seed', values.seed)
const bootstrap = values.bootstrap ?? process.env.KAFKA_BOOTSTRAP
const real = bootstrap !== undefined && bootstrap !== ''
const target: ChaosTarget = real ? await realKafkaTarget(bootstrap.split(','), 6) : await referenceChildTarget()
let exitCode = 1
try {
  const r = await runReaderChaos(target, {
    seed,
    messages: num('messages', values.messages),
    kills: num('kills', values.kills),
    nodeCrashes: num('node-crashes', values['node-crashes']),
    workMs: num('work-ms', values['work-ms'], false),
    timeLimitMs: num('time-limit-s', values['time-limit-s']) * 1000,
    ...(values.quiet ? {} : { log: (line: string) => console.error(line) }),
  })
  console.log(
    `chaos reader: ${target.name}, seed ${seed}, ${(r.elapsedMs / 1000).toFixed(1)} s, topic ${r.topic}\n` +
      `${r.kills} members killed (kill -9), ${r.nodeCrashes} node crashes; committed offsets at the log ends: ${r.committedAtEnd}\n` +
      formatReaderFigures(r.figures) +
      (r.problems.length === 0 ? '' : `\nproblems:\n  ${r.problems.join('\n  ')}`) +
      `\nmember logs: ${r.logDir}`,
  )
  exitCode = readerClean(r.figures) && r.committedAtEnd && r.problems.length === 0 ? 0 : 1
} finally {
  await target.stop()
}
process.exit(exitCode)
