// The GroupBalancer interface (kafka-go's GroupBalancer; Kafka's ConsumerPartitionAssignor) and
// the types the group leader hands it: the members as the JoinGroup response lists them, and the
// assignment it returns.

export interface TopicPartitions {
  topic: string
  partitions: number[]
}

/** One member of the group, as the leader sees it in the JoinGroup response. */
export interface GroupMember {
  /** The member id the coordinator gave it. */
  id: string
  /** group.instance.id of a static member (KIP-345); null or absent for a dynamic member. */
  groupInstanceId?: string | null
  /** The topics it subscribes to. */
  topics: string[]
  /** Balancer-specific bytes from its subscription. */
  userData?: Buffer | null
  /** The partitions it owns now (subscription v1+; empty under the eager protocol). */
  ownedPartitions?: TopicPartitions[]
  /** The generation its ownedPartitions belong to (subscription v2+); absent or -1 if unknown. */
  generation?: number
  /** Its client.rack (subscription v3+). */
  rackId?: string | null
}

/** member id → topic → partitions. Every member given to `assign` has an entry, possibly empty. */
export type GroupAssignment = Map<string, Map<string, number[]>>

/** What a balancer may put in the member's subscription userData. */
export interface BalancerUserDataContext {
  /** The topics the member subscribes to. */
  topics: readonly string[]
  /** The generation of the member's last completed rebalance; -1 before the first. */
  generation: number
  /** The partitions the member owns now. */
  ownedPartitions: readonly TopicPartitions[]
}

export interface GroupBalancer {
  /** The protocol name sent in JoinGroup; members agree on one that all of them offer. */
  readonly name: string
  /**
   * The rebalance protocol: 'eager' (default: revoke everything before every rebalance) or
   * 'cooperative' (KIP-429: keep owned partitions, revoke only those that move).
   */
  readonly protocol?: 'eager' | 'cooperative'
  /** Bytes for the member's subscription userData (null for none). */
  userData?(context: BalancerUserDataContext): Buffer | null
  /**
   * The leader's assignment. `partitionsPerTopic` maps each subscribed topic to its partition
   * ids; topics no member subscribes to and topics without partitions are ignored.
   */
  assign(
    members: readonly GroupMember[],
    partitionsPerTopic: ReadonlyMap<string, readonly number[]>,
    context?: AssignContext,
  ): GroupAssignment
}

/** What else the leader knows when it assigns. */
export interface AssignContext {
  /** KIP-881: per topic, per partition, the racks of its replicas (absent when unknown). */
  partitionRacks?: ReadonlyMap<string, ReadonlyMap<number, readonly string[]>>
}

/** Generation of a member that has never completed a rebalance (Java's DEFAULT_GENERATION). */
export const DEFAULT_GENERATION = -1
