// Every error code a Kafka broker (or KRaft controller) can put in a response, written once as
// data: the code, the name, whether it is retriable, Kafka's default message, and a few hints
// for the layers that react to it.
//
// Source: Apache Kafka's clients/src/main/java/org/apache/kafka/common/protocol/Errors.java
// (trunk at 4.0.0-SNAPSHOT, last change to the file 2024-09-25) plus REBOOTSTRAP_REQUIRED (129),
// which 4.0.0 added with KIP-1102. Codes 130 and up (STREAMS_*, SHARE_SESSION_LIMIT_REACHED)
// arrived in 4.1 and are not here; errorInfo() still answers for them, as an unknown code.
//
// How the columns were decided:
//  - retriable: the Java exception class extends RetriableException (the rule Kafka's own
//    protocol documentation uses for its "Retriable" column).
//  - staleMetadata: the class extends InvalidMetadataException: the client's view of the
//    cluster is out of date; refresh metadata, then retry. Every such error is also retriable.
//  - staleCoordinator: Kafka's clients mark the group/transaction coordinator unknown and look
//    it up again (FindCoordinator) before retrying.
//  - rejoinGroup: Kafka's consumer treats the membership as invalid and rejoins the group
//    (classic protocol: JoinGroup again; KIP-848: heartbeat again from epoch 0).
//  - fencedProducer: Kafka's transactional producer treats the error as "a newer producer with
//    this transactional.id exists" and fails fatally. INVALID_PRODUCER_EPOCH is treated that
//    way on transaction-coordinator responses (older coordinators send it instead of
//    PRODUCER_FENCED); on a Produce response it only aborts the current transaction (KIP-588).

/** What kafkats knows about one Kafka error code. */
export interface ErrorCodeInfo {
  /** The int16 sent on the wire. */
  readonly code: number
  /** The name in Kafka's Errors.java, e.g. 'NOT_LEADER_OR_FOLLOWER'. */
  readonly name: string
  /** The Java exception is a RetriableException: the same request may succeed if sent again. */
  readonly retriable: boolean
  /** Kafka's default message for the code ('' for NONE). */
  readonly message: string
  /** The Java exception is an InvalidMetadataException: refresh metadata before retrying. */
  readonly staleMetadata?: true
  /** Look the coordinator up again (FindCoordinator) before retrying. */
  readonly staleCoordinator?: true
  /** The group membership is no longer valid: rejoin the group. */
  readonly rejoinGroup?: true
  /** A newer producer with the same transactional.id exists (see the file comment for 47). */
  readonly fencedProducer?: true
}

// Flags for the table below, combined with |.
const RETRIABLE = 1
const STALE_METADATA = 2
const STALE_COORDINATOR = 4
const REJOIN_GROUP = 8
const FENCED_PRODUCER = 16

type Row = readonly [code: number, name: string, flags: number, message: string]

// One line per code, in code order, contiguous from -1 to the highest.
// prettier-ignore
const ROWS = [
  [-1, 'UNKNOWN_SERVER_ERROR', 0, 'The server experienced an unexpected error when processing the request.'],
  [0, 'NONE', 0, ''],
  [1, 'OFFSET_OUT_OF_RANGE', 0, 'The requested offset is not within the range of offsets maintained by the server.'],
  [2, 'CORRUPT_MESSAGE', RETRIABLE, 'This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.'],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', RETRIABLE | STALE_METADATA, 'This server does not host this topic-partition.'],
  [4, 'INVALID_FETCH_SIZE', 0, 'The requested fetch size is invalid.'],
  [5, 'LEADER_NOT_AVAILABLE', RETRIABLE | STALE_METADATA, 'There is no leader for this topic-partition as we are in the middle of a leadership election.'],
  [6, 'NOT_LEADER_OR_FOLLOWER', RETRIABLE | STALE_METADATA, 'For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.'],
  [7, 'REQUEST_TIMED_OUT', RETRIABLE, 'The request timed out.'],
  [8, 'BROKER_NOT_AVAILABLE', 0, 'The broker is not available.'],
  [9, 'REPLICA_NOT_AVAILABLE', RETRIABLE | STALE_METADATA, 'The replica is not available for the requested topic-partition. Produce/Fetch requests and other requests intended only for the leader or follower return NOT_LEADER_OR_FOLLOWER if the broker is not a replica of the topic-partition.'],
  [10, 'MESSAGE_TOO_LARGE', 0, 'The request included a message larger than the max message size the server will accept.'],
  [11, 'STALE_CONTROLLER_EPOCH', 0, 'The controller moved to another broker.'],
  [12, 'OFFSET_METADATA_TOO_LARGE', 0, 'The metadata field of the offset request was too large.'],
  [13, 'NETWORK_EXCEPTION', RETRIABLE | STALE_METADATA, 'The server disconnected before a response was received.'],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS', RETRIABLE, "The coordinator is loading and hence can't process requests."],
  [15, 'COORDINATOR_NOT_AVAILABLE', RETRIABLE | STALE_COORDINATOR, 'The coordinator is not available.'],
  [16, 'NOT_COORDINATOR', RETRIABLE | STALE_COORDINATOR, 'This is not the correct coordinator.'],
  [17, 'INVALID_TOPIC_EXCEPTION', 0, 'The request attempted to perform an operation on an invalid topic.'],
  [18, 'RECORD_LIST_TOO_LARGE', 0, 'The request included message batch larger than the configured segment size on the server.'],
  [19, 'NOT_ENOUGH_REPLICAS', RETRIABLE, 'Messages are rejected since there are fewer in-sync replicas than required.'],
  [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', RETRIABLE, 'Messages are written to the log, but to fewer in-sync replicas than required.'],
  [21, 'INVALID_REQUIRED_ACKS', 0, 'Produce request specified an invalid value for required acks.'],
  [22, 'ILLEGAL_GENERATION', REJOIN_GROUP, 'Specified group generation id is not valid.'],
  [23, 'INCONSISTENT_GROUP_PROTOCOL', 0, "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list."],
  [24, 'INVALID_GROUP_ID', 0, 'The configured groupId is invalid.'],
  [25, 'UNKNOWN_MEMBER_ID', REJOIN_GROUP, 'The coordinator is not aware of this member.'],
  [26, 'INVALID_SESSION_TIMEOUT', 0, 'The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms).'],
  [27, 'REBALANCE_IN_PROGRESS', REJOIN_GROUP, 'The group is rebalancing, so a rejoin is needed.'],
  [28, 'INVALID_COMMIT_OFFSET_SIZE', 0, 'The committing offset data size is not valid.'],
  [29, 'TOPIC_AUTHORIZATION_FAILED', 0, 'Topic authorization failed.'],
  [30, 'GROUP_AUTHORIZATION_FAILED', 0, 'Group authorization failed.'],
  [31, 'CLUSTER_AUTHORIZATION_FAILED', 0, 'Cluster authorization failed.'],
  [32, 'INVALID_TIMESTAMP', 0, 'The timestamp of the message is out of acceptable range.'],
  [33, 'UNSUPPORTED_SASL_MECHANISM', 0, 'The broker does not support the requested SASL mechanism.'],
  [34, 'ILLEGAL_SASL_STATE', 0, 'Request is not valid given the current SASL state.'],
  [35, 'UNSUPPORTED_VERSION', 0, 'The version of API is not supported.'],
  [36, 'TOPIC_ALREADY_EXISTS', 0, 'Topic with this name already exists.'],
  [37, 'INVALID_PARTITIONS', 0, 'Number of partitions is below 1.'],
  [38, 'INVALID_REPLICATION_FACTOR', 0, 'Replication factor is below 1 or larger than the number of available brokers.'],
  [39, 'INVALID_REPLICA_ASSIGNMENT', 0, 'Replica assignment is invalid.'],
  [40, 'INVALID_CONFIG', 0, 'Configuration is invalid.'],
  [41, 'NOT_CONTROLLER', RETRIABLE, 'This is not the correct controller for this cluster.'],
  [42, 'INVALID_REQUEST', 0, 'This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.'],
  [43, 'UNSUPPORTED_FOR_MESSAGE_FORMAT', 0, 'The message format version on the broker does not support the request.'],
  [44, 'POLICY_VIOLATION', 0, 'Request parameters do not satisfy the configured policy.'],
  [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', 0, 'The broker received an out of order sequence number.'],
  [46, 'DUPLICATE_SEQUENCE_NUMBER', 0, 'The broker received a duplicate sequence number.'],
  [47, 'INVALID_PRODUCER_EPOCH', FENCED_PRODUCER, 'Producer attempted to produce with an old epoch.'],
  [48, 'INVALID_TXN_STATE', 0, 'The producer attempted a transactional operation in an invalid state.'],
  [49, 'INVALID_PRODUCER_ID_MAPPING', 0, 'The producer attempted to use a producer id which is not currently assigned to its transactional id.'],
  [50, 'INVALID_TRANSACTION_TIMEOUT', 0, 'The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms).'],
  [51, 'CONCURRENT_TRANSACTIONS', RETRIABLE, 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing.'],
  [52, 'TRANSACTION_COORDINATOR_FENCED', 0, 'Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer.'],
  [53, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 0, 'Transactional Id authorization failed.'],
  [54, 'SECURITY_DISABLED', 0, 'Security features are disabled.'],
  [55, 'OPERATION_NOT_ATTEMPTED', 0, 'The broker did not attempt to execute this operation. This may happen for batched RPCs where some operations in the batch failed, causing the broker to respond without trying the rest.'],
  [56, 'KAFKA_STORAGE_ERROR', RETRIABLE | STALE_METADATA, 'Disk error when trying to access log file on the disk.'],
  [57, 'LOG_DIR_NOT_FOUND', 0, 'The user-specified log directory is not found in the broker config.'],
  [58, 'SASL_AUTHENTICATION_FAILED', 0, 'SASL Authentication failed.'],
  [59, 'UNKNOWN_PRODUCER_ID', 0, "This exception is raised by the broker if it could not locate the producer metadata associated with the producerId in question. This could happen if, for instance, the producer's records were deleted because their retention time had elapsed. Once the last records of the producerId are removed, the producer's metadata is removed from the broker, and future appends by the producer will return this exception."],
  [60, 'REASSIGNMENT_IN_PROGRESS', 0, 'A partition reassignment is in progress.'],
  [61, 'DELEGATION_TOKEN_AUTH_DISABLED', 0, 'Delegation Token feature is not enabled.'],
  [62, 'DELEGATION_TOKEN_NOT_FOUND', 0, 'Delegation Token is not found on server.'],
  [63, 'DELEGATION_TOKEN_OWNER_MISMATCH', 0, 'Specified Principal is not valid Owner/Renewer.'],
  [64, 'DELEGATION_TOKEN_REQUEST_NOT_ALLOWED', 0, 'Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation token authenticated channels.'],
  [65, 'DELEGATION_TOKEN_AUTHORIZATION_FAILED', 0, 'Delegation Token authorization failed.'],
  [66, 'DELEGATION_TOKEN_EXPIRED', 0, 'Delegation Token is expired.'],
  [67, 'INVALID_PRINCIPAL_TYPE', 0, 'Supplied principalType is not supported.'],
  [68, 'NON_EMPTY_GROUP', 0, 'The group is not empty.'],
  [69, 'GROUP_ID_NOT_FOUND', 0, 'The group id does not exist.'],
  [70, 'FETCH_SESSION_ID_NOT_FOUND', RETRIABLE, 'The fetch session ID was not found.'],
  [71, 'INVALID_FETCH_SESSION_EPOCH', RETRIABLE, 'The fetch session epoch is invalid.'],
  [72, 'LISTENER_NOT_FOUND', RETRIABLE | STALE_METADATA, 'There is no listener on the leader broker that matches the listener on which metadata request was processed.'],
  [73, 'TOPIC_DELETION_DISABLED', 0, 'Topic deletion is disabled.'],
  [74, 'FENCED_LEADER_EPOCH', RETRIABLE | STALE_METADATA, 'The leader epoch in the request is older than the epoch on the broker.'],
  [75, 'UNKNOWN_LEADER_EPOCH', RETRIABLE, 'The leader epoch in the request is newer than the epoch on the broker.'],
  [76, 'UNSUPPORTED_COMPRESSION_TYPE', 0, 'The requesting client does not support the compression type of given partition.'],
  [77, 'STALE_BROKER_EPOCH', 0, 'Broker epoch has changed.'],
  [78, 'OFFSET_NOT_AVAILABLE', RETRIABLE, 'The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing.'],
  [79, 'MEMBER_ID_REQUIRED', REJOIN_GROUP, 'The group member needs to have a valid member id before actually entering a consumer group.'],
  [80, 'PREFERRED_LEADER_NOT_AVAILABLE', RETRIABLE | STALE_METADATA, 'The preferred leader was not available.'],
  [81, 'GROUP_MAX_SIZE_REACHED', 0, 'The consumer group has reached its max size.'],
  [82, 'FENCED_INSTANCE_ID', 0, 'The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id.'],
  [83, 'ELIGIBLE_LEADERS_NOT_AVAILABLE', RETRIABLE | STALE_METADATA, 'Eligible topic partition leaders are not available.'],
  [84, 'ELECTION_NOT_NEEDED', RETRIABLE | STALE_METADATA, 'Leader election not needed for topic partition.'],
  [85, 'NO_REASSIGNMENT_IN_PROGRESS', 0, 'No partition reassignment is in progress.'],
  [86, 'GROUP_SUBSCRIBED_TO_TOPIC', 0, 'Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.'],
  [87, 'INVALID_RECORD', 0, 'This record has failed the validation on broker and hence will be rejected.'],
  [88, 'UNSTABLE_OFFSET_COMMIT', RETRIABLE, 'There are unstable offsets that need to be cleared.'],
  [89, 'THROTTLING_QUOTA_EXCEEDED', RETRIABLE, 'The throttling quota has been exceeded.'],
  [90, 'PRODUCER_FENCED', FENCED_PRODUCER, 'There is a newer producer with the same transactionalId which fences the current one.'],
  [91, 'RESOURCE_NOT_FOUND', 0, 'A request illegally referred to a resource that does not exist.'],
  [92, 'DUPLICATE_RESOURCE', 0, 'A request illegally referred to the same resource twice.'],
  [93, 'UNACCEPTABLE_CREDENTIAL', 0, 'Requested credential would not meet criteria for acceptability.'],
  [94, 'INCONSISTENT_VOTER_SET', 0, 'Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters.'],
  [95, 'INVALID_UPDATE_VERSION', 0, 'The given update version was invalid.'],
  [96, 'FEATURE_UPDATE_FAILED', 0, 'Unable to update finalized features due to an unexpected server error.'],
  [97, 'PRINCIPAL_DESERIALIZATION_FAILURE', 0, 'Request principal deserialization failed during forwarding. This indicates an internal error on the broker cluster security setup.'],
  [98, 'SNAPSHOT_NOT_FOUND', 0, 'Requested snapshot was not found.'],
  [99, 'POSITION_OUT_OF_RANGE', 0, 'Requested position is not greater than or equal to zero, and less than the size of the snapshot.'],
  [100, 'UNKNOWN_TOPIC_ID', RETRIABLE | STALE_METADATA, 'This server does not host this topic ID.'],
  [101, 'DUPLICATE_BROKER_REGISTRATION', 0, 'This broker ID is already in use.'],
  [102, 'BROKER_ID_NOT_REGISTERED', 0, 'The given broker ID was not registered.'],
  [103, 'INCONSISTENT_TOPIC_ID', RETRIABLE | STALE_METADATA, "The log's topic ID did not match the topic ID in the request."],
  [104, 'INCONSISTENT_CLUSTER_ID', 0, 'The clusterId in the request does not match that found on the server.'],
  [105, 'TRANSACTIONAL_ID_NOT_FOUND', 0, 'The transactionalId could not be found.'],
  [106, 'FETCH_SESSION_TOPIC_ID_ERROR', RETRIABLE, 'The fetch session encountered inconsistent topic ID usage.'],
  [107, 'INELIGIBLE_REPLICA', 0, 'The new ISR contains at least one ineligible replica.'],
  [108, 'NEW_LEADER_ELECTED', 0, 'The AlterPartition request successfully updated the partition state but the leader has changed.'],
  [109, 'OFFSET_MOVED_TO_TIERED_STORAGE', 0, 'The requested offset is moved to tiered storage.'],
  [110, 'FENCED_MEMBER_EPOCH', REJOIN_GROUP, 'The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin.'],
  [111, 'UNRELEASED_INSTANCE_ID', 0, 'The instance ID is still used by another member in the consumer group. That member must leave first.'],
  [112, 'UNSUPPORTED_ASSIGNOR', 0, 'The assignor or its version range is not supported by the consumer group.'],
  [113, 'STALE_MEMBER_EPOCH', 0, 'The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API.'],
  [114, 'MISMATCHED_ENDPOINT_TYPE', 0, 'The request was sent to an endpoint of the wrong type.'],
  [115, 'UNSUPPORTED_ENDPOINT_TYPE', 0, 'This endpoint type is not supported yet.'],
  [116, 'UNKNOWN_CONTROLLER_ID', 0, 'This controller ID is not known.'],
  [117, 'UNKNOWN_SUBSCRIPTION_ID', 0, 'Client sent a push telemetry request with an invalid or outdated subscription ID.'],
  [118, 'TELEMETRY_TOO_LARGE', 0, 'Client sent a push telemetry request larger than the maximum size the broker will accept.'],
  [119, 'INVALID_REGISTRATION', 0, 'The controller has considered the broker registration to be invalid.'],
  [120, 'TRANSACTION_ABORTABLE', 0, 'The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID.'],
  [121, 'INVALID_RECORD_STATE', 0, 'The record state is invalid. The acknowledgement of delivery could not be completed.'],
  [122, 'SHARE_SESSION_NOT_FOUND', RETRIABLE, 'The share session was not found.'],
  [123, 'INVALID_SHARE_SESSION_EPOCH', RETRIABLE, 'The share session epoch is invalid.'],
  [124, 'FENCED_STATE_EPOCH', 0, 'The share coordinator rejected the request because the share-group state epoch did not match.'],
  [125, 'INVALID_VOTER_KEY', 0, "The voter key doesn't match the receiving replica's key."],
  [126, 'DUPLICATE_VOTER', 0, 'The voter is already part of the set of voters.'],
  [127, 'VOTER_NOT_FOUND', 0, 'The voter is not part of the set of voters.'],
  [128, 'INVALID_REGULAR_EXPRESSION', 0, 'The regular expression is not valid.'],
  [129, 'REBOOTSTRAP_REQUIRED', 0, 'Client metadata is stale. The client should rebootstrap to obtain new metadata.'],
] as const satisfies readonly Row[]

type AnyRow = (typeof ROWS)[number]

/** The name of every error code Kafka defines. */
export type ErrorCodeName = AnyRow[1]

function freezeInfo(row: Row): ErrorCodeInfo {
  const [code, name, flags, message] = row
  const info: {
    -readonly [K in keyof ErrorCodeInfo]: ErrorCodeInfo[K]
  } = { code, name, retriable: (flags & RETRIABLE) !== 0, message }
  if ((flags & STALE_METADATA) !== 0) info.staleMetadata = true
  if ((flags & STALE_COORDINATOR) !== 0) info.staleCoordinator = true
  if ((flags & REJOIN_GROUP) !== 0) info.rejoinGroup = true
  if ((flags & FENCED_PRODUCER) !== 0) info.fencedProducer = true
  return Object.freeze(info)
}

/** The whole table, in code order (from -1 UNKNOWN_SERVER_ERROR up). */
export const ERROR_CODES: readonly ErrorCodeInfo[] = Object.freeze(ROWS.map(freezeInfo))

/** Every Kafka error code by name: `ErrorCode.NOT_LEADER_OR_FOLLOWER === 6`. */
export const ErrorCode = Object.freeze(Object.fromEntries(ROWS.map((row) => [row[1], row[0]]))) as {
  readonly [R in AnyRow as R[1]]: R[0]
}

const BY_CODE = new Map<number, ErrorCodeInfo>(ERROR_CODES.map((info) => [info.code, info]))

/** The name given to codes this table does not know (a broker newer than this client). */
export const UNKNOWN_ERROR_CODE_NAME = 'UNKNOWN_ERROR_CODE'

/**
 * What kafkats knows about `code`. Never throws: a code missing from the table (a newer broker)
 * gets a synthetic, non-retriable entry named UNKNOWN_ERROR_CODE that keeps the code, the way
 * Kafka's Java client turns unknown codes into a non-retriable UnknownServerException.
 */
export function errorInfo(code: number): ErrorCodeInfo {
  return (
    BY_CODE.get(code) ??
    Object.freeze({
      code,
      name: UNKNOWN_ERROR_CODE_NAME,
      retriable: false,
      message: `The broker returned error code ${code}, which this client does not know.`,
    })
  )
}
