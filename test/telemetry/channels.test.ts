// The node:diagnostics_channel channels seen by a subscriber while SASL clients produce, consume,
// commit and fail, and the credential check over every output: a test password must appear in no
// log line, error, metric (labels or Prometheus text), span (name, attributes, events) or channel
// message, including those of a client whose password the broker refused.

import diagnostics_channel from 'node:diagnostics_channel'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Reader, Writer, renderPrometheus } from '../../src/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { CHANNEL_NAMES } from '../../src/telemetry/channels.js'
import { recorder, type Line } from '../helpers/log-recorder.js'
import { readMessages } from '../consumer/helpers.js'
import { startReferenceCluster, uniqueTopic } from '../producer/helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>

const USER = 'observer'
const PASSWORD = 'Pw-7f3c9a1e-never-printed'
const WRONG_PASSWORD = 'Pw-wrong-5d2b8e40-never-printed'

/** Everything an output holds, as text: errors with their message, stack and causes, bigints. */
function text(value: unknown): string {
  const seen = new Set<unknown>()
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[seen]'
      seen.add(v)
      if (v instanceof Error)
        return { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause, str: String(v) }
    }
    return v
  })
}

describe.sequential('diagnostics channels and credentials', () => {
  let cluster: Cluster
  let bootstrap: string[]
  const messages: { channel: string; message: unknown }[] = []
  const listeners = new Map<string, (message: unknown) => void>()
  const lines: Line[] = []
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const closers: { close(): Promise<void> }[] = []

  beforeAll(async () => {
    cluster = await startReferenceCluster({ brokers: 1, sasl: { users: { [USER]: PASSWORD } } })
    bootstrap = cluster.bootstrapServers
    for (const name of Object.values(CHANNEL_NAMES)) {
      const listener = (message: unknown): void => void messages.push({ channel: name, message })
      listeners.set(name, listener)
      diagnostics_channel.subscribe(name, listener)
    }
  })

  afterAll(async () => {
    for (const [name, listener] of listeners) diagnostics_channel.unsubscribe(name, listener)
    await Promise.allSettled(closers.map((c) => c.close()))
    await cluster?.stop()
  })

  it('publishes connect, request, produce, fetch, commit, rebalance, error and disconnect; no output holds the password', async () => {
    const topic = uniqueTopic('channels')
    cluster.createTopic(topic, { partitions: 2, replicationFactor: 1 })
    const sasl = { mechanism: 'scram-sha-256', username: USER, password: PASSWORD } as const
    const logger = recorder(lines)
    const writer = new Writer({ brokers: bootstrap, topic, sasl, logger, telemetry: { tracerProvider } })
    closers.push(writer)
    await writer.writeMessages(Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })))
    const reader = new Reader({
      brokers: bootstrap,
      topic,
      groupId: uniqueTopic('channels-group'),
      sasl,
      logger,
      telemetry: { tracerProvider },
    })
    closers.push(reader)
    const read = await readMessages(reader, 6)
    await reader.commitMessages(...read)

    // A partition that fails for good: a produce failure, and a warning with its error.
    cluster.faults.failNext('Produce', 1, ErrorCode.INVALID_RECORD)
    const failure = await writer.writeMessages({ value: 'refused' }).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(Error)
    // A refused password: the error names the mechanism and user, never the password.
    const refused = new Writer({
      brokers: bootstrap,
      topic,
      sasl: { ...sasl, password: WRONG_PASSWORD },
      logger,
      maxAttempts: 1,
    })
    const authError = await refused.writeMessages({ value: 'x' }).catch((e: unknown) => e)
    await refused.close()
    expect(authError).toBeInstanceOf(Error)
    // A completion callback that throws: logged with its error, published on kafkats:error.
    const async = new Writer({
      brokers: bootstrap,
      topic,
      sasl,
      logger,
      async: true,
      completion: () => {
        throw new Error('the application callback failed')
      },
    })
    await async.writeMessages({ value: 'async' })
    await async.close()
    const metrics = [writer.metrics(), reader.metrics()]
    const prometheus = renderPrometheus(writer, reader)
    await reader.close()
    await writer.close()

    const seen = new Set(messages.map((m) => m.channel))
    for (const name of ['connect', 'request', 'produce', 'fetch', 'commit', 'rebalance', 'error', 'disconnect'])
      expect(seen, name).toContain(`kafkats:${name}`)
    const errors = messages.filter((m) => m.channel === 'kafkats:error').map((m) => m.message as { error: Error })
    expect(errors.map((e) => e.error.message)).toContain('the application callback failed')
    const produced = messages
      .filter((m) => m.channel === 'kafkats:produce')
      .map((m) => m.message as { records: number; error: unknown })
    expect(produced.filter((p) => p.error === null).reduce((n, p) => n + p.records, 0)).toBe(7) // 6 + the async one
    expect(produced.filter((p) => p.error !== null)).toHaveLength(1)
    const fetched = messages
      .filter((m) => m.channel === 'kafkats:fetch')
      .map((m) => (m.message as { records: number }).records)
    expect(fetched.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6) // and the async one, if fetched before the close
    const requests = messages
      .filter((m) => m.channel === 'kafkats:request')
      .map((m) => (m.message as { apiName: string }).apiName)
    expect(requests).toEqual(
      expect.arrayContaining(['ApiVersions', 'SaslHandshake', 'SaslAuthenticate', 'Produce', 'Fetch', 'OffsetCommit']),
    )

    const outputs = {
      logs: lines,
      errors: [failure, authError],
      metrics,
      prometheus,
      spans: exporter
        .getFinishedSpans()
        .map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links })),
      channels: messages,
    }
    expect(outputs.spans.length).toBeGreaterThan(0)
    expect(lines.length).toBeGreaterThan(0)
    for (const [what, output] of Object.entries(outputs)) {
      const all = typeof output === 'string' ? output : text(output)
      expect(all.includes(PASSWORD), `${what} holds the password`).toBe(false)
      expect(all.includes(WRONG_PASSWORD), `${what} holds the refused password`).toBe(false)
    }
  })
})
