// The reference cluster: brokers sharing one in-process cluster state (what KRaft's metadata
// log gives every Kafka broker): topics and their partitions, groups, producer ids and
// transactions. Each broker has its own loopback listener, so clients see a real multi-broker
// cluster: leaders, coordinators, NOT_LEADER_OR_FOLLOWER after a move, a broker going away.
//
//   const cluster = await Cluster.start({ brokers: 3 })
//   cluster.bootstrapServers   // ['127.0.0.1:40001', ...]
//   cluster.faults.stopBroker(1)
//   await cluster.stop()

import { Authorizer } from './acls.js'
import { BrokerNode } from './broker.js'
import { resolveOptions, type ClusterOptions, type ResolvedOptions } from './config.js'
import { Faults } from './faults.js'
import { ConsumerGroupCoordinator } from './consumer-groups.js'
import { GroupCoordinator } from './groups.js'
import { Log } from './logger.js'
import { Journal } from './journal.js'
import { loadState, savedClusterId, saveState } from './persistence.js'
import { ScramCredentialCache, ScramCredentialStore } from './sasl.js'
import { SecurityViews } from './security-views.js'
import { TopicRegistry, type Partition, type ReplicaEnv } from './topics.js'
import { TransactionCoordinator } from './transactions.js'
import { CoordinatorLoad } from './coordinator-load.js'
import { ShareState } from './share-state.js'
import { clusterSnapshot, type ClusterMetricsSnapshot } from './metrics.js'

export class Cluster {
  readonly options: ResolvedOptions
  readonly log: Log
  readonly brokers: BrokerNode[]
  readonly topics: TopicRegistry
  readonly groups: GroupCoordinator
  /** KIP-848 consumer groups (their offsets are in `groups`, the shared offset store). */
  readonly consumerGroups: ConsumerGroupCoordinator
  readonly transactions: TransactionCoordinator
  /** KIP-932 share groups, share-partitions and share sessions (share-state.ts). */
  readonly shares: ShareState
  readonly faults: Faults
  /** Group coordinators answering COORDINATOR_LOAD_IN_PROGRESS after they moved (coordinator-load.ts). */
  readonly coordinatorLoad: CoordinatorLoad
  /** Dynamic broker-level topic defaults (IncrementalAlterConfigs on a BROKER resource). */
  readonly dynamicTopicDefaults = new Map<string, string>()
  private nextProducerId = 0n
  private cleanerTimer: NodeJS.Timeout | undefined
  private cleaning: Promise<void> | undefined
  private stopped = false
  /** Crashed brokers whose session has not expired yet, with the timer that fences them. */
  private readonly unfenced = new Map<number, NodeJS.Timeout>()
  /** Derived SCRAM credentials, per user and mechanism. */
  readonly scramCredentials = new ScramCredentialCache()
  /** SCRAM credentials set through AlterUserScramCredentials (persisted with the metadata). */
  readonly scramStore = new ScramCredentialStore()
  /** ACLs and their enforcement; undefined when the `authorizer` option is not set. */
  readonly authorizer: Authorizer | undefined
  /** What each broker enforces of `authorizer` and `scramStore` (behind them under faults.lagSecurity). */
  readonly security: SecurityViews
  /** False while a data dir is being loaded: connections are refused until the state is back. */
  ready = false
  /** The data dir's files (continuous persistence), when `dataDir` is set. */
  readonly journal: Journal | undefined

  private constructor(options: ResolvedOptions, journal: Journal | undefined) {
    this.options = options
    this.log = new Log(options.logger)
    this.journal = journal
    this.authorizer = options.authorizer !== undefined ? new Authorizer(options.authorizer) : undefined
    this.security = new SecurityViews({ authorizer: this.authorizer, scram: this.scramStore })
    const env: ReplicaEnv = {
      isAlive: (id) => this.isAlive(id),
      now: () => Date.now(),
      topicDefault: (name) => this.dynamicTopicDefaults.get(name) ?? this.options.topicDefaults[name],
      onIsrChange: (p, before, after) => this.countIsrChange(p.leader, before, after),
      onTopicDeleted: (name) => {
        for (const b of this.brokers) b.metricsRecorder.removeTopic(name)
      },
      ...(journal !== undefined ? { journal } : {}),
    }
    this.topics = new TopicRegistry(env, () => this.brokers.map((b) => b.id))
    this.brokers = options.ports.map(
      (port, id) => new BrokerNode(this, id, options.host, port, options.racks[id] ?? null),
    )
    this.groups = new GroupCoordinator(this)
    this.consumerGroups = new ConsumerGroupCoordinator(this)
    this.transactions = new TransactionCoordinator(this)
    this.shares = new ShareState(this)
    this.faults = new Faults(this)
    this.coordinatorLoad = new CoordinatorLoad(
      options.coordinatorLoadRequests,
      (p) => this.coordinatorOfPartition(p)?.id ?? -1,
      options.offsetsTopicPartitions,
      options.coordinatorLoadMs,
    )
  }

  /** Starts a cluster whose brokers listen on loopback (ports chosen by the OS unless given). */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const resolved = resolveOptions(options)
    // Checked first: an unusable data dir is a clear ConfigError before anything listens.
    const journal = resolved.dataDir !== undefined ? Journal.open(resolved.dataDir) : undefined
    if (resolved.dataDir !== undefined) {
      const saved = savedClusterId(resolved.dataDir)
      if (saved !== undefined && options.clusterId !== undefined && saved !== options.clusterId) {
        throw new Error(
          `The cluster id ${options.clusterId} does not match the id ${saved} saved in ${resolved.dataDir}`,
        )
      }
      if (saved !== undefined) resolved.clusterId = saved
    }
    const cluster = new Cluster(resolved, journal)
    try {
      for (const b of cluster.brokers) await b.start()
      // Loaded once the brokers run, so every partition's preferred replica leads again.
      if (journal !== undefined) {
        await loadState(cluster, journal)
        journal.onDirty = () => cluster.persist()
        journal.onFailure = (err) => cluster.log.error(err.message)
        // The cluster id (and anything else new) is on disk before the first client connects.
        saveState(cluster, journal)
      }
      cluster.coordinatorLoad.started()
      cluster.ready = true
    } catch (err) {
      await cluster.stop()
      throw err
    }
    cluster.cleanerTimer = setInterval(() => void cluster.runLogCleaner(), cluster.options.retentionCheckIntervalMs)
    cluster.cleanerTimer.unref()
    return cluster
  }

  get clusterId(): string {
    return this.options.clusterId
  }

  /** host:port of every running broker. */
  get bootstrapServers(): string[] {
    return this.brokers.filter((b) => b.running).map((b) => b.address)
  }

  /** The active controller reported to clients: the lowest running broker id. */
  get controllerId(): number {
    return this.brokers.find((b) => b.running)?.id ?? -1
  }

  isAlive(id: number): boolean {
    return this.brokers[id]?.running === true
  }

  /**
   * Running, or crashed less than its session timeout ago: the controller has not fenced it yet,
   * so metadata still lists it and names it as leader and coordinator.
   */
  isRegistered(id: number): boolean {
    return this.isAlive(id) || this.unfenced.has(id)
  }

  broker(id: number): BrokerNode {
    const b = this.brokers[id]
    if (b === undefined) throw new RangeError(`no broker ${id} (brokers 0..${this.brokers.length - 1})`)
    return b
  }

  /**
   * The coordinator of a group or transactional id: the leader of its partition of the internal
   * offsets/transaction-state topic (Utils.abs(key.hashCode) % partitions). The internal topics
   * are not materialised; their partition i is led by broker i mod n, or by the next running one.
   */
  coordinatorFor(key: string): BrokerNode | undefined {
    return this.coordinatorOfPartition(this.offsetsPartitionOf(key))
  }

  /** The partition of the offsets (or transaction-state) topic that `key` belongs to. */
  offsetsPartitionOf(key: string): number {
    const hash = javaStringHash(key)
    // Kafka's Utils.abs maps Integer.MIN_VALUE to 0.
    return (hash === -0x80000000 ? 0 : Math.abs(hash)) % this.options.offsetsTopicPartitions
  }

  private coordinatorOfPartition(partition: number): BrokerNode | undefined {
    const n = this.brokers.length
    for (let i = 0; i < n; i++) {
      const b = this.brokers[(partition + i) % n]!
      if (this.isRegistered(b.id)) return b
    }
    return undefined
  }

  /**
   * Creates a topic directly (test setup without a client). Throws TopicError with Kafka's error
   * code, like CreateTopics would answer.
   */
  createTopic(
    name: string,
    opts: {
      partitions?: number
      replicationFactor?: number
      configs?: Record<string, string>
      assignments?: number[][]
    } = {},
  ): void {
    const assignments = opts.assignments?.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds }))
    this.topics.create(
      {
        name,
        numPartitions: assignments === undefined ? (opts.partitions ?? -1) : -1,
        replicationFactor: assignments === undefined ? (opts.replicationFactor ?? -1) : -1,
        ...(assignments === undefined ? {} : { assignments }),
        configs: Object.entries(opts.configs ?? {}).map(([k, v]) => ({ name: k, value: v })),
      },
      { partitions: this.options.defaultPartitions, replicationFactor: this.options.defaultReplicationFactor },
    )
  }

  allocateProducerId(): bigint {
    return this.nextProducerId++
  }

  /** Makes sure future ids are above `id` (after loading persisted state). */
  reserveProducerIds(id: bigint): void {
    if (id >= this.nextProducerId) this.nextProducerId = id + 1n
  }

  get producerIdWatermark(): bigint {
    return this.nextProducerId
  }

  /**
   * Stops a broker as a crash would. Its leaderships and coordinators move at once, or after
   * `sessionTimeoutMs` (default `brokerSessionTimeoutMs`) as on Kafka, where the controller
   * fences a broker only when its session expires.
   */
  async stopBroker(id: number, opts: { sessionTimeoutMs?: number } = {}): Promise<void> {
    const b = this.broker(id)
    if (!b.running) return
    await b.stop()
    this.shares.brokerStopped(id)
    const sessionTimeoutMs = opts.sessionTimeoutMs ?? this.options.brokerSessionTimeoutMs
    if (sessionTimeoutMs <= 0 || this.stopped) {
      this.fence(id)
      return
    }
    this.log.info(`broker ${id} stopped; fenced in ${sessionTimeoutMs} ms unless it returns`)
    const timer = setTimeout(() => this.fence(id), sessionTimeoutMs)
    timer.unref()
    this.unfenced.set(id, timer)
  }

  /** The controller gives up on a stopped broker: its partitions and coordinators move. */
  private fence(id: number): void {
    this.unfenced.delete(id)
    if (this.isAlive(id)) return
    for (const t of this.topics.all()) for (const p of t.partitions) p.onBrokerStopped(id)
    this.groups.onCoordinatorsChanged()
    this.coordinatorLoad.changed()
    this.log.info(`broker ${id} stopped`)
  }

  async startBroker(id: number): Promise<void> {
    const b = this.broker(id)
    if (b.running) return
    const pending = this.unfenced.get(id)
    if (pending !== undefined) clearTimeout(pending)
    this.unfenced.delete(id)
    await b.start()
    for (const t of this.topics.all()) for (const p of t.partitions) p.onBrokerStarted(id)
    this.groups.onCoordinatorsChanged()
    this.coordinatorLoad.changed()
    this.log.info(`broker ${id} started`)
  }

  /**
   * Writes state.json when the metadata changed. The dispatcher calls this after every request
   * (before the response goes out), so what a response acknowledges is on disk; Produce and
   * Fetch skip the check unless a log rewrite changed the metadata (their data is in the logs).
   */
  persist(apiKey?: number): void {
    const journal = this.journal
    if (journal === undefined || this.stopped) return
    journal.check()
    if (apiKey === 0 || apiKey === 1) {
      if (!journal.metaDirty) return
    }
    saveState(this, journal)
  }

  /**
   * What the brokers report, with Kafka's metric names (metrics.ts): per broker, and summed.
   * Rates are one-minute rates as Kafka's JMX meters show them.
   */
  metrics(): ClusterMetricsSnapshot {
    return clusterSnapshot(this.brokers.map((b) => b.metrics()))
  }

  /**
   * Kafka's leader marks IsrShrinksPerSec once per shrink and IsrExpandsPerSec once per replica
   * that rejoins; here every ISR change counts on the partition's leader at that moment,
   * whatever caused it (a fault, a stopped or restarted broker).
   */
  private countIsrChange(leader: number, before: readonly number[], after: readonly number[]): void {
    const b = this.brokers[leader]
    if (b === undefined) return
    if (before.some((r) => !after.includes(r))) b.metricsRecorder.isrShrinks.mark()
    const added = after.filter((r) => !before.includes(r)).length
    if (added > 0) b.metricsRecorder.isrExpands.mark(added)
  }

  /** Every partition, for maintenance passes. */
  *partitions(): IterableIterator<Partition> {
    for (const t of this.topics.all()) yield* t.partitions
  }

  /**
   * One pass of retention (cleanup.policy=delete: retention.ms, retention.bytes) and compaction
   * (cleanup.policy=compact). Runs every log.retention.check.interval.ms; tests call it directly.
   */
  runLogCleaner(now = Date.now()): Promise<void> {
    if (this.cleaning !== undefined) return this.cleaning
    // `.finally` runs as a microtask, so `cleaning` is cleared only after it was assigned.
    this.cleaning = this.cleanOnce(now).finally(() => {
      this.cleaning = undefined
    })
    return this.cleaning
  }

  private async cleanOnce(now: number): Promise<void> {
    try {
      for (const t of this.topics.all()) {
        for (const p of t.partitions) {
          if (t.deleteRetention) {
            const changed = p.log.applyRetention(
              now,
              t.configNumber('retention.ms'),
              t.configNumber('retention.bytes'),
              p.highWatermark,
            )
            if (changed) {
              p.producers.removeBefore(p.log.logStartOffset)
              p.notify()
            }
          }
          if (t.compacted) await p.log.compact(p.highWatermark, now, t.configNumber('delete.retention.ms'))
        }
      }
    } catch (err) {
      this.log.error(`log cleaner failed: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  /** Stops every broker and timer; with a data dir, the state is written there first. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.cleanerTimer !== undefined) clearInterval(this.cleanerTimer)
    for (const timer of this.unfenced.values()) clearTimeout(timer)
    this.unfenced.clear()
    this.groups.shutdown()
    this.consumerGroups.shutdown()
    this.transactions.shutdown()
    await Promise.all(this.brokers.map((b) => b.stop()))
    // Not after a failed load: that would overwrite the state it could not read.
    if (this.journal !== undefined && this.ready) {
      // Everything is on disk already; this folds offsets.log into state.json.
      try {
        saveState(this, this.journal, true)
      } finally {
        this.journal.close()
      }
    } else this.journal?.close()
  }
}

/** Java's String.hashCode (UTF-16 code units), which Kafka uses to place group ids. */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}
