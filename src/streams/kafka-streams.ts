// KafkaStreams: runs a topology. One group Reader (group id = applicationId) reads every source
// topic; the group's range assignment gives partition p of every topic to one member, so the
// partitions of a task (sub-topology s, partition p) arrive together. Records are processed one
// at a time by their task; outputs, repartition records and changelog records go to one Writer.
// A commit (every commitInterval, on rebalance, on close) is the one place where a task's
// outputs and changelog writes are awaited and then its input offsets committed: at-least-once.
// Under exactly_once_v2 the Writer is transactional (one per instance, as Kafka Streams' EOS-v2
// thread producer): everything written since the last commit and the input offsets (KIP-447,
// with the group's metadata) commit in one transaction; a failed one is aborted and every task
// restarts from the committed offsets with its stores rebuilt from the committed changelog.
// The tasks themselves (opened with their stores on assignment, dropped on revocation) are
// task-manager.ts'.

import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { KafkaClient, type ClientConfig } from '../cluster/client.js'
import { RangeGroupBalancer } from '../consumer/assignors/index.js'
import type { TopicPartition } from '../consumer/config.js'
import type { FetchedMessage } from '../consumer/fetch-result.js'
import { FirstOffset } from '../consumer/offsets.js'
import { Reader } from '../consumer/reader.js'
import { AbortError } from '../net/errors.js'
import type { MetricsSource } from '../metrics/registry.js'
import type { Message } from '../message.js'
import { BalancerFunc, Murmur2Balancer } from '../producer/balancers.js'
import { ProducerFencedError, TransactionOutcomeUnknownError } from '../producer/transaction-errors.js'
import type { GroupMetadata } from '../producer/txn-requests.js'
import { Writer } from '../producer/writer.js'
import type { StreamsBuilder } from './builder.js'
import { StreamsStateError } from './errors.js'
import { createInternalTopics, fullName, planTopics, userTopicPartitions, type TopicPlan } from './internal-topics.js'
import { StreamsMetricsRecorder } from './metrics.js'
import { StateDirectory } from './state-dir.js'
import type { ReadOnlyKeyValueStore } from './stores.js'
import { TaskManager } from './task-manager.js'
import { encodePartitionTime, UNKNOWN_TIME } from './offset-metadata.js'
import { RepartitionPurge } from './repartition-purge.js'
import {
  clientConfigOf,
  resolveStreamsConfig,
  type ResolvedStreamsConfig,
  type StateListener,
  type StreamsConfig,
  type StreamsMetrics,
  type StreamsState,
} from './streams-config.js'

export type { StateListener, StreamsConfig, StreamsMetrics, StreamsState } from './streams-config.js'
import type { Task, TaskOutput } from './task.js'
import type { Topology } from './topology.js'

/** Kafka Streams' buffered.records.per.partition: a partition with more buffered is paused. */
const MAX_BUFFERED_PER_PARTITION = 1000
/** Messages per output batch at most (bytes bound them first at 1 MiB; see #newWriter). */
const OUTPUT_BATCH_SIZE = 10_000

export class KafkaStreams {
  readonly #topology: Topology
  readonly #config: ResolvedStreamsConfig
  #state: StreamsState = 'CREATED'
  #listeners: StateListener[] = []
  #error: unknown = undefined
  readonly #abort = new AbortController()
  #client: KafkaClient | undefined
  #reader: Reader | undefined
  #writer: Writer | undefined
  #plan: TopicPlan | undefined
  #loop: Promise<void> | undefined
  /** Full topic name → sub-topology id. */
  readonly #topicSub = new Map<string, number>()
  /** Full names of the repartition topics the tasks read. */
  readonly #repartitionTopics = new Set<string>()
  /** The tasks this instance runs, their stores and fetched records (task-manager.ts). */
  readonly #tasks: TaskManager
  /** Per changelog partition, the offset after the last record this instance wrote or restored (-1n: unknown). */
  readonly #changelogNext = new Map<string, bigint>()
  /** Writes handed to the Writer since the last commit. */
  #pending: Promise<unknown>[] = []
  /** Last processed message per input partition since the last commit. */
  #toCommit = new Map<string, FetchedMessage>()
  #lastCommit = Date.now()
  /** Serialises commits, rebalance callbacks and batches. */
  #lock: Promise<void> = Promise.resolve()
  readonly #metrics: StreamsMetrics = {
    processed: 0,
    dropped: {},
    commits: 0,
    lastCommitMs: 0,
    restored: 0,
    aborted: 0,
    fenced: 0,
  }
  readonly #eos: boolean
  readonly #processId: string
  readonly #recorder: StreamsMetricsRecorder
  /** exactly_once_v2: a transaction is open on the Writer. */
  #inTxn = false
  /** exactly_once_v2: the group membership the open transaction's input was fetched under. */
  #txnGroup: GroupMetadata | undefined
  /** Bumped when tasks are rewound: a batch fetched before that is not processed. */
  #epoch = 0
  /** Input partitions this instance paused (too much buffered), as `topic\u0000partition`. */
  readonly #paused = new Set<string>()
  /** Deletes committed records of the repartition topics the tasks read (created by start()). */
  #purge: RepartitionPurge | undefined

  constructor(builder: StreamsBuilder | Topology, config: StreamsConfig) {
    this.#topology = 'build' in builder ? builder.build() : builder
    this.#config = resolveStreamsConfig(config)
    this.#eos = this.#config.processingGuarantee === 'exactly_once_v2'
    this.#processId = this.#config.processId
    for (const { topic, internal, subtopology } of this.#topology.sourceTopics()) {
      this.#topicSub.set(fullName(config.applicationId, topic, internal), subtopology)
      if (internal && this.#topology.internalTopics.get(topic)?.kind === 'repartition')
        this.#repartitionTopics.add(fullName(config.applicationId, topic, true))
    }
    this.#recorder = new StreamsMetricsRecorder(`${config.applicationId}-${this.#processId}`, () => this.#tasks.size)
    this.#tasks = new TaskManager({
      topology: this.#topology,
      config: this.#config,
      stateDir: new StateDirectory(
        config.stateDir ?? join(tmpdir(), 'kafka-streams'),
        config.applicationId,
        config.logger,
      ),
      admin: () => this.#client!,
      signal: this.#abort.signal,
      changelogNext: this.#changelogNext,
      recorder: this.#recorder,
      emit: (out) => {
        if (this.#emit === undefined) throw new StreamsStateError('a task wrote outside of processing')
        this.#emit(out)
      },
      dropped: (reason) => {
        this.#metrics.dropped[reason] = (this.#metrics.dropped[reason] ?? 0) + 1
        this.#recorder.dropped()
      },
      restored: (records) => {
        this.#metrics.restored += records
        this.#recorder.restored(records)
      },
    })
  }

  /**
   * What to export (renderPrometheus, registerPrometheus, registerOpenTelemetryMetrics): this
   * instance's metrics under Kafka Streams' names, and, once started, its consumer's and
   * producer's under the Java clients' names.
   */
  metricsSources(): MetricsSource[] {
    const own: MetricsSource = { metrics: () => this.#recorder.registry.snapshot() }
    return [
      own,
      ...(this.#reader === undefined ? [] : [this.#reader]),
      ...(this.#writer === undefined ? [] : [this.#writer]),
    ]
  }

  get state(): StreamsState {
    return this.#state
  }

  /** What stopped the application when its state is ERROR. */
  get error(): unknown {
    return this.#error
  }

  /** Called on every state change (Kafka Streams' setStateListener; several may be added). */
  onStateChange(listener: StateListener): void {
    this.#listeners.push(listener)
  }

  metrics(): StreamsMetrics {
    return { ...this.#metrics, dropped: { ...this.#metrics.dropped } }
  }

  #setState(next: StreamsState): void {
    const old = this.#state
    if (old === next) return
    this.#state = next
    // As Kafka Streams logs its transitions: where an instance stood is the first question about a stall.
    this.#config.logger?.info({ from: old, to: next }, 'kafkats/streams: state transition')
    for (const l of this.#listeners) {
      try {
        l(next, old)
      } catch (err) {
        this.#config.logger?.warn({ err }, 'kafkats/streams: a state listener threw')
      }
    }
  }

  /**
   * Checks the topics, creates the internal ones, joins the group and starts processing.
   * Resolves once the application is a group member (state REBALANCING, then RUNNING when its
   * tasks are restored); rejects (state ERROR) when the topology cannot run on this cluster.
   */
  async start(): Promise<void> {
    if (this.#state !== 'CREATED') throw new StreamsStateError(`start(): the application is ${this.#state}`)
    this.#setState('REBALANCING')
    const signal = this.#abort.signal
    const client = this.#clientConfig()
    try {
      this.#client = new KafkaClient({ ...client, clientId: `${this.#config.applicationId}-admin` })
      const user = this.#topology
        .sourceTopics()
        .filter((t) => !t.internal)
        .map((t) => t.topic)
      const counts = await userTopicPartitions(this.#client, user, signal)
      this.#plan = planTopics(this.#topology, this.#config.applicationId, (t) => counts.get(t))
      await createInternalTopics(this.#client, this.#plan, this.#config.replicationFactor, signal)
    } catch (err) {
      await this.#fail(err)
      throw err
    }
    const admin = this.#client
    this.#purge = new RepartitionPurge({
      admin: { client: admin, policy: admin.retryPolicy, timeoutMs: admin.requestTimeoutMs },
      interval: this.#config.repartitionPurgeInterval,
      isRepartition: (topic) => this.#repartitionTopics.has(topic),
      signal,
      logger: this.#config.logger,
    })
    this.#writer = this.#newWriter()
    this.#reader = new Reader({
      ...client,
      clientId: `${this.#config.applicationId}-consumer`,
      groupId: this.#config.applicationId,
      groupTopics: [...this.#topicSub.keys()],
      groupProtocol: 'classic', // as Java Kafka Streams: the classic protocol, with its own assignor
      groupBalancers: [new RangeGroupBalancer()],
      startOffset: FirstOffset,
      // Only committed input (Kafka Streams reads read_committed under EOS; harmless otherwise).
      isolationLevel: 'read_committed',
      ...(this.#config.sessionTimeout === undefined ? {} : { sessionTimeout: this.#config.sessionTimeout }),
      onAssign: (parts) => this.#locked(() => this.#assign(parts)),
      onRevoke: (parts) => this.#locked(() => this.#revoke(parts, true)),
      onLost: (parts) => this.#locked(() => (this.#eos ? this.#rewind(parts) : this.#revoke(parts, false))),
    })
    this.#loop = this.#run().catch((err: unknown) => this.#fail(err))
  }

  /** The instance's Writer (transactional under exactly_once_v2; a new one after a fence). */
  #newWriter(): Writer {
    const murmur = new Murmur2Balancer()
    return new Writer({
      ...this.#clientConfig(),
      clientId: `${this.#config.applicationId}-producer`,
      // Changelog records name their partition (the task's); others go by key, as Java's producer.
      balancer: new BalancerFunc((m, partitions) => m.partition ?? murmur.balance(m, partitions)),
      requiredAcks: 'all',
      // Java's producer caps a batch by bytes only; the Writer's kafka-go default of 100 messages
      // cut an application's output into ~2 KB batches (a profile: GC and per-batch work ahead,
      // the broker's CPU doubled). batchBytes (1 MiB) bounds them instead.
      batchSize: OUTPUT_BATCH_SIZE,
      ...(this.#eos
        ? {
            transactionalId: `${this.#config.applicationId}-${this.#processId}`,
            transactionTimeout: this.#config.transactionTimeout,
          }
        : {}),
    })
  }

  #clientConfig(): ClientConfig {
    return clientConfigOf(this.#config)
  }

  #locked<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.#lock.then(fn)
    this.#lock = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  async #run(): Promise<void> {
    const reader = this.#reader!
    const signal = this.#abort.signal
    while (!signal.aborted) {
      // One controller per poll, ended by close() or when the next commit is due (a listener
      // per poll on the long-lived signal would pile up).
      const poll = new AbortController()
      const timer = setTimeout(() => poll.abort(), this.#pollWait())
      const stop = (): void => poll.abort()
      signal.addEventListener('abort', stop, { once: true })
      let batch
      const epoch = this.#epoch
      let group: GroupMetadata
      try {
        batch = await reader.fetchBatch({ signal: poll.signal })
        // The membership the batch was fetched under: its offsets commit under it or not at all.
        group = reader.groupMetadata()
      } catch (err) {
        if (signal.aborted) return
        if (err instanceof AbortError) {
          // The poll timed out: a task waiting for an empty partition may go on now; time to commit, maybe.
          await this.#locked(() => (epoch === this.#epoch ? this.#drain() : undefined))
          await this.#maybeCommit()
          continue
        }
        throw err
      } finally {
        clearTimeout(timer)
        signal.removeEventListener('abort', stop)
      }
      // A batch fetched before a rewind is read again from the committed offsets.
      await this.#locked(() =>
        epoch === this.#epoch ? this.#process(batch.topic, batch.partition, batch.messages, group) : undefined,
      )
      await this.#maybeCommit()
    }
  }

  /**
   * How long one fetch may wait: until the next commit is due (at least 50 ms); at most 100 ms
   * while wall-clock punctuators are scheduled (Kafka Streams' poll.ms), a few ms while a task
   * holds records back waiting for another partition's lag to be known.
   */
  #pollWait(): number {
    let wait = Math.max(50, this.#lastCommit + this.#config.commitInterval - Date.now())
    for (const t of this.#tasks.values()) {
      if ((this.#tasks.buffer(t)?.buffered() ?? 0) > 0) return Math.min(wait, 10)
      if (t.wallClockScheduled) wait = Math.min(wait, 100)
    }
    return wait
  }

  async #process(topic: string, partition: number, messages: FetchedMessage[], group: GroupMetadata): Promise<void> {
    const sub = this.#topicSub.get(topic)
    const task = sub === undefined ? undefined : this.#tasks.get(`${sub}_${partition}`)
    // Not ours any more (revoked while the batch was queued): the new owner reads it again.
    if (task === undefined || messages.length === 0) return
    if (this.#eos) {
      if (this.#txnGroup !== undefined && this.#txnGroup.generationId !== group.generationId) {
        // The group moved on without a revocation of ours (our membership was lost, e.g. a
        // zombie resuming): what the transaction holds was processed under the old one.
        await this.#rewind([], new StreamsStateError('input from two group generations in one transaction'))
        return
      }
      this.#txnGroup = group
    }
    // One input partition: nothing to choose between, so no buffering (its order is the offsets').
    if (task.topics.length === 1) return this.#drain({ task, topic, messages })
    const buffer = this.#tasks.buffer(task)!
    buffer.add(
      topic,
      messages.map((message) => {
        const record = task.stamp(topic, message.offset, message.key, message.value, message.timestamp)
        // A dropped record is still committed, in its turn: first among the queues' heads.
        return { timestamp: record?.timestamp ?? -Infinity, record, message }
      }),
    )
    await this.#drain()
  }

  /**
   * Processes a batch of a task with one input partition (`direct`) and what the tasks have
   * buffered, each record chosen by timestamp across its task's partitions while the task is
   * ready (PartitionGroup), then hands the outputs to the Writer and pauses partitions with too
   * much buffered (resumes them once drained).
   */
  async #drain(direct?: { task: Task; topic: string; messages: FetchedMessage[] }): Promise<void> {
    const lags = new Map<string, bigint>()
    let lagsRead = false
    const lagOf = (topic: string, partition: number): bigint => {
      if (!lagsRead) {
        lagsRead = true
        for (const l of this.#reader!.lag()) lags.set(`${l.topic}\u0000${l.partition}`, l.lag)
      }
      return lags.get(`${topic}\u0000${partition}`) ?? -1n
    }
    const outputs: TaskOutput[] = []
    let processed = 0
    this.#emit = (out) => outputs.push(out)
    try {
      if (direct !== undefined) {
        const { task, topic, messages } = direct
        for (const m of messages) {
          const record = task.stamp(topic, m.offset, m.key, m.value, m.timestamp)
          if (record === undefined) continue
          task.run(record)
          processed++
        }
        this.#toCommit.set(`${topic}\u0000${task.partition}`, messages.at(-1)!)
      }
      for (const task of this.#tasks.values()) {
        // Wall-clock punctuators first, as Kafka Streams' thread loop punctuates before it processes.
        task.punctuateWallClock()
        const buffer = this.#tasks.buffer(task)
        if (buffer === undefined || buffer.buffered() === 0) continue
        const now = Date.now()
        while (buffer.ready(now, (topic) => lagOf(topic, task.partition))) {
          const { topic, record } = buffer.next()!
          if (record.record !== undefined) {
            task.run(record.record)
            processed++
          }
          this.#toCommit.set(`${topic}\u0000${task.partition}`, record.message)
        }
        for (const topic of task.topics) this.#pauseOrResume(topic, task.partition, buffer.buffered(topic))
      }
    } finally {
      this.#emit = undefined
    }
    this.#metrics.processed += processed
    if (processed > 0) this.#recorder.processed(processed)
    if (outputs.length > 0) {
      try {
        await this.#begin()
      } catch (err) {
        // Fenced before the transaction opened: nothing of it is written; the tasks start over.
        if (!isFenced(err)) throw err
        await this.#rewind([], err)
        return
      }
      const write = this.#writer!.writeMessages(outputs.map(toMessage)).then((results) => {
        for (const [i, r] of results.entries()) {
          if (outputs[i]!.partition === undefined) continue // only changelog records name a partition
          const key = `${r.topic}\u0000${r.partition}`
          const known = this.#changelogNext.get(key)
          this.#changelogNext.set(key, r.offset < 0n || known === -1n ? -1n : bigMax(known ?? 0n, r.offset + 1n))
        }
      })
      // Failures surface at the commit (which awaits every write), never unhandled.
      write.catch(() => undefined)
      this.#pending.push(write)
    }
  }

  /** Kafka Streams' bound on buffered records: a partition with too many is not fetched until they are processed. */
  #pauseOrResume(topic: string, partition: number, buffered: number): void {
    const key = `${topic}\u0000${partition}`
    if (buffered > MAX_BUFFERED_PER_PARTITION && !this.#paused.has(key)) {
      this.#reader!.pause([{ topic, partition }])
      this.#paused.add(key)
    } else if (buffered <= MAX_BUFFERED_PER_PARTITION && this.#paused.has(key)) {
      this.#resume(topic, partition)
    }
  }

  #resume(topic: string, partition: number): void {
    this.#paused.delete(`${topic}\u0000${partition}`)
    try {
      this.#reader!.resume([{ topic, partition }])
    } catch {
      // Not assigned any more: nothing to resume.
    }
  }

  #emit: ((out: TaskOutput) => void) | undefined

  async #maybeCommit(): Promise<void> {
    if (Date.now() - this.#lastCommit < this.#config.commitInterval) return
    await this.#locked(() => this.#commit())
  }

  /** exactly_once_v2: opens the transaction the next writes and offsets go into. */
  async #begin(): Promise<void> {
    if (!this.#eos || this.#inTxn) return
    await this.#writer!.beginTransaction()
    this.#inTxn = true
  }

  /** Outputs and changelog records acknowledged, then input offsets committed. */
  async #commit(only?: (m: FetchedMessage) => boolean): Promise<void> {
    const started = Date.now()
    if (this.#eos) {
      // One transaction holds every task's work: all of it commits, revoked tasks or not (as
      // Kafka Streams' EOS-v2 commits all its tasks when some are revoked).
      try {
        await this.#commitTransaction()
        this.#afterCommit()
      } catch (err) {
        await this.#rewind([], err)
      }
      this.#lastCommit = Date.now()
      this.#metrics.commits++
      this.#metrics.lastCommitMs = this.#lastCommit - started
      this.#recorder.committed(this.#metrics.lastCommitMs)
      return
    }
    const pending = this.#pending
    this.#pending = []
    await Promise.all(pending)
    const messages = [...this.#toCommit.values()].filter((m) => only === undefined || only(m))
    for (const m of messages) this.#toCommit.delete(`${m.topic}\u0000${m.partition}`)
    if (messages.length > 0) {
      await this.#reader!.commitMessages(messages as Message[], { metadata: this.#partitionTimeMetadata })
      this.#purge?.committed(messages.map(committedOffset))
    }
    this.#afterCommit()
    this.#lastCommit = Date.now()
    this.#metrics.commits++
    this.#metrics.lastCommitMs = this.#lastCommit - started
    this.#recorder.committed(this.#metrics.lastCommitMs)
  }

  /**
   * Persistent stores flush what is now committed and checkpoint their changelog offsets;
   * repartition records below the committed offsets are purged (every repartitionPurgeInterval).
   */
  #afterCommit(): void {
    this.#tasks.afterCommit()
    this.#purge?.maybePurge()
  }

  /** The metadata committed with an input offset: its task's partition time, as Kafka Streams commits it. */
  readonly #partitionTimeMetadata = (topic: string, partition: number): string | undefined => {
    const time = this.#tasks.get(`${this.#topicSub.get(topic)}_${partition}`)?.partitionTime(topic) ?? UNKNOWN_TIME
    return time === UNKNOWN_TIME ? undefined : encodePartitionTime(time)
  }

  async #commitTransaction(): Promise<void> {
    const pending = this.#pending
    this.#pending = []
    await Promise.all(pending)
    const messages = [...this.#toCommit.values()]
    if (messages.length > 0) {
      await this.#begin()
      // Under the generation the input was fetched under (KIP-447), never a newer one: after our
      // membership was lost and rejoined, the old input must be refused and read again, not
      // committed as processed with state the group moved on from (as TransactionalProcessor).
      const group = this.#txnGroup ?? this.#reader!.groupMetadata()
      const now = this.#reader!.groupMetadata().generationId
      if (now !== group.generationId) {
        throw new StreamsStateError(
          `the group moved from generation ${group.generationId} to ${now} during the transaction`,
        )
      }
      // With each partition's time, as Kafka Streams: a restarted task's stream time goes on from it.
      await this.#writer!.sendOffsets({ groupMetadata: () => group }, messages as Message[], {
        metadata: this.#partitionTimeMetadata,
      })
    }
    if (this.#inTxn) await this.#writer!.commitTransaction()
    this.#purge?.committed(messages.map(committedOffset))
    this.#inTxn = false
    this.#txnGroup = undefined
    this.#toCommit.clear()
  }

  /**
   * exactly_once_v2, after a failed commit (`cause`) or lost partitions (`gone`): aborts the open
   * transaction, drops every task with its stores (they hold writes of the aborted transaction),
   * moves the Reader back to the committed offsets and reopens the tasks still assigned, restoring
   * their stores from the committed changelog.
   * A fenced producer (a newer epoch for our transactional id, or the coordinator aborted our
   * transaction after transactionTimeout: we were a zombie) is replaced by a new one, as Kafka
   * Streams handles TaskMigratedException: its open transaction is the coordinator's to abort,
   * the new producer's InitProducerId ends it, and KIP-447's generation check keeps a member the
   * group moved on from from committing anything until its membership rejoins.
   * The same when the abort fails otherwise, unless the commit's outcome is unknown: then
   * `cause` is rethrown and the application stops.
   */
  async #rewind(gone: TopicPartition[], cause?: unknown): Promise<void> {
    this.#config.logger?.warn({ err: cause }, 'kafkats/streams: aborting the transaction and rewinding the tasks')
    this.#epoch++
    this.#pending = []
    this.#toCommit.clear()
    this.#txnGroup = undefined
    let fenced = isFenced(cause)
    if (this.#inTxn) {
      try {
        if (!fenced) await this.#writer!.abortTransaction()
      } catch (err) {
        // The transaction may have committed: nothing may be replayed before that is known.
        if (cause instanceof TransactionOutcomeUnknownError || err instanceof TransactionOutcomeUnknownError) {
          throw cause ?? err
        }
        // Unusable otherwise: fenced, or the coordinator ended the transaction on its own (a
        // commit after it aborted it for its timeout answers INVALID_TXN_STATE under
        // transaction version 2). The new producer's InitProducerId settles whatever is open.
        fenced = true
      }
      this.#inTxn = false
    }
    this.#metrics.aborted++
    await this.#tasks.closeAllStores()
    // What was buffered is gone with the tasks: fetch again what was paused for it.
    for (const key of [...this.#paused]) {
      const [topic, partition] = key.split('\u0000') as [string, string]
      this.#resume(topic, Number(partition))
    }
    this.#changelogNext.clear()
    if (fenced) {
      this.#metrics.fenced++
      this.#config.logger?.warn(
        { err: cause },
        'kafkats/streams: the producer was fenced; every task closed, starting a new producer',
      )
      const old = this.#writer!
      this.#writer = this.#newWriter()
      await old
        .close()
        .catch((err: unknown) =>
          this.#config.logger?.warn({ err }, 'kafkats/streams: closing the fenced producer failed'),
        )
    }
    this.#purge?.forget(gone)
    const lost = new Set(gone.map((p) => `${p.topic}\u0000${p.partition}`))
    const keep = this.#reader!.assignment().filter((p) => !lost.has(`${p.topic}\u0000${p.partition}`))
    if (keep.length === 0) return
    for (const c of await this.#reader!.committed(keep, { signal: this.#abort.signal })) {
      this.#reader!.seek(c.topic, c.partition, c.offset ?? FirstOffset)
    }
    await this.#assign(keep)
  }

  async #assign(parts: TopicPartition[]): Promise<void> {
    if (this.#state === 'RUNNING') this.#setState('REBALANCING')
    const ids = new Set<string>()
    for (const p of parts) {
      const sub = this.#topicSub.get(p.topic)
      if (sub !== undefined) ids.add(`${sub}_${p.partition}`)
    }
    this.#config.logger?.info({ tasks: [...ids], running: [...this.#tasks.keys()] }, 'kafkats/streams: tasks assigned')
    await this.#tasks.assign(ids)
    if (this.#state === 'REBALANCING' && !this.#abort.signal.aborted) this.#setState('RUNNING')
  }

  /** Commits what the revoked tasks processed (not for lost ones: another member owns them), then drops them. */
  async #revoke(parts: TopicPartition[], commit: boolean): Promise<void> {
    if (this.#state === 'RUNNING') this.#setState('REBALANCING')
    const ids = new Set<string>()
    for (const p of parts) {
      const sub = this.#topicSub.get(p.topic)
      if (sub !== undefined) ids.add(`${sub}_${p.partition}`)
    }
    this.#config.logger?.info({ tasks: [...ids], commit }, 'kafkats/streams: tasks revoked')
    for (const p of parts) this.#paused.delete(`${p.topic}\u0000${p.partition}`)
    const revoked = (m: FetchedMessage): boolean => ids.has(`${this.#topicSub.get(m.topic)}_${m.partition}`)
    if (commit) {
      await this.#commit(revoked)
    } else {
      for (const [k, m] of this.#toCommit) if (revoked(m)) this.#toCommit.delete(k)
    }
    // Their next owner purges them (after the commit above, which recorded their offsets).
    this.#purge?.forget(parts)
    await this.#tasks.revoke(ids, commit)
  }

  /**
   * A read-only view of a store over this instance's tasks (interactive queries). A key is found
   * only where its partition is processed by this instance.
   */
  store<K, V>(name: string): ReadOnlyKeyValueStore<K, V> {
    if (!this.#topology.stores.has(name)) throw new StreamsStateError(`no store named '${name}' in the topology`)
    if (this.#state !== 'RUNNING' && this.#state !== 'REBALANCING') {
      throw new StreamsStateError(`store('${name}'): the application is ${this.#state}`)
    }
    const views = (): ReadOnlyKeyValueStore<K, V>[] =>
      [...this.#tasks.values()].flatMap((t) => {
        const s = t.store<K, V>(name)
        return s === undefined ? [] : [s]
      })
    return {
      get: (key) => {
        for (const v of views()) {
          const value = v.get(key)
          if (value !== undefined) return value
        }
        return undefined
      },
      *all() {
        for (const v of views()) yield* v.all()
      },
      get size() {
        return views().reduce((n, v) => n + v.size, 0)
      },
    }
  }

  async #fail(err: unknown): Promise<void> {
    if (this.#state === 'NOT_RUNNING' || this.#state === 'PENDING_SHUTDOWN') return
    this.#error = err
    this.#config.logger?.error({ err }, 'kafkats/streams: the application stopped on an error')
    this.#abort.abort()
    await this.#shutdown(false)
    this.#setState('ERROR')
  }

  /** Stops processing, commits what was processed, leaves the group; bounded by closeTimeout. */
  async close(): Promise<void> {
    if (this.#state === 'NOT_RUNNING' || this.#state === 'PENDING_SHUTDOWN') return
    const failed = this.#state === 'ERROR'
    if (!failed) this.#setState('PENDING_SHUTDOWN')
    this.#abort.abort()
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), this.#config.closeTimeout).unref(),
    )
    const done = (async () => {
      await this.#loop?.catch(() => undefined)
      if (!failed) await this.#shutdown(true)
    })()
    if ((await Promise.race([done.then(() => 'done' as const), timeout])) === 'timeout') {
      this.#config.logger?.warn({ closeTimeout: this.#config.closeTimeout }, 'kafkats/streams: close() timed out')
      this.#reader?.close().catch(() => undefined)
      this.#writer?.close().catch(() => undefined)
      this.#client?.close().catch(() => undefined)
    }
    if (!failed) this.#setState('NOT_RUNNING')
  }

  async #shutdown(commit: boolean): Promise<void> {
    if (commit && this.#reader !== undefined) {
      await this.#locked(() => this.#commit()).catch((err: unknown) =>
        this.#config.logger?.warn({ err }, 'kafkats/streams: the last commit failed'),
      )
    }
    if (this.#inTxn) {
      // Failed (or the last commit did): nothing of the open transaction may become visible.
      this.#inTxn = false
      await this.#writer!.abortTransaction().catch((err: unknown) =>
        this.#config.logger?.warn({ err }, 'kafkats/streams: aborting the open transaction failed'),
      )
    }
    await Promise.allSettled([this.#reader?.close(), this.#writer?.close(), this.#client?.close()])
    await this.#tasks.closeAllStores()
  }
}

/** A ProducerFencedError, or an error caused by one. */
function isFenced(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof ProducerFencedError) return true
  }
  return false
}

/** What committing a processed message records: the next offset to read (a floor of it when markers follow). */
function committedOffset(m: FetchedMessage): { topic: string; partition: number; offset: bigint } {
  return { topic: m.topic, partition: m.partition, offset: m.offset + 1n }
}

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}

function toMessage(out: TaskOutput): Message {
  const m: Message = { topic: out.topic, key: out.key, value: out.value, timestamp: out.timestamp }
  if (out.partition !== undefined) m.partition = out.partition
  return m
}
