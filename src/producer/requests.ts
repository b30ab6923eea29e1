// The Writer's two requests, built and read without Writer state: Produce (one request carries
// one batch per partition, grouped by topic) and InitProducerId for an idempotent producer.

import type { Input } from '../protocol/api.js'
import { InitProducerId, type ProduceRequest, type ProduceResponse } from '../protocol/messages/index.js'
import type { KafkaClient } from '../cluster/client.js'
import { retry, type RetryPolicy } from '../cluster/retry.js'
import type { ProducerBatch } from './accumulator.js'
import { initProducerIdError, type ProducerIdentity } from './idempotence.js'

const INT32_MAX = 0x7fffffff

export type PartitionResult = ProduceResponse['responses'][number]['partitionResponses'][number]

/** One Produce request for batches of distinct partitions, grouped by topic. */
export function produceRequest(
  batches: readonly ProducerBatch[],
  acks: number,
  timeoutMs: number,
  transactionalId: string | null = null,
): Input<ProduceRequest> {
  const byTopic = new Map<string, { index: number; records: Buffer }[]>()
  for (const b of batches) {
    let list = byTopic.get(b.topic)
    if (list === undefined) byTopic.set(b.topic, (list = []))
    list.push({ index: b.partition, records: b.encoded! })
  }
  return {
    transactionalId,
    acks,
    timeoutMs: Math.min(timeoutMs, INT32_MAX),
    topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })),
  }
}

/** A Produce response's partition results by `topic\u0000partition` (empty for acks=0, which has none). */
export function partitionResults(response: ProduceResponse | null): Map<string, PartitionResult> {
  const results = new Map<string, PartitionResult>()
  if (response === null) return results
  for (const t of response.responses) for (const p of t.partitionResponses) results.set(`${t.name}\u0000${p.index}`, p)
  return results
}

/** InitProducerId without a transactional id: always a new producer id at epoch 0. The retry owner of that request. */
export function initProducerId(client: KafkaClient, policy: RetryPolicy): Promise<ProducerIdentity> {
  return retry(
    policy,
    async () => {
      const response = await client.requestTo(
        client.anyBroker(),
        InitProducerId,
        // Java's idempotent producer sends Integer.MAX_VALUE: there is no transaction to time out.
        { transactionalId: null, transactionTimeoutMs: INT32_MAX, producerId: -1n, producerEpoch: -1 },
        { workload: 'admin' },
      )
      const error = initProducerIdError(response.errorCode)
      if (error !== null) throw error
      return { producerId: response.producerId, producerEpoch: response.producerEpoch }
    },
    { what: 'InitProducerId' },
  )
}
