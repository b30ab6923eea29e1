// The cluster metadata cache: brokers, and the topics this client uses with their partition
// leaders. Bootstrapped from any listed broker (each is tried in turn), refreshed when older than
// metadata.max.age.ms (5 min, as in Java) and at once when an error says it is stale
// (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, FENCED_LEADER_EPOCH, a
// broken connection...). Concurrent refreshes merge into one request; when every known broker
// fails, the bootstrap list is tried again (re-bootstrap).

import { isRetriable } from '../errors.js'
import { ZERO_UUID } from '../protocol/api.js'
import { ErrorCode } from '../protocol/error-codes.js'
import type { MetadataResponse } from '../protocol/messages/index.js'
import { ConnectionError, RequestTimeoutError } from '../net/errors.js'
import { raceAbort, type BrokerEndpoint } from '../net/pool.js'

export interface BrokerInfo extends BrokerEndpoint {
  rack: string | null
}

export interface PartitionInfo {
  topic: string
  partition: number
  /** Node id of the leader, or -1 while there is none. */
  leader: number
  leaderEpoch: number
  replicas: readonly number[]
  isr: readonly number[]
  offlineReplicas: readonly number[]
  errorCode: number
}

export interface TopicInfo {
  name: string
  topicId: string
  isInternal: boolean
  /** The topic-level error (UNKNOWN_TOPIC_OR_PARTITION for a missing topic), 0 when fine. */
  errorCode: number
  /** Sorted by partition id. */
  partitions: readonly PartitionInfo[]
  /** The partition ids, ascending: what a Balancer chooses among. */
  partitionIds: readonly number[]
}

/** Sends one Metadata request to one broker; the cache chooses the broker. */
export type MetadataFetcher = (
  broker: BrokerEndpoint,
  topics: readonly string[],
  signal: AbortSignal | undefined,
) => Promise<MetadataResponse>

export interface MetadataCacheOptions {
  bootstrap: readonly BrokerEndpoint[]
  fetch: MetadataFetcher
  /** Refresh when the data is older than this (ms); Java's metadata.max.age.ms. */
  maxAgeMs?: number
}

/** How long a broker that failed is asked for metadata last: 10 s, doubling up to 5 min. */
const PENALTY_BASE_MS = 10_000
const PENALTY_MAX_MS = 300_000
/** Failures of one broker reported within this time are taken as one. */
const SAME_FAILURE_MS = 1000

function addressOf(broker: BrokerEndpoint): string {
  return `${broker.host}:${broker.port}`
}

interface Refresh {
  promise: Promise<void>
  topics: ReadonlySet<string>
}

export class MetadataCache {
  readonly #bootstrap: readonly BrokerEndpoint[]
  readonly #fetch: MetadataFetcher
  readonly maxAgeMs: number

  #brokers = new Map<number, BrokerInfo>()
  #topics = new Map<string, TopicInfo>()
  /** Topics the client uses: every refresh asks for all of them. */
  readonly #interest = new Set<string>()
  /** availablePartitionIds, per TopicInfo object. */
  readonly #available = new WeakMap<TopicInfo, { brokers: ReadonlyMap<number, BrokerInfo>; ids: readonly number[] }>()
  clusterId: string | null = null
  controllerId = -1
  /** When the last refresh succeeded (0: never). */
  updatedAt = 0
  #stale = true
  #current: Refresh | null = null
  #next: Refresh | null = null
  /** Rotates the broker a refresh starts with, to spread the load. */
  #cursor = 0
  /** Brokers (by address) that failed lately, and until when they are asked only as a last resort. */
  readonly #penalties = new Map<string, { failures: number; since: number; until: number }>()
  /** Completed refreshes, for tests and stats. */
  refreshes = 0

  constructor(options: MetadataCacheOptions) {
    if (options.bootstrap.length === 0) throw new Error('metadata cache needs at least one bootstrap broker')
    this.#bootstrap = options.bootstrap
    this.#fetch = options.fetch
    this.maxAgeMs = options.maxAgeMs ?? 300_000
  }

  get brokers(): ReadonlyMap<number, BrokerInfo> {
    return this.#brokers
  }

  broker(nodeId: number): BrokerInfo | undefined {
    return this.#brokers.get(nodeId)
  }

  /** The cached topic; kicks off a background refresh when the cache has expired. */
  topic(name: string): TopicInfo | undefined {
    this.#refreshIfExpired()
    return this.#topics.get(name)
  }

  partition(topic: string, partition: number): PartitionInfo | undefined {
    const info = this.topic(topic)
    if (info === undefined) return undefined
    const p = info.partitions[partition]
    return p !== undefined && p.partition === partition ? p : info.partitions.find((x) => x.partition === partition)
  }

  /**
   * The topic's partition ids whose leader is known and reachable by address (Java's
   * Cluster.availablePartitionsForTopic), ascending; undefined for an unknown topic. Cached per
   * TopicInfo and broker map: a metadata change replaces one or both objects.
   */
  availablePartitionIds(topic: string): readonly number[] | undefined {
    const info = this.topic(topic)
    if (info === undefined) return undefined
    const cached = this.#available.get(info)
    if (cached !== undefined && cached.brokers === this.#brokers) return cached.ids
    const brokers = this.#brokers
    const ids = info.partitions.filter((p) => p.leader >= 0 && brokers.has(p.leader)).map((p) => p.partition)
    this.#available.set(info, { brokers, ids })
    return ids
  }

  /** The leader's address for a partition, or undefined when there is none right now. */
  leaderFor(topic: string, partition: number): BrokerInfo | undefined {
    const p = this.partition(topic, partition)
    return p === undefined || p.leader < 0 ? undefined : this.#brokers.get(p.leader)
  }

  /**
   * Why a partition of `topic` has no known leader: the topic's own answer when Metadata gave one
   * that says so (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED), else LEADER_NOT_AVAILABLE.
   */
  noLeaderCode(topic: string): number {
    const code = this.topic(topic)?.errorCode
    return code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || code === ErrorCode.TOPIC_AUTHORIZATION_FAILED
      ? code
      : ErrorCode.LEADER_NOT_AVAILABLE
  }

  get isStale(): boolean {
    return this.#stale || Date.now() - this.updatedAt > this.maxAgeMs
  }

  /** An error said the cache is out of date: the next `ensure` refreshes. */
  markStale(): void {
    this.#stale = true
  }

  /** Adds topics the client uses; they are included in every refresh from now on. */
  addTopics(topics: Iterable<string>): void {
    for (const t of topics) this.#interest.add(t)
  }

  /** Refreshes when stale, expired, or missing one of `topics`. */
  async ensure(topics: readonly string[], signal?: AbortSignal): Promise<void> {
    const missing = topics.some((t) => !this.#topics.has(t))
    if (!missing && !this.isStale && this.updatedAt > 0) return
    await this.refresh(topics, signal)
  }

  /**
   * Fetches fresh metadata for every topic of interest plus `topics`. Callers that arrive while a
   * refresh runs share it when it covers their topics, else share the one queued after it.
   */
  refresh(topics: readonly string[] = [], signal?: AbortSignal): Promise<void> {
    this.addTopics(topics)
    const current = this.#current
    if (current !== null) {
      if (topics.every((t) => current.topics.has(t))) return raceAbort(current.promise, signal)
      if (this.#next === null) {
        const queued = current.promise
          .catch(() => {})
          .then(() => {
            if (this.#next === next) this.#next = null
            return this.#start()
          })
        const next: Refresh = { promise: queued, topics: new Set(this.#interest) }
        this.#next = next
      }
      return raceAbort(this.#next.promise, signal)
    }
    return raceAbort(this.#start(), signal)
  }

  #start(): Promise<void> {
    if (this.#current !== null) return this.#current.promise
    const topics = [...this.#interest]
    const refresh: Refresh = { promise: this.#fetchFromAnyBroker(topics), topics: new Set(topics) }
    this.#current = refresh
    const clear = (): void => {
      if (this.#current === refresh) this.#current = null
    }
    refresh.promise.then(clear, clear)
    return refresh.promise
  }

  #refreshIfExpired(): void {
    if (this.#current === null && this.updatedAt > 0 && Date.now() - this.updatedAt > this.maxAgeMs) {
      this.#start().catch(() => {}) // a failed background refresh leaves the cache stale; the next use retries
    }
  }

  /**
   * KIP-951: a NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH answer (Fetch v12+, Produce v10+)
   * may name the partition's current leader, with the addresses of brokers the client may not
   * know. As in Java's Metadata.updatePartitionLeadership, the hint is taken only when its epoch
   * is newer than the cached one and the leader's address is known; then the caller can move the
   * partition without a metadata round trip. Returns whether it was taken.
   */
  applyLeaderHint(
    topic: string,
    partition: number,
    hint: { leaderId: number; leaderEpoch: number },
    endpoints: readonly { nodeId: number; host: string; port: number; rack: string | null }[] = [],
  ): boolean {
    if (hint.leaderId < 0 || hint.leaderEpoch < 0) return false
    const info = this.#topics.get(topic)
    const index = info?.partitions.findIndex((p) => p.partition === partition) ?? -1
    const old = info?.partitions[index]
    if (info === undefined || old === undefined || hint.leaderEpoch <= old.leaderEpoch) return false
    if (!this.#brokers.has(hint.leaderId)) {
      const e = endpoints.find((x) => x.nodeId === hint.leaderId)
      if (e === undefined) return false
      this.#brokers = new Map(this.#brokers).set(e.nodeId, {
        nodeId: e.nodeId,
        host: e.host,
        port: e.port,
        rack: e.rack,
      })
    }
    const partitions = [...info.partitions]
    partitions[index] = { ...old, leader: hint.leaderId, leaderEpoch: hint.leaderEpoch }
    this.#topics.set(topic, { ...info, partitions })
    return true
  }

  /**
   * A broker timed out or its connection failed: it is asked for metadata only after every other
   * broker, for a while that doubles with each consecutive failure. A hung broker would otherwise
   * cost a full request timeout each time the rotation comes back to it.
   */
  penalize(broker: BrokerEndpoint, now = Date.now()): void {
    const key = addressOf(broker)
    const previous = this.#penalties.get(key)
    // One failure may be reported twice (the Metadata request and its broken connection).
    if (previous !== undefined && now - previous.since < SAME_FAILURE_MS) return
    const failures = (previous?.failures ?? 0) + 1
    const ms = Math.min(PENALTY_MAX_MS, PENALTY_BASE_MS * 2 ** Math.min(failures - 1, 16))
    this.#penalties.set(key, { failures, since: now, until: now + ms })
  }

  /** True while `broker` is asked for metadata only as a last resort. */
  isPenalized(broker: BrokerEndpoint, now = Date.now()): boolean {
    return (this.#penalties.get(addressOf(broker))?.until ?? 0) > now
  }

  /**
   * Known brokers first (rotating), then the bootstrap list when all of them failed; brokers that
   * failed lately go last, the one whose penalty ends first before the others.
   */
  async #fetchFromAnyBroker(topics: readonly string[]): Promise<void> {
    const known = [...this.#brokers.values()]
    const rotated: BrokerEndpoint[] = []
    if (known.length > 0) {
      const start = this.#cursor++ % known.length
      for (let i = 0; i < known.length; i++) rotated.push(known[(start + i) % known.length]!)
    }
    for (const b of this.#bootstrap) rotated.push(b)
    const now = Date.now()
    const until = (b: BrokerEndpoint): number => this.#penalties.get(addressOf(b))?.until ?? 0
    const order = [
      ...rotated.filter((b) => until(b) <= now),
      ...rotated.filter((b) => until(b) > now).sort((a, b) => until(a) - until(b)),
    ]
    const errors: unknown[] = []
    for (const broker of order) {
      try {
        const response = await this.#fetch(broker, topics, undefined)
        this.#penalties.delete(addressOf(broker))
        this.#apply(response, topics)
        return
      } catch (err) {
        errors.push(err)
        if (err instanceof ConnectionError || err instanceof RequestTimeoutError) this.penalize(broker)
        // A non-retriable answer (authorization, unsupported version) will not differ elsewhere.
        if (!isRetriable(err)) throw err
      }
    }
    const last = errors[errors.length - 1]
    throw new ConnectionError(
      `no broker answered Metadata (tried ${order.length}): ${last instanceof Error ? last.message : String(last)}`,
      { cause: last },
    )
  }

  #apply(response: MetadataResponse, requested: readonly string[]): void {
    if (response.brokers.length > 0) {
      const brokers = new Map<number, BrokerInfo>()
      for (const b of response.brokers)
        brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })
      this.#brokers = brokers
    }
    this.clusterId = response.clusterId
    this.controllerId = response.controllerId
    const topics = new Map<string, TopicInfo>()
    for (const t of response.topics) {
      if (t.name === null) continue
      const previous = this.#topics.get(t.name)
      // Without ids on both sides (old brokers, old Metadata versions) it is taken as the same topic.
      const sameTopic =
        previous === undefined ||
        previous.topicId === ZERO_UUID ||
        t.topicId === ZERO_UUID ||
        previous.topicId === t.topicId
      const partitions = t.partitions
        .map((p): PartitionInfo => {
          const info: PartitionInfo = {
            topic: t.name!,
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
            errorCode: p.errorCode,
          }
          // A lagging broker can answer with an older leader epoch than one already seen; keep
          // the newer view (Java's Metadata.updateLatestMetadata does the same). A new topic id
          // means the topic was deleted and recreated: its epochs start again, so the old one
          // says nothing (Java resets the last seen epoch when the topic id changes).
          if (sameTopic) {
            const old = previous?.partitions.find((x) => x.partition === p.partitionIndex)
            if (old !== undefined && p.leaderEpoch >= 0 && old.leaderEpoch > p.leaderEpoch) return old
          }
          return info
        })
        .sort((a, b) => a.partition - b.partition)
      topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        errorCode: t.errorCode,
        partitions,
        partitionIds: partitions.map((p) => p.partition),
      })
    }
    // Topics we asked for that the answer left out are unknown now.
    for (const name of requested) if (!topics.has(name)) this.#topics.delete(name)
    for (const [name, info] of topics) this.#topics.set(name, info)
    this.updatedAt = Date.now()
    this.#stale = false
    this.refreshes++
  }
}
