// The reference broker's metrics in the Prometheus text format (0.0.4), under the names the JMX
// exporter gives Kafka's MBeans with its example Kafka config (prometheus/jmx_exporter
// example_configs/kafka-2_0_0.yml, lowercaseOutputName), so dashboards for a real Kafka work:
//
//   kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec[,topic=T]  Count
//       → kafka_server_brokertopicmetrics_bytesin_total{topic="T"}       ("<name>PerSec" Count → _total)
//   kafka.network:type=RequestMetrics,name=RequestsPerSec,request=R,version=V  Count
//       → kafka_network_requestmetrics_requests_total{request="R",version="V"}
//   kafka.network:type=RequestMetrics,name=TotalTimeMs,request=R  Count, NNthPercentile
//       → kafka_network_requestmetrics_totaltimems_count{request="R"},
//         kafka_network_requestmetrics_totaltimems{request="R",quantile="0.99"}
//   kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions  Value
//       → kafka_server_replicamanager_underreplicatedpartitions
//   kafka.controller:type=KafkaController,name=OfflinePartitionsCount  Value
//       → kafka_controller_kafkacontroller_offlinepartitionscount
//
// Two additions the example config does not produce: TotalTimeMs Mean and Max as
// kafka_network_requestmetrics_totaltimems_mean / _max (what a `<>(Mean|Max)` rule would give),
// and connection-count of kafka.server:type=socket-server-metrics as
// kafka_server_socket_server_metrics_connection_count (Strimzi's rule for that MBean).
// Every sample carries `broker` (the node id): one endpoint serves every broker of the process,
// where a real cluster has one scrape target per broker.

import { createServer, type Server } from 'node:http'
import type { BrokerMetricsSnapshot, BrokerTopicMetricsSnapshot, ClusterMetricsSnapshot } from './metrics.js'
import type { MeterSnapshot } from './meters.js'
import { escapeHelp, renderLabels, renderValue } from '../metrics/text-format.js'

type Labels = Record<string, string>

interface Family {
  type: 'counter' | 'gauge'
  help: string
  samples: { labels: Labels; value: number }[]
}

/** Families in first-seen order; every sample of a family is written together, as the format requires. */
class Families {
  private readonly byName = new Map<string, Family>()

  add(name: string, type: Family['type'], help: string, labels: Labels, value: number): void {
    let f = this.byName.get(name)
    if (f === undefined) {
      f = { type, help, samples: [] }
      this.byName.set(name, f)
    }
    f.samples.push({ labels, value })
  }

  render(): string {
    const lines: string[] = []
    for (const [name, f] of this.byName) {
      lines.push(`# HELP ${name} ${escapeHelp(f.help)}`)
      lines.push(`# TYPE ${name} ${f.type}`)
      for (const s of f.samples) lines.push(`${name}${renderLabels(s.labels)} ${renderValue(s.value)}`)
    }
    return lines.join('\n') + '\n'
  }
}

/** BrokerTopicMetrics meter → the exporter's counter name (the "PerSec" suffix dropped). */
const TOPIC_COUNTERS: [keyof BrokerTopicMetricsSnapshot, string, string][] = [
  ['BytesInPerSec', 'bytesin', 'Record batch bytes appended from producers'],
  ['BytesOutPerSec', 'bytesout', 'Record bytes sent to consumers in Fetch responses'],
  ['MessagesInPerSec', 'messagesin', 'Records appended'],
  ['TotalProduceRequestsPerSec', 'totalproducerequests', 'Produce requests, per partition'],
  ['FailedProduceRequestsPerSec', 'failedproducerequests', 'Produce partitions that failed unexpectedly'],
  ['TotalFetchRequestsPerSec', 'totalfetchrequests', 'Fetch requests, per partition'],
  ['FailedFetchRequestsPerSec', 'failedfetchrequests', 'Fetch partitions that failed unexpectedly'],
]

/** The JMX exporter's quantile label: "<NN>thPercentile" → "0.<NN>". */
const PERCENTILES: [string, string][] = [
  ['0.5', '0.50'],
  ['0.75', '0.75'],
  ['0.95', '0.95'],
  ['0.98', '0.98'],
  ['0.99', '0.99'],
  ['0.999', '0.999'],
]

function addBroker(f: Families, b: BrokerMetricsSnapshot): void {
  const broker = String(b.brokerId)
  const topicSets: [Labels, BrokerTopicMetricsSnapshot][] = [
    [{ broker }, b.BrokerTopicMetrics],
    ...Object.entries(b.BrokerTopicMetrics.topics).map(([topic, t]): [Labels, BrokerTopicMetricsSnapshot] => [
      { broker, topic },
      t,
    ]),
  ]
  for (const [key, short, help] of TOPIC_COUNTERS) {
    for (const [labels, t] of topicSets)
      f.add(`kafka_server_brokertopicmetrics_${short}_total`, 'counter', help, labels, t[key].count)
  }
  for (const [request, r] of Object.entries(b.RequestMetrics)) {
    for (const [version, m] of Object.entries(r.versions)) {
      f.add(
        'kafka_network_requestmetrics_requests_total',
        'counter',
        'Requests handled, by request name and version',
        { broker, request, version },
        (m as MeterSnapshot).count,
      )
    }
  }
  for (const [request, r] of Object.entries(b.RequestMetrics)) {
    const t = r.TotalTimeMs
    f.add(
      'kafka_network_requestmetrics_totaltimems_count',
      'counter',
      'Requests timed (TotalTimeMs Count)',
      { broker, request },
      t.count,
    )
    for (const [q, label] of PERCENTILES) {
      f.add(
        'kafka_network_requestmetrics_totaltimems',
        'gauge',
        'Request total time in ms, percentiles over the last 1028 requests',
        { broker, request, quantile: label },
        t.quantiles[q] ?? 0,
      )
    }
    f.add(
      'kafka_network_requestmetrics_totaltimems_mean',
      'gauge',
      'Request total time in ms, mean over the last 1028 requests',
      { broker, request },
      t.mean,
    )
    f.add(
      'kafka_network_requestmetrics_totaltimems_max',
      'gauge',
      'Request total time in ms, max over the last 1028 requests',
      { broker, request },
      t.max,
    )
  }
  const rm = b.ReplicaManager
  const gauges: [string, string, number][] = [
    [
      'kafka_server_replicamanager_underreplicatedpartitions',
      'Partitions led here whose ISR is smaller than their replica set',
      rm.UnderReplicatedPartitions,
    ],
    ['kafka_server_replicamanager_leadercount', 'Partitions led by this broker', rm.LeaderCount],
    ['kafka_server_replicamanager_partitioncount', 'Partitions with a replica on this broker', rm.PartitionCount],
    [
      'kafka_controller_kafkacontroller_activecontrollercount',
      '1 on the active controller',
      b.KafkaController.ActiveControllerCount,
    ],
    [
      'kafka_controller_kafkacontroller_offlinepartitionscount',
      'Partitions without a leader (reported by the active controller)',
      b.KafkaController.OfflinePartitionsCount,
    ],
  ]
  for (const [name, help, value] of gauges) f.add(name, 'gauge', help, { broker }, value)
  f.add(
    'kafka_server_replicamanager_isrshrinks_total',
    'counter',
    'ISR shrinks on partitions led here',
    { broker },
    rm.IsrShrinksPerSec.count,
  )
  f.add(
    'kafka_server_replicamanager_isrexpands_total',
    'counter',
    'Replicas that rejoined an ISR led here',
    { broker },
    rm.IsrExpandsPerSec.count,
  )
  f.add(
    'kafka_server_socket_server_metrics_connection_count',
    'gauge',
    'Open client connections',
    { broker, listener: b.SocketServer.listener, networkProcessor: '0' },
    b.SocketServer.connectionCount,
  )
}

/** The cluster's metrics as Prometheus text (exposition format 0.0.4). */
export function renderBrokerPrometheus(snapshot: ClusterMetricsSnapshot): string {
  const f = new Families()
  for (const b of snapshot.brokers) addBroker(f, b)
  return f.render()
}

/**
 * Serves `GET /metrics` on `host:port` (0: chosen by the OS); resolves with the listening server.
 * `snapshot` is called per scrape, so scrapes never interfere with each other.
 */
export async function serveMetrics(
  snapshot: () => ClusterMetricsSnapshot,
  port: number,
  host: string,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' })
      res.end(path === '/metrics' ? 'only GET\n' : 'not found; metrics are at /metrics\n')
      return
    }
    let body: string
    try {
      body = renderBrokerPrometheus(snapshot())
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`)
      return
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
    res.end(body)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port, host }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server
}
