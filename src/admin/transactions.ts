// Transactions (KIP-664): ListTransactions on every broker (each lists the transactional ids it
// coordinates) and DescribeTransactions on each id's transaction coordinator (FindCoordinator
// key type 1). States are Kafka's names: 'Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit'...

import { KafkaError } from '../errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { DescribeTransactions, FindCoordinator, ListTransactions } from '../protocol/messages/index.js'
import { batch, retried, type AdminCallOptions, type AdminContext, type Outcome } from './context.js'

const TRANSACTION_KEY_TYPE = 1

export interface TransactionListing {
  transactionalId: string
  producerId: bigint
  state: string
}

export interface ListTransactionsOptions extends AdminCallOptions {
  /** Only these states (Kafka's names, e.g. 'Ongoing'). */
  states?: readonly string[]
  producerIds?: readonly (bigint | number)[]
  /** Only transactions open longer than this (ms); needs ListTransactions v1 (Kafka 3.8+). */
  durationMs?: number
  /** Only ids the regular expression matches whole; needs ListTransactions v2 (Kafka 4.1+). */
  transactionalIdPattern?: string
}

export interface TransactionDescription {
  transactionalId: string
  state: string
  timeoutMs: number
  /** When the open (or last) transaction started, ms since the epoch; -1 when none has. */
  startTimeMs: number
  producerId: bigint
  producerEpoch: number
  /** The partitions in the transaction. */
  topics: { topic: string; partitions: number[] }[]
  /** The coordinator that answered. */
  coordinator: number
}

/** The transactions of every broker's coordinator, sorted by transactional id. */
export async function listTransactions(
  ctx: AdminContext,
  options: ListTransactionsOptions = {},
): Promise<TransactionListing[]> {
  const { signal } = options
  await retried(ctx, 'Metadata (brokers)', signal, () => ctx.client.metadata.refresh([], signal))
  const brokers = [...ctx.client.metadata.brokers.values()]
  const lists = await Promise.all(
    brokers.map((broker) =>
      retried(ctx, `ListTransactions on broker ${broker.nodeId}`, signal, async () => {
        const r = await ctx.client.requestTo(
          broker,
          ListTransactions,
          (version) => ({
            stateFilters: [...(options.states ?? [])],
            producerIdFilters: (options.producerIds ?? []).map((p) => BigInt(p)),
            ...(options.durationMs !== undefined ? { durationFilter: BigInt(options.durationMs) } : {}),
            ...(version >= 2 && options.transactionalIdPattern !== undefined
              ? { transactionalIdPattern: options.transactionalIdPattern }
              : {}),
          }),
          { signal, timeoutMs: options.timeout },
        )
        if (r.errorCode !== ErrorCode.NONE)
          throw KafkaError.fromCode(r.errorCode, { apiName: 'ListTransactions', broker: broker.nodeId })
        return r.transactionStates
      }),
    ),
  )
  const byId = new Map<string, TransactionListing>()
  for (const list of lists)
    for (const t of list)
      byId.set(t.transactionalId, {
        transactionalId: t.transactionalId,
        producerId: t.producerId,
        state: t.transactionState,
      })
  // A pattern the broker could not apply (older than v2) is applied here.
  const pattern =
    options.transactionalIdPattern !== undefined
      ? new RegExp(`^(?:${options.transactionalIdPattern})$`, 'u')
      : undefined
  return [...byId.values()]
    .filter((t) => pattern === undefined || pattern.test(t.transactionalId))
    .sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0))
}

/** Each id's coordinator: one FindCoordinator (v4+ batches keys) per call. */
async function coordinators(
  ctx: AdminContext,
  ids: string[],
  signal: AbortSignal | undefined,
): Promise<Map<string, { nodeId: number; host: string; port: number } | KafkaError>> {
  const out = new Map<string, { nodeId: number; host: string; port: number } | KafkaError>()
  const broker = ctx.client.anyBroker()
  const { versions } = await ctx.client.pool.get(broker, 'admin', signal)
  const batched = versions.pick(FindCoordinator) >= 4
  const groups = batched ? [ids] : ids.map((id) => [id])
  for (const keys of groups) {
    const r = await ctx.client.requestTo(
      broker,
      FindCoordinator,
      (version) =>
        version >= 4
          ? { keyType: TRANSACTION_KEY_TYPE, coordinatorKeys: keys }
          : { key: keys[0]!, keyType: TRANSACTION_KEY_TYPE },
      { signal, workload: 'admin' },
    )
    const entries =
      r.coordinators.length > 0
        ? r.coordinators
        : [
            {
              key: keys[0]!,
              nodeId: r.nodeId,
              host: r.host,
              port: r.port,
              errorCode: r.errorCode,
              errorMessage: r.errorMessage,
            },
          ]
    for (const e of entries) {
      out.set(
        e.key,
        e.errorCode !== ErrorCode.NONE
          ? KafkaError.fromCode(e.errorCode, { apiName: 'FindCoordinator', errorMessage: e.errorMessage })
          : { nodeId: e.nodeId, host: e.host, port: e.port },
      )
    }
  }
  return out
}

/** State, timeout, start time, producer id/epoch and partitions of each transactional id, in the order asked. */
export async function describeTransactions(
  ctx: AdminContext,
  transactionalIds: readonly string[],
  options: AdminCallOptions = {},
): Promise<TransactionDescription[]> {
  const { signal } = options
  const results = await batch<TransactionDescription>(
    ctx,
    'DescribeTransactions',
    transactionalIds,
    signal,
    async (ids) => {
      const answers = new Map<string, Outcome<TransactionDescription>>()
      const byNode = new Map<number, { node: { nodeId: number; host: string; port: number }; ids: string[] }>()
      for (const [id, c] of await coordinators(ctx, ids, signal)) {
        if (c instanceof KafkaError) answers.set(id, { error: c })
        else byNode.set(c.nodeId, { node: c, ids: [...(byNode.get(c.nodeId)?.ids ?? []), id] })
      }
      await Promise.all(
        [...byNode.values()].map(async ({ node, ids: mine }) => {
          const r = await ctx.client.requestTo(
            node,
            DescribeTransactions,
            { transactionalIds: mine },
            { signal, timeoutMs: options.timeout },
          )
          for (const t of r.transactionStates) {
            answers.set(
              t.transactionalId,
              t.errorCode !== ErrorCode.NONE
                ? { error: KafkaError.fromCode(t.errorCode, { apiName: 'DescribeTransactions', broker: node.nodeId }) }
                : {
                    value: {
                      transactionalId: t.transactionalId,
                      state: t.transactionState,
                      timeoutMs: t.transactionTimeoutMs,
                      startTimeMs: Number(t.transactionStartTimeMs),
                      producerId: t.producerId,
                      producerEpoch: t.producerEpoch,
                      topics: t.topics.map((x) => ({ topic: x.topic, partitions: [...x.partitions] })),
                      coordinator: node.nodeId,
                    },
                  },
            )
          }
        }),
      )
      return answers
    },
  )
  return transactionalIds.map((id) => results.get(id)!)
}
