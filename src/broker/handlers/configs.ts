// DescribeConfigs (32, v1-4), IncrementalAlterConfigs (44, v0-1), AlterConfigs (33, v0-2) for
// TOPIC and BROKER resources (ConfigHelper, ConfigAdminManager in Kafka).
//
// Topic configs resolve as Kafka's do: a topic override (TOPIC_CONFIG), else a dynamic cluster
// default set through IncrementalAlterConfigs on a BROKER resource (DYNAMIC_DEFAULT_BROKER_CONFIG,
// e.g. log.retention.ms), else a static cluster option (STATIC_BROKER_CONFIG), else Kafka's
// default (DEFAULT_CONFIG). Broker configs are read-only except those cluster defaults.
// Per-broker dynamic configs are applied cluster-wide here (one process holds every broker).
// Authorization per resource, before it is looked at: DESCRIBE_CONFIGS (describe) or
// ALTER_CONFIGS (alter) on the topic, or on the cluster for a broker (configRefusal).

import type { Input } from '../../protocol/api.js'
import { ErrorCode, errorInfo } from '../../protocol/error-codes.js'
import { AlterConfigs } from '../../protocol/messages/alter-configs.js'
import {
  DescribeConfigs,
  type DescribeConfigsRequest,
  type DescribeConfigsRequestDescribeConfigsResource,
  type DescribeConfigsResponseDescribeConfigsResourceResult,
  type DescribeConfigsResponseDescribeConfigsResult,
} from '../../protocol/messages/describe-configs.js'
import { IncrementalAlterConfigs } from '../../protocol/messages/incremental-alter-configs.js'
import type { Cluster } from '../cluster.js'
import {
  brokerConfigDefs,
  ConfigSource,
  ConfigType,
  TOPIC_CONFIG_BY_NAME,
  TOPIC_CONFIGS,
  validateTopicConfig,
} from '../config.js'
import type { Topic } from '../topics.js'
import { AclOperation, ResourceType as AclResource } from '../acls.js'
import { allowed, clusterAllowed } from './authz.js'
import { defineHandler, type RequestContext } from './types.js'

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const
const OpType = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const

type ConfigEntry = Input<DescribeConfigsResponseDescribeConfigsResourceResult> & {
  name: string
  value: string | null
  readOnly: boolean
  configSource: number
  isSensitive: boolean
}

/** The broker config name a topic config defaults from, keyed both ways. */
const TOPIC_BY_BROKER_SYNONYM = new Map(
  TOPIC_CONFIGS.filter((d) => d.brokerSynonym !== undefined).map((d) => [d.brokerSynonym!, d.name]),
)

export function describeTopicConfigs(
  cluster: Cluster,
  topic: Topic,
  keys: string[] | null,
  includeSynonyms: boolean,
  includeDocumentation: boolean,
): ConfigEntry[] {
  const out: ConfigEntry[] = []
  for (const def of TOPIC_CONFIGS) {
    if (keys !== null && !keys.includes(def.name)) continue
    const synonyms: { name: string; value: string | null; source: number }[] = []
    const override = topic.configs.get(def.name)
    const dynamic = cluster.dynamicTopicDefaults.get(def.name)
    const stat = cluster.options.topicDefaults[def.name]
    const brokerName = def.brokerSynonym ?? def.name
    if (override !== undefined) synonyms.push({ name: def.name, value: override, source: ConfigSource.TOPIC_CONFIG })
    if (dynamic !== undefined)
      synonyms.push({ name: brokerName, value: dynamic, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG })
    if (stat !== undefined) synonyms.push({ name: brokerName, value: stat, source: ConfigSource.STATIC_BROKER_CONFIG })
    synonyms.push({ name: brokerName, value: def.default, source: ConfigSource.DEFAULT_CONFIG })
    const winner = synonyms[0]!
    out.push({
      name: def.name,
      value: winner.value,
      readOnly: false,
      configSource: winner.source,
      isSensitive: false,
      synonyms: includeSynonyms ? synonyms : [],
      configType: def.type,
      documentation: includeDocumentation ? '' : null,
    })
  }
  return out
}

function describeBrokerConfigs(
  cluster: Cluster,
  keys: string[] | null,
  includeSynonyms: boolean,
  includeDocumentation: boolean,
  defaultsOnly: boolean,
): ConfigEntry[] {
  const out: ConfigEntry[] = []
  for (const def of brokerConfigDefs(cluster.options)) {
    if (keys !== null && !keys.includes(def.name)) continue
    const topicName = TOPIC_BY_BROKER_SYNONYM.get(def.name)
    const dynamic = topicName === undefined ? undefined : cluster.dynamicTopicDefaults.get(topicName)
    const stat = topicName === undefined ? undefined : cluster.options.topicDefaults[topicName]
    if (defaultsOnly && dynamic === undefined) continue
    const synonyms: { name: string; value: string | null; source: number }[] = []
    if (dynamic !== undefined)
      synonyms.push({ name: def.name, value: dynamic, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG })
    if (stat !== undefined) synonyms.push({ name: def.name, value: stat, source: ConfigSource.STATIC_BROKER_CONFIG })
    synonyms.push({ name: def.name, value: def.default, source: ConfigSource.DEFAULT_CONFIG })
    const winner = synonyms[0]!
    out.push({
      name: def.name,
      value: winner.value,
      readOnly: topicName === undefined,
      configSource: winner.source,
      isSensitive: false,
      synonyms: includeSynonyms ? synonyms : [],
      configType: def.type,
      documentation: includeDocumentation ? '' : null,
    })
  }
  return out
}

function checkBrokerName(ctx: RequestContext, name: string): string | undefined {
  if (name === '' || name === String(ctx.broker.id)) return undefined
  return `Unexpected broker id, expected ${ctx.broker.id} or empty string, but received ${name}`
}

/**
 * The ACL check on one config resource (ConfigHelper, ControllerApis.authorizeAlterResource):
 * `operation` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on the topic, on the cluster for broker
 * resources, on the group; the error for a refused resource carries Kafka's default message.
 */
function configRefusal(
  ctx: RequestContext,
  resourceType: number,
  resourceName: string,
  operation: number,
): { errorCode: number; errorMessage: string } | undefined {
  const refuse = (errorCode: number) => ({ errorCode, errorMessage: errorInfo(errorCode).message })
  if (resourceType === ResourceType.TOPIC)
    return allowed(ctx, AclResource.TOPIC, resourceName, operation)
      ? undefined
      : refuse(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
  if (
    resourceType === ResourceType.BROKER ||
    resourceType === ResourceType.BROKER_LOGGER ||
    resourceType === ResourceType.CLIENT_METRICS
  )
    return clusterAllowed(ctx, operation) ? undefined : refuse(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
  if (resourceType === ResourceType.GROUP)
    return allowed(ctx, AclResource.GROUP, resourceName, operation)
      ? undefined
      : refuse(ErrorCode.GROUP_AUTHORIZATION_FAILED)
  return undefined
}

/** One resource of a DescribeConfigs request the principal may describe. */
function describeResource(
  ctx: RequestContext,
  req: DescribeConfigsRequest,
  r: DescribeConfigsRequestDescribeConfigsResource,
): Input<DescribeConfigsResponseDescribeConfigsResult> {
  const { cluster, version } = ctx
  const base = { resourceType: r.resourceType, resourceName: r.resourceName }
  const fail = (errorCode: number, errorMessage: string) => ({ ...base, errorCode, errorMessage, configs: [] })
  const docs = version >= 3 && req.includeDocumentation
  let configs: ConfigEntry[]
  if (r.resourceType === ResourceType.TOPIC) {
    const topic = cluster.topics.get(r.resourceName)
    if (topic === undefined)
      return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${r.resourceName}' does not exist.`)
    configs = describeTopicConfigs(cluster, topic, r.configurationKeys, req.includeSynonyms, docs)
  } else if (r.resourceType === ResourceType.BROKER) {
    const bad = checkBrokerName(ctx, r.resourceName)
    if (bad !== undefined) return fail(ErrorCode.INVALID_REQUEST, bad)
    configs = describeBrokerConfigs(cluster, r.configurationKeys, req.includeSynonyms, docs, r.resourceName === '')
  } else if (r.resourceType === ResourceType.GROUP) {
    // Share group configs (share-group-configs.ts).
    configs = cluster.shares.configs.describe(r.resourceName, r.configurationKeys).map((c) => ({
      name: c.name,
      value: c.value,
      readOnly: false,
      configSource: c.source,
      isSensitive: false,
      synonyms: req.includeSynonyms ? [{ name: c.name, value: c.value, source: c.source }] : [],
      configType: c.type === 'int' ? ConfigType.INT : ConfigType.STRING,
      documentation: docs ? '' : null,
    }))
  } else {
    return fail(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${r.resourceType}`)
  }
  if (version < 3) for (const c of configs) c.configType = ConfigType.UNKNOWN
  return { ...base, errorCode: 0, errorMessage: null, configs }
}

export const describeConfigsHandler = defineHandler({
  api: DescribeConfigs,
  handle(ctx, req) {
    // ConfigHelper answers the resources the principal may describe first, then the refused ones.
    const described: Input<DescribeConfigsResponseDescribeConfigsResult>[] = []
    const refused: Input<DescribeConfigsResponseDescribeConfigsResult>[] = []
    for (const r of req.resources) {
      const refusal = configRefusal(ctx, r.resourceType, r.resourceName, AclOperation.DESCRIBE_CONFIGS)
      if (refusal === undefined) described.push(describeResource(ctx, req, r))
      else refused.push({ resourceType: r.resourceType, resourceName: r.resourceName, ...refusal, configs: [] })
    }
    return { throttleTimeMs: 0, results: [...described, ...refused] }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      results: req.resources.map((r) => ({
        errorCode,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: [],
      })),
    }
  },
})

interface ConfigChange {
  name: string
  op: number
  value: string | null
}

/** Applies (or with validateOnly just checks) changes to one resource; returns an error or undefined. */
function alterResource(
  ctx: RequestContext,
  resourceType: number,
  resourceName: string,
  changes: ConfigChange[],
  replaceAll: boolean,
  validateOnly: boolean,
): { errorCode: number; errorMessage: string } | undefined {
  const { cluster } = ctx
  const names = changes.map((c) => c.name)
  if (new Set(names).size !== names.length)
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Error due to duplicate config keys` }
  if (resourceType === ResourceType.TOPIC) {
    const topic = cluster.topics.get(resourceName)
    if (topic === undefined)
      return {
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `The topic '${resourceName}' does not exist.`,
      }
    const next = replaceAll ? new Map<string, string>() : new Map(topic.configs)
    for (const c of changes) {
      const def = TOPIC_CONFIG_BY_NAME.get(c.name)
      if (def === undefined)
        return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Unknown topic config name: ${c.name}` }
      if (c.op === OpType.DELETE) {
        next.delete(c.name)
        continue
      }
      if (c.value === null)
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Null value not supported for : ${c.name}` }
      let value = c.value
      if (c.op === OpType.APPEND || c.op === OpType.SUBTRACT) {
        if (def.type !== ConfigType.LIST) {
          return {
            errorCode: ErrorCode.INVALID_CONFIG,
            errorMessage: `Config value ${c.op === OpType.APPEND ? 'append' : 'subtract'} is not allowed for config key ${c.name}`,
          }
        }
        const current = (next.get(c.name) ?? topic.config(c.name))
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
        const items = value
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
        const result =
          c.op === OpType.APPEND
            ? [...current, ...items.filter((i) => !current.includes(i))]
            : current.filter((i) => !items.includes(i))
        value = result.join(',')
      } else if (c.op !== OpType.SET) {
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown config operation ${c.op}` }
      }
      const error = validateTopicConfig(c.name, value)
      if (error !== undefined)
        return {
          errorCode: ErrorCode.INVALID_CONFIG,
          errorMessage: `Invalid value ${value} for configuration ${c.name}: ${error}`,
        }
      next.set(c.name, value)
    }
    if (!validateOnly) {
      topic.configs.clear()
      for (const [k, v] of next) topic.configs.set(k, v)
      for (const p of topic.partitions) p.notify()
    }
    return undefined
  }
  if (resourceType === ResourceType.BROKER) {
    const bad = checkBrokerName(ctx, resourceName)
    if (bad !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: bad }
    const notDynamic = changes.filter((c) => !TOPIC_BY_BROKER_SYNONYM.has(c.name)).map((c) => c.name)
    if (notDynamic.length > 0)
      return {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Cannot update these configs dynamically: Set(${notDynamic.join(', ')})`,
      }
    const next = replaceAll ? new Map<string, string>() : new Map(cluster.dynamicTopicDefaults)
    for (const c of changes) {
      const topicName = TOPIC_BY_BROKER_SYNONYM.get(c.name)!
      if (c.op === OpType.DELETE) {
        next.delete(topicName)
        continue
      }
      if (c.op !== OpType.SET)
        return {
          errorCode: ErrorCode.INVALID_CONFIG,
          errorMessage: `Config value append/subtract is not allowed for config key ${c.name}`,
        }
      const error = validateTopicConfig(topicName, c.value)
      if (error !== undefined)
        return {
          errorCode: ErrorCode.INVALID_CONFIG,
          errorMessage: `Invalid value ${c.value} for configuration ${c.name}: ${error}`,
        }
      next.set(topicName, c.value!)
    }
    if (!validateOnly) {
      cluster.dynamicTopicDefaults.clear()
      for (const [k, v] of next) cluster.dynamicTopicDefaults.set(k, v)
    }
    return undefined
  }
  if (resourceType === ResourceType.GROUP)
    return cluster.shares.configs.alter(resourceName, changes, replaceAll, validateOnly)
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${resourceType}` }
}

function duplicateResources(resources: { resourceType: number; resourceName: string }[]): Set<string> {
  const seen = new Set<string>()
  const dup = new Set<string>()
  for (const r of resources) {
    const key = `${r.resourceType}:${r.resourceName}`
    if (seen.has(key)) dup.add(key)
    seen.add(key)
  }
  return dup
}

export const incrementalAlterConfigsHandler = defineHandler({
  api: IncrementalAlterConfigs,
  handle(ctx, req) {
    const dup = duplicateResources(req.resources)
    const responses = req.resources.map((r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName }
      if (dup.has(`${r.resourceType}:${r.resourceName}`))
        return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Error due to duplicate resources' }
      const refused = configRefusal(ctx, r.resourceType, r.resourceName, AclOperation.ALTER_CONFIGS)
      if (refused !== undefined) return { ...base, ...refused }
      const error = alterResource(
        ctx,
        r.resourceType,
        r.resourceName,
        r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value })),
        false,
        req.validateOnly,
      )
      return { ...base, errorCode: error?.errorCode ?? 0, errorMessage: error?.errorMessage ?? null }
    })
    return { throttleTimeMs: 0, responses }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      responses: req.resources.map((r) => ({
        errorCode,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
      })),
    }
  },
})

export const alterConfigsHandler = defineHandler({
  api: AlterConfigs,
  handle(ctx, req) {
    const dup = duplicateResources(req.resources)
    const responses = req.resources.map((r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName }
      if (dup.has(`${r.resourceType}:${r.resourceName}`))
        return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Error due to duplicate resources' }
      const refused = configRefusal(ctx, r.resourceType, r.resourceName, AclOperation.ALTER_CONFIGS)
      if (refused !== undefined) return { ...base, ...refused }
      // The legacy API replaces the resource's whole dynamic config with the given set.
      const error = alterResource(
        ctx,
        r.resourceType,
        r.resourceName,
        r.configs.map((c) => ({ name: c.name, op: OpType.SET, value: c.value })),
        true,
        req.validateOnly,
      )
      return { ...base, errorCode: error?.errorCode ?? 0, errorMessage: error?.errorMessage ?? null }
    })
    return { throttleTimeMs: 0, responses }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      responses: req.resources.map((r) => ({
        errorCode,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
      })),
    }
  },
})
