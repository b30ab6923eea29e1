#!/usr/bin/env node
// The `kafkats` command: `kafkats broker` runs a reference cluster until SIGINT/SIGTERM;
// `kafkats demo` runs the end-to-end demo on an in-process cluster.

import { parseArgs } from 'node:util'
import { runBrokerCommand } from './broker-command.js'

const USAGE = `usage:
  kafkats broker [--brokers N] [--port P] [--host H] [--data-dir DIR] [--partitions N]
                 [--sasl-users FILE] [--tls-cert PEM --tls-key PEM [--tls-ca PEM]] [--verbose]
      Runs a reference Kafka cluster on loopback and prints its bootstrap servers.
      Broker i listens on port P+i (default 9092; 0 = chosen by the OS). --data-dir keeps logs,
      offsets and producer state across restarts. --sasl-users FILE (lines of user:password)
      requires SASL PLAIN/SCRAM-SHA-256/512; --tls-* serve TLS (with --tls-ca: mutual TLS).
      Stops cleanly on SIGINT/SIGTERM.
  kafkats demo [--messages N] [--readers N]
      Starts an in-process 3-broker cluster, writes messages with a Writer, reads them with a
      group of Readers committing manually, prints progress and both sides' stats, and exits.
  kafkats help`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'broker':
      return runBrokerCommand(rest)
    case 'demo': {
      const { values } = parseArgs({
        args: rest,
        options: { messages: { type: 'string' }, readers: { type: 'string' } },
        strict: true,
      })
      const { runDemo } = await import('./demo.js')
      await runDemo({
        ...(values.messages !== undefined ? { messages: positiveInt('--messages', values.messages) } : {}),
        ...(values.readers !== undefined ? { readers: positiveInt('--readers', values.readers) } : {}),
      })
      return 0
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE)
      return command === undefined ? 1 : 0
    default:
      console.error(`kafkats: unknown command '${command}'\n${USAGE}`)
      return 1
  }
}

export function positiveInt(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got '${value}'`)
  return n
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(`kafkats: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  },
)
