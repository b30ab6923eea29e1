// `kafkats broker`: a reference cluster for local development and other languages' tests.

import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { Cluster } from '../broker/index.js'
import { serveMetrics } from '../broker/prometheus.js'
import type { ClusterOptions } from '../broker/index.js'
import { ConfigError } from '../errors.js'
import { intFlag as int, parseFlags, UsageError } from './args.js'

export const BROKER_USAGE = `usage: kafkats broker [--brokers N] [--port P] [--host H] [--data-dir DIR] [--partitions N]
                      [--sasl-users FILE] [--tls-cert PEM --tls-key PEM [--tls-ca PEM]]
                      [--metrics-port M] [--verbose]
  Runs a reference Kafka cluster on loopback and prints its bootstrap servers on stdout.
  Broker i listens on port P+i (default 9092; 0 = chosen by the OS). --data-dir (created if
  missing) keeps topics, logs, committed offsets and producer state: every acknowledged write
  is in DIR before its response, so it survives the process being killed (kill -9).
  --sasl-users FILE (lines of user:password) requires SASL PLAIN/SCRAM-SHA-256/512; --tls-*
  serve TLS (with --tls-ca: mutual TLS). --metrics-port M serves the brokers' metrics at
  http://HOST:M/metrics in the Prometheus text format (names as the JMX exporter gives Kafka's;
  0 = chosen by the OS, printed on stderr). Stops cleanly on SIGINT/SIGTERM.`

/** Parses the flags into cluster options (exported for tests). */
export function brokerOptionsFromArgs(args: string[]): ClusterOptions {
  return parseBrokerArgs(args).options
}

/** The cluster options and, with --metrics-port, the port of the metrics endpoint. */
export function parseBrokerArgs(args: string[]): { options: ClusterOptions; metricsPort: number | undefined } {
  const values = parseFlags(args, {
    'metrics-port': { type: 'string' },
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
  })
  const brokers = int('--brokers', values.brokers, 1)
  if (brokers < 1) throw new UsageError('--brokers', 'must be at least 1')
  const port = int('--port', values.port, 9092)
  const options: ClusterOptions = {
    brokers,
    // Consecutive ports from --port, like a typical local multi-broker setup; 0 lets the OS choose.
    ports: Array.from({ length: brokers }, (_, i) => (port === 0 ? 0 : port + i)),
    defaultPartitions: int('--partitions', values.partitions, 1),
  }
  if (values.host !== undefined) options.host = values.host
  if (values['data-dir'] !== undefined) {
    if (values['data-dir'] === '') throw new UsageError('--data-dir', 'must not be empty')
    options.dataDir = values['data-dir']
  }
  if (values['sasl-users'] !== undefined) options.sasl = { users: readSaslUsers(values['sasl-users']) }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new UsageError('--tls-cert', 'needs --tls-key (they go together)')
  }
  if (values['tls-cert'] !== undefined && values['tls-key'] !== undefined) {
    options.tls = {
      cert: readFileSync(values['tls-cert']),
      key: readFileSync(values['tls-key']),
      // With a CA, clients must present a certificate it signed (mutual TLS).
      ...(values['tls-ca'] !== undefined ? { ca: readFileSync(values['tls-ca']), requestCert: true } : {}),
    }
  } else if (values['tls-ca'] !== undefined) {
    throw new UsageError('--tls-ca', 'needs --tls-cert and --tls-key')
  }
  // Errors (e.g. a data dir write that failed) always reach stderr; --verbose adds the rest.
  const print = (m: string): void => console.error(m)
  const verbose = values.verbose === true
  options.logger = { debug: () => {}, info: verbose ? print : () => {}, warn: verbose ? print : () => {}, error: print }
  const metricsPort =
    values['metrics-port'] === undefined ? undefined : int('--metrics-port', values['metrics-port'], 0)
  if (metricsPort !== undefined && metricsPort > 65535) throw new UsageError('--metrics-port', 'must be at most 65535')
  return { options, metricsPort }
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
  const { options, metricsPort } = parseBrokerArgs(args)
  // A signal during startup still stops the cluster once it is up (never an orphaned listener).
  let signalled: NodeJS.Signals | undefined
  let wake = (): void => {}
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal while stopping: give up on a clean stop (128 + signal number, like a shell).
    if (signalled !== undefined) process.exit(signal === 'SIGINT' ? 130 : 143)
    signalled = signal
    wake()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let cluster: Cluster
  try {
    cluster = await Cluster.start(options)
  } catch (err) {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    // The library names the option (dataDir); the user typed the flag.
    if (err instanceof ConfigError && err.option === 'dataDir')
      throw new Error(`--data-dir ${err.message.slice('dataDir: '.length)}`)
    throw err
  }
  let metrics: Server | undefined
  if (metricsPort !== undefined) {
    try {
      metrics = await serveMetrics(() => cluster.metrics(), metricsPort, cluster.options.host)
    } catch (err) {
      await cluster.stop()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      throw new Error(`--metrics-port ${metricsPort}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  console.log(cluster.bootstrapServers.join(','))
  console.error(`kafkats: ${cluster.brokers.length} broker(s) running; Ctrl-C to stop`)
  if (metrics !== undefined) {
    const address = metrics.address()
    const port = address !== null && typeof address === 'object' ? address.port : metricsPort
    console.error(`kafkats: metrics at http://${cluster.options.host}:${port}/metrics`)
  }
  const watch = underNpm() ? watchParent(() => onSignal('SIGTERM')) : undefined
  if (signalled === undefined) await new Promise<void>((resolve) => (wake = resolve))
  clearInterval(watch)
  if (metrics !== undefined) {
    const server = metrics
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeAllConnections() // a scraper's keep-alive connection must not hold the stop
    await closed
  }
  await cluster.stop()
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  console.error(`kafkats: stopped (${signalled ?? 'signal'})`)
  return 0
}

/** Run by `npx kafkats` / `npm exec` / an npm script. */
function underNpm(): boolean {
  return process.env.npm_command !== undefined || process.env.npm_lifecycle_event !== undefined
}

/**
 * npm runs a bin through `sh -c`, and forwards SIGTERM to that shell only: the shell exits and
 * this process would live on as an orphan holding the ports. So under npm, a parent that goes
 * away (we are re-parented) counts as SIGTERM. Not done otherwise, so `nohup kafkats broker &`
 * keeps running after its shell exits.
 */
function watchParent(onGone: () => void): NodeJS.Timeout {
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid !== parent) onGone()
  }, 250)
  timer.unref()
  return timer
}
