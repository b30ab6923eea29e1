// `kafkats groups list|describe|lag|reset-offsets|delete`: kafka-consumer-groups.sh's everyday
// uses. reset-offsets takes its flags (--to-earliest, --to-latest, --to-datetime, --to-offset,
// --shift-by, --topic t[:p,p]) and, like it, only shows the plan unless --execute is given.

import { Admin } from '../admin/admin.js'
import type { ResetTarget, TopicPartitionRef } from '../admin/offsets.js'
import { UsageError } from './args.js'
import { clientConfig, CONNECTION_FLAGS, onePositional, parseCommand, table, toJson, type Output } from './common.js'

export const GROUPS_USAGE = `usage: kafkats groups <list|describe|lag|reset-offsets|delete> [GROUP...] [flags]
  list                   groups with state and type (--state S ...: only those)
  describe GROUP         state, assignor, members and what each is assigned
  lag GROUP              committed offset, log end and lag per partition (--read-committed: end = LSO)
  reset-offsets GROUP    --to-earliest | --to-latest | --to-datetime ISO | --to-offset N | --shift-by N
                         [--topic T[:P,P] ...] (default: the partitions the group committed)
                         shows the new offsets; --execute commits them (the group must be empty)
  delete GROUP...        an empty group and its offsets`

const FLAGS = {
  ...CONNECTION_FLAGS,
  state: { type: 'string', multiple: true },
  'read-committed': { type: 'boolean' },
  'to-earliest': { type: 'boolean' },
  'to-latest': { type: 'boolean' },
  'to-datetime': { type: 'string' },
  'to-offset': { type: 'string' },
  'shift-by': { type: 'string' },
  topic: { type: 'string', multiple: true },
  execute: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const

export async function runGroupsCommand(args: string[], signal: AbortSignal, out: Output): Promise<number> {
  const [action, ...rest] = args
  const { values, positionals } = parseCommand(rest, FLAGS)
  if (action === undefined)
    throw new UsageError('action', 'missing; expected list, describe, lag, reset-offsets or delete')
  const json = values.json === true
  const admin = new Admin(clientConfig(values))
  try {
    switch (action) {
      case 'list': {
        if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument')
        const groups = await admin.listGroups({
          signal,
          ...(values.state !== undefined ? { states: values.state } : {}),
        })
        if (json) out.line(toJson(groups))
        else
          table(
            out,
            ['GROUP', 'STATE', 'TYPE', 'PROTOCOL-TYPE'],
            groups.map((g) => [g.groupId, g.state, g.type, g.protocolType]),
          )
        return 0
      }
      case 'describe': {
        const groupId = onePositional(positionals, 'group')
        const [group] = await admin.describeGroups([groupId], { signal })
        if (json) {
          out.line(toJson(group))
          return 0
        }
        out.line(
          `Group: ${group!.groupId}  Type: ${group!.type}  State: ${group!.state}  Protocol: ${group!.protocolType}/${group!.protocol || '-'}  Members: ${group!.members.length}`,
        )
        table(
          out,
          ['MEMBER', 'CLIENT-ID', 'HOST', 'ASSIGNMENT'],
          group!.members.map((m) => [
            m.memberId,
            m.clientId,
            m.clientHost,
            m.assignment.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' '),
          ]),
        )
        return 0
      }
      case 'lag': {
        const groupId = onePositional(positionals, 'group')
        const lag = await admin.groupLag(groupId, {
          signal,
          isolationLevel: values['read-committed'] === true ? 'read_committed' : 'read_uncommitted',
        })
        if (json) {
          out.line(toJson(lag))
          return 0
        }
        out.line(`Group: ${lag.groupId}  State: ${lag.state}  Total lag: ${lag.totalLag}`)
        table(
          out,
          ['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG', 'CLIENT-ID', 'HOST'],
          lag.partitions.map((p) => [p.topic, p.partition, p.committedOffset, p.endOffset, p.lag, p.clientId, p.host]),
        )
        return 0
      }
      case 'reset-offsets': {
        const groupId = onePositional(positionals, 'group')
        if (values.execute === true && values['dry-run'] === true)
          throw new UsageError('--execute', 'and --dry-run exclude each other')
        const target = resetTarget(values)
        const topics = values.topic?.map(parseTopicFlag).flat()
        const plan = await admin.resetGroupOffsets(groupId, target, {
          signal,
          dryRun: values.execute !== true,
          ...(topics !== undefined ? { topics } : {}),
        })
        if (json) out.line(toJson({ groupId, executed: values.execute === true, offsets: plan }))
        else {
          table(
            out,
            ['TOPIC', 'PARTITION', 'PREVIOUS', 'NEW'],
            plan.map((r) => [r.topic, r.partition, r.previous, r.offset]),
          )
          if (values.execute !== true) process.stderr.write('kafkats: dry run; add --execute to commit these offsets\n')
        }
        return 0
      }
      case 'delete': {
        if (positionals.length === 0) throw new UsageError('group', 'missing')
        await admin.deleteGroups(positionals, { signal })
        if (json) out.line(toJson({ deleted: positionals }))
        else for (const g of positionals) out.line(`Deleted group ${g}`)
        return 0
      }
      default:
        throw new UsageError(action, 'unknown action; expected list, describe, lag, reset-offsets or delete')
    }
  } finally {
    await admin.close()
  }
}

function resetTarget(values: {
  'to-earliest'?: boolean | undefined
  'to-latest'?: boolean | undefined
  'to-datetime'?: string | undefined
  'to-offset'?: string | undefined
  'shift-by'?: string | undefined
}): ResetTarget {
  const targets: ResetTarget[] = []
  if (values['to-earliest'] === true) targets.push({ to: 'earliest' })
  if (values['to-latest'] === true) targets.push({ to: 'latest' })
  if (values['to-datetime'] !== undefined) {
    const ms = Date.parse(values['to-datetime'])
    if (Number.isNaN(ms) || ms < 0)
      throw new UsageError(
        '--to-datetime',
        `not a date and time: '${values['to-datetime']}' (e.g. 2026-12-03T10:00:00Z)`,
      )
    targets.push({ to: 'timestamp', timestamp: ms })
  }
  if (values['to-offset'] !== undefined) {
    if (!/^\d+$/.test(values['to-offset']))
      throw new UsageError('--to-offset', `must be a non-negative integer, got '${values['to-offset']}'`)
    targets.push({ to: 'offset', offset: BigInt(values['to-offset']) })
  }
  if (values['shift-by'] !== undefined) {
    if (!/^-?\d+$/.test(values['shift-by']))
      throw new UsageError('--shift-by', `must be an integer, got '${values['shift-by']}'`)
    targets.push({ to: 'shift', by: Number(values['shift-by']) })
  }
  if (targets.length !== 1) {
    throw new UsageError(
      'reset-offsets',
      'give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by',
    )
  }
  return targets[0]!
}

/** 'orders' (every partition) or 'orders:0,2' (kafka-consumer-groups.sh's --topic form). */
function parseTopicFlag(value: string): (string | TopicPartitionRef)[] {
  const at = value.lastIndexOf(':')
  if (at < 0) return [value]
  const topic = value.slice(0, at)
  const parts = value.slice(at + 1).split(',')
  if (topic === '' || parts.some((p) => !/^\d+$/.test(p)))
    throw new UsageError('--topic', `expected TOPIC or TOPIC:P,P, got '${value}'`)
  return parts.map((p) => ({ topic, partition: Number(p) }))
}
