// The transaction coordinator and producer id allocation, after Kafka's TransactionCoordinator
// and TransactionMetadata, for both transaction versions:
//   V1 (AddPartitionsToTxn v0-3, EndTxn v0-4, Produce v3-11): the client adds partitions itself;
//     EndTxn keeps the epoch; a transactional Produce to a partition not in the transaction is
//     refused (KIP-890 part 1 verification: TRANSACTION_ABORTABLE, INVALID_TXN_STATE before v11).
//   V2 (KIP-890 part 2; EndTxn v5+, Produce v12+, TxnOffsetCommit v5+): a Produce or
//     TxnOffsetCommit adds its partition or group implicitly; every EndTxn bumps the epoch and
//     returns it (a new producer id once the epochs run out), so a late write of the finished
//     transaction is fenced by its epoch. The version is the request's, as in KafkaApis.
//
// States: Empty → Ongoing (first partition or group) → PrepareCommit/PrepareAbort (EndTxn, a
// timeout, or InitProducerId fencing an open transaction) → CompleteCommit/CompleteAbort once the
// markers are written. Markers are written `transactionMarkerDelayMs` after the Prepare state, as
// Kafka's marker channel does asynchronously: meanwhile the LSO stays below the transaction and
// InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, a V2 Produce adding a partition and a
// same-outcome EndTxn retry answer CONCURRENT_TRANSACTIONS. A Prepare state survives a restart
// (state.json) and its markers are written then (`recover`): an EndTxn that was answered is done.
//
// Fencing: InitProducerId bumps the epoch; an older epoch gets PRODUCER_FENCED (older request
// versions: INVALID_PRODUCER_EPOCH, mapped by the handlers). A transaction open longer than its
// timeout is aborted with a bumped epoch (once, V2 too, as Kafka 4.x), which fences the producer
// that opened it.

import { ErrorCode } from '../protocol/error-codes.js'
import { encodeControlBatch, readBatchHeader } from '../protocol/record-batch.js'
import type { Cluster } from './cluster.js'

export type TxnState =
  'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort' | 'Dead'

export interface TxnMetadata {
  transactionalId: string
  producerId: bigint
  previousProducerId: bigint
  /** V2: the producer id the transaction moves to once its markers are written (epochs ran out); else -1. */
  nextProducerId: bigint
  producerEpoch: number
  lastProducerEpoch: number
  timeoutMs: number
  state: TxnState
  /** Whether the client speaks Transactions V2 (set by each request's version). */
  tv2: boolean
  /** Partitions in the transaction, as `topic` → partition indexes. */
  partitions: Map<string, Set<number>>
  /** Groups whose offsets are part of the transaction (AddOffsetsToTxn). */
  groups: Set<string>
  startMs: number
  lastUpdateMs: number
}

const NO_PRODUCER_ID = -1n
const NO_EPOCH = -1
const MAX_EPOCH = 32767

function epochExhausted(epoch: number): boolean {
  return epoch >= MAX_EPOCH - 1
}

export interface InitResult {
  errorCode: number
  producerId: bigint
  producerEpoch: number
}

export class TransactionCoordinator {
  readonly txns = new Map<string, TxnMetadata>()
  private timer: NodeJS.Timeout | undefined
  /** Marker writes waiting for their moment, by transactional id. */
  private readonly pendingMarkers = new Map<string, NodeJS.Timeout>()

  constructor(private readonly cluster: Cluster) {
    // transaction.abort.timed.out.transaction.cleanup.interval.ms is 10 s in Kafka; a shorter
    // period changes nothing but the precision of the timeout.
    this.timer = setInterval(() => this.abortTimedOut(Date.now()), 1000)
    this.timer.unref()
  }

  shutdown(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    for (const t of this.pendingMarkers.values()) clearTimeout(t)
    this.pendingMarkers.clear()
  }

  /** After a restart: transactions whose EndTxn was logged (a Prepare state) are completed. */
  recover(): void {
    for (const txn of this.txns.values())
      if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') this.scheduleMarkers(txn)
  }

  /** InitProducerId. `expected` is the (producerId, epoch) a v3+ client sends to recover (KIP-360). */
  initProducerId(
    transactionalId: string | null,
    timeoutMs: number,
    expected: { producerId: bigint; epoch: number } | undefined,
  ): InitResult {
    if (transactionalId === null) {
      // Idempotent producers always get a fresh id (TransactionCoordinator.handleInitProducerId).
      return { errorCode: 0, producerId: this.cluster.allocateProducerId(), producerEpoch: 0 }
    }
    const fail = (errorCode: number): InitResult => ({ errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_EPOCH })
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST)
    if (timeoutMs <= 0 || timeoutMs > this.cluster.options.transactionMaxTimeoutMs)
      return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT)
    const now = Date.now()
    let txn = this.txns.get(transactionalId)
    if (txn === undefined) {
      txn = {
        transactionalId,
        producerId: this.cluster.allocateProducerId(),
        previousProducerId: NO_PRODUCER_ID,
        nextProducerId: NO_PRODUCER_ID,
        producerEpoch: NO_EPOCH,
        lastProducerEpoch: NO_EPOCH,
        timeoutMs,
        state: 'Empty',
        tv2: false,
        partitions: new Map(),
        groups: new Set(),
        startMs: -1,
        lastUpdateMs: now,
      }
      this.txns.set(transactionalId, txn)
    }
    if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') return fail(ErrorCode.CONCURRENT_TRANSACTIONS)
    if (expected !== undefined) {
      const valid =
        txn.producerEpoch === NO_EPOCH ||
        expected.producerId === txn.producerId ||
        (expected.producerId === txn.previousProducerId && epochExhausted(expected.epoch))
      if (!valid) return fail(ErrorCode.PRODUCER_FENCED)
    }
    if (txn.state === 'Ongoing') {
      // Abort with a fencing epoch and make the client retry, which bumps the epoch again.
      this.fenceAndAbort(txn, now)
      return fail(ErrorCode.CONCURRENT_TRANSACTIONS)
    }
    if (epochExhausted(txn.producerEpoch) && (expected === undefined || expected.epoch === txn.producerEpoch)) {
      txn.previousProducerId = txn.producerId
      txn.producerId = this.cluster.allocateProducerId()
      txn.lastProducerEpoch = expected === undefined ? NO_EPOCH : txn.producerEpoch
      txn.producerEpoch = 0
    } else if (expected === undefined) {
      txn.lastProducerEpoch = NO_EPOCH
      txn.producerEpoch++
    } else if (txn.producerEpoch === NO_EPOCH || expected.epoch === txn.producerEpoch) {
      txn.lastProducerEpoch = txn.producerEpoch
      txn.producerEpoch++
    } else if (expected.epoch !== txn.lastProducerEpoch) {
      return fail(ErrorCode.PRODUCER_FENCED)
    }
    txn.timeoutMs = timeoutMs
    txn.state = 'Empty'
    txn.partitions.clear()
    txn.groups.clear()
    txn.lastUpdateMs = now
    return { errorCode: 0, producerId: txn.producerId, producerEpoch: txn.producerEpoch }
  }

  /** The checks every transactional request starts with (TransactionCoordinator's validation). */
  private validate(
    transactionalId: string,
    producerId: bigint,
    epoch: number,
  ): { txn: TxnMetadata } | { errorCode: number } {
    if (transactionalId === '') return { errorCode: ErrorCode.INVALID_REQUEST }
    const txn = this.txns.get(transactionalId)
    // The producer id an overflowing V2 EndTxn handed out is not the transaction's until its markers are written.
    if (txn !== undefined && txn.nextProducerId === producerId && txn.nextProducerId !== NO_PRODUCER_ID)
      return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS }
    if (txn === undefined || txn.producerId !== producerId) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING }
    if (txn.producerEpoch !== epoch) return { errorCode: ErrorCode.PRODUCER_FENCED }
    if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort')
      return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS }
    return { txn }
  }

  /**
   * AddPartitionsToTxn; with `verifyOnly` (v4+ broker requests) only reports membership. `tv2`:
   * the partitions come from a V2 client's Produce (a broker's v5 request without verifyOnly).
   */
  addPartitions(
    transactionalId: string,
    producerId: bigint,
    epoch: number,
    topics: { name: string; partitions: number[] }[],
    verifyOnly: boolean,
    tv2 = false,
  ): Map<string, Map<number, number>> {
    const result = new Map<string, Map<number, number>>()
    const setAll = (code: number): Map<string, Map<number, number>> => {
      for (const t of topics) result.set(t.name, new Map(t.partitions.map((p) => [p, code])))
      return result
    }
    const v = this.validate(transactionalId, producerId, epoch)
    if ('errorCode' in v) return setAll(v.errorCode)
    const txn = v.txn
    if (verifyOnly) {
      for (const t of topics)
        result.set(
          t.name,
          new Map(
            t.partitions.map((p) => [
              p,
              txn.partitions.get(t.name)?.has(p) === true ? 0 : ErrorCode.TRANSACTION_ABORTABLE,
            ]),
          ),
        )
      return result
    }
    // Unknown partitions fail the request; the others are not attempted (KafkaApis).
    const unknown = topics.some((t) => t.partitions.some((p) => this.cluster.topics.partition(t.name, p) === undefined))
    if (unknown) {
      for (const t of topics) {
        result.set(
          t.name,
          new Map(
            t.partitions.map((p) => [
              p,
              this.cluster.topics.partition(t.name, p) === undefined
                ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                : ErrorCode.OPERATION_NOT_ATTEMPTED,
            ]),
          ),
        )
      }
      return result
    }
    this.begin(txn, tv2)
    for (const t of topics) {
      let set = txn.partitions.get(t.name)
      if (set === undefined) txn.partitions.set(t.name, (set = new Set()))
      for (const p of t.partitions) set.add(p)
    }
    return setAll(0)
  }

  /** AddOffsetsToTxn, or (`tv2`) a V2 TxnOffsetCommit adding its group implicitly. */
  addOffsets(transactionalId: string, producerId: bigint, epoch: number, groupId: string, tv2 = false): number {
    const v = this.validate(transactionalId, producerId, epoch)
    if ('errorCode' in v) return v.errorCode
    this.begin(v.txn, tv2)
    v.txn.groups.add(groupId)
    return 0
  }

  private begin(txn: TxnMetadata, tv2: boolean): void {
    if (txn.state !== 'Ongoing') {
      txn.state = 'Ongoing'
      txn.startMs = Date.now()
      txn.partitions.clear()
      txn.groups.clear()
    }
    txn.tv2 = tv2
    txn.lastUpdateMs = Date.now()
  }

  /**
   * EndTxn. V1: the outcome is prepared with the same epoch; a retry of a completed outcome is
   * answered OK. V2: the epoch is bumped (and returned); a retry carries the epoch before the
   * bump and is answered with the current one; an abort with nothing in the transaction is allowed.
   */
  endTxn(transactionalId: string, producerId: bigint, epoch: number, commit: boolean, tv2 = false): InitResult {
    const fail = (errorCode: number): InitResult => ({ errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_EPOCH })
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST)
    const txn = this.txns.get(transactionalId)
    if (txn === undefined) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
    // V2 with the epochs exhausted: the client continues with the next producer id at epoch 0.
    const ok = (): InitResult =>
      txn.nextProducerId !== NO_PRODUCER_ID
        ? { errorCode: 0, producerId: txn.nextProducerId, producerEpoch: 0 }
        : { errorCode: 0, producerId: txn.producerId, producerEpoch: txn.producerEpoch }
    const prepared = txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort'
    const completed = txn.state === 'CompleteCommit' || txn.state === 'CompleteAbort'
    const sameOutcome =
      txn.state === (commit ? 'PrepareCommit' : 'PrepareAbort') ||
      txn.state === (commit ? 'CompleteCommit' : 'CompleteAbort')
    if (!tv2) {
      if (txn.producerId !== producerId) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
      if (txn.producerEpoch !== epoch) return fail(ErrorCode.PRODUCER_FENCED)
      if (txn.state === 'Ongoing') {
        this.prepare(txn, commit, false)
        return ok()
      }
      if (prepared) return fail(sameOutcome ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE)
      if (completed && sameOutcome) return ok()
      return fail(ErrorCode.INVALID_TXN_STATE)
    }
    // V2: a retry carries the epoch the transaction had before EndTxn bumped it (or, when the
    // bump moved to a new producer id, the old id with the last epoch).
    const retryOnOverflow =
      txn.previousProducerId === producerId && epoch === MAX_EPOCH - 1 && txn.producerEpoch === 0 && completed
    const retryOnBump = txn.producerId === producerId && txn.producerEpoch === epoch + 1 && (prepared || completed)
    const retry = retryOnOverflow || retryOnBump
    if (txn.producerId !== producerId && !retryOnOverflow) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
    const validEpoch = prepared ? retryOnBump : retry || txn.producerEpoch === epoch
    if (!validEpoch) return fail(ErrorCode.PRODUCER_FENCED)
    if (prepared) return fail(sameOutcome ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE)
    if (txn.state === 'Ongoing') {
      this.prepare(txn, commit, true)
      return ok()
    }
    if (retry) return sameOutcome ? ok() : fail(ErrorCode.INVALID_TXN_STATE)
    // Empty, CompleteCommit, CompleteAbort with the current epoch: a new transaction that added
    // nothing. Aborting it is allowed in V2 (bumps the epoch); committing it is not.
    if (!commit) {
      txn.startMs = Date.now()
      this.prepare(txn, false, true)
      return ok()
    }
    return fail(ErrorCode.INVALID_TXN_STATE)
  }

  /**
   * Whether a transactional batch may be appended by a V1 client (Produce v3-11: KIP-890 part 1
   * verification; the partition must have been added with AddPartitionsToTxn).
   */
  verifyProduce(
    transactionalId: string | null,
    producerId: bigint,
    epoch: number,
    topic: string,
    partition: number,
  ): number {
    if (transactionalId === null) return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    if (this.inTransactionHere(producerId, epoch, topic, partition)) return 0
    const txn = this.txns.get(transactionalId)
    if (txn === undefined || txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    if (txn.producerEpoch !== epoch)
      return epoch < txn.producerEpoch ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.PRODUCER_FENCED
    // Not in the transaction: TRANSACTION_ABORTABLE, as Kafka 4.4's coordinator answers the
    // verification (the produce handler turns it into INVALID_TXN_STATE for v10 and older).
    if (txn.state !== 'Ongoing' || txn.partitions.get(topic)?.has(partition) !== true)
      return ErrorCode.TRANSACTION_ABORTABLE
    return 0
  }

  /**
   * A V2 client's transactional batch (Produce v12+): the partition leader adds the partition to
   * the transaction (AddPartitionsToTxn v5 to the coordinator in Kafka; PRODUCER_FENCED reaches
   * the producer as INVALID_PRODUCER_EPOCH, as AddPartitionsToTxnManager maps it).
   */
  registerProduce(
    transactionalId: string | null,
    producerId: bigint,
    epoch: number,
    topic: string,
    partition: number,
  ): number {
    if (transactionalId === null) return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    if (this.inTransactionHere(producerId, epoch, topic, partition)) return 0
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST
    if (this.cluster.coordinatorFor(transactionalId) === undefined) return ErrorCode.COORDINATOR_NOT_AVAILABLE
    const code = this.addPartitions(
      transactionalId,
      producerId,
      epoch,
      [{ name: topic, partitions: [partition] }],
      false,
      true,
    )
      .get(topic)
      ?.get(partition)
    return code === ErrorCode.PRODUCER_FENCED
      ? ErrorCode.INVALID_PRODUCER_EPOCH
      : (code ?? ErrorCode.UNKNOWN_SERVER_ERROR)
  }

  /**
   * The partition's producer state already has this producer's transaction open with this
   * epoch: only the first batch of a transaction on a partition is checked with the coordinator
   * (later ones are checked by the partition's producer state, epoch and sequence).
   */
  private inTransactionHere(producerId: bigint, epoch: number, topic: string, partition: number): boolean {
    const entry = this.cluster.topics.partition(topic, partition)?.producers.entries.get(producerId)
    return entry !== undefined && entry.currentTxnFirstOffset >= 0 && entry.epoch === epoch
  }

  /** Aborts transactions open longer than their timeout, fencing their producers. */
  abortTimedOut(now: number): void {
    for (const txn of this.txns.values()) {
      if (txn.state === 'Ongoing' && now - txn.startMs > txn.timeoutMs) {
        this.cluster.log.info(`aborting transaction ${txn.transactionalId} after its timeout of ${txn.timeoutMs} ms`)
        this.fenceAndAbort(txn, now)
      }
    }
  }

  private fenceAndAbort(txn: TxnMetadata, now: number): void {
    // prepareFenceProducerEpoch: the abort is written with epoch + 1, fencing the current
    // producer. One bump for V2 transactions too: Kafka 4.0.1 and 4.4.0 leave epoch + 1 after a
    // timeout (test/fixtures/txn-answers), not the + 2 a V2 EndTxn on top of the fence would give.
    if (!epochExhausted(txn.producerEpoch)) txn.producerEpoch++
    txn.lastProducerEpoch = NO_EPOCH
    this.prepare(txn, false, false)
    txn.lastUpdateMs = now
  }

  /** The Prepare state (`bump`: a V2 EndTxn's epoch bump); the markers follow after the marker delay. */
  private prepare(txn: TxnMetadata, commit: boolean, bump: boolean): void {
    if (bump) {
      txn.tv2 = true
      if (epochExhausted(txn.producerEpoch)) txn.nextProducerId = this.cluster.allocateProducerId()
      txn.lastProducerEpoch = txn.producerEpoch
      txn.producerEpoch++
    }
    txn.state = commit ? 'PrepareCommit' : 'PrepareAbort'
    txn.lastUpdateMs = Date.now()
    this.scheduleMarkers(txn)
  }

  private scheduleMarkers(txn: TxnMetadata): void {
    const id = txn.transactionalId
    if (this.pendingMarkers.has(id)) return
    const timer = setTimeout(() => {
      this.pendingMarkers.delete(id)
      this.writeMarkers(txn)
      this.cluster.persist()
    }, this.cluster.options.transactionMarkerDelayMs)
    timer.unref()
    this.pendingMarkers.set(id, timer)
  }

  /** Writes the markers of a Prepare state to every partition and completes the transaction. */
  private writeMarkers(txn: TxnMetadata): void {
    if (txn.state !== 'PrepareCommit' && txn.state !== 'PrepareAbort') return
    const commit = txn.state === 'PrepareCommit'
    const now = Date.now()
    for (const [topic, partitions] of txn.partitions) {
      for (const index of partitions) {
        const p = this.cluster.topics.partition(topic, index)
        if (p === undefined) continue
        const data = encodeControlBatch({
          type: commit ? 'commit' : 'abort',
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
          coordinatorEpoch: 0,
          timestamp: now,
        })
        const stored = p.log.append(data, readBatchHeader(data), p.leaderEpoch, now, false)
        p.producers.onMarker(txn.producerId, txn.producerEpoch, commit, stored.baseOffset, 0, now)
        p.scheduleReplication()
        p.notify()
      }
    }
    for (const groupId of txn.groups) this.cluster.groups.completeTransaction(groupId, txn.producerId, commit)
    txn.state = commit ? 'CompleteCommit' : 'CompleteAbort'
    if (txn.nextProducerId !== NO_PRODUCER_ID) {
      // V2 epoch overflow: the next transaction uses a new producer id (prepareComplete).
      txn.previousProducerId = txn.producerId
      txn.producerId = txn.nextProducerId
      txn.nextProducerId = NO_PRODUCER_ID
      txn.producerEpoch = 0
    }
    txn.partitions.clear()
    txn.groups.clear()
    txn.lastUpdateMs = now
  }
}
