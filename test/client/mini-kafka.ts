// A one-broker Kafka good enough to test the Writer's idempotence rules deterministically: it
// keeps a log per partition and, like Kafka, the last five batches' sequence numbers per producer
// id so that a retried batch is answered as a duplicate. A hook can fail, drop or hold any
// partition's produce.

import { readBatchHeader, decodeRecordBatches } from '../../src/protocol/record-batch.js'
import { FakeBroker, type ReceivedRequest } from './fake-broker.js'

export interface ProduceAttempt {
  topic: string
  partition: number
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  count: number
  values: string[]
}

/** What the hook wants done with one partition's produce: an error code, or drop the connection before/after appending. */
export type ProduceVerdict = number | 'drop-before-append' | 'drop-after-append' | 'hang' | undefined

interface ProducerEntry {
  epoch: number
  lastSequence: number
  cache: { first: number; last: number; offset: bigint }[]
}

interface PartitionLog {
  values: string[]
  producers: Map<bigint, ProducerEntry>
}

const INT32_MAX = 0x7fffffff

export class MiniKafka {
  readonly broker: FakeBroker
  readonly logs = new Map<string, PartitionLog>()
  readonly attempts: ProduceAttempt[] = []
  readonly initProducerIdRequests: { producerId: bigint; producerEpoch: number }[] = []
  produceHook: ((attempt: ProduceAttempt, index: number) => ProduceVerdict) | undefined
  /** When a producer id is unknown and the sequence is not 0: answer UNKNOWN_PRODUCER_ID (as if its state expired). */
  unknownProducerIdWhenForgotten = true
  #topics = new Map<string, number>()
  #nextProducerId = 1000n
  #producerEpochs = new Map<bigint, number>()

  private constructor(broker: FakeBroker) {
    this.broker = broker
  }

  static async start(topics: Record<string, number>): Promise<MiniKafka> {
    const holder: { mini?: MiniKafka } = {}
    const broker = await FakeBroker.start((r) => holder.mini!.handle(r))
    const mini = (holder.mini = new MiniKafka(broker))
    for (const [name, partitions] of Object.entries(topics)) mini.#topics.set(name, partitions)
    return mini
  }

  get address(): string {
    return this.broker.address
  }

  stop(): Promise<void> {
    return this.broker.stop()
  }

  /** Values in a partition's log, in offset order. */
  log(topic: string, partition: number): string[] {
    return this.logs.get(`${topic}/${partition}`)?.values ?? []
  }

  /** Forgets every producer's state (e.g. retention removed its last batch). */
  forgetProducers(): void {
    for (const log of this.logs.values()) log.producers.clear()
  }

  handle(r: ReceivedRequest): unknown {
    switch (r.api.name) {
      case 'Metadata':
        return this.#metadata(r)
      case 'InitProducerId':
        return this.#initProducerId(r)
      case 'Produce':
        return this.#produce(r)
      default:
        return undefined
    }
  }

  #metadata(r: ReceivedRequest): unknown {
    const requested: string[] = (r.body.topics ?? []).map((t: { name: string }) => t.name)
    return {
      brokers: [{ nodeId: 0, host: '127.0.0.1', port: this.broker.port, rack: null }],
      clusterId: 'mini',
      controllerId: 0,
      topics: requested.map((name) => {
        const n = this.#topics.get(name)
        if (n === undefined) return { errorCode: 3, name, partitions: [] }
        return {
          errorCode: 0,
          name,
          partitions: Array.from({ length: n }, (_, i) => ({
            partitionIndex: i,
            leaderId: 0,
            leaderEpoch: 0,
            replicaNodes: [0],
            isrNodes: [0],
            offlineReplicas: [],
          })),
        }
      }),
    }
  }

  #initProducerId(r: ReceivedRequest): unknown {
    const { producerId, producerEpoch } = r.body as { producerId: bigint; producerEpoch: number }
    this.initProducerIdRequests.push({ producerId, producerEpoch })
    if (producerId >= 0n && this.#producerEpochs.get(producerId) === producerEpoch) {
      this.#producerEpochs.set(producerId, producerEpoch + 1)
      return { errorCode: 0, producerId, producerEpoch: producerEpoch + 1 }
    }
    const id = this.#nextProducerId++
    this.#producerEpochs.set(id, 0)
    return { errorCode: 0, producerId: id, producerEpoch: 0 }
  }

  async #produce(r: ReceivedRequest): Promise<unknown> {
    const acks = r.body.acks as number
    const responses: unknown[] = []
    let drop: 'before' | 'after' | 'hang' | null = null
    for (const t of r.body.topicData as { name: string; partitionData: { index: number; records: Buffer }[] }[]) {
      const partitionResponses: unknown[] = []
      for (const p of t.partitionData) {
        const header = readBatchHeader(p.records)
        const batches = await decodeRecordBatches(p.records)
        const values = batches.flatMap((b) => b.records.map((x) => x.value?.toString('utf8') ?? ''))
        const attempt: ProduceAttempt = {
          topic: t.name,
          partition: p.index,
          producerId: header.producerId,
          producerEpoch: header.producerEpoch,
          baseSequence: header.baseSequence,
          count: values.length,
          values,
        }
        const index = this.attempts.push(attempt) - 1
        const verdict = this.produceHook?.(attempt, index)
        if (verdict === 'drop-before-append') {
          drop = 'before'
          continue
        }
        if (verdict === 'hang') {
          drop = 'hang'
          continue
        }
        const [errorCode, baseOffset] = typeof verdict === 'number' ? [verdict, -1n] : this.#append(attempt)
        if (verdict === 'drop-after-append') drop = 'after'
        partitionResponses.push({
          index: p.index,
          errorCode,
          baseOffset,
          logAppendTimeMs: -1n,
          logStartOffset: 0n,
          recordErrors: [],
          errorMessage: null,
        })
      }
      responses.push({ name: t.name, partitionResponses })
    }
    if (drop === 'hang') return 'none'
    if (drop !== null) {
      r.socket.destroy()
      return 'none'
    }
    if (acks === 0) return 'none'
    return { responses, throttleTimeMs: 0 }
  }

  #append(a: ProduceAttempt): [number, bigint] {
    const key = `${a.topic}/${a.partition}`
    let log = this.logs.get(key)
    if (log === undefined) this.logs.set(key, (log = { values: [], producers: new Map() }))
    if (a.producerId >= 0n) {
      const lastSequence =
        a.baseSequence > INT32_MAX - (a.count - 1)
          ? a.count - 1 - (INT32_MAX - a.baseSequence) - 1
          : a.baseSequence + a.count - 1
      let entry = log.producers.get(a.producerId)
      if (entry !== undefined && a.producerEpoch < entry.epoch) return [47, -1n] // INVALID_PRODUCER_EPOCH
      const dup = entry?.cache.find((c) => c.first === a.baseSequence && c.last === lastSequence)
      if (dup !== undefined && entry!.epoch === a.producerEpoch) return [0, dup.offset]
      if (entry === undefined || a.producerEpoch > entry.epoch) {
        if (a.baseSequence !== 0) return [entry === undefined && this.unknownProducerIdWhenForgotten ? 59 : 45, -1n]
        entry = { epoch: a.producerEpoch, lastSequence: -1, cache: [] }
        log.producers.set(a.producerId, entry)
      } else {
        const expected = entry.lastSequence === INT32_MAX ? 0 : entry.lastSequence + 1
        if (a.baseSequence !== expected) return [45, -1n] // OUT_OF_ORDER_SEQUENCE_NUMBER
      }
      entry.lastSequence = lastSequence
      entry.cache.push({ first: a.baseSequence, last: lastSequence, offset: BigInt(log.values.length) })
      if (entry.cache.length > 5) entry.cache.shift()
    }
    const offset = BigInt(log.values.length)
    log.values.push(...a.values)
    return [0, offset]
  }
}
