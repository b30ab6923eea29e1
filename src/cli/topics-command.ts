// `kafkats topics list|create|delete|describe|alter`: kafka-topics.sh's everyday uses, with
// its flag names (--partitions, --replication-factor, --config k=v).

import { Admin } from '../admin/admin.js'
import { UsageError } from './args.js'
import {
  clientConfig,
  CONNECTION_FLAGS,
  keyValues,
  onePositional,
  optionalInt,
  parseCommand,
  table,
  toJson,
  type Output,
} from './common.js'

export const TOPICS_USAGE = `usage: kafkats topics <list|create|delete|describe|alter> [TOPIC...] [flags]
  list                        topic names (--internal: with __consumer_offsets and the like)
  create TOPIC                --partitions N --replication-factor N [--config k=v ...] [--validate-only]
  delete TOPIC...
  describe TOPIC...           partitions, leaders, replicas, ISR, and configs set on the topic
  alter TOPIC                 [--partitions N (raise)] [--config k=v ...] [--delete-config k ...]`

const FLAGS = {
  ...CONNECTION_FLAGS,
  internal: { type: 'boolean' },
  partitions: { type: 'string' },
  'replication-factor': { type: 'string' },
  config: { type: 'string', multiple: true },
  'delete-config': { type: 'string', multiple: true },
  'validate-only': { type: 'boolean' },
} as const

export async function runTopicsCommand(args: string[], signal: AbortSignal, out: Output): Promise<number> {
  const [action, ...rest] = args
  const { values, positionals } = parseCommand(rest, FLAGS)
  if (action === undefined) throw new UsageError('action', 'missing; expected list, create, delete, describe or alter')
  const admin = new Admin(clientConfig(values))
  const json = values.json === true
  try {
    switch (action) {
      case 'list': {
        if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument')
        const names = await admin.listTopics({ signal, internal: values.internal === true })
        if (json) out.line(toJson(names))
        else for (const n of names) out.line(n)
        return 0
      }
      case 'create': {
        const name = onePositional(positionals, 'topic')
        const partitions = optionalInt('--partitions', values.partitions, 1)
        const replicationFactor = optionalInt('--replication-factor', values['replication-factor'], 1)
        const validateOnly = values['validate-only'] === true
        const [created] = await admin.createTopics(
          [
            {
              name,
              ...(partitions !== undefined ? { partitions } : {}),
              ...(replicationFactor !== undefined ? { replicationFactor } : {}),
              configs: keyValues('--config', values.config),
            },
          ],
          { signal, validateOnly, waitForLeaders: !validateOnly },
        )
        if (json) out.line(toJson({ ...created, validateOnly }))
        else
          out.line(
            `${validateOnly ? 'Valid' : 'Created'} topic ${name} (${created!.partitions} partitions, replication factor ${created!.replicationFactor})`,
          )
        return 0
      }
      case 'delete': {
        if (positionals.length === 0) throw new UsageError('topic', 'missing')
        await admin.deleteTopics(positionals, { signal })
        if (json) out.line(toJson({ deleted: positionals }))
        else for (const n of positionals) out.line(`Deleted topic ${n}`)
        return 0
      }
      case 'describe': {
        if (positionals.length === 0) throw new UsageError('topic', 'missing')
        const topics = await admin.describeTopics(positionals, { signal })
        const configs = await admin.describeConfigs(
          positionals.map((name) => ({ type: 'topic' as const, name })),
          { signal },
        )
        const described = topics.map((t, i) => ({
          ...t,
          configs: Object.fromEntries(configs[i]!.configs.filter((c) => !c.isDefault).map((c) => [c.name, c.value])),
        }))
        if (json) {
          out.line(toJson(described))
          return 0
        }
        for (const t of described) {
          const settings = Object.entries(t.configs).map(([k, v]) => `${k}=${v ?? ''}`)
          out.line(
            `Topic: ${t.name}  TopicId: ${t.topicId}  Partitions: ${t.partitions.length}  ReplicationFactor: ${t.partitions[0]?.replicas.length ?? 0}  Configs: ${settings.join(',')}`,
          )
          table(
            out,
            ['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'OFFLINE'],
            t.partitions.map((p) => [
              p.partition,
              p.leader,
              p.replicas,
              p.isr,
              p.offlineReplicas.length > 0 ? p.offlineReplicas : '',
            ]),
          )
        }
        return 0
      }
      case 'alter': {
        const name = onePositional(positionals, 'topic')
        const partitions = optionalInt('--partitions', values.partitions, 1)
        const set = keyValues('--config', values.config)
        const remove = values['delete-config'] ?? []
        if (partitions === undefined && Object.keys(set).length === 0 && remove.length === 0) {
          throw new UsageError('alter', 'nothing to change: give --partitions, --config or --delete-config')
        }
        if (partitions !== undefined) await admin.createPartitions([{ topic: name, count: partitions }], { signal })
        if (Object.keys(set).length > 0 || remove.length > 0) {
          await admin.alterConfigs([{ type: 'topic', name, set, delete: remove }], { signal })
        }
        if (json) out.line(toJson({ topic: name, partitions: partitions ?? null, set, deleted: remove }))
        else out.line(`Altered topic ${name}`)
        return 0
      }
      default:
        throw new UsageError(action, 'unknown action; expected list, create, delete, describe or alter')
    }
  } finally {
    await admin.close()
  }
}
