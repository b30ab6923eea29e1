// What the client commands (topics, groups, cluster, produce, consume) share: the connection
// flags (--bootstrap or KAFKA_BOOTSTRAP, SASL, TLS), positional arguments, --json, and output as
// aligned columns for people or JSON for scripts.

import { readFileSync } from 'node:fs'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { ClientConfig } from '../cluster/client.js'
import type { SaslConfig } from '../net/sasl.js'
import { UsageError } from './args.js'

type Options = NonNullable<ParseArgsConfig['options']>

/** The environment variables the client commands read (names kept in one place). */
export const ENV = { bootstrap: 'KAFKA_BOOTSTRAP', saslPassword: 'KAFKA_SASL_PASSWORD' } as const

/** Flags every client command takes. */
export const CONNECTION_FLAGS = {
  bootstrap: { type: 'string', short: 'b' },
  'client-id': { type: 'string' },
  json: { type: 'boolean' },
  'sasl-mechanism': { type: 'string' },
  'sasl-username': { type: 'string' },
  'sasl-password': { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const satisfies Options

export const CONNECTION_HELP = `connection (every command but broker and demo):
  -b, --bootstrap HOST:PORT[,...]   brokers to start from (default: $KAFKA_BOOTSTRAP, else 127.0.0.1:9092)
  --client-id ID                    sent with every request
  --sasl-mechanism M                plain, scram-sha-256 or scram-sha-512
  --sasl-username U                 with --sasl-password P or $KAFKA_SASL_PASSWORD (kept off the command line)
  --tls                             connect with TLS (system CAs); --tls-ca PEM, --tls-cert PEM --tls-key PEM for mTLS
  --json                            JSON for scripts instead of columns`

/** parseArgs in strict mode with positionals; every failure becomes a UsageError naming the flag. */
export function parseCommand<O extends Options>(
  args: string[],
  options: O,
): {
  values: ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>>['values']
  positionals: string[]
} {
  try {
    const r = parseArgs({ args, options, strict: true, allowPositionals: true })
    return { values: r.values, positionals: r.positionals }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    const code = (err as { code?: unknown }).code
    const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? 'arguments'
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(flag, 'unknown flag')
    throw new UsageError(flag, message.split('. ')[0] ?? message)
  }
}

/** The client config from the connection flags and the environment. */
export function clientConfig(values: {
  bootstrap?: string | undefined
  'client-id'?: string | undefined
  'sasl-mechanism'?: string | undefined
  'sasl-username'?: string | undefined
  'sasl-password'?: string | undefined
  tls?: boolean | undefined
  'tls-ca'?: string | undefined
  'tls-cert'?: string | undefined
  'tls-key'?: string | undefined
}): ClientConfig {
  const brokers = values.bootstrap ?? process.env[ENV.bootstrap] ?? '127.0.0.1:9092'
  const config: ClientConfig = { brokers, clientId: values['client-id'] ?? 'kafkats-cli' }
  const mechanism = values['sasl-mechanism']?.toLowerCase()
  if (mechanism !== undefined) {
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new UsageError('--sasl-mechanism', `expected plain, scram-sha-256 or scram-sha-512, got '${mechanism}'`)
    }
    const username = values['sasl-username']
    const password = values['sasl-password'] ?? process.env[ENV.saslPassword]
    if (username === undefined) throw new UsageError('--sasl-username', 'required with --sasl-mechanism')
    if (password === undefined)
      throw new UsageError('--sasl-password', 'required with --sasl-mechanism (or $KAFKA_SASL_PASSWORD)')
    config.sasl = { mechanism, username, password } satisfies SaslConfig
  }
  const ca = values['tls-ca']
  const cert = values['tls-cert']
  const key = values['tls-key']
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--tls-cert', 'needs --tls-key, and the other way round')
  if (values.tls === true || ca !== undefined || cert !== undefined) {
    const read = (flag: string, path: string): string => {
      try {
        return readFileSync(path, 'utf8')
      } catch (err) {
        throw new UsageError(flag, `cannot read '${path}': ${(err as Error).message}`)
      }
    }
    config.tls = {
      ...(ca !== undefined ? { ca: read('--tls-ca', ca) } : {}),
      ...(cert !== undefined && key !== undefined
        ? { cert: read('--tls-cert', cert), key: read('--tls-key', key) }
        : {}),
    }
  }
  return config
}

/** The single positional a command needs (the topic or group, first, as kafka's tools and kcat take it). */
export function onePositional(positionals: readonly string[], what: string): string {
  const [first, ...rest] = positionals
  if (first === undefined) throw new UsageError(what, 'missing')
  if (rest.length > 0) throw new UsageError(rest[0]!, 'unexpected argument')
  return first
}

/**
 * Where a command writes; tests and the binary both use process.stdout. A write returns a
 * promise when the pipe is full, so a long `consume` into a slow reader waits instead of
 * buffering without bound.
 */
export interface Output {
  line(text: string): void | Promise<void>
  /** Text as is (no newline added). */
  write(text: string): void | Promise<void>
}

function drained(ok: boolean): void | Promise<void> {
  if (ok) return
  return new Promise((resolve) => process.stdout.once('drain', resolve))
}

export const stdout: Output = {
  line: (text) => drained(process.stdout.write(`${text}\n`)),
  write: (text) => drained(process.stdout.write(text)),
}

/** JSON with bigints as numbers when exact, else strings (offsets fit; producer ids may not). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'bigint'
      ? v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString()
      : v,
  )
}

/** Aligned columns with a header row. */
export function table(out: Output, header: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const cells = [header, ...rows.map((r) => r.map(cell))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  for (const r of cells)
    out.line(
      r
        .map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-'
  if (Array.isArray(v)) return v.join(',')
  return String(v)
}

/** `k=v` flag values into a record; a value without '=' is a usage error naming the flag. */
export function keyValues(flag: string, values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const kv of values ?? []) {
    const at = kv.indexOf('=')
    if (at <= 0) throw new UsageError(flag, `expected key=value, got '${kv}'`)
    out[kv.slice(0, at)] = kv.slice(at + 1)
  }
  return out
}

/** A non-negative integer flag; undefined when not given. */
export function optionalInt(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(flag, `must be an integer ≥ ${min}, got '${value}'`)
  return n
}
