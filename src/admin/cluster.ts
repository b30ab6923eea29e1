// The cluster: its id, controller and brokers (DescribeCluster, KIP-700; Metadata on brokers
// older than 2.8), and what each broker speaks (the versions negotiated on connecting).

import { apis } from '../protocol/messages/index.js'
import { KafkaError } from '../errors.js'
import { DescribeCluster, Metadata } from '../protocol/messages/index.js'
import { retried, type AdminCallOptions, type AdminContext } from './context.js'

export interface BrokerDescription {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

export interface ClusterDescription {
  clusterId: string | null
  /** The active controller's node id as brokers report it (-1 when not known). */
  controllerId: number
  brokers: BrokerDescription[]
}

export interface ApiVersionInfo {
  apiKey: number
  name: string
  /** The broker's range. */
  minVersion: number
  maxVersion: number
  /** The version kafkats sends to this broker, or null when none fits. */
  used: number | null
}

export async function describeCluster(ctx: AdminContext, options: AdminCallOptions = {}): Promise<ClusterDescription> {
  return retried(ctx, 'DescribeCluster', options.signal, async () => {
    const broker = ctx.client.anyBroker()
    const { versions } = await ctx.client.pool.get(broker, 'admin', options.signal)
    const sort = (brokers: BrokerDescription[]) => brokers.sort((a, b) => a.nodeId - b.nodeId)
    if (versions.supports(DescribeCluster)) {
      const r = await ctx.client.requestTo(
        broker,
        DescribeCluster,
        {},
        { signal: options.signal, timeoutMs: options.timeout },
      )
      if (r.errorCode !== 0)
        throw KafkaError.fromCode(r.errorCode, { apiName: 'DescribeCluster', errorMessage: r.errorMessage })
      return {
        clusterId: r.clusterId,
        controllerId: r.controllerId,
        brokers: sort(r.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))),
      }
    }
    const r = await ctx.client.requestTo(
      broker,
      Metadata,
      { topics: [] },
      { signal: options.signal, timeoutMs: options.timeout },
    )
    return {
      clusterId: r.clusterId,
      controllerId: r.controllerId,
      brokers: sort(r.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }))),
    }
  })
}

/** The APIs broker `nodeId` serves (ApiVersions), with the version kafkats uses for each. */
export async function apiVersions(
  ctx: AdminContext,
  nodeId: number,
  options: AdminCallOptions = {},
): Promise<ApiVersionInfo[]> {
  const { versions } = await ctx.client.connection(nodeId, 'admin', options.signal)
  const out: ApiVersionInfo[] = []
  for (const api of apis) {
    const range = versions.range(api.apiKey)
    if (range === undefined) continue
    out.push({
      apiKey: api.apiKey,
      name: api.name,
      minVersion: range.min,
      maxVersion: range.max,
      used: versions.supports(api) ? versions.pick(api) : null,
    })
  }
  return out
}
