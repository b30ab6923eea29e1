// The broker's Prometheus endpoint, scraped over HTTP and read with a third-party parser of the
// text format (parse-prometheus-text-format, a port of Prometheus' prom2json parser): the
// families and names the JMX exporter's example Kafka config produces, with the values
// cluster.metrics() reports; and `kafkats broker --metrics-port` as a user runs it.

import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { Server } from 'node:http'
import { connect } from 'node:net'
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, serveMetrics } from '../../src/broker/index.js'
import { UsageError } from '../../src/cli/args.js'
import { parseBrokerArgs } from '../../src/cli/broker-command.js'

async function scrape(url: string): Promise<{ families: Map<string, PromFamily>; contentType: string }> {
  const res = await fetch(url)
  expect(res.status).toBe(200)
  const parsed = parsePrometheusTextFormat(await res.text())
  return { families: new Map(parsed.map((f) => [f.name, f])), contentType: res.headers.get('content-type') ?? '' }
}

/** The value of the one sample of `name` whose labels are exactly `labels`. */
function value(families: Map<string, PromFamily>, name: string, labels: Record<string, string>): number {
  const family = families.get(name)
  if (family === undefined) throw new Error(`no family ${name}`)
  const matches = family.metrics.filter((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels))
  if (matches.length !== 1) throw new Error(`${matches.length} samples of ${name} with ${JSON.stringify(labels)}`)
  return Number(matches[0]!.value)
}

async function produce(bootstrap: string[], topic: string, n: number): Promise<void> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
  const producer = new Kafka({ brokers: bootstrap, logLevel: logLevel.NOTHING }).producer()
  await producer.connect()
  try {
    await producer.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ value: `v${i}` })) })
  } finally {
    await producer.disconnect()
  }
}

describe('Prometheus text for the broker', () => {
  let cluster: Cluster
  let server: Server
  let url: string
  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 2 })
    server = await serveMetrics(() => cluster.metrics(), 0, '127.0.0.1')
    const address = server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/metrics`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await cluster.stop()
  })

  it('serves the JMX exporter names with the values cluster.metrics() reports', async () => {
    cluster.createTopic('p-in', { partitions: 2, replicationFactor: 2 })
    await produce(cluster.bootstrapServers, 'p-in', 7)
    cluster.faults.shrinkIsr('p-in', 0, [cluster.topics.partition('p-in', 0)!.leader])
    const { families, contentType } = await scrape(url)
    const m = cluster.metrics()
    expect(contentType).toContain('text/plain; version=0.0.4')

    expect(families.get('kafka_server_brokertopicmetrics_bytesin_total')?.type).toBe('COUNTER')
    for (const b of m.brokers) {
      const broker = String(b.brokerId)
      expect(value(families, 'kafka_server_brokertopicmetrics_bytesin_total', { broker })).toBe(
        b.BrokerTopicMetrics.BytesInPerSec.count,
      )
      expect(value(families, 'kafka_server_brokertopicmetrics_messagesin_total', { broker, topic: 'p-in' })).toBe(
        b.BrokerTopicMetrics.topics['p-in']?.MessagesInPerSec.count ?? 0,
      )
      expect(value(families, 'kafka_server_replicamanager_underreplicatedpartitions', { broker })).toBe(
        b.ReplicaManager.UnderReplicatedPartitions,
      )
      expect(value(families, 'kafka_server_replicamanager_isrshrinks_total', { broker })).toBe(
        b.ReplicaManager.IsrShrinksPerSec.count,
      )
      expect(value(families, 'kafka_controller_kafkacontroller_offlinepartitionscount', { broker })).toBe(0)
    }
    const stored = cluster.topics.get('p-in')!.partitions.reduce((n, p) => n + p.log.size, 0)
    const bytesIn = families
      .get('kafka_server_brokertopicmetrics_bytesin_total')!
      .metrics.filter((s) => s.labels?.topic === 'p-in')
      .reduce((n, s) => n + Number(s.value), 0)
    expect(bytesIn).toBe(stored)
    const messagesIn = families
      .get('kafka_server_brokertopicmetrics_messagesin_total')!
      .metrics.filter((s) => s.labels?.topic === 'p-in')
      .reduce((n, s) => n + Number(s.value), 0)
    expect(messagesIn).toBe(7)
    const underReplicated = families
      .get('kafka_server_replicamanager_underreplicatedpartitions')!
      .metrics.reduce((n, s) => n + Number(s.value), 0)
    expect(underReplicated).toBe(1)
    expect(families.get('kafka_server_replicamanager_underreplicatedpartitions')?.type).toBe('GAUGE')

    // RequestMetrics: counters per request and version, percentiles as the exporter labels them.
    const produceRequests = families
      .get('kafka_network_requestmetrics_requests_total')!
      .metrics.filter((s) => s.labels?.request === 'Produce')
    expect(produceRequests.length).toBeGreaterThan(0)
    for (const s of produceRequests) expect(s.labels?.version).toMatch(/^\d+$/)
    const quantiles = families
      .get('kafka_network_requestmetrics_totaltimems')!
      .metrics.filter((s) => s.labels?.request === 'Produce' && s.labels.broker === '0')
      .map((s) => s.labels?.quantile)
    expect(quantiles).toEqual(['0.50', '0.75', '0.95', '0.98', '0.99', '0.999'])
    expect(
      value(families, 'kafka_network_requestmetrics_totaltimems_count', { broker: '0', request: 'Metadata' }),
    ).toBe(m.brokers[0]!.RequestMetrics['Metadata']!.TotalTimeMs.count)
    cluster.faults.shrinkIsr('p-in', 0, [0, 1])
  })

  it('answers 404 off /metrics and 405 for other methods', async () => {
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404)
    expect((await fetch(url, { method: 'POST' })).status).toBe(405)
  })
})

describe('kafkats broker --metrics-port', () => {
  const children: ChildProcess[] = []
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL')
  })

  it('rejects a port out of range', () => {
    expect(() => parseBrokerArgs(['--metrics-port', '70000'])).toThrow(UsageError)
    expect(() => parseBrokerArgs(['--metrics-port', 'x'])).toThrow(UsageError)
    expect(parseBrokerArgs(['--metrics-port', '0']).metricsPort).toBe(0)
  })

  it('serves /metrics while the cluster runs', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'broker', '--port', '0', '--metrics-port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    children.push(child)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
    const metricsUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no metrics line within 20 s; stderr: ${stderr}`)), 20_000)
      child.stderr!.on('data', (c: Buffer) => {
        stderr += c.toString()
        const match = /metrics at (http:\/\/\S+)/.exec(stderr)
        if (match !== null) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      })
      child.once('exit', (code) => reject(new Error(`exited with ${code}; stderr: ${stderr}`)))
    })
    const bootstrap = stdout.trim().split(',')
    await produce(bootstrap, 'cli-metrics', 5)
    const { families } = await scrape(metricsUrl)
    expect(
      value(families, 'kafka_server_brokertopicmetrics_messagesin_total', { broker: '0', topic: 'cli-metrics' }),
    ).toBe(5)
    expect(value(families, 'kafka_controller_kafkacontroller_activecontrollercount', { broker: '0' })).toBe(1)
    // One raw connection held open: connection-count says 1 once KafkaJS's connections are gone.
    const [host, port] = bootstrap[0]!.split(':')
    const socket = connect({ host: host!, port: Number(port) })
    await once(socket, 'connect')
    try {
      const connections = async (): Promise<number> =>
        value((await scrape(metricsUrl)).families, 'kafka_server_socket_server_metrics_connection_count', {
          broker: '0',
          listener: 'PLAINTEXT',
          networkProcessor: '0',
        })
      const deadline = Date.now() + 5000
      while ((await connections()) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(await connections()).toBe(1)
    } finally {
      socket.destroy()
    }
    child.kill('SIGTERM')
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
  })
})
