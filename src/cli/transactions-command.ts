// `kafkats transactions list|describe`: kafka-transactions.sh's list and describe.

import { Admin } from '../admin/admin.js'
import { UsageError } from './args.js'
import { clientConfig, CONNECTION_FLAGS, optionalInt, parseCommand, table, toJson, type Output } from './common.js'

export const TRANSACTIONS_USAGE = `usage: kafkats transactions <list|describe> [ID...] [flags]
  list                 transactional ids, producer ids and states from every coordinator
    --state S ...        only these states (Ongoing, CompleteCommit, CompleteAbort, Empty...)
    --producer-id N ...  only these producer ids
    --duration-ms N      only transactions open longer than N ms
    --pattern REGEX      only ids the regular expression matches whole
  describe ID...       state, timeout, start time, producer id/epoch and partitions`

const FLAGS = {
  ...CONNECTION_FLAGS,
  state: { type: 'string', multiple: true },
  'producer-id': { type: 'string', multiple: true },
  'duration-ms': { type: 'string' },
  pattern: { type: 'string' },
} as const

export async function runTransactionsCommand(args: string[], signal: AbortSignal, out: Output): Promise<number> {
  const [action, ...rest] = args
  const { values, positionals } = parseCommand(rest, FLAGS)
  if (action === undefined) throw new UsageError('action', 'missing; expected list or describe')
  const json = values.json === true
  const admin = new Admin(clientConfig(values))
  try {
    switch (action) {
      case 'list': {
        if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument')
        const duration = optionalInt('--duration-ms', values['duration-ms'])
        const producerIds = values['producer-id']?.map((p) => {
          if (!/^\d+$/.test(p)) throw new UsageError('--producer-id', `expected a producer id, got '${p}'`)
          return BigInt(p)
        })
        const list = await admin.listTransactions({
          signal,
          ...(values.state !== undefined ? { states: values.state } : {}),
          ...(producerIds !== undefined ? { producerIds } : {}),
          ...(duration !== undefined ? { durationMs: duration } : {}),
          ...(values.pattern !== undefined ? { transactionalIdPattern: values.pattern } : {}),
        })
        if (json) out.line(toJson(list))
        else
          table(
            out,
            ['TRANSACTIONAL-ID', 'PRODUCER-ID', 'STATE'],
            list.map((t) => [t.transactionalId, t.producerId, t.state]),
          )
        return 0
      }
      case 'describe': {
        if (positionals.length === 0) throw new UsageError('transactional id', 'missing')
        const txns = await admin.describeTransactions(positionals, { signal })
        if (json) out.line(toJson(txns))
        else
          table(
            out,
            ['TRANSACTIONAL-ID', 'COORDINATOR', 'STATE', 'PRODUCER-ID', 'EPOCH', 'TIMEOUT-MS', 'START', 'PARTITIONS'],
            txns.map((t) => [
              t.transactionalId,
              t.coordinator,
              t.state,
              t.producerId,
              t.producerEpoch,
              t.timeoutMs,
              t.startTimeMs < 0 ? '-' : new Date(t.startTimeMs).toISOString(),
              t.topics.map((x) => `${x.topic}:${x.partitions.join(',')}`).join(' '),
            ]),
          )
        return 0
      }
      default:
        throw new UsageError(action, 'unknown action; expected list or describe')
    }
  } finally {
    await admin.close()
  }
}
