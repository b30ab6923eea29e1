// Everything a cluster keeps for share groups (KIP-932): the groups (share-groups.ts, with
// the group coordinator), the share-partitions (share-partitions.ts, with each partition's
// leader) and each broker's share sessions (share-sessions.ts). A member leaving its group
// loses its sessions and the records it had acquired.

import type { Cluster } from './cluster.js'
import { ShareGroupConfigs } from './share-group-configs.js'
import { ShareGroupCoordinator } from './share-groups.js'
import { SharePartitions } from './share-partitions.js'
import { ShareSessionCache } from './share-sessions.js'

export class ShareState {
  readonly groups: ShareGroupCoordinator
  readonly partitions: SharePartitions
  readonly configs: ShareGroupConfigs
  private readonly sessions = new Map<number, ShareSessionCache>()

  constructor(cluster: Cluster) {
    const configs = new ShareGroupConfigs(cluster.options)
    this.configs = configs
    this.partitions = new SharePartitions(
      (group) => ({
        lockDurationMs: configs.lockDurationMs(group),
        deliveryCountLimit: configs.deliveryCountLimit(group),
        maxInFlight: configs.maxRecordLocks(group),
      }),
      (group) => configs.autoOffsetReset(group),
    )
    this.groups = new ShareGroupCoordinator(cluster, configs, (groupId, memberId) => {
      for (const cache of this.sessions.values()) cache.dropMember(groupId, memberId)
      this.partitions.releaseMember(groupId, memberId)
    })
  }

  /**
   * A broker stopped: its share sessions are gone (Kafka keeps them in memory), and what its
   * share-partitions had acquired is available again, as when Kafka's next leader loads them
   * from the share coordinator.
   */
  brokerStopped(id: number): void {
    this.sessions.delete(id)
    this.partitions.leaderGone(id)
  }

  /** The share sessions of broker `id`. */
  sessionsOf(id: number): ShareSessionCache {
    let cache = this.sessions.get(id)
    if (cache === undefined) {
      cache = new ShareSessionCache()
      this.sessions.set(id, cache)
    }
    return cache
  }
}
