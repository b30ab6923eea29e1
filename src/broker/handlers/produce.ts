// Produce (key 0), v3-13 (advertised from v0 like Kafka 4.0; v0-2 close the connection; v13
// names topics by id, an unknown id is UNKNOWN_TOPIC_ID).
//
// Per partition, in Kafka's order (KafkaApis.handleProduceRequest → ReplicaManager.appendRecords
// → Partition.appendRecordsToLeader → UnifiedLog.append / LogValidator):
//   1. unknown topic/partition → UNKNOWN_TOPIC_OR_PARTITION; not the leader →
//      NOT_LEADER_OR_FOLLOWER (v10+: with the current leader and its endpoint, KIP-951)
//   2. ProduceRequest.validateRecords: exactly one batch, magic 2 → else INVALID_RECORD;
//      zstd before v7 → UNSUPPORTED_COMPRESSION_TYPE
//   3. structure and CRC → CORRUPT_MESSAGE; larger than max.message.bytes → MESSAGE_TOO_LARGE
//   4. LogValidator: offset range/count, control batches, producer id without sequence →
//      INVALID_RECORD; null keys on a compacted topic → INVALID_RECORD with record errors;
//      timestamps beyond message.timestamp.{before,after}.max.ms → INVALID_TIMESTAMP
//   5. transactional batches must belong to an ongoing transaction holding the partition →
//      TRANSACTION_ABORTABLE, INVALID_TXN_STATE before v11 ("Partition was not added to the
//      transaction", KIP-890 verification, as Kafka 4.4 answers);
//      v12+ (Transactions V2) adds the partition to the transaction instead
//   6. acks=-1 with ISR below min.insync.replicas → NOT_ENOUGH_REPLICAS (capped at the replica
//      count: Kafka 4.0.1 and 4.4.0 accept acks=-1 on a single replica with min.insync.replicas=2)
//   7. idempotence (producers.ts): duplicates answer with the original offsets
//   8. append: offsets assigned in place, LogAppendTime stamped if configured
// Authorization (KafkaApis): a request carrying transactional batches needs WRITE on its
// transactional id (else the whole request is TRANSACTIONAL_ID_AUTHORIZATION_FAILED); each topic
// needs WRITE (TOPIC_AUTHORIZATION_FAILED per partition).
// acks=0 sends no response; if any partition failed Kafka closes the connection instead, so
// the producer notices. acks=-1 waits until the ISR has the batch (high watermark), the request
// timeout (REQUEST_TIMED_OUT) or a leader change (NOT_LEADER_OR_FOLLOWER).

import type { Input } from '../../protocol/api.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import {
  Produce,
  type ProduceRequest,
  type ProduceResponsePartitionProduceResponse,
} from '../../protocol/messages/produce.js'
import {
  decodeRecordBatch,
  readBatchHeader,
  splitBatches,
  verifyBatchCrc,
  type RecordBatchHeader,
} from '../../protocol/record-batch.js'
import type { Partition } from '../topics.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed } from './authz.js'
import { leaderFor, nodeEndpoint, waitForPartitions } from './common.js'
import { resolveTopic } from './topic-ids.js'
import { defineHandler, type RequestContext } from './types.js'

type PartitionResponse = Input<ProduceResponsePartitionProduceResponse>

interface Appended {
  partition: Partition
  response: PartitionResponse
  /** The offset the high watermark must pass for acks=-1. */
  requiredOffset: number
  /** What BytesInPerSec and MessagesInPerSec count: the records' size and record count. */
  bytes: number
  records: number
}

const MAGIC_OFFSET = 16

function failure(
  index: number,
  errorCode: number,
  errorMessage: string | null = null,
  version = 0,
  logStartOffset = -1,
): PartitionResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: BigInt(logStartOffset),
    errorMessage: version >= 8 ? errorMessage : null,
  }
}

/**
 * min.insync.replicas, never more than the partition has replicas (Partition.effectiveMinIsr):
 * seen on Kafka 4.0.1 and 4.4.0, test/fixtures/broker-metrics.
 */
function effectiveMinIsr(p: Partition): number {
  return Math.min(p.topic.configNumber('min.insync.replicas'), p.replicas.length)
}

/** Java's `RecordError.toString()`, as listed in LogValidator.processRecordErrors' message. */
function recordErrorString(e: { batchIndex: number; message: string }): string {
  return `RecordError(batchIndex=${e.batchIndex}, message='${e.message}')`
}

/** Validates and appends one partition's records; returns the response (and what acks=-1 waits for). */
async function appendPartition(
  ctx: RequestContext,
  req: ProduceRequest,
  topicName: string,
  index: number,
  records: Buffer | null,
  endpoints: Set<number>,
): Promise<{ response: PartitionResponse; appended?: Appended }> {
  const { version, cluster } = ctx
  // faults.failPartition: this partition alone fails, before anything of it is applied.
  const injected = cluster.faults.takePartition(ctx.broker.id, Produce.apiKey, topicName, index)
  if (injected !== undefined) return { response: failure(index, injected, null, version) }
  const lookup = leaderFor(ctx, topicName, index)
  if (!lookup.ok) {
    const r = failure(index, lookup.errorCode, null, version)
    if (lookup.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER && version >= 10 && lookup.partition !== undefined) {
      r.currentLeader = { leaderId: lookup.partition.leader, leaderEpoch: lookup.partition.leaderEpoch }
      if (lookup.partition.leader >= 0) endpoints.add(lookup.partition.leader)
    }
    return { response: r }
  }
  const p = lookup.partition
  const topic = p.topic
  // What Kafka sends on a partition error (ReplicaManager.appendToLocalLog / handleAppendError):
  // - errors ProduceRequest.validateRecords (KafkaApis) or the RecordTooLarge / CorruptRecord
  //   cases catch: no message, logStartOffset -1 (LogAppendInfo.UNKNOWN_LOG_APPEND_INFO);
  // - any other exception from Partition.appendRecordsToLeader / UnifiedLog.append (batch-level
  //   INVALID_RECORD, NOT_ENOUGH_REPLICAS, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH,
  //   INVALID_TXN_STATE): no message (hasCustomErrorMessage = false), the log start offset;
  // - a RecordValidationException (LogValidator's per-record errors): its message, the record
  //   errors and the log start offset.
  const fail = (code: number, message: string | null = null): { response: PartitionResponse } => ({
    response: failure(index, code, message, version),
  })
  const failInLog = (code: number): { response: PartitionResponse } => ({
    response: failure(index, code, null, version, p.logStartOffset),
  })

  // 2. ProduceRequest.validateRecords
  let batches: Buffer[]
  try {
    batches = records === null ? [] : splitBatches(records)
  } catch {
    return fail(ErrorCode.CORRUPT_MESSAGE)
  }
  // KafkaApis answers these with `new PartitionResponse(Errors.forException(e))`: no message.
  if (batches.length === 0) return fail(ErrorCode.INVALID_RECORD)
  const data = batches[0]!
  if (data.length <= MAGIC_OFFSET || data[MAGIC_OFFSET] !== 2) return fail(ErrorCode.INVALID_RECORD)
  if (batches.length > 1) return fail(ErrorCode.INVALID_RECORD)

  // 3. Structure, CRC, size
  let h: RecordBatchHeader
  try {
    h = readBatchHeader(data)
    verifyBatchCrc(data)
  } catch {
    return fail(ErrorCode.CORRUPT_MESSAGE)
  }
  if (version < 7 && h.compression === 'zstd') return fail(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE)
  if (h.size > topic.configNumber('max.message.bytes')) return fail(ErrorCode.MESSAGE_TOO_LARGE)

  // 4. LogValidator.validateBatch: InvalidRecordException, answered without a message.
  if (h.lastOffsetDelta < 0 || h.recordCount <= 0 || h.lastOffsetDelta + 1 !== h.recordCount || h.isControl)
    return failInLog(ErrorCode.INVALID_RECORD)
  if (h.producerId >= 0n && h.baseSequence < 0) return failInLog(ErrorCode.INVALID_RECORD)
  if (h.isTransactional && h.producerId < 0n) return failInLog(ErrorCode.INVALID_RECORD)
  const tp = `${topicName}-${index}`
  const now = Date.now()
  const logAppendTime = topic.config('message.timestamp.type') === 'LogAppendTime'
  // LogValidator.validateRecord, per record: a null key on a compacted topic, else a CreateTime
  // timestamp beyond message.timestamp.{before,after}.max.ms. The header's first and largest
  // timestamps tell whether any record can be out of range; only then are the records decoded.
  const before = Number(topic.config('message.timestamp.before.max.ms'))
  const after = Number(topic.config('message.timestamp.after.max.ms'))
  const checkTimestamps =
    !logAppendTime && (now - Number(h.baseTimestamp) > before || Number(h.maxTimestamp) - now > after)
  if (topic.compacted || checkTimestamps) {
    let decoded
    try {
      decoded = await decodeRecordBatch(data, { verifyCrc: false })
    } catch {
      return fail(ErrorCode.CORRUPT_MESSAGE)
    }
    const errors: { batchIndex: number; message: string; timestamp: boolean }[] = []
    decoded.records.forEach((r, i) => {
      if (topic.compacted && r.key === null) {
        errors.push({
          batchIndex: i,
          message: `Compacted topic cannot accept message without key in topic partition ${tp}.`,
          timestamp: false,
        })
        return
      }
      const ts = Number(r.timestamp)
      if (!logAppendTime && ts !== -1 && (now - ts > before || ts - now > after)) {
        errors.push({
          batchIndex: i,
          message: `Timestamp ${ts} of message with offset ${r.offset} is out of range. The timestamp should be within [${now - before}, ${now + after}]`,
          timestamp: true,
        })
      }
    })
    if (errors.length > 0) {
      // LogValidator.processRecordErrors: a RecordValidationException, its message sent as is.
      const invalidTimestamp = errors.some((e) => e.timestamp)
      const message = invalidTimestamp
        ? 'One or more records have been rejected due to invalid timestamp'
        : `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${errors
            .slice(0, 3)
            .map(recordErrorString)
            .join(', ')}]`
      const r = failure(
        index,
        invalidTimestamp ? ErrorCode.INVALID_TIMESTAMP : ErrorCode.INVALID_RECORD,
        message,
        version,
        p.logStartOffset,
      )
      if (version >= 8)
        r.recordErrors = errors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message }))
      return { response: r }
    }
  }

  // 5. Transactions (ReplicaManager's KIP-890 verification: INVALID_TXN_STATE carries a message
  // and no log start offset; ProducerAppendInfo's own check is a plain exception)
  // Produce v12+ comes from a Transactions V2 client: the partition joins the transaction here
  // (AddPartitionsToTxnManager's ADD_PARTITION); older versions are only verified.
  if (h.isTransactional) {
    const code = (version >= 12 ? cluster.transactions.registerProduce : cluster.transactions.verifyProduce).call(
      cluster.transactions,
      req.transactionalId,
      h.producerId,
      h.producerEpoch,
      topicName,
      index,
    )
    if (code === ErrorCode.TRANSACTION_ABORTABLE) {
      // Clients before v11 do not know TRANSACTION_ABORTABLE (AddPartitionsToTxnManager's DEFAULT_ERROR).
      return fail(version >= 11 ? code : ErrorCode.INVALID_TXN_STATE, 'Partition was not added to the transaction')
    }
    if (code !== 0) return fail(code, null)
  }
  const txnState = p.producers.checkTxnState(h)
  if (txnState !== undefined) return failInLog(txnState.errorCode)

  // 6. min.insync.replicas
  if (req.acks === -1 && p.isr.length < effectiveMinIsr(p)) return failInLog(ErrorCode.NOT_ENOUGH_REPLICAS)

  // 7. Idempotence. A duplicate is answered like UnifiedLog.append does: the original offsets and,
  // as logAppendTime, the original batch's max timestamp (BatchMetadata.timestamp), whatever the
  // topic's timestamp type.
  const check = p.producers.check(h)
  if (check.kind === 'error') return failInLog(check.errorCode)
  if (check.kind === 'duplicate') {
    const response: PartitionResponse = {
      index,
      errorCode: 0,
      baseOffset: BigInt(check.batch.firstOffset),
      logAppendTimeMs: BigInt(check.batch.timestamp),
      logStartOffset: BigInt(p.logStartOffset),
    }
    return {
      response,
      appended: {
        partition: p,
        response,
        requiredOffset: check.batch.lastOffset + 1,
        bytes: data.length,
        records: h.recordCount,
      },
    }
  }

  // 8. Append (a private copy: the request buffer may be a view of a larger socket chunk).
  const owned = p.log.copyForAppend(data)
  const stored = p.log.append(owned, h, p.leaderEpoch, now, logAppendTime)
  // Kafka keeps the batch's max timestamp (the append time for LogAppendTime) in the producer state.
  p.producers.onAppend(h, stored.baseOffset, stored.lastOffset, logAppendTime ? now : Number(h.maxTimestamp))
  p.scheduleReplication()
  p.notify()
  const response: PartitionResponse = {
    index,
    errorCode: 0,
    baseOffset: BigInt(stored.baseOffset),
    logAppendTimeMs: logAppendTime ? BigInt(now) : -1n,
    logStartOffset: BigInt(p.logStartOffset),
  }
  return {
    response,
    appended: {
      partition: p,
      response,
      requiredOffset: stored.lastOffset + 1,
      bytes: data.length,
      records: h.recordCount,
    },
  }
}

/** RequestUtils.hasTransactionalRecords: some partition's first batch is transactional. */
function hasTransactionalRecords(req: ProduceRequest): boolean {
  return req.topicData.some((t) =>
    t.partitionData.some((pd) => {
      if (pd.records === null) return false
      try {
        return readBatchHeader(pd.records).isTransactional
      } catch {
        return false // not a readable v2 batch: refused later as Kafka does (INVALID_RECORD, CORRUPT_MESSAGE)
      }
    }),
  )
}

function produceFailure(ctx: RequestContext, req: ProduceRequest, errorCode: number) {
  if (req.acks === 0) {
    ctx.connection.close('acks=0 produce failed')
    return null
  }
  return {
    responses: req.topicData.map((t) => ({
      ...resolveTopic(ctx, 13, t).answer,
      partitionResponses: t.partitionData.map((p) => failure(p.index, errorCode, null, ctx.version)),
    })),
  }
}

export const produceHandler = defineHandler({
  api: Produce,
  advertisedMinVersion: 0,
  async handle(ctx, req) {
    const { version, cluster } = ctx
    if (
      hasTransactionalRecords(req) &&
      (req.transactionalId === null ||
        !allowed(ctx, ResourceType.TRANSACTIONAL_ID, req.transactionalId, AclOperation.WRITE))
    )
      return produceFailure(ctx, req, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    const endpoints = new Set<number>()
    const responses: { name: string; topicId: string; partitionResponses: PartitionResponse[] }[] = []
    const waits: Appended[] = []
    let anyError = false
    const validAcks = req.acks === -1 || req.acks === 0 || req.acks === 1
    for (const t of req.topicData) {
      const partitionResponses: PartitionResponse[] = []
      const topic = resolveTopic(ctx, 13, t)
      const writable = allowed(ctx, ResourceType.TOPIC, topic.name, AclOperation.WRITE)
      for (const pd of t.partitionData) {
        const refused = !validAcks
          ? ErrorCode.INVALID_REQUIRED_ACKS
          : !writable
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : topic.unknownId
              ? ErrorCode.UNKNOWN_TOPIC_ID
              : 0
        if (refused !== 0) {
          partitionResponses.push(failure(pd.index, refused, null, version))
          anyError = true
          continue
        }
        const { response, appended } = await appendPartition(ctx, req, topic.name, pd.index, pd.records, endpoints)
        // Partitions Kafka's metadata cache does not know never reach its replica manager: not
        // counted (test/fixtures/broker-metrics); a refused NOT_LEADER_OR_FOLLOWER one is.
        if (cluster.topics.partition(topic.name, pd.index) !== undefined)
          ctx.broker.metricsRecorder.produced(topic.name, response.errorCode ?? 0, appended)
        if (response.errorCode !== 0) anyError = true
        partitionResponses.push(response)
        if (appended !== undefined && req.acks === -1) waits.push(appended)
      }
      responses.push({ ...topic.answer, partitionResponses })
    }
    if (req.acks === 0) {
      if (anyError)
        ctx.connection.close('acks=0 produce failed; closing the connection so the producer notices (as Kafka does)')
      return null
    }
    const watched = waits.map((w) => {
      const p = w.partition
      const leader = p.leader
      const epoch = p.leaderEpoch
      const moved = (): boolean => p.leader !== leader || p.leaderEpoch !== epoch
      return { w, moved, partition: p, ready: () => p.highWatermark >= w.requiredOffset || moved() }
    })
    const outcomes = await waitForPartitions(watched, req.timeoutMs, ctx.signal)
    watched.forEach(({ w, moved, partition: p }, i) => {
      if (outcomes[i] === 'timeout') {
        w.response.errorCode = ErrorCode.REQUEST_TIMED_OUT
        w.response.errorMessage = null
      } else if (moved()) {
        w.response.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER
        if (version >= 10) {
          w.response.currentLeader = { leaderId: p.leader, leaderEpoch: p.leaderEpoch }
          if (p.leader >= 0) endpoints.add(p.leader)
        }
      } else if (p.isr.length < effectiveMinIsr(p)) {
        w.response.errorCode = ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
      }
    })
    const nodeEndpoints =
      version >= 10 ? [...endpoints].map((id) => nodeEndpoint(cluster, id)).filter((e) => e !== undefined) : []
    return { responses, throttleTimeMs: 0, nodeEndpoints }
  },
  errorResponse(ctx, req, errorCode) {
    return produceFailure(ctx, req, errorCode)
  },
})
