// The transaction coordinator and producer id allocation, after Kafka's TransactionCoordinator
// and TransactionMetadata (transaction.version 1 semantics: the client adds partitions with
// AddPartitionsToTxn; EndTxn does not bump the epoch).
//
// States: Empty → Ongoing (first AddPartitions/AddOffsets) → PrepareCommit/PrepareAbort →
// CompleteCommit/CompleteAbort. Markers are written to every partition synchronously, so the
// Prepare states are never observed from outside and CONCURRENT_TRANSACTIONS only appears where
// Kafka sends it deliberately (InitProducerId fencing an ongoing transaction).
//
// Fencing: InitProducerId bumps the epoch; an older epoch gets PRODUCER_FENCED (older request
// versions: INVALID_PRODUCER_EPOCH, mapped by the handlers). A transaction open longer than its
// timeout is aborted with a bumped epoch, which fences the producer that opened it.

import { ErrorCode } from '../protocol/error-codes.js'
import { encodeControlBatch, readBatchHeader } from '../protocol/record-batch.js'
import type { Cluster } from './cluster.js'

export type TxnState =
  'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort' | 'Dead'

export interface TxnMetadata {
  transactionalId: string
  producerId: bigint
  previousProducerId: bigint
  producerEpoch: number
  lastProducerEpoch: number
  timeoutMs: number
  state: TxnState
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

  constructor(private readonly cluster: Cluster) {
    // transaction.abort.timed.out.transaction.cleanup.interval.ms is 10 s in Kafka; a shorter
    // period changes nothing but the precision of the timeout.
    this.timer = setInterval(() => this.abortTimedOut(Date.now()), 1000)
    this.timer.unref()
  }

  shutdown(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
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
        producerEpoch: NO_EPOCH,
        lastProducerEpoch: NO_EPOCH,
        timeoutMs,
        state: 'Empty',
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
    if (txn === undefined || txn.producerId !== producerId) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING }
    if (txn.producerEpoch !== epoch) return { errorCode: ErrorCode.PRODUCER_FENCED }
    if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort')
      return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS }
    return { txn }
  }

  /** AddPartitionsToTxn; with `verifyOnly` (v4+ broker requests) only reports membership. */
  addPartitions(
    transactionalId: string,
    producerId: bigint,
    epoch: number,
    topics: { name: string; partitions: number[] }[],
    verifyOnly: boolean,
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
            t.partitions.map((p) => [p, txn.partitions.get(t.name)?.has(p) === true ? 0 : ErrorCode.INVALID_TXN_STATE]),
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
    this.begin(txn)
    for (const t of topics) {
      let set = txn.partitions.get(t.name)
      if (set === undefined) txn.partitions.set(t.name, (set = new Set()))
      for (const p of t.partitions) set.add(p)
    }
    return setAll(0)
  }

  addOffsets(transactionalId: string, producerId: bigint, epoch: number, groupId: string): number {
    const v = this.validate(transactionalId, producerId, epoch)
    if ('errorCode' in v) return v.errorCode
    this.begin(v.txn)
    v.txn.groups.add(groupId)
    return 0
  }

  private begin(txn: TxnMetadata): void {
    if (txn.state !== 'Ongoing') {
      txn.state = 'Ongoing'
      txn.startMs = Date.now()
      txn.partitions.clear()
      txn.groups.clear()
    }
    txn.lastUpdateMs = Date.now()
  }

  /** EndTxn: writes commit or abort markers to every partition of the transaction. */
  endTxn(transactionalId: string, producerId: bigint, epoch: number, commit: boolean): InitResult {
    const v = this.validate(transactionalId, producerId, epoch)
    if ('errorCode' in v) return { errorCode: v.errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_EPOCH }
    const txn = v.txn
    const ok = { errorCode: 0, producerId: txn.producerId, producerEpoch: txn.producerEpoch }
    switch (txn.state) {
      case 'Ongoing':
        this.complete(txn, commit, txn.producerEpoch)
        return ok
      case 'CompleteCommit':
        return commit ? ok : { ...ok, errorCode: ErrorCode.INVALID_TXN_STATE }
      case 'CompleteAbort':
        return commit ? { ...ok, errorCode: ErrorCode.INVALID_TXN_STATE } : ok
      default:
        return { ...ok, errorCode: ErrorCode.INVALID_TXN_STATE }
    }
  }

  /** Whether a transactional batch may be appended (KIP-890 part 1 verification). */
  verifyProduce(
    transactionalId: string | null,
    producerId: bigint,
    epoch: number,
    topic: string,
    partition: number,
  ): number {
    if (transactionalId === null) return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    const p = this.cluster.topics.partition(topic, partition)
    // Only the first batch of a transaction on a partition is verified; later ones are checked
    // by the partition's producer state (epoch and sequence).
    if (
      p !== undefined &&
      p.producers.entries.get(producerId)?.currentTxnFirstOffset !== undefined &&
      p.producers.entries.get(producerId)!.currentTxnFirstOffset >= 0
    )
      return 0
    const txn = this.txns.get(transactionalId)
    if (txn === undefined || txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    if (txn.producerEpoch !== epoch)
      return epoch < txn.producerEpoch ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.PRODUCER_FENCED
    if (txn.state !== 'Ongoing' || txn.partitions.get(topic)?.has(partition) !== true)
      return ErrorCode.INVALID_TXN_STATE
    return 0
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
    // prepareFenceProducerEpoch: the abort is written with epoch + 1, fencing the current producer.
    if (!epochExhausted(txn.producerEpoch)) txn.producerEpoch++
    txn.lastProducerEpoch = NO_EPOCH
    this.complete(txn, false, txn.producerEpoch)
    txn.lastUpdateMs = now
  }

  private complete(txn: TxnMetadata, commit: boolean, markerEpoch: number): void {
    txn.state = commit ? 'PrepareCommit' : 'PrepareAbort'
    const now = Date.now()
    for (const [topic, partitions] of txn.partitions) {
      for (const index of partitions) {
        const p = this.cluster.topics.partition(topic, index)
        if (p === undefined) continue
        const data = encodeControlBatch({
          type: commit ? 'commit' : 'abort',
          producerId: txn.producerId,
          producerEpoch: markerEpoch,
          coordinatorEpoch: 0,
          timestamp: now,
        })
        const stored = p.log.append(data, readBatchHeader(data), p.leaderEpoch, now, false)
        p.producers.onMarker(txn.producerId, markerEpoch, commit, stored.baseOffset, 0, now)
        p.scheduleReplication()
        p.notify()
      }
    }
    for (const groupId of txn.groups) this.cluster.groups.completeTransaction(groupId, txn.producerId, commit)
    txn.state = commit ? 'CompleteCommit' : 'CompleteAbort'
    txn.partitions.clear()
    txn.groups.clear()
    txn.lastUpdateMs = now
  }
}
