// Configs of topics, brokers, broker loggers and groups: describe (with each value's source)
// and incremental changes (set, delete, append, subtract; KIP-339). A broker's own configs are
// only known to that broker, so those requests go to it; the rest go to any broker.

import type { BrokerEndpoint } from '../net/pool.js'
import { KafkaError } from '../errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { DescribeConfigs, IncrementalAlterConfigs } from '../protocol/messages/index.js'
import { batch, type AdminCallOptions, type AdminContext, type Outcome } from './context.js'

export type ConfigResourceType = 'topic' | 'broker' | 'broker-logger' | 'group'

export interface ConfigResource {
  type: ConfigResourceType
  /** Topic name, broker id ('' for the cluster-wide broker default), group id. */
  name: string
}

/** Where a config value comes from (Kafka's ConfigSource names). */
export type ConfigSource =
  | 'UNKNOWN'
  | 'DYNAMIC_TOPIC_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG'
  | 'DYNAMIC_BROKER_LOGGER_CONFIG'
  | 'CLIENT_METRICS_CONFIG'
  | 'GROUP_CONFIG'

const SOURCES: readonly ConfigSource[] = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
  'CLIENT_METRICS_CONFIG',
  'GROUP_CONFIG',
]

export interface ConfigEntry {
  name: string
  /** null for sensitive values and values that are not set. */
  value: string | null
  source: ConfigSource
  readOnly: boolean
  isSensitive: boolean
  /** The value is the default (not set on this resource). */
  isDefault: boolean
}

export interface ResourceConfigs extends ConfigResource {
  configs: ConfigEntry[]
}

/** A change to one resource's configs. */
export interface ConfigChange extends ConfigResource {
  set?: Readonly<Record<string, string>>
  /** Back to the default. */
  delete?: readonly string[]
  /** Add to a list config. */
  append?: Readonly<Record<string, string>>
  /** Remove from a list config. */
  subtract?: Readonly<Record<string, string>>
}

const RESOURCE_TYPE: Record<ConfigResourceType, number> = { topic: 2, broker: 4, 'broker-logger': 8, group: 32 }
const TYPE_NAME = new Map(Object.entries(RESOURCE_TYPE).map(([name, code]) => [code, name as ConfigResourceType]))
const SET = 0
const DELETE = 1
const APPEND = 2
const SUBTRACT = 3

/** 'topic:orders', 'broker:1': the key a batch error names a resource by. */
export function resourceKey(r: ConfigResource): string {
  return `${r.type}:${r.name}`
}

function parseKey(key: string): ConfigResource {
  const at = key.indexOf(':')
  return { type: key.slice(0, at) as ConfigResourceType, name: key.slice(at + 1) }
}

/** A broker's configs are answered by that broker only. */
function destination(ctx: AdminContext, r: ConfigResource): BrokerEndpoint {
  if ((r.type === 'broker' || r.type === 'broker-logger') && r.name !== '') {
    const broker = ctx.client.metadata.broker(Number(r.name))
    if (broker !== undefined) return broker
  }
  return ctx.client.anyBroker()
}

/** Sends one request per destination broker and merges the answers. */
async function perBroker<R>(
  ctx: AdminContext,
  keys: string[],
  signal: AbortSignal | undefined,
  send: (broker: BrokerEndpoint, resources: ConfigResource[]) => Promise<Map<string, Outcome<R>>>,
): Promise<Map<string, Outcome<R>>> {
  const resources = keys.map(parseKey)
  if (resources.some((r) => r.type === 'broker' || r.type === 'broker-logger'))
    await ctx.client.metadata.ensure([], signal)
  const groups = new Map<string, { broker: BrokerEndpoint; list: ConfigResource[] }>()
  for (const r of resources) {
    const broker = destination(ctx, r)
    const id = `${broker.host}:${broker.port}`
    const group = groups.get(id)
    if (group === undefined) groups.set(id, { broker, list: [r] })
    else group.list.push(r)
  }
  const merged = new Map<string, Outcome<R>>()
  for (const answers of await Promise.all([...groups.values()].map((g) => send(g.broker, g.list)))) {
    for (const [k, v] of answers) merged.set(k, v)
  }
  return merged
}

function checkResources(resources: readonly ConfigResource[]): void {
  for (const r of resources) {
    if (RESOURCE_TYPE[r.type] === undefined) throw new TypeError(`unknown config resource type '${String(r.type)}'`)
  }
}

/** Each resource's configs (all of them, or only `names`), in the order asked. */
export async function describeConfigs(
  ctx: AdminContext,
  resources: readonly ConfigResource[],
  options: AdminCallOptions & { names?: readonly string[] } = {},
): Promise<ResourceConfigs[]> {
  checkResources(resources)
  const keys = resources.map(resourceKey)
  const results = await batch<ResourceConfigs>(ctx, 'DescribeConfigs', keys, options.signal, (todo) =>
    perBroker(ctx, todo, options.signal, async (broker, list) => {
      const response = await ctx.client.requestTo(
        broker,
        DescribeConfigs,
        {
          resources: list.map((r) => ({
            resourceType: RESOURCE_TYPE[r.type],
            resourceName: r.name,
            configurationKeys: options.names === undefined ? null : [...options.names],
          })),
          includeSynonyms: false,
        },
        { signal: options.signal, timeoutMs: options.timeout },
      )
      const answers = new Map<string, Outcome<ResourceConfigs>>()
      for (const res of response.results) {
        const type = TYPE_NAME.get(res.resourceType)
        if (type === undefined) continue
        const key = resourceKey({ type, name: res.resourceName })
        answers.set(
          key,
          res.errorCode !== ErrorCode.NONE
            ? { error: configError(res.errorCode, 'DescribeConfigs', type, res.resourceName, res.errorMessage) }
            : {
                value: {
                  type,
                  name: res.resourceName,
                  configs: res.configs
                    .map((c) => {
                      const source = SOURCES[c.configSource] ?? 'UNKNOWN'
                      return {
                        name: c.name,
                        value: c.value,
                        source,
                        readOnly: c.readOnly,
                        isSensitive: c.isSensitive,
                        isDefault: source === 'DEFAULT_CONFIG' || source === 'STATIC_BROKER_CONFIG',
                      }
                    })
                    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
                },
              },
        )
      }
      return answers
    }),
  )
  return keys.map((k) => results.get(k)!)
}

/** Applies each change (IncrementalAlterConfigs); `validateOnly` checks without changing. */
export async function alterConfigs(
  ctx: AdminContext,
  changes: readonly ConfigChange[],
  options: AdminCallOptions & { validateOnly?: boolean } = {},
): Promise<void> {
  checkResources(changes)
  const byKey = new Map(changes.map((c) => [resourceKey(c), c]))
  await batch<true>(ctx, 'IncrementalAlterConfigs', [...byKey.keys()], options.signal, (todo) =>
    perBroker(ctx, todo, options.signal, async (broker, list) => {
      const response = await ctx.client.requestTo(
        broker,
        IncrementalAlterConfigs,
        {
          resources: list.map((r) => {
            const c = byKey.get(resourceKey(r))!
            const ops = (values: Readonly<Record<string, string>> | undefined, op: number) =>
              Object.entries(values ?? {}).map(([name, value]) => ({ name, configOperation: op, value }))
            return {
              resourceType: RESOURCE_TYPE[r.type],
              resourceName: r.name,
              configs: [
                ...ops(c.set, SET),
                ...(c.delete ?? []).map((name) => ({ name, configOperation: DELETE, value: null })),
                ...ops(c.append, APPEND),
                ...ops(c.subtract, SUBTRACT),
              ],
            }
          }),
          validateOnly: options.validateOnly ?? false,
        },
        { signal: options.signal, timeoutMs: options.timeout },
      )
      const answers = new Map<string, Outcome<true>>()
      for (const res of response.responses) {
        const type = TYPE_NAME.get(res.resourceType)
        if (type === undefined) continue
        answers.set(
          resourceKey({ type, name: res.resourceName }),
          res.errorCode === ErrorCode.NONE
            ? { value: true }
            : {
                error: configError(res.errorCode, 'IncrementalAlterConfigs', type, res.resourceName, res.errorMessage),
              },
        )
      }
      return answers
    }),
  )
}

function configError(
  code: number,
  apiName: string,
  type: ConfigResourceType,
  name: string,
  errorMessage: string | null,
): KafkaError {
  return KafkaError.fromCode(code, {
    apiName,
    ...(type === 'topic' ? { topic: name } : type === 'group' ? { groupId: name } : {}),
    errorMessage,
  })
}
