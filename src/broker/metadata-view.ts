// What a broker knows of the cluster's metadata: brokers, controller, topics and their partitions'
// leaders, epochs, replicas and ISRs. Normally every broker sees the cluster's current state; a
// broker under `faults.lagMetadata` keeps answering Metadata from a view frozen when the fault
// was set, as a KRaft broker that has not yet replayed the latest metadata log records does.

import type { Cluster } from './cluster.js'
import type { Topic } from './topics.js'

export interface PartitionView {
  index: number
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
}

export interface TopicView {
  name: string
  id: string
  internal: boolean
  partitions: PartitionView[]
}

export interface BrokerView {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

export interface MetadataView {
  brokers: BrokerView[]
  controllerId: number
  byName: Map<string, TopicView>
  byId: Map<string, TopicView>
}

/** A copy of one topic's metadata as it is now (arrays copied, so later changes do not show). */
export function viewTopic(topic: Topic): TopicView {
  return {
    name: topic.name,
    id: topic.id,
    internal: topic.internal,
    partitions: topic.partitions.map((p) => ({
      index: p.index,
      leader: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicas: [...p.replicas],
      isr: [...p.isr],
      offlineReplicas: p.offlineReplicas(),
    })),
  }
}

/** The cluster's registered brokers now (running, or crashed and not fenced yet). */
export function liveBrokerViews(cluster: Cluster): BrokerView[] {
  return cluster.brokers
    .filter((b) => cluster.isRegistered(b.id))
    .map((b) => ({ nodeId: b.id, host: b.host, port: b.port, rack: b.rack }))
}

/** Freezes the whole metadata as it is now. */
export function captureMetadataView(cluster: Cluster): MetadataView {
  const byName = new Map<string, TopicView>()
  const byId = new Map<string, TopicView>()
  for (const t of cluster.topics.all()) {
    const view = viewTopic(t)
    byName.set(view.name, view)
    byId.set(view.id, view)
  }
  return { brokers: liveBrokerViews(cluster), controllerId: cluster.controllerId, byName, byId }
}
