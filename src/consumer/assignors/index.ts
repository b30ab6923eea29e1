// Group balancers (kafka-go's GroupBalancer; Kafka's ConsumerPartitionAssignor): the code the
// group leader runs to split the subscribed topics' partitions among the members of a classic
// (JoinGroup/SyncGroup) consumer group, plus the consumer-protocol codecs that carry each
// member's subscription (JoinGroup metadata) and assignment (SyncGroup assignment).
//
// The names are Kafka's protocol names ('range', 'roundrobin', 'cooperative-sticky'), and the
// algorithms follow the Java client's RangeAssignor, RoundRobinAssignor and
// CooperativeStickyAssignor (AbstractStickyAssignor), so kafkats members can share a group with
// Java and librdkafka members and whichever member is the leader computes the same kind of
// assignment. Where Java iterates a HashMap (whose order is an accident of String.hashCode) this
// code iterates members sorted by member id, so results are deterministic.
//
// Rack-aware assignment (KIP-881): members send their `rack` in the subscription and the leader
// passes the replicas' racks (AssignContext.partitionRacks); 'range' prefers same-rack partitions
// as Java's RangeAssignor does (checked against it). The sticky balancers do not use racks yet.

export {
  DEFAULT_GENERATION,
  type BalancerUserDataContext,
  type GroupAssignment,
  type GroupBalancer,
  type GroupMember,
  type TopicPartitions,
} from './balancer.js'
export { RangeGroupBalancer } from './range.js'
export { RoundRobinGroupBalancer } from './round-robin.js'
export { CooperativeStickyGroupBalancer } from './cooperative-sticky.js'
export {
  CONSUMER_PROTOCOL_TYPE,
  CONSUMER_PROTOCOL_VERSION,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  groupMember,
  toTopicPartitions,
  type Assignment,
  type DecodedAssignment,
  type DecodedSubscription,
  type Subscription,
} from './consumer-protocol.js'
