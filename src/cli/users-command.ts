// `kafkats users list|set-password|delete`: SCRAM credentials (kafka-configs.sh --entity-type
// users --alter --add-config 'SCRAM-SHA-512=[password=...]'). The password comes from
// --password or $KAFKATS_USER_PASSWORD (kept off the command line) and is salted client-side.

import { Admin } from '../admin/admin.js'
import type { ScramMechanism } from '../admin/scram.js'
import { UsageError } from './args.js'
import {
  clientConfig,
  CONNECTION_FLAGS,
  onePositional,
  optionalInt,
  parseCommand,
  table,
  toJson,
  type Output,
} from './common.js'

export const USERS_USAGE = `usage: kafkats users <list|set-password|delete> [USER...] [flags]
  list [USER...]        users with SCRAM credentials: mechanism and iterations
  set-password USER     --password P (or $KAFKATS_USER_PASSWORD) [--mechanism M ...] [--iterations N]
  delete USER           [--mechanism M ...] (default: every mechanism the user has)
  --mechanism M         scram-sha-256 or scram-sha-512 (set-password default: both)`

const FLAGS = {
  ...CONNECTION_FLAGS,
  mechanism: { type: 'string', multiple: true },
  password: { type: 'string' },
  iterations: { type: 'string' },
} as const

const MECHANISMS: readonly ScramMechanism[] = ['scram-sha-256', 'scram-sha-512']

function mechanisms(values: { mechanism?: string[] | undefined }): ScramMechanism[] | undefined {
  const given = values.mechanism?.map((m) => m.toLowerCase())
  for (const m of given ?? [])
    if (!MECHANISMS.includes(m as ScramMechanism))
      throw new UsageError('--mechanism', `expected scram-sha-256 or scram-sha-512, got '${m}'`)
  return given as ScramMechanism[] | undefined
}

export async function runUsersCommand(args: string[], signal: AbortSignal, out: Output): Promise<number> {
  const [action, ...rest] = args
  const { values, positionals } = parseCommand(rest, FLAGS)
  if (action === undefined) throw new UsageError('action', 'missing; expected list, set-password or delete')
  const json = values.json === true
  const admin = new Admin(clientConfig(values))
  try {
    switch (action) {
      case 'list': {
        const users = await admin.describeUserScramCredentials(positionals.length > 0 ? positionals : undefined, {
          signal,
        })
        if (json) out.line(toJson(users))
        else
          table(
            out,
            ['USER', 'MECHANISM', 'ITERATIONS'],
            users.flatMap((u) => u.credentials.map((c) => [u.user, c.mechanism, c.iterations])),
          )
        return 0
      }
      case 'set-password': {
        const user = onePositional(positionals, 'user')
        const password = values.password ?? process.env.KAFKATS_USER_PASSWORD
        if (password === undefined || password === '')
          throw new UsageError('--password', 'required (or $KAFKATS_USER_PASSWORD)')
        const iterations = optionalInt('--iterations', values.iterations, 1)
        const list = mechanisms(values) ?? [...MECHANISMS]
        // One call per mechanism: Kafka refuses a user twice in one request.
        for (const mechanism of list)
          await admin.alterUserScramCredentials(
            [{ op: 'upsert', user, mechanism, password, ...(iterations !== undefined ? { iterations } : {}) }],
            { signal },
          )
        if (json) out.line(toJson({ user, mechanisms: list }))
        else out.line(`set ${list.join(', ')} credentials of ${user}`)
        return 0
      }
      case 'delete': {
        const user = onePositional(positionals, 'user')
        const list =
          mechanisms(values) ??
          (await admin.describeUserScramCredentials([user], { signal }))[0]!.credentials.map((c) => c.mechanism)
        for (const mechanism of list)
          await admin.alterUserScramCredentials([{ op: 'delete', user, mechanism }], { signal })
        if (json) out.line(toJson({ user, deleted: list }))
        else out.line(`deleted ${list.join(', ')} credentials of ${user}`)
        return 0
      }
      default:
        throw new UsageError(action, 'unknown action; expected list, set-password or delete')
    }
  } finally {
    await admin.close()
  }
}
