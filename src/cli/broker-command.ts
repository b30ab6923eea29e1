// `kafkats broker`: a reference cluster for local development and other languages' tests.

import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { Cluster } from '../broker/index.js'
import type { ClusterOptions } from '../broker/index.js'

function int(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got '${value}'`)
  return n
}

/** Parses the flags into cluster options (exported for tests). */
export function brokerOptionsFromArgs(args: string[]): ClusterOptions {
  const { values } = parseArgs({
    args,
    options: {
      brokers: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      partitions: { type: 'string' },
      verbose: { type: 'boolean' },
      'sasl-users': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
    },
    strict: true,
  })
  const brokers = int('--brokers', values.brokers, 1)
  if (brokers < 1) throw new Error('--brokers must be at least 1')
  const port = int('--port', values.port, 9092)
  const options: ClusterOptions = {
    brokers,
    // Consecutive ports from --port, like a typical local multi-broker setup; 0 lets the OS choose.
    ports: Array.from({ length: brokers }, (_, i) => (port === 0 ? 0 : port + i)),
    defaultPartitions: int('--partitions', values.partitions, 1),
  }
  if (values.host !== undefined) options.host = values.host
  if (values['data-dir'] !== undefined) options.dataDir = values['data-dir']
  if (values['sasl-users'] !== undefined) options.sasl = { users: readSaslUsers(values['sasl-users']) }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new Error('--tls-cert and --tls-key go together')
  }
  if (values['tls-cert'] !== undefined && values['tls-key'] !== undefined) {
    options.tls = {
      cert: readFileSync(values['tls-cert']),
      key: readFileSync(values['tls-key']),
      // With a CA, clients must present a certificate it signed (mutual TLS).
      ...(values['tls-ca'] !== undefined ? { ca: readFileSync(values['tls-ca']), requestCert: true } : {}),
    }
  } else if (values['tls-ca'] !== undefined) {
    throw new Error('--tls-ca needs --tls-cert and --tls-key')
  }
  if (values.verbose === true) {
    options.logger = {
      debug: () => {},
      info: (m: string) => console.error(m),
      warn: (m: string) => console.error(m),
      error: (m: string) => console.error(m),
    }
  }
  return options
}

/**
 * A users file holds one `user:password` per line (blank lines and lines starting with # are
 * ignored); every user may authenticate with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512.
 */
export function readSaslUsers(path: string): Record<string, string> {
  const users: Record<string, string> = {}
  const lines = readFileSync(path, 'utf8').split(/\r?\n/)
  lines.forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const colon = line.indexOf(':')
    if (colon <= 0) throw new Error(`${path}:${i + 1}: expected user:password`)
    users[line.slice(0, colon)] = line.slice(colon + 1)
  })
  if (Object.keys(users).length === 0) throw new Error(`${path}: no users`)
  return users
}

export async function runBrokerCommand(args: string[]): Promise<number> {
  const cluster = await Cluster.start(brokerOptionsFromArgs(args))
  console.log(cluster.bootstrapServers.join(','))
  console.error(`kafkats: ${cluster.brokers.length} broker(s) running; Ctrl-C to stop`)
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await cluster.stop()
  console.error('kafkats: stopped')
  return 0
}
