// `kafkats acls list|create|delete`: kafka-acls.sh's flags (--allow-principal, --deny-principal,
// --allow-host, --deny-host, --operation, --topic, --group, --transactional-id, --cluster,
// --resource-pattern-type). create makes every principal × host × operation × resource binding.

import { Admin } from '../admin/admin.js'
import type { AclFilter, AclOperation, AclResourceType, NewAcl } from '../admin/acls.js'
import { UsageError } from './args.js'
import { clientConfig, CONNECTION_FLAGS, parseCommand, table, toJson, type Output } from './common.js'
import type { AclBinding } from '../admin/acls.js'

export const ACLS_USAGE = `usage: kafkats acls <list|create|delete> [flags]
  list       ACLs matching the flags (all without any)
  create     --allow-principal P | --deny-principal P (User:name), --operation OP, a resource
  delete     the ACLs matching the flags (a resource or a principal is required)
resources (repeatable): --topic T, --group G, --transactional-id ID, --cluster
  --resource-pattern-type T   literal (default for create), prefixed; list/delete also match, any (default)
filters and bindings:
  --allow-principal P, --deny-principal P   repeatable; list/delete: --principal P
  --allow-host H, --deny-host H             default * (list/delete: --host H)
  --operation OP                            read, write, create, delete, alter, describe, all,
                                            idempotent-write, describe-configs, alter-configs, cluster-action...`

const FLAGS = {
  ...CONNECTION_FLAGS,
  topic: { type: 'string', multiple: true },
  group: { type: 'string', multiple: true },
  'transactional-id': { type: 'string', multiple: true },
  cluster: { type: 'boolean' },
  'resource-pattern-type': { type: 'string' },
  'allow-principal': { type: 'string', multiple: true },
  'deny-principal': { type: 'string', multiple: true },
  'allow-host': { type: 'string', multiple: true },
  'deny-host': { type: 'string', multiple: true },
  principal: { type: 'string' },
  host: { type: 'string' },
  operation: { type: 'string', multiple: true },
} as const

type Values = ReturnType<typeof parseCommand<typeof FLAGS>>['values']

function resources(values: Values): { resourceType: AclResourceType; resourceName: string }[] {
  return [
    ...(values.topic ?? []).map((name) => ({ resourceType: 'topic' as const, resourceName: name })),
    ...(values.group ?? []).map((name) => ({ resourceType: 'group' as const, resourceName: name })),
    ...(values['transactional-id'] ?? []).map((name) => ({
      resourceType: 'transactional-id' as const,
      resourceName: name,
    })),
    ...(values.cluster === true ? [{ resourceType: 'cluster' as const, resourceName: 'kafka-cluster' }] : []),
  ]
}

function printAcls(out: Output, json: boolean, acls: AclBinding[]): void {
  if (json) out.line(toJson(acls))
  else
    table(
      out,
      ['RESOURCE-TYPE', 'NAME', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'],
      acls.map((a) => [a.resourceType, a.resourceName, a.patternType, a.principal, a.host, a.operation, a.permission]),
    )
}

/** The filters of list/delete: one per resource given (or none), narrowed by the other flags. */
function filters(values: Values): AclFilter[] {
  const pattern = values['resource-pattern-type']
  if (pattern !== undefined && !['literal', 'prefixed', 'match', 'any'].includes(pattern))
    throw new UsageError('--resource-pattern-type', `expected literal, prefixed, match or any, got '${pattern}'`)
  const principals = [...(values['allow-principal'] ?? []), ...(values['deny-principal'] ?? [])]
  if (principals.length > 1 || (principals.length === 1 && values.principal !== undefined))
    throw new UsageError('--principal', 'one principal per list or delete')
  const principal = values.principal ?? principals[0]
  const permission =
    values['allow-principal'] !== undefined ? 'allow' : values['deny-principal'] !== undefined ? 'deny' : undefined
  const ops = values.operation ?? []
  const base: AclFilter = {
    ...(pattern !== undefined ? { patternType: pattern as AclFilter['patternType'] & string } : {}),
    ...(principal !== undefined ? { principal } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(permission !== undefined ? { permission } : {}),
  }
  const withResources = resources(values).map((r) => ({ ...base, ...r }))
  const list = withResources.length > 0 ? withResources : [base]
  return ops.length === 0
    ? list
    : list.flatMap((f) => ops.map((operation) => ({ ...f, operation: operation as AclOperation })))
}

export async function runAclsCommand(args: string[], signal: AbortSignal, out: Output): Promise<number> {
  const [action, ...rest] = args
  const { values, positionals } = parseCommand(rest, FLAGS)
  if (action === undefined) throw new UsageError('action', 'missing; expected list, create or delete')
  if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument')
  const json = values.json === true
  const admin = new Admin(clientConfig(values))
  try {
    switch (action) {
      case 'list': {
        const found = new Map<string, AclBinding>()
        for (const f of filters(values))
          for (const a of await admin.describeAcls(f, { signal })) found.set(JSON.stringify(a), a)
        printAcls(out, json, [...found.values()])
        return 0
      }
      case 'create': {
        const targets = resources(values)
        if (targets.length === 0)
          throw new UsageError('--topic', 'a resource is required (--topic, --group, --transactional-id or --cluster)')
        const ops = values.operation ?? []
        if (ops.length === 0) throw new UsageError('--operation', 'required')
        const pattern = values['resource-pattern-type'] ?? 'literal'
        if (pattern !== 'literal' && pattern !== 'prefixed')
          throw new UsageError('--resource-pattern-type', `create takes literal or prefixed, got '${pattern}'`)
        const acls: NewAcl[] = []
        for (const [permission, principals, hosts] of [
          ['allow', values['allow-principal'] ?? [], values['allow-host'] ?? ['*']],
          ['deny', values['deny-principal'] ?? [], values['deny-host'] ?? ['*']],
        ] as const)
          for (const principal of principals)
            for (const host of hosts)
              for (const operation of ops)
                for (const r of targets)
                  acls.push({
                    ...r,
                    patternType: pattern,
                    principal,
                    host,
                    operation: operation as AclOperation,
                    permission,
                  })
        if (acls.length === 0) throw new UsageError('--allow-principal', 'required (or --deny-principal)')
        await admin.createAcls(acls, { signal })
        printAcls(
          out,
          json,
          acls.map((a) => ({ ...a, patternType: a.patternType ?? 'literal', host: a.host ?? '*' })),
        )
        return 0
      }
      case 'delete': {
        const fs = filters(values)
        if (resources(values).length === 0 && fs.every((f) => f.principal === undefined))
          throw new UsageError('--topic', 'delete needs a resource or a principal (it would delete every ACL)')
        const deleted = (await admin.deleteAcls(fs, { signal })).flat()
        printAcls(out, json, deleted)
        return 0
      }
      default:
        throw new UsageError(action, 'unknown action; expected list, create or delete')
    }
  } finally {
    await admin.close()
  }
}
