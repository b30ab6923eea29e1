// InitProducerId (22), v0-5. Without a transactional id: a new producer id with epoch 0 (Kafka
// gives idempotent producers a fresh id every time). With one: handled by the transaction
// coordinator (epoch bump, KIP-360 recovery, fencing); it must reach the coordinator.
// A producer id without an epoch (or the reverse) is INVALID_REQUEST; PRODUCER_FENCED is sent
// as INVALID_PRODUCER_EPOCH to v0-3 clients, which do not know it (KafkaApis).

import { ErrorCode } from '../../protocol/error-codes.js'
import { InitProducerId } from '../../protocol/messages/init-producer-id.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed, anyAllowed, clusterAllowed } from './authz.js'
import { coordinatorError } from './find-coordinator.js'
import { defineHandler } from './types.js'

export const initProducerIdHandler = defineHandler({
  api: InitProducerId,
  handle(ctx, req) {
    const fail = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 })
    const pid = ctx.version >= 3 ? req.producerId : -1n
    const epoch = ctx.version >= 3 ? req.producerEpoch : -1
    if ((pid === -1n) !== (epoch === -1)) return fail(ErrorCode.INVALID_REQUEST)
    // Kafka: WRITE on the transactional id; an idempotent producer needs IDEMPOTENT_WRITE on the
    // cluster or WRITE on some topic.
    if (req.transactionalId !== null && req.transactionalId !== '') {
      if (!allowed(ctx, ResourceType.TRANSACTIONAL_ID, req.transactionalId, AclOperation.WRITE))
        return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    } else if (
      !clusterAllowed(ctx, AclOperation.IDEMPOTENT_WRITE) &&
      !anyAllowed(ctx, ResourceType.TOPIC, AclOperation.WRITE)
    ) {
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    }
    if (req.transactionalId !== null && req.transactionalId !== '') {
      const coord = coordinatorError(ctx, req.transactionalId)
      if (coord !== 0) return fail(coord)
    }
    const r = ctx.cluster.transactions.initProducerId(
      req.transactionalId,
      req.transactionTimeoutMs,
      pid === -1n ? undefined : { producerId: pid, epoch },
    )
    const errorCode =
      ctx.version < 4 && r.errorCode === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : r.errorCode
    return { throttleTimeMs: 0, errorCode, producerId: r.producerId, producerEpoch: r.producerEpoch }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, producerId: -1n, producerEpoch: -1 }
  },
})
