// Produce (key 0), v3-12 (advertised from v0 like Kafka 4.0; v0-2 close the connection).
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
//      INVALID_TXN_STATE ("Partition was not added to the transaction", KIP-890 verification)
//   6. acks=-1 with ISR below min.insync.replicas → NOT_ENOUGH_REPLICAS
//   7. idempotence (producers.ts): duplicates answer with the original offsets
//   8. append: offsets assigned in place, LogAppendTime stamped if configured
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
import { leaderFor, nodeEndpoint, waitForPartition } from './common.js'
import { defineHandler, type RequestContext } from './types.js'

type PartitionResponse = Input<ProduceResponsePartitionProduceResponse>

interface Appended {
  partition: Partition
  response: PartitionResponse
  /** The offset the high watermark must pass for acks=-1. */
  requiredOffset: number
}

const MAGIC_OFFSET = 16

function failure(index: number, errorCode: number, errorMessage: string | null = null, version = 0): PartitionResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    errorMessage: version >= 8 ? errorMessage : null,
  }
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
  const fail = (code: number, message: string | null = null): { response: PartitionResponse } => ({
    response: failure(index, code, message, version),
  })

  // 2. ProduceRequest.validateRecords
  let batches: Buffer[]
  try {
    batches = records === null ? [] : splitBatches(records)
  } catch (err) {
    return fail(ErrorCode.CORRUPT_MESSAGE, (err as Error).message)
  }
  if (batches.length === 0)
    return fail(
      ErrorCode.INVALID_RECORD,
      `Produce requests with version ${version} must have at least one record batch per partition`,
    )
  const data = batches[0]!
  if (data.length <= MAGIC_OFFSET || data[MAGIC_OFFSET] !== 2) {
    return fail(
      ErrorCode.INVALID_RECORD,
      `Produce requests with version ${version} are only allowed to contain record batches with magic version 2`,
    )
  }
  if (batches.length > 1)
    return fail(
      ErrorCode.INVALID_RECORD,
      `Produce requests with version ${version} are only allowed to contain exactly one record batch per partition`,
    )

  // 3. Structure, CRC, size
  let h: RecordBatchHeader
  try {
    h = readBatchHeader(data)
    verifyBatchCrc(data)
  } catch (err) {
    return fail(ErrorCode.CORRUPT_MESSAGE, (err as Error).message)
  }
  if (version < 7 && h.compression === 'zstd')
    return fail(
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      `Produce requests with version ${version} are not allowed to use ZStandard compression`,
    )
  const maxMessageBytes = topic.configNumber('max.message.bytes')
  if (h.size > maxMessageBytes) {
    return fail(
      ErrorCode.MESSAGE_TOO_LARGE,
      `The record batch size in the append to ${topicName}-${index} is ${h.size} bytes which exceeds the maximum configured value of ${maxMessageBytes}.`,
    )
  }

  // 4. LogValidator.validateBatch
  const tp = `${topicName}-${index}`
  if (h.lastOffsetDelta < 0)
    return fail(
      ErrorCode.INVALID_RECORD,
      `Batch has an invalid offset range: [0, ${h.lastOffsetDelta}] in topic partition ${tp}.`,
    )
  if (h.recordCount <= 0)
    return fail(
      ErrorCode.INVALID_RECORD,
      `Invalid reported count for record batch: ${h.recordCount} in topic partition ${tp}.`,
    )
  if (h.lastOffsetDelta + 1 !== h.recordCount) {
    return fail(
      ErrorCode.INVALID_RECORD,
      `Inconsistent batch offset range [0, ${h.lastOffsetDelta}] and count of records ${h.recordCount} in topic partition ${tp}.`,
    )
  }
  if (h.isControl)
    return fail(ErrorCode.INVALID_RECORD, `Clients are not allowed to write control records in topic partition ${tp}.`)
  if (h.producerId >= 0n && h.baseSequence < 0) {
    return fail(
      ErrorCode.INVALID_RECORD,
      `Invalid sequence number ${h.baseSequence} in record batch with producerId ${h.producerId} in topic partition ${tp}.`,
    )
  }
  if (h.isTransactional && h.producerId < 0n)
    return fail(ErrorCode.INVALID_RECORD, `Transactional record batch without a producer id in topic partition ${tp}.`)
  const now = Date.now()
  const logAppendTime = topic.config('message.timestamp.type') === 'LogAppendTime'
  if (!logAppendTime) {
    const before = Number(topic.config('message.timestamp.before.max.ms'))
    const after = Number(topic.config('message.timestamp.after.max.ms'))
    // Kafka checks each record; the header's first and largest timestamps bound them.
    if (now - Number(h.baseTimestamp) > before || Number(h.maxTimestamp) - now > after) {
      const r = failure(
        index,
        ErrorCode.INVALID_TIMESTAMP,
        `Timestamp of a record in ${tp} is out of range (message.timestamp.before.max.ms/after.max.ms)`,
        version,
      )
      if (version >= 8) r.recordErrors = [{ batchIndex: 0, batchIndexErrorMessage: null }]
      return { response: r }
    }
  }
  if (topic.compacted) {
    try {
      const decoded = await decodeRecordBatch(data, { verifyCrc: false })
      const bad = decoded.records.map((r, i) => (r.key === null ? i : -1)).filter((i) => i >= 0)
      if (bad.length > 0) {
        const message = `Compacted topic cannot accept message without key in topic partition ${tp}.`
        const r = failure(index, ErrorCode.INVALID_RECORD, message, version)
        if (version >= 8) r.recordErrors = bad.map((i) => ({ batchIndex: i, batchIndexErrorMessage: message }))
        return { response: r }
      }
    } catch (err) {
      return fail(ErrorCode.CORRUPT_MESSAGE, (err as Error).message)
    }
  }

  // 5. Transactions
  if (h.isTransactional) {
    const code = cluster.transactions.verifyProduce(
      req.transactionalId,
      h.producerId,
      h.producerEpoch,
      topicName,
      index,
    )
    if (code !== 0)
      return fail(code, code === ErrorCode.INVALID_TXN_STATE ? 'Partition was not added to the transaction' : null)
  }
  const txnState = p.producers.checkTxnState(h)
  if (txnState !== undefined) return fail(txnState.errorCode, txnState.message)

  // 6. min.insync.replicas
  const minIsr = topic.configNumber('min.insync.replicas')
  if (req.acks === -1 && p.isr.length < minIsr) {
    return fail(
      ErrorCode.NOT_ENOUGH_REPLICAS,
      `The size of the current ISR ${p.isr.length} is insufficient to satisfy the min.isr requirement of ${minIsr} for partition ${tp}`,
    )
  }

  // 7. Idempotence
  const check = p.producers.check(h)
  if (check.kind === 'error') return fail(check.errorCode, check.message)
  if (check.kind === 'duplicate') {
    const response: PartitionResponse = {
      index,
      errorCode: 0,
      baseOffset: BigInt(check.batch.firstOffset),
      logAppendTimeMs: -1n,
      logStartOffset: BigInt(p.logStartOffset),
    }
    return { response, appended: { partition: p, response, requiredOffset: check.batch.lastOffset + 1 } }
  }

  // 8. Append (a private copy: the request buffer may be a view of a larger socket chunk).
  const owned = Buffer.allocUnsafeSlow(data.length)
  data.copy(owned)
  const stored = p.log.append(owned, h, p.leaderEpoch, now, logAppendTime)
  p.producers.onAppend(h, stored.baseOffset, stored.lastOffset, now)
  p.replicate()
  p.notify()
  const response: PartitionResponse = {
    index,
    errorCode: 0,
    baseOffset: BigInt(stored.baseOffset),
    logAppendTimeMs: logAppendTime ? BigInt(now) : -1n,
    logStartOffset: BigInt(p.logStartOffset),
  }
  return { response, appended: { partition: p, response, requiredOffset: stored.lastOffset + 1 } }
}

export const produceHandler = defineHandler({
  api: Produce,
  advertisedMinVersion: 0,
  async handle(ctx, req) {
    const { version, cluster } = ctx
    const endpoints = new Set<number>()
    const responses: { name: string; partitionResponses: PartitionResponse[] }[] = []
    const waits: Appended[] = []
    let anyError = false
    const validAcks = req.acks === -1 || req.acks === 0 || req.acks === 1
    for (const t of req.topicData) {
      const partitionResponses: PartitionResponse[] = []
      for (const pd of t.partitionData) {
        if (!validAcks) {
          partitionResponses.push(failure(pd.index, ErrorCode.INVALID_REQUIRED_ACKS, null, version))
          anyError = true
          continue
        }
        const { response, appended } = await appendPartition(ctx, req, t.name, pd.index, pd.records, endpoints)
        if (response.errorCode !== 0) anyError = true
        partitionResponses.push(response)
        if (appended !== undefined && req.acks === -1) waits.push(appended)
      }
      responses.push({ name: t.name, partitionResponses })
    }
    if (req.acks === 0) {
      if (anyError)
        ctx.connection.close('acks=0 produce failed; closing the connection so the producer notices (as Kafka does)')
      return null
    }
    await Promise.all(
      waits.map(async (w) => {
        const p = w.partition
        const leader = p.leader
        const epoch = p.leaderEpoch
        const outcome = await waitForPartition(
          p,
          () => p.highWatermark >= w.requiredOffset || p.leader !== leader || p.leaderEpoch !== epoch,
          req.timeoutMs,
          ctx.signal,
        )
        if (outcome === 'timeout') {
          w.response.errorCode = ErrorCode.REQUEST_TIMED_OUT
          w.response.errorMessage = null
        } else if (p.leader !== leader || p.leaderEpoch !== epoch) {
          w.response.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER
          if (version >= 10) {
            w.response.currentLeader = { leaderId: p.leader, leaderEpoch: p.leaderEpoch }
            if (p.leader >= 0) endpoints.add(p.leader)
          }
        } else if (p.isr.length < p.topic.configNumber('min.insync.replicas')) {
          w.response.errorCode = ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
        }
      }),
    )
    const nodeEndpoints =
      version >= 10 ? [...endpoints].map((id) => nodeEndpoint(cluster, id)).filter((e) => e !== undefined) : []
    return { responses, throttleTimeMs: 0, nodeEndpoints }
  },
  errorResponse(ctx, req, errorCode) {
    if (req.acks === 0) {
      ctx.connection.close('acks=0 produce failed')
      return null
    }
    return {
      responses: req.topicData.map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((p) => failure(p.index, errorCode, null, ctx.version)),
      })),
    }
  },
})
