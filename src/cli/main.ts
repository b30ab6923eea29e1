#!/usr/bin/env node
// The `kafkats` command: `kafkats broker` runs a reference cluster until SIGINT/SIGTERM;
// `kafkats demo` runs the end-to-end demo on an in-process cluster.
//
// Exit status, as Unix tools do: 0 done (and for --help/--version), 1 the command failed
// (e.g. an unusable --data-dir, a port in use), 2 a bad command line (usage on stderr).

import { intFlag, packageVersion, parseFlags, UsageError } from './args.js'
import { BROKER_USAGE, runBrokerCommand } from './broker-command.js'

const DEMO_USAGE = `usage: kafkats demo [--messages N] [--readers N]
  Starts an in-process 3-broker cluster, writes messages with a Writer, reads them with a
  group of Readers committing manually, prints progress and both sides' stats, and exits.`

const USAGE = `usage: kafkats <command> [flags]

commands:
  broker    run a reference Kafka cluster on loopback (kafkats broker --help)
  demo      write and read messages end to end on an in-process cluster (kafkats demo --help)
  help      print this text

flags:
  -h, --help       print this text
  -V, --version    print the version

${BROKER_USAGE}

${DEMO_USAGE}`

const wantsHelp = (args: string[]): boolean => args.includes('--help') || args.includes('-h')

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'broker':
      if (wantsHelp(rest)) return help(BROKER_USAGE)
      return runBrokerCommand(rest)
    case 'demo': {
      if (wantsHelp(rest)) return help(DEMO_USAGE)
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
      throw new UsageError('command', 'missing; expected broker, demo or help')
    default:
      throw new UsageError(
        command,
        command.startsWith('-') ? 'unknown flag' : 'unknown command; expected broker, demo or help',
      )
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      // A subcommand's own usage when the mistake is in its flags.
      const command = process.argv[2]
      const usage = command === 'broker' ? BROKER_USAGE : command === 'demo' ? DEMO_USAGE : USAGE
      console.error(`kafkats: ${err.message}\n\n${usage}`)
      process.exitCode = 2
      return
    }
    console.error(`kafkats: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  },
)
