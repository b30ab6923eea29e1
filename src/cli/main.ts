#!/usr/bin/env node
// The `kafkats` command: client commands (topics, groups, cluster, produce, consume, top) against any
// Kafka cluster, `kafkats broker` (a reference cluster until SIGINT/SIGTERM) and `kafkats demo`.
//
// Exit status, as Unix tools do: 0 done (and for --help/--version), 1 the command failed
// (a broker error, an unreachable cluster, an unusable --data-dir, a port in use), 2 a bad
// command line (usage on stderr). Ctrl-C (SIGINT) aborts the running command, which closes its
// clients (a consumer commits and leaves its group) before the process exits.

import { intFlag, packageVersion, parseFlags, UsageError } from './args.js'
import { BENCH_USAGE } from './bench-command.js'
import { ACLS_USAGE } from './acls-command.js'
import { BROKER_USAGE, runBrokerCommand } from './broker-command.js'
import { CLUSTER_USAGE } from './cluster-command.js'
import { CONNECTION_HELP, stdout } from './common.js'
import { CONSUME_USAGE } from './consume-command.js'
import { GROUPS_USAGE } from './groups-command.js'
import { PRODUCE_USAGE } from './produce-command.js'
import { TOPICS_USAGE } from './topics-command.js'
import { TOP_USAGE } from './top-command.js'
import { TRANSACTIONS_USAGE } from './transactions-command.js'
import { USERS_USAGE } from './users-command.js'

const DEMO_USAGE = `usage: kafkats demo [--messages N] [--readers N]
  Starts an in-process 3-broker cluster, writes messages with a Writer, reads them with a
  group of Readers committing manually, prints progress and both sides' stats, and exits.`

const USAGE = `usage: kafkats <command> [flags]

commands:
  topics    list, create, delete, describe, alter topics (kafkats topics --help)
  groups    list, describe, lag, reset-offsets, delete consumer groups (kafkats groups --help)
  cluster   brokers, controller and API versions (kafkats cluster --help)
  acls      list, create, delete ACLs (kafkats acls --help)
  users     list, set-password, delete SCRAM users (kafkats users --help)
  transactions  list and describe transactions (kafkats transactions --help)
  produce   write stdin lines or a file to a topic (kafkats produce --help)
  consume   print a topic's messages (kafkats consume --help)
  top       live view: messages/s per topic, group lag, under-replicated partitions (kafkats top --help)
  bench     load generator: produce or consume at full speed, msg/s, MB/s, latency (kafkats bench --help)
  broker    run a reference Kafka cluster on loopback (kafkats broker --help)
  demo      write and read messages end to end on an in-process cluster (kafkats demo --help)
  help      print this text

flags:
  -h, --help       print this text
  -V, --version    print the version

${CONNECTION_HELP}`

const USAGES: Record<string, string> = {
  topics: TOPICS_USAGE,
  groups: GROUPS_USAGE,
  cluster: CLUSTER_USAGE,
  acls: ACLS_USAGE,
  users: USERS_USAGE,
  transactions: TRANSACTIONS_USAGE,
  produce: PRODUCE_USAGE,
  consume: CONSUME_USAGE,
  top: TOP_USAGE,
  bench: BENCH_USAGE,
  broker: BROKER_USAGE,
  demo: DEMO_USAGE,
}

const COMMANDS =
  'topics, groups, cluster, acls, users, transactions, produce, consume, top, bench, broker, demo or help'

const wantsHelp = (args: string[]): boolean => args.includes('--help') || args.includes('-h')

/** Aborted by Ctrl-C: the running command winds down and closes its clients. */
const interrupt = new AbortController()

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const usage = command === undefined ? undefined : USAGES[command]
  if (usage !== undefined && wantsHelp(rest)) {
    const connection = command === 'broker' || command === 'demo' ? '' : `\n\n${CONNECTION_HELP}`
    return help(`${usage}${connection}`)
  }
  switch (command) {
    case 'topics':
      return (await import('./topics-command.js')).runTopicsCommand(rest, interrupt.signal, stdout)
    case 'groups':
      return (await import('./groups-command.js')).runGroupsCommand(rest, interrupt.signal, stdout)
    case 'acls':
      return (await import('./acls-command.js')).runAclsCommand(rest, interrupt.signal, stdout)
    case 'users':
      return (await import('./users-command.js')).runUsersCommand(rest, interrupt.signal, stdout)
    case 'transactions':
      return (await import('./transactions-command.js')).runTransactionsCommand(rest, interrupt.signal, stdout)
    case 'cluster':
      return (await import('./cluster-command.js')).runClusterCommand(rest, interrupt.signal, stdout)
    case 'produce':
      return (await import('./produce-command.js')).runProduceCommand(rest, interrupt.signal, stdout)
    case 'consume':
      return (await import('./consume-command.js')).runConsumeCommand(rest, interrupt.signal, stdout)
    case 'top':
      return (await import('./top-command.js')).runTopCommand(rest, interrupt.signal, stdout)
    case 'bench':
      return (await import('./bench-command.js')).runBenchCommand(rest, interrupt.signal)
    case 'broker':
      return runBrokerCommand(rest)
    case 'demo': {
      const values = parseFlags(rest, { messages: { type: 'string' }, readers: { type: 'string' } })
      const { runDemo } = await import('./demo.js')
      await runDemo({
        ...(values.messages !== undefined ? { messages: intFlag('--messages', values.messages, 0) } : {}),
        ...(values.readers !== undefined ? { readers: positiveInt('--readers', values.readers) } : {}),
      })
      return 0
    }
    case 'help':
    case '--help':
    case '-h':
      return help(USAGE)
    case '--version':
    case '-V':
      console.log(packageVersion())
      return 0
    case undefined:
      throw new UsageError('command', `missing; expected ${COMMANDS}`)
    default:
      throw new UsageError(command, command.startsWith('-') ? 'unknown flag' : `unknown command; expected ${COMMANDS}`)
  }
}

function help(text: string): number {
  console.log(text)
  return 0
}

function positiveInt(flag: string, value: string): number {
  const n = intFlag(flag, value, 0)
  if (n < 1) throw new UsageError(flag, `must be at least 1, got '${value}'`)
  return n
}

// `broker` installs its own SIGINT/SIGTERM handling; the client commands abort on the first
// Ctrl-C and exit at once on a second one.
if (process.argv[2] !== 'broker' && process.argv[2] !== 'demo') {
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(130)
    interrupt.abort(new Error('interrupted (Ctrl-C)'))
  })
  process.on('SIGTERM', () => interrupt.abort(new Error('terminated')))
}
// `kafkats consume ... | head`: a closed pipe ends the command, quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      // A subcommand's own usage when the mistake is in its flags.
      const command = process.argv[2]
      console.error(`kafkats: ${err.message}\n\n${(command !== undefined ? USAGES[command] : undefined) ?? USAGE}`)
      process.exitCode = 2
      return
    }
    if (interrupt.signal.aborted) {
      console.error('kafkats: interrupted')
      process.exitCode = 130
      return
    }
    console.error(`kafkats: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  },
)
