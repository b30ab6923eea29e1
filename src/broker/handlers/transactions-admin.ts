// ListTransactions (66, v0-2) and DescribeTransactions (65, v0): the transaction coordinator's
// state for the Admin (KIP-664), as Kafka's TransactionStateManager answers: each broker lists
// the transactional ids it coordinates, without Dead ones; filters by state (unknown names are
// echoed in unknownStateFilters), producer id, duration (open longer than, v1) and id regex (v2,
// whole-id match; a bad pattern is INVALID_REGULAR_EXPRESSION). Ids the principal may not
// DESCRIBE are left out of listings and refused by DescribeTransactions.

import { ErrorCode } from '../../protocol/error-codes.js'
import { DescribeTransactions } from '../../protocol/messages/describe-transactions.js'
import { ListTransactions } from '../../protocol/messages/list-transactions.js'
import { AclOperation, ResourceType } from '../acls.js'
import type { TxnState } from '../transactions.js'
import { allowed } from './authz.js'
import { coordinatorError } from './find-coordinator.js'
import { defineHandler } from './types.js'

const STATES: readonly string[] = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
] satisfies readonly (TxnState | 'PrepareEpochFence')[]

export const listTransactionsHandler = defineHandler({
  api: ListTransactions,
  handle(ctx, req) {
    const unknownStateFilters = req.stateFilters.filter((s) => !STATES.includes(s))
    let pattern: RegExp | undefined
    if (ctx.version >= 2 && req.transactionalIdPattern !== null && req.transactionalIdPattern !== '') {
      try {
        pattern = new RegExp(`^(?:${req.transactionalIdPattern})$`, 'u')
      } catch {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION,
          unknownStateFilters: [],
          transactionStates: [],
        }
      }
    }
    const now = Date.now()
    const duration = ctx.version >= 1 ? Number(req.durationFilter) : -1
    const transactionStates = []
    for (const txn of ctx.cluster.transactions.txns.values()) {
      if (txn.state === 'Dead' || coordinatorError(ctx, txn.transactionalId) !== 0) continue
      if (req.stateFilters.length > 0 && !req.stateFilters.includes(txn.state)) continue
      if (req.producerIdFilters.length > 0 && !req.producerIdFilters.includes(txn.producerId)) continue
      if (duration >= 0 && now - txn.startMs <= duration) continue
      if (pattern !== undefined && !pattern.test(txn.transactionalId)) continue
      if (!allowed(ctx, ResourceType.TRANSACTIONAL_ID, txn.transactionalId, AclOperation.DESCRIBE)) continue
      transactionStates.push({
        transactionalId: txn.transactionalId,
        producerId: txn.producerId,
        transactionState: txn.state,
      })
    }
    return { throttleTimeMs: 0, errorCode: 0, unknownStateFilters, transactionStates }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, unknownStateFilters: [], transactionStates: [] }
  },
})

export const describeTransactionsHandler = defineHandler({
  api: DescribeTransactions,
  handle(ctx, req) {
    return {
      throttleTimeMs: 0,
      transactionStates: req.transactionalIds.map((id) => {
        const none = {
          transactionalId: id,
          transactionState: '',
          transactionTimeoutMs: 0,
          transactionStartTimeMs: -1n,
          producerId: -1n,
          producerEpoch: -1,
          topics: [],
        }
        if (!allowed(ctx, ResourceType.TRANSACTIONAL_ID, id, AclOperation.DESCRIBE))
          return { ...none, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED }
        const coord = coordinatorError(ctx, id)
        if (coord !== 0) return { ...none, errorCode: coord }
        const txn = ctx.cluster.transactions.txns.get(id)
        if (txn === undefined || txn.state === 'Dead')
          return { ...none, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND }
        return {
          errorCode: 0,
          transactionalId: id,
          transactionState: txn.state,
          transactionTimeoutMs: txn.timeoutMs,
          transactionStartTimeMs: BigInt(txn.startMs),
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
          // Partitions of topics the principal may not describe are left out, as Kafka does.
          topics: [...txn.partitions]
            .filter(([topic]) => allowed(ctx, ResourceType.TOPIC, topic, AclOperation.DESCRIBE))
            .map(([topic, set]) => ({ topic, partitions: [...set].sort((a, b) => a - b) })),
        }
      }),
    }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      transactionStates: req.transactionalIds.map((id) => ({
        errorCode,
        transactionalId: id,
        transactionState: '',
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1n,
        producerId: -1n,
        producerEpoch: -1,
        topics: [],
      })),
    }
  },
})
