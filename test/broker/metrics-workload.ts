// A fixed sequence of Produce and Fetch requests whose effect on a broker's BrokerTopicMetrics
// was captured from Apache Kafka 4.4.0 (test/fixtures/broker-metrics/): the same requests on the
// reference broker must move its meters by the same amounts. Each step is a case where Kafka's
// counting is not obvious: a duplicate idempotent batch, a produce refused for
// min.insync.replicas, a produce to a partition that does not exist, a fetch out of range.

import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { InitProducerId } from '../../src/protocol/messages/init-producer-id.js'
import { ListOffsets } from '../../src/protocol/messages/list-offsets.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { makeBatch, TestClient } from './helpers.js'

/** The meters compared, by their Kafka names (the per-topic MBeans). */
export const WORKLOAD_METERS = [
  'BytesInPerSec',
  'BytesOutPerSec',
  'MessagesInPerSec',
  'TotalProduceRequestsPerSec',
  'FailedProduceRequestsPerSec',
  'TotalFetchRequestsPerSec',
  'FailedFetchRequestsPerSec',
] as const

/** What each step answered (error codes), so a capture and a replay can be compared step by step. */
export interface WorkloadAnswers {
  steps: Record<string, number[]>
  /** The topics used: `${prefix}-main` (one partition) and `${prefix}-isr` (min.insync.replicas 2). */
  topics: string[]
}

/** Runs the workload against one broker (a single-node cluster). */
export async function runMetricsWorkload(address: string, prefix: string): Promise<WorkloadAnswers> {
  const c = await TestClient.connect(address)
  const main = `${prefix}-main`
  const isr = `${prefix}-isr`
  const steps: Record<string, number[]> = {}
  try {
    const created = await c.send(CreateTopics, 7, {
      topics: [
        { name: main, numPartitions: 1, replicationFactor: 1 },
        { name: isr, numPartitions: 1, replicationFactor: 1, configs: [{ name: 'min.insync.replicas', value: '2' }] },
      ],
      timeoutMs: 10_000,
    })
    steps.create = created.topics.map((t) => t.errorCode)
    // Leadership takes a moment on Kafka (Metadata names the leader before it leads): wait until
    // ListOffsets (not metered) answers, so no produce is refused as NOT_LEADER_OR_FOLLOWER,
    // which would count in TotalProduceRequestsPerSec.
    for (let i = 0; ; i++) {
      const lo = await c.send(ListOffsets, 7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [main, isr].map((name) => ({
          name,
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }],
        })),
      })
      if (lo.topics.every((t) => t.partitions.every((p) => p.errorCode === 0))) break
      if (i === 100) throw new Error('no leaders after 20 s')
      await new Promise((r) => setTimeout(r, 200))
    }
    const produce = async (topic: string, partition: number, acks: number, records: Buffer): Promise<number> => {
      const res = await c.send(Produce, 11, {
        acks,
        timeoutMs: 5000,
        topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
      })
      return res.responses[0]!.partitionResponses[0]!.errorCode
    }
    steps.plain = [await produce(main, 0, 1, await makeBatch(10))]
    // A fresh Kafka answers InitProducerId with an error (and producer id -1) until its producer
    // id manager is ready: retried, or the "idempotent" batches would be plain ones.
    let producerId = -1n
    let producerEpoch = -1
    for (let i = 0; producerId < 0n; i++) {
      const r = await c.send(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000 })
      if (r.errorCode === 0) ({ producerId, producerEpoch } = r)
      else if (i === 100) throw new Error(`InitProducerId failed with ${r.errorCode}`)
      else await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const idempotent = await makeBatch(5, { producerId, producerEpoch, baseSequence: 0 })
    steps.idempotent = [await produce(main, 0, -1, idempotent), await produce(main, 0, -1, idempotent)]
    steps.notEnoughReplicas = [await produce(isr, 0, -1, await makeBatch(2))]
    steps.noSuchPartition = [await produce(main, 5, 1, await makeBatch(1))]
    const fetch = async (offset: bigint): Promise<number> => {
      const res = await c.send(Fetch, 12, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: main, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
      })
      const data = res.responses[0]!.partitions[0]!
      steps.fetchedBytes!.push(data.records?.length ?? 0)
      steps.highWatermark!.push(Number(data.highWatermark))
      steps.lastStableOffset!.push(Number(data.lastStableOffset))
      steps.logStartOffset!.push(Number(data.logStartOffset))
      return data.errorCode
    }
    steps.fetchedBytes = []
    steps.highWatermark = []
    steps.lastStableOffset = []
    steps.logStartOffset = []
    steps.fetch = [await fetch(0n), await fetch(10n), await fetch(1000n)]
  } finally {
    c.close()
  }
  return { steps, topics: [main, isr] }
}
