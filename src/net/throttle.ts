// KIP-219 client-side throttling. From these versions on, a broker over a quota answers at once
// with throttleTimeMs and expects the client to send nothing more on that connection until the
// time has passed (it mutes its side too); before them the broker held the response back itself,
// so a throttle time there needs nothing from the client.

/**
 * The first client-throttled version per API key: the "Starting in version N, on quota violation
 * brokers send out responses before throttling" notes in Kafka's message specs, and Produce v6
 * (ProduceResponse.shouldClientThrottle; its spec has no note).
 */
const FIRST_CLIENT_THROTTLED_VERSION = new Map<number, number>([
  [0, 6], // Produce
  [1, 8], // Fetch
  [2, 3], // ListOffsets
  [3, 6], // Metadata
  [8, 4], // OffsetCommit
  [9, 4], // OffsetFetch
  [10, 2], // FindCoordinator
  [11, 3], // JoinGroup
  [12, 2], // Heartbeat
  [13, 2], // LeaveGroup
  [14, 2], // SyncGroup
  [15, 2], // DescribeGroups
  [16, 2], // ListGroups
  [18, 2], // ApiVersions
  [19, 3], // CreateTopics
  [20, 2], // DeleteTopics
  [21, 1], // DeleteRecords
  [22, 1], // InitProducerId
  [24, 1], // AddPartitionsToTxn
  [25, 1], // AddOffsetsToTxn
  [26, 1], // EndTxn
  [28, 1], // TxnOffsetCommit
  [29, 1], // DescribeAcls
  [30, 1], // CreateAcls
  [31, 1], // DeleteAcls
  [32, 2], // DescribeConfigs
  [33, 1], // AlterConfigs
  [34, 1], // AlterReplicaLogDirs
  [35, 1], // DescribeLogDirs
  [37, 1], // CreatePartitions
  [38, 1], // CreateDelegationToken
  [39, 1], // RenewDelegationToken
  [40, 1], // ExpireDelegationToken
  [41, 1], // DescribeDelegationToken
  [42, 1], // DeleteGroups
])

/** APIs from ElectLeaders (43) on came after KIP-219 (Kafka 2.0): every version is client-throttled. */
const FIRST_POST_KIP219_API = 43

/** How long to send nothing more on the connection after this response (0: not at all). */
export function clientThrottleMs(api: { apiKey: number }, version: number, body: unknown): number {
  const ms = (body as { throttleTimeMs?: unknown } | null)?.throttleTimeMs
  if (typeof ms !== 'number' || !(ms > 0)) return 0
  const first = FIRST_CLIENT_THROTTLED_VERSION.get(api.apiKey) ?? (api.apiKey >= FIRST_POST_KIP219_API ? 0 : Infinity)
  return version >= first ? ms : 0
}
