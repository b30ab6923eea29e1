// @integration: also runs against real Kafka (npm run test:kafka).
// Nothing is silent (issue 11, item 4; review S4): retriable trouble reaches the `logger` option
// and the Reader's 'error' event, a missing topic ends a direct read after metadataTimeout with
// UnknownTopicError, and a group Reader waits for it with a warning. On the reference cluster and
// on real Kafka (whose test clusters auto-create topics: the Reader never asks it to).

import { describe, expect, it } from 'vitest'
import { UnknownTopicError } from '../../src/consumer/errors.js'
import type { ReaderErrorEvent } from '../../src/consumer/reader.js'
import { Reader } from '../../src/consumer/reader.js'
import { AbortError } from '../../src/net/errors.js'
import { recorder } from '../helpers/log-recorder.js'
import { useTarget } from '../helpers/use-target.js'
import { uniqueTopic } from '../producer/helpers.js'
import { createTopic, produce, startTarget, targetName } from './helpers.js'

const target = useTarget(startTarget, { startTimeout: 60_000 })

describe.sequential(`Reader logging and missing topics (${targetName})`, () => {
  it('a direct read of a missing topic rejects with UnknownTopicError after metadataTimeout, and reads once it exists', async () => {
    const topic = uniqueTopic('missing-direct')
    const log = recorder()
    const reader = new Reader({
      brokers: target.bootstrap,
      topic,
      metadataTimeout: 800,
      logger: log,
      readBackoffMax: 100,
    })
    const events: Error[] = []
    reader.addEventListener('error', (e) => events.push((e as ReaderErrorEvent).error))
    try {
      const started = Date.now()
      const error = await reader.fetchMessage({ signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UnknownTopicError)
      expect((error as UnknownTopicError).topic).toBe(topic)
      expect(Date.now() - started).toBeGreaterThanOrEqual(800)
      expect(log.lines.some((l) => l.level === 'error' && l.fields.err === error)).toBe(true)
      expect(log.lines.find((l) => l.level === 'error')?.fields).toMatchObject({ client: 'reader' })
      expect(events).toContain(error)

      await createTopic(target.bootstrap, topic, 1)
      await produce(target.bootstrap, topic, 1, { prefix: 'there' })
      // Reads reject while the Reader has not seen the topic yet, then go on.
      const signal = AbortSignal.timeout(10_000)
      let m
      while (m === undefined) {
        m = await reader.fetchMessage({ signal }).catch((e: unknown) => {
          if (!(e instanceof UnknownTopicError)) throw e
          return new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))
        })
      }
      expect(m.value?.toString()).toBe('there0')
    } finally {
      await reader.close()
    }
  }, 30_000)

  it('a direct read of a partition the topic does not have rejects the same way', async () => {
    const topic = uniqueTopic('missing-partition')
    await createTopic(target.bootstrap, topic, 1)
    const reader = new Reader({
      brokers: target.bootstrap,
      topic,
      partition: 5,
      metadataTimeout: 500,
      logger: recorder(),
    })
    try {
      const error = await reader.fetchMessage({ signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UnknownTopicError)
      expect((error as UnknownTopicError).partition).toBe(5)
    } finally {
      await reader.close()
    }
  }, 30_000)

  it('a group Reader on a missing topic warns and keeps waiting (as Java does)', async () => {
    const topic = uniqueTopic('missing-group')
    const log = recorder()
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: `${topic}-g`,
      topic,
      metadataTimeout: 300,
      logger: log,
    })
    try {
      const error = await reader.fetchMessage({ signal: AbortSignal.timeout(2000) }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(AbortError)
      const warning = log.lines.find((l) => l.level === 'warn' && l.message.includes('does not exist'))
      expect(warning?.fields).toMatchObject({ topics: [topic], groupId: `${topic}-g` })
    } finally {
      await reader.close()
    }
  }, 30_000)

  it('logs unreachable brokers as warnings with the error, never the SASL password', async () => {
    const log = recorder()
    const reader = new Reader({
      brokers: ['127.0.0.1:1'],
      groupId: 'unreachable-g',
      topic: 'unreachable',
      logger: log,
      sasl: { mechanism: 'plain', username: 'u', password: 'hunter2-secret' },
      readBackoffMin: 10,
      readBackoffMax: 50,
    })
    const events: Error[] = []
    reader.addEventListener('error', (e) => events.push((e as ReaderErrorEvent).error))
    try {
      await expect(reader.fetchMessage({ signal: AbortSignal.timeout(2000) })).rejects.toBeInstanceOf(AbortError)
      const warnings = log.lines.filter((l) => l.level === 'warn')
      expect(warnings.length).toBeGreaterThan(0)
      expect(warnings.some((l) => l.fields.err instanceof Error)).toBe(true)
      expect(events.length).toBeGreaterThan(0)
      const text = log.lines.map(
        (l) =>
          `${l.message} ${JSON.stringify(l.fields, (_k, v: unknown) => (v instanceof Error ? `${v.message} ${String(v.cause)}` : v))}`,
      )
      expect(text.join('\n')).not.toContain('hunter2')
    } finally {
      await reader.close()
    }
  }, 30_000)

  it('reports a group balancer that throws: logged as an error, and reads reject with it', async () => {
    const topic = uniqueTopic('bad-balancer')
    await createTopic(target.bootstrap, topic, 2)
    const log = recorder()
    const boom = new Error('balancer bug')
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: `${topic}-g`,
      topic,
      logger: log,
      groupBalancers: [
        {
          name: 'broken',
          assign: () => {
            throw boom
          },
        },
      ],
    })
    try {
      const error = await reader.fetchMessage({ signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e)
      expect(error).toBe(boom)
      expect(log.lines.some((l) => l.level === 'error' && l.fields.err === boom)).toBe(true)
    } finally {
      await reader.close()
    }
  }, 30_000)

  it('logs a rebalance callback that threw, and the next read rejects with it once', async () => {
    const topic = uniqueTopic('bad-callback')
    await createTopic(target.bootstrap, topic, 1)
    const log = recorder()
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: `${topic}-g`,
      topic,
      logger: log,
      onAssign: () => {
        throw new Error('onAssign bug')
      },
    })
    try {
      const error = await reader.fetchMessage({ signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'KAFKATS_REBALANCE_CALLBACK' })
      const line = log.lines.find((l) => l.message === 'a rebalance callback threw')
      expect(line?.level).toBe('warn')
      expect(line?.fields.err).toBe(error)
    } finally {
      await reader.close()
    }
  }, 30_000)
})
