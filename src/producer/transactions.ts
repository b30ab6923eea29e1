// The transaction manager of a transactional Writer (Java's TransactionManager, franz-go's
// transactions; read, not copied): the transaction state machine and every request to the
// transaction coordinator. It owns the producer id and epoch of the transactional id; each
// partition's Sequencer keeps owning its sequences and adopts a new epoch at a transaction
// boundary, when nothing is in flight.
//
//   uninitialized ─init→ ready ─begin→ in-transaction ─commit→ committing ─→ ready
//                                            │   ╲──abort→ aborting ─→ ready
//                                            ↓ a write or offset commit failed
//                                        abortable ─abort→ aborting
//   fenced (terminal): a newer instance took over (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH from
//   the coordinator) or the id is not authorized. fatal (terminal): any other error ending an abort.
//
// Rules:
//  - Coordinator errors that say "later" or "elsewhere" (COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR,
//    COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS, a broken connection, a timeout) are
//    retried with backoff until the transaction timeout has passed.
//  - An EndTxn whose answer never came may have been applied: it is sent again (the coordinator
//    answers a repeat with the same result); when time runs out the outcome is reported unknown
//    (TransactionOutcomeUnknownError) and the state stays committing/aborting, never "aborted".
//  - Transaction version 1: a partition is registered (AddPartitionsToTxn) before its first batch
//    of a transaction is sent. Version 2 (KIP-890, transaction.version >= 2 finalized, EndTxn v5
//    and Produce v12 served): the first Produce registers it, and EndTxn answers the epoch of
//    the next transaction.
//  - After an abort in which a batch failed (its sequences can no longer be trusted), version 1
//    bumps the epoch with InitProducerId(current id and epoch) (KIP-360), so every partition
//    starts over at sequence 0; version 2 gets the bump from EndTxn anyway.

import type { KafkaClient } from '../cluster/client.js'
import { RetriesExhaustedError, backoffDelay, type RetryPolicy } from '../cluster/retry.js'
import { KafkaError, KafkaTsError, isRetriable } from '../errors.js'
import type { Message } from '../message.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { EndTxn, Produce } from '../protocol/messages/index.js'
import { CommitRejectedError } from '../consumer/errors.js'
import type { ProducerIdentity } from './idempotence.js'
import {
  ProducerFencedError,
  TransactionalIdAuthorizationError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionOutcomeUnknownError,
  TransactionStateError,
} from './transaction-errors.js'
import {
  CoordinatorLookup,
  GROUP_KEY,
  TRANSACTION_KEY,
  addOffsetsToTxn,
  addPartitionsToTxn,
  endTxn,
  initTransactionalId,
  txnOffsetCommit,
  type GroupMetadata,
  type TopicPartitionRef,
  type TxnOffset,
} from './txn-requests.js'

export type TransactionState =
  'uninitialized' | 'ready' | 'in-transaction' | 'committing' | 'aborting' | 'abortable' | 'fenced' | 'fatal'

/** Produce v12 and EndTxn v5 are the first versions of transaction version 2. */
const PRODUCE_V1_MAX = 11
const END_TXN_V1_MAX = 4

/** Error codes that end a transactional producer for good on the coordinator path. */
const FENCING: ReadonlySet<number> = new Set([
  ErrorCode.PRODUCER_FENCED,
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
])

/** TxnOffsetCommit answers that say the Reader's membership is stale (KIP-447 fencing by the group). */
const STALE_MEMBER: ReadonlySet<number> = new Set([
  ErrorCode.ILLEGAL_GENERATION,
  // A consumer-protocol (KIP-848) member's epoch is behind the group's: Kafka's answer where a
  // classic member gets ILLEGAL_GENERATION.
  ErrorCode.STALE_MEMBER_EPOCH,
  ErrorCode.FENCED_INSTANCE_ID,
  ErrorCode.UNKNOWN_MEMBER_ID,
])

export interface TransactionManagerOptions {
  client: KafkaClient
  transactionalId: string
  timeoutMs: number
  backoff: RetryPolicy
  /** Partitions were registered: batches waiting for it may go. */
  onPartitionsAdded: () => void
  /** Registering these partitions failed: their waiting records fail with `error`. */
  onPartitionsFailed: (partitions: readonly TopicPartitionRef[], error: Error) => void
  /** The Writer's flush(): resolves once every record handed over is settled. */
  flush: () => Promise<void>
  /** Fails every record not yet cut into a batch (an abort drops them, as Java's abortUndrainedBatches). */
  dropPending: (error: Error) => void
  /** A new producer id or epoch for every partition (called when nothing is in flight). */
  adopt: (identity: ProducerIdentity) => void
}

/** A Reader in a consumer group (KIP-447 needs its membership). */
export interface GroupReader {
  groupMetadata(): GroupMetadata
}

export class TransactionManager {
  readonly #o: TransactionManagerOptions
  readonly #coordinator: CoordinatorLookup
  readonly #groupCoordinators = new Map<string, CoordinatorLookup>()
  #state: TransactionState = 'uninitialized'
  #identity: ProducerIdentity | null = null
  #v2 = false
  #initializing: Promise<void> | null = null
  /** Partitions registered in the current transaction (V1), or produced to (V2). */
  readonly #added = new Set<string>()
  readonly #toAdd = new Map<string, TopicPartitionRef>()
  #adding = false
  /** The coordinator knows of this transaction (something was registered or produced). */
  #started = false
  #epochBumpRequired = false
  /** commitTransaction is flushing: EndTxn not sent yet, so a failure still makes it abortable. */
  #flushing = false
  /** Why the transaction is abortable, or why the Writer is fenced / fatal. */
  #error: Error | null = null

  constructor(options: TransactionManagerOptions) {
    this.#o = options
    this.#coordinator = new CoordinatorLookup(options.client, TRANSACTION_KEY, options.transactionalId)
  }

  get state(): TransactionState {
    return this.#state
  }

  get identity(): ProducerIdentity | null {
    return this.#identity
  }

  /** 2 under KIP-890's transaction version 2, 1 for the classic protocol, 0 before initialization. */
  get transactionVersion(): 0 | 1 | 2 {
    return this.#identity === null ? 0 : this.#v2 ? 2 : 1
  }

  /** The highest Produce version to send: V1 transactions must stay below v12. */
  get produceMaxVersion(): number {
    return this.#v2 ? Produce.maxStableVersion : PRODUCE_V1_MAX
  }

  /** A transaction is open (possibly abortable): close() aborts it. */
  get open(): boolean {
    return this.#state === 'in-transaction' || this.#state === 'abortable'
  }

  /** True while batches of the transaction may be sent (retries included). */
  get sending(): boolean {
    return this.#state === 'in-transaction' || this.#state === 'aborting' || this.#state === 'committing'
  }

  /** The error new records fail with instead of being sent (abortable or terminal), else null. */
  get blockingError(): Error | null {
    return this.#state === 'abortable' || this.#state === 'fenced' || this.#state === 'fatal' ? this.#error : null
  }

  /** commitTransaction(): flushes, then EndTxn(commit). */
  async commitTransaction(): Promise<void> {
    if (this.#state === 'in-transaction') {
      // Committing from here on: later writes are refused (they would miss the commit).
      this.#state = 'committing'
      this.#flushing = true
      try {
        // A failed write (async mode reports it here) means the transaction cannot commit.
        await this.#o.flush().catch((err: unknown) => this.#markAbortable(toError(err)))
      } finally {
        this.#flushing = false
      }
    }
    const identity = await this.commit()
    if (identity !== null) this.#o.adopt(identity)
  }

  /** abortTransaction(): drops what is not sent, waits for what is in flight, then EndTxn(abort). */
  async abortTransaction(): Promise<void> {
    this.beginAbort()
    this.#o.dropPending(new TransactionAbortedError())
    // Batches in flight or waiting for a retry must end first: one written after the abort
    // markers would open a transaction the coordinator does not know of. Their errors belong
    // to the aborted transaction.
    await this.#o.flush().catch(() => undefined)
    const identity = await this.abort()
    if (identity !== null) this.#o.adopt(identity)
  }

  /** transaction(fn): commits when fn resolves, aborts when it throws (and rethrows). */
  async run<T, X>(fn: (tx: X) => Promise<T>, tx: X): Promise<T> {
    await this.begin()
    let result: T
    try {
      result = await fn(tx)
      await this.commitTransaction()
    } catch (err) {
      // Never abort a transaction that may have committed (outcome unknown), nor a fenced one.
      if (this.#state === 'in-transaction' || this.#state === 'abortable' || this.#state === 'aborting') {
        // The callback's error is the one to report; a failed abort leaves its state (fenced,
        // aborting with an unknown outcome), which the next call reports.
        await this.abortTransaction().catch(() => undefined)
      }
      throw err
    }
    return result
  }

  /** sendOffsets(reader, messages): the Reader's group commits these messages with the transaction. */
  async sendReaderOffsets(
    reader: GroupReader,
    messages: readonly Message[],
    metadata?: (topic: string, partition: number) => string | undefined,
  ): Promise<void> {
    this.checkWritable('sendOffsets')
    const offsets = offsetsToCommit(messages)
    if (metadata !== undefined) for (const o of offsets) o.metadata = metadata(o.topic, o.partition)
    if (typeof reader?.groupMetadata !== 'function')
      throw new TransactionStateError('sendOffsets needs a Reader in a consumer group (groupId)')
    const group = reader.groupMetadata()
    if (group.groupId === '')
      throw new TransactionStateError('sendOffsets needs a Reader in a consumer group (groupId)')
    await this.sendOffsets(offsets, group)
  }

  /** InitProducerId on first use (fencing older instances), then a new transaction. */
  async begin(): Promise<void> {
    this.#throwIfTerminal()
    if (this.#state === 'uninitialized') await this.#initialize()
    if (this.#state !== 'ready') throw new TransactionStateError(`beginTransaction: ${this.#describe()}`)
    this.#state = 'in-transaction'
    this.#added.clear()
    this.#started = false
    this.#epochBumpRequired = false
    this.#error = null
  }

  /** Throws unless records may be written now. */
  checkWritable(what: string): void {
    this.#throwIfTerminal()
    if (this.#state === 'abortable')
      throw new TransactionAbortableError(`${what}: the transaction must be aborted (${this.#error?.message})`, {
        cause: this.#error,
      })
    if (this.#state !== 'in-transaction')
      throw new TransactionStateError(`${what} needs an open transaction: ${this.#describe()}`)
  }

  /**
   * Whether a batch of this partition may be sent now. Under V1 the first call of a transaction
   * registers the partition (AddPartitionsToTxn, batched) and answers false until it is done.
   */
  partitionReady(topic: string, partition: number): boolean {
    const key = `${topic}\u0000${partition}`
    if (this.#added.has(key)) return true
    if (this.#v2) {
      this.#added.add(key)
      this.#started = true
      return true
    }
    if (!this.#toAdd.has(key)) this.#toAdd.set(key, { topic, partition })
    if (!this.#adding) queueMicrotask(() => void this.#addPartitions())
    this.#adding = true
    return false
  }

  /** A batch of the transaction failed (`numbered`: it had sequences): the transaction can no longer commit. */
  batchFailed(error: Error, numbered: boolean): void {
    if (numbered) this.#epochBumpRequired = true
    if (error instanceof TransactionAbortedError) return
    const code = error instanceof KafkaError ? error.errorCode : -1
    // On Produce INVALID_PRODUCER_EPOCH is only abortable (KIP-588: the coordinator may have
    // aborted a timed-out transaction); the abort's requests then tell whether we are fenced.
    if (code === ErrorCode.PRODUCER_FENCED || code === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED) {
      this.#fence(error)
      return
    }
    this.#markAbortable(error)
  }

  /** Makes the open transaction abortable (a failure the Writer saw, e.g. async write errors at commit). */
  #markAbortable(error: Error): void {
    if (this.#state === 'in-transaction' || (this.#state === 'committing' && this.#flushing)) {
      this.#state = 'abortable'
      this.#error = error
    }
  }

  /** KIP-447: AddOffsetsToTxn, then TxnOffsetCommit with the Reader's group membership. */
  async sendOffsets(offsets: readonly TxnOffset[], group: GroupMetadata): Promise<void> {
    this.checkWritable('sendOffsets')
    if (offsets.length === 0) return
    const identity = this.#identity!
    const deadline = Date.now() + this.#o.timeoutMs
    try {
      await this.#retrying('AddOffsetsToTxn', deadline, () =>
        addOffsetsToTxn(this.#coordinator, identity, group.groupId),
      )
      this.#started = true
      let coordinator = this.#groupCoordinators.get(group.groupId)
      if (coordinator === undefined)
        this.#groupCoordinators.set(
          group.groupId,
          (coordinator = new CoordinatorLookup(this.#o.client, GROUP_KEY, group.groupId)),
        )
      const groupCoordinator = coordinator
      await this.#retrying('TxnOffsetCommit', deadline, () =>
        txnOffsetCommit(groupCoordinator, this.#o.transactionalId, identity, group, offsets),
      )
    } catch (err) {
      const error = this.#offsetsError(err, offsets)
      if (!(error instanceof ProducerFencedError)) this.#markAbortable(error)
      throw error
    }
  }

  /** EndTxn(commit); the Writer flushed first. Returns the identity of the next transaction when it changed. */
  async commit(): Promise<ProducerIdentity | null> {
    this.#throwIfTerminal()
    if (this.#state === 'abortable')
      throw new TransactionAbortableError(
        `commitTransaction: the transaction must be aborted (${this.#error?.message})`,
        {
          cause: this.#error,
        },
      )
    if (this.#state !== 'in-transaction' && this.#state !== 'committing')
      throw new TransactionStateError(`commitTransaction: ${this.#describe()}`)
    this.#state = 'committing'
    return this.#end(true)
  }

  /** Moves to aborting (before the Writer drops and awaits the transaction's batches). */
  beginAbort(): void {
    this.#throwIfTerminal()
    if (this.#state === 'committing')
      throw new TransactionStateError(
        'abortTransaction: a commit is under way or its outcome is unknown; call commitTransaction() again',
      )
    if (this.#state !== 'in-transaction' && this.#state !== 'abortable' && this.#state !== 'aborting')
      throw new TransactionStateError(`abortTransaction: ${this.#describe()}`)
    this.#state = 'aborting'
    this.#toAdd.clear()
  }

  /** EndTxn(abort), after beginAbort and the Writer's wait. Returns the next identity when it changed. */
  abort(): Promise<ProducerIdentity | null> {
    this.#throwIfTerminal()
    if (this.#state !== 'aborting') throw new TransactionStateError(`abortTransaction: ${this.#describe()}`)
    return this.#end(false)
  }

  // --- internals ----------------------------------------------------------------------------------

  #initialize(): Promise<void> {
    if (this.#initializing === null) {
      const deadline = Date.now() + this.#o.timeoutMs
      this.#initializing = this.#retrying('InitProducerId', deadline, () =>
        initTransactionalId(this.#coordinator, this.#o.timeoutMs, null),
      )
        .then(async (identity) => {
          this.#identity = identity
          this.#v2 = await this.#detectV2()
          this.#o.adopt(identity)
          if (this.#state === 'uninitialized') this.#state = 'ready'
        })
        .finally(() => (this.#initializing = null))
    }
    return this.#initializing
  }

  /** KIP-890: transaction.version >= 2 finalized, and the coordinator serves EndTxn v5 and Produce v12. */
  async #detectV2(): Promise<boolean> {
    const node = this.#coordinator.node
    if (node === null) return false
    const { versions } = await this.#o.client.pool.get(node, 'admin')
    return (
      versions.featureLevel('transaction.version') >= 2 &&
      (versions.range(EndTxn.apiKey)?.max ?? 0) >= 5 &&
      (versions.range(Produce.apiKey)?.max ?? 0) >= 12
    )
  }

  async #addPartitions(): Promise<void> {
    while (this.#toAdd.size > 0 && this.sending) {
      const batch = [...this.#toAdd.values()]
      this.#toAdd.clear()
      const identity = this.#identity!
      try {
        await this.#retrying('AddPartitionsToTxn', Date.now() + this.#o.timeoutMs, () =>
          addPartitionsToTxn(this.#coordinator, identity, batch),
        )
        for (const p of batch) this.#added.add(`${p.topic}\u0000${p.partition}`)
        this.#started = true
        this.#o.onPartitionsAdded()
      } catch (err) {
        const error = toError(err)
        if (!(error instanceof ProducerFencedError)) this.#markAbortable(error)
        this.#o.onPartitionsFailed(batch, error)
      }
    }
    this.#adding = false
  }

  async #end(commit: boolean): Promise<ProducerIdentity | null> {
    const before = this.#identity!
    let next = before
    if (this.#started) {
      const deadline = Date.now() + this.#o.timeoutMs
      const maxVersion = this.#v2 ? EndTxn.maxStableVersion : END_TXN_V1_MAX
      let answered: ProducerIdentity | null
      try {
        answered = await this.#retrying('EndTxn', deadline, () => endTxn(this.#coordinator, before, commit, maxVersion))
      } catch (err) {
        if (err instanceof ProducerFencedError) throw err
        // Time ran out on retriable errors: EndTxn may have been applied.
        if (err instanceof RetriesExhaustedError) throw new TransactionOutcomeUnknownError(commit, { cause: err })
        if (commit && err instanceof KafkaError && err.errorCode === ErrorCode.TRANSACTION_ABORTABLE) {
          this.#state = 'abortable'
          this.#error = err
          throw new TransactionAbortableError(`commitTransaction: ${err.message}`, { cause: err })
        }
        this.#state = 'fatal'
        this.#error = toError(err)
        throw err
      }
      if (this.#v2 && answered !== null) next = answered
      else if (!commit && this.#epochBumpRequired) {
        // KIP-360: a failed batch left sequences we cannot trust; a new epoch starts them over.
        try {
          next = await this.#retrying('InitProducerId', Date.now() + this.#o.timeoutMs, () =>
            initTransactionalId(this.#coordinator, this.#o.timeoutMs, before),
          )
        } catch (err) {
          // The abort itself is done; without a new epoch this Writer cannot go on.
          if (!(err instanceof ProducerFencedError)) {
            this.#state = 'fatal'
            this.#error = toError(err)
          }
          throw err
        }
      }
    }
    this.#identity = next
    this.#state = 'ready'
    this.#error = null
    this.#added.clear()
    this.#started = false
    return next.producerId !== before.producerId || next.producerEpoch !== before.producerEpoch ? next : null
  }

  /** Runs one coordinator request until it succeeds, fails for good, or `deadline` passes. */
  async #retrying<T>(what: string, deadline: number, op: () => Promise<T>): Promise<T> {
    const errors: unknown[] = []
    for (let attempt = 1; ; attempt++) {
      try {
        return await op()
      } catch (err) {
        if (err instanceof KafkaError && FENCING.has(err.errorCode)) throw this.#fence(err)
        errors.push(err)
        if (!isRetriable(err)) throw err
        const delay = backoffDelay(this.#o.backoff, attempt)
        if (Date.now() + delay >= deadline) throw new RetriesExhaustedError(`${what} (transaction timeout)`, errors)
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }

  /** Ends the Writer's transactions for good: fenced by a newer instance, or refused the id. */
  #fence(cause: Error): ProducerFencedError | TransactionalIdAuthorizationError {
    if (this.#state !== 'fenced') {
      this.#state = 'fenced'
      const refused = cause instanceof KafkaError && cause.errorCode === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      this.#error = refused
        ? new TransactionalIdAuthorizationError(this.#o.transactionalId, { cause })
        : new ProducerFencedError(this.#o.transactionalId, { cause })
    }
    return this.#error as ProducerFencedError | TransactionalIdAuthorizationError
  }

  #offsetsError(err: unknown, offsets: readonly TxnOffset[]): Error {
    if (err instanceof KafkaError && STALE_MEMBER.has(err.errorCode)) {
      const partitions = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }))
      return new CommitRejectedError(
        'fenced',
        partitions,
        `the group fenced this member's generation: ${err.message}`,
        {
          cause: err,
        },
      )
    }
    return toError(err)
  }

  #throwIfTerminal(): void {
    if (this.#state === 'fenced') throw this.#error!
    if (this.#state === 'fatal')
      throw new TransactionStateError(`the transactional Writer failed for good: ${this.#error?.message}`, {
        cause: this.#error,
      })
  }

  #describe(): string {
    switch (this.#state) {
      case 'uninitialized':
      case 'ready':
        return 'no transaction is open (call beginTransaction() or use transaction())'
      case 'in-transaction':
        return 'a transaction is already open'
      case 'committing':
        return 'a commit is under way or its outcome is unknown'
      case 'aborting':
        return 'an abort is under way'
      default:
        return `the transaction is ${this.#state}`
    }
  }
}

/**
 * The offsets a transaction commits for messages a Reader returned: per partition, the highest
 * offset + 1 with that message's leader epoch (what the next read starts from).
 */
export function offsetsToCommit(messages: readonly Message[]): TxnOffset[] {
  const out = new Map<string, TxnOffset>()
  for (const [i, m] of messages.entries()) {
    if (typeof m?.topic !== 'string' || typeof m.partition !== 'number' || typeof m.offset !== 'bigint')
      throw new KafkaTsError(
        'KAFKATS_INVALID_ARGUMENT',
        `sendOffsets: message ${i} has no topic, partition and offset (pass messages a Reader returned)`,
      )
    const key = `${m.topic}\u0000${m.partition}`
    const next = m.offset + 1n
    const current = out.get(key)
    if (current === undefined || next > current.offset) {
      const epoch = (m as { leaderEpoch?: unknown }).leaderEpoch
      out.set(key, {
        topic: m.topic,
        partition: m.partition,
        offset: next,
        leaderEpoch: typeof epoch === 'number' ? epoch : -1,
      })
    }
  }
  return [...out.values()]
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
