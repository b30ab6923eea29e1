// `kafkats cluster`: the cluster id, the controller, the brokers, and with --versions what a
// broker speaks and which version kafkats uses for each API.

import { Admin } from '../admin/admin.js'
import { clientConfig, CONNECTION_FLAGS, optionalInt, parseCommand, table, toJson, type Output } from './common.js'
import { UsageError } from './args.js'

export const CLUSTER_USAGE = `usage: kafkats cluster [--versions [--broker ID]] [flags]
  The cluster id, controller and brokers; --versions lists the APIs a broker (default: the
  first) serves with its version range and the version kafkats uses.`

const FLAGS = { ...CONNECTION_FLAGS, versions: { type: 'boolean' }, broker: { type: 'string' } } as const

export async function runClusterCommand(args: string[], signal: AbortSignal, out: Output): Promise<number> {
  const { values, positionals } = parseCommand(args, FLAGS)
  if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument')
  const admin = new Admin(clientConfig(values))
  try {
    const cluster = await admin.describeCluster({ signal })
    if (values.versions === true) {
      const nodeId = optionalInt('--broker', values.broker) ?? cluster.brokers[0]?.nodeId ?? 0
      const versions = await admin.apiVersions(nodeId, { signal })
      if (values.json === true) out.line(toJson({ broker: nodeId, apis: versions }))
      else {
        out.line(`Broker ${nodeId}:`)
        table(
          out,
          ['API', 'KEY', 'BROKER', 'USED'],
          versions.map((v) => [v.name, v.apiKey, `${v.minVersion}-${v.maxVersion}`, v.used]),
        )
      }
      return 0
    }
    if (values.json === true) {
      out.line(toJson(cluster))
      return 0
    }
    out.line(`Cluster: ${cluster.clusterId ?? '-'}  Controller: ${cluster.controllerId}`)
    table(
      out,
      ['ID', 'HOST', 'PORT', 'RACK'],
      cluster.brokers.map((b) => [b.nodeId, b.host, b.port, b.rack]),
    )
    return 0
  } finally {
    await admin.close()
  }
}
