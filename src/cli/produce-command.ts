// `kafkats produce TOPIC`: one message per input line (stdin or --file), as kcat -P: a key
// before the --key-separator, --header k=v on every message, a fixed --partition, a codec,
// acks, idempotent by default; with --json-input each line is {"key","value","headers","partition"}.

import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import type { Header, Message } from '../message.js'
import type { CompressionCodec } from '../protocol/compression/index.js'
import { Murmur2Balancer, type Balancer } from '../producer/balancers.js'
import { Writer } from '../producer/writer.js'
import { UsageError } from './args.js'
import {
  clientConfig,
  CONNECTION_FLAGS,
  keyValues,
  onePositional,
  optionalInt,
  parseCommand,
  toJson,
  type Output,
} from './common.js'

export const PRODUCE_USAGE = `usage: kafkats produce TOPIC [--file F] [-K SEP] [-H k=v ...] [-p N] [-z CODEC] [--acks all|1|0]
                       [--no-idempotent] [--json-input] [flags]
  Writes one message per line of stdin (or --file). -K/--key-separator splits key and value at
  the first SEP; -H/--header adds a header to every message; -p/--partition writes to one
  partition; -z/--compression none|gzip|snappy|lz4|zstd; --acks all (default), 1 or 0 (0 and 1
  need --no-idempotent). --json-input: each line is {"key","value","headers":{k:v},"partition"}.
  Prints how many messages were written (stderr; --json: stdout).`

const FLAGS = {
  ...CONNECTION_FLAGS,
  file: { type: 'string' },
  'key-separator': { type: 'string', short: 'K' },
  header: { type: 'string', short: 'H', multiple: true },
  partition: { type: 'string', short: 'p' },
  compression: { type: 'string', short: 'z' },
  acks: { type: 'string' },
  'no-idempotent': { type: 'boolean' },
  'json-input': { type: 'boolean' },
} as const

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
/** Messages per writeMessages call: bounded memory, batches still full. */
const CHUNK = 1000

export async function runProduceCommand(
  args: string[],
  signal: AbortSignal,
  out: Output,
  input: Readable = process.stdin,
): Promise<number> {
  const { values, positionals } = parseCommand(args, FLAGS)
  const topic = onePositional(positionals, 'topic')
  const partition = optionalInt('--partition', values.partition)
  const compression = values.compression ?? 'none'
  if (!CODECS.includes(compression))
    throw new UsageError('--compression', `expected ${CODECS.join(', ')}, got '${compression}'`)
  const acks = values.acks ?? 'all'
  if (!['all', '-1', '1', '0'].includes(acks)) throw new UsageError('--acks', `expected all, 1 or 0, got '${acks}'`)
  const idempotent = values['no-idempotent'] !== true
  if (idempotent && acks !== 'all' && acks !== '-1') throw new UsageError('--acks', `${acks} needs --no-idempotent`)
  const headers: Header[] = Object.entries(keyValues('--header', values.header)).map(([key, value]) => ({ key, value }))
  const separator = values['key-separator']
  if (separator === '') throw new UsageError('--key-separator', 'must not be empty')
  const jsonInput = values['json-input'] === true

  const writer = new Writer({
    ...clientConfig(values),
    topic,
    compression: compression as CompressionCodec,
    requiredAcks: acks === 'all' ? -1 : (Number(acks) as -1 | 0 | 1),
    idempotent,
    balancer: partitioner(partition),
  })
  const source = values.file !== undefined ? createReadStream(values.file) : input
  const lines = createInterface({ input: source, crlfDelay: Infinity })
  let written = 0
  let lineNo = 0
  const onAbort = (): void => lines.close()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    let chunk: Message[] = []
    for await (const line of lines) {
      lineNo++
      if (line === '' && !jsonInput) continue
      chunk.push(jsonInput ? fromJson(line, lineNo, headers) : fromLine(line, separator, headers))
      if (chunk.length >= CHUNK) {
        await writer.writeMessages(chunk, { signal })
        written += chunk.length
        chunk = []
      }
    }
    if (chunk.length > 0 && !signal.aborted) {
      await writer.writeMessages(chunk, { signal })
      written += chunk.length
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    await writer.close()
  }
  if (values.json === true) out.line(toJson({ topic, messages: written }))
  else process.stderr.write(`kafkats: wrote ${written} message(s) to ${topic}\n`)
  return signal.aborted ? 130 : 0
}

/**
 * --partition for every message, else a JSON line's "partition", else Java's default for keys
 * (murmur2, so a key lands where Java and kcat's Java-compatible mode put it).
 */
function partitioner(fixed: number | undefined): Balancer {
  const murmur2 = new Murmur2Balancer()
  return {
    balance: (message, partitions) => fixed ?? message.partition ?? murmur2.balance(message, partitions),
  }
}

function fromLine(line: string, separator: string | undefined, headers: Header[]): Message {
  const at = separator === undefined ? -1 : line.indexOf(separator)
  const message: Message =
    at < 0 ? { value: line } : { key: line.slice(0, at), value: line.slice(at + separator!.length) }
  if (headers.length > 0) message.headers = headers
  return message
}

/** A --json-input line: {"value": ..., "key"?: ..., "headers"?: {k: v}, "partition"?: n}. */
function fromJson(line: string, lineNo: number, headers: Header[]): Message {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch (err) {
    throw new InputError(`line ${lineNo}: not JSON: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InputError(`line ${lineNo}: expected a JSON object`)
  const o = parsed as Record<string, unknown>
  const text = (v: unknown, field: string): string | null => {
    if (v === undefined || v === null) return null
    if (typeof v === 'string') return v
    if (field === 'value') return JSON.stringify(v)
    throw new InputError(`line ${lineNo}: "${field}" must be a string`)
  }
  const message: Message = { value: text(o.value, 'value') }
  const key = text(o.key, 'key')
  if (key !== null) message.key = key
  const extra: Header[] = []
  if (o.headers !== undefined) {
    if (typeof o.headers !== 'object' || o.headers === null)
      throw new InputError(`line ${lineNo}: "headers" must be an object`)
    for (const [k, v] of Object.entries(o.headers)) extra.push({ key: k, value: text(v, `headers.${k}`) })
  }
  if (headers.length + extra.length > 0) message.headers = [...headers, ...extra]
  if (o.partition !== undefined) {
    if (typeof o.partition !== 'number' || !Number.isInteger(o.partition) || o.partition < 0) {
      throw new InputError(`line ${lineNo}: "partition" must be a non-negative integer`)
    }
    message.partition = o.partition
  }
  return message
}

/** Input the command cannot turn into messages (exit 1, the line named). */
export class InputError extends Error {}
